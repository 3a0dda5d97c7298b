//! The hub writes of an approved sign-in (docs/AUTHENTICATOR_UI.md, "Sign-in writes"),
//! over the one transport ([`Hub`]): the hub's info, the stored profile (to keep what
//! other apps published), the response itself, the new `profile.json`, the connected
//! app and its grants in the settings file, and the collection keys in the app's key
//! file. What to write is decided by [`crate::protocol::signin`]. A hub that cannot be
//! reached does not stop the sign-in: it completes without storage and the notes say so.

use super::Env;
use super::calls::{self, FileWrite, Stored};
use super::hub_io::Hub;
use super::key_files::hand_off;
use super::settings_file::SettingsFile;
use crate::collections::settings::SETTINGS_PATH;
use crate::collections::{HubContext, random_salt};
use crate::crypto::bulk::Bulk;
use crate::protocol::auth::{AuthRequest, ResponseRandomness, make_auth_response_async};
use crate::protocol::signin::{
    AppDetails, ConnectedAppRecord, PROFILE_PATH, apply_sign_in, granted_scopes, plan, read_url,
    requested_collections, response_context,
};

/// A finished sign-in.
#[derive(Debug)]
pub struct SignInOutcome {
    /// `redirect_uri` with `authResponse=…`.
    pub redirect: String,
    /// What did not work, in plain words (shown before redirecting); empty when all
    /// went well.
    pub notes: Vec<String>,
}

/// An approved sign-in of identity `index` into the app of `request`.
pub struct SignInWrites<'a, H, B> {
    /// Transport, ciphers, keychain, identity.
    pub env: Env<'a, H, B>,
    /// The verified request.
    pub request: &'a AuthRequest,
    /// The app's name and icon.
    pub details: &'a AppDetails,
    /// The user's hub.
    pub hub_url: &'a str,
    /// Now, in ms since the epoch.
    pub now_ms: i64,
}

impl<H: Hub, B: Bulk> SignInWrites<'_, H, B> {
    /// Builds the response and performs the hub writes. Only a response that cannot be
    /// made is an error; hub failures become notes.
    pub async fn run(&self, rnd: &ResponseRandomness) -> Result<SignInOutcome, H::Error> {
        let (hub, bulk, request) = (self.env.hub, self.env.bulk, self.request);
        let identity = self.env.keychain.identity(self.env.index)?;
        let mut notes = Vec::new();
        let info = match calls::hub_info(hub, self.hub_url).await {
            Ok(i) => Some(i),
            Err(e) => {
                notes.push(format!(
                    "Your Gaia hub could not be reached ({e}). The app is signed in without storage."
                ));
                None
            }
        };
        let file = info
            .as_ref()
            .map(|info| SettingsFile::new(&identity, self.hub_url, info, true));
        // Which files exist: listing first spares a 404 (which the browser logs as an
        // error).
        let existing = match &file {
            Some(f) => calls::list_names(hub, self.hub_url, &identity.address, f.token())
                .await
                .ok(),
            None => None,
        };
        let exists = |path: &str| {
            existing
                .as_ref()
                .is_none_or(|names| names.iter().any(|n| n == path))
        };
        let profile_body = match &info {
            Some(info) if exists(PROFILE_PATH) => {
                match calls::read(
                    hub,
                    &read_url(info, &identity.address, PROFILE_PATH),
                    "your profile",
                )
                .await
                {
                    Ok(found) => found.map(|a| a.body),
                    Err(e) => {
                        notes.push(format!("Your profile could not be read: {e}"));
                        None
                    }
                }
            }
            _ => None,
        };
        let ctx = response_context(
            self.hub_url,
            info.as_ref(),
            profile_body.as_deref(),
            self.now_ms,
        );
        let sign_in =
            make_auth_response_async(bulk, self.env.keychain, self.env.index, request, &ctx, rnd)
                .await?;
        let plan = plan(&sign_in, self.hub_url, info.as_ref(), &identity.address);
        let (Some(info), Some(file)) = (&info, file) else {
            return Ok(SignInOutcome {
                redirect: sign_in.redirect_url(&request.redirect_uri),
                notes,
            });
        };
        if let Some(w) = &plan.profile_upload {
            let write = FileWrite {
                url: &w.url,
                token: file.token(),
                content_type: w.content_type,
                what: "your public profile",
            };
            match calls::store(hub, &write, w.body.clone(), None).await {
                Ok(Stored::Done) => {}
                Ok(_) => notes.push("Your public profile could not be updated.".into()),
                Err(e) => notes.push(format!("Your public profile could not be updated: {e}")),
            }
        }
        let record = ConnectedAppRecord {
            origin: request.domain_name.clone(),
            details: self.details.clone(),
            scopes: granted_scopes(request),
            now_ms: self.now_ms,
        };
        let wanted = requested_collections(request);
        file.set_may_exist(exists(SETTINGS_PATH));
        // Settings first (the grant and its token salt), then the key file in the app's
        // bucket (COLLECTIONS.md §4) — both before the response is sent.
        let mut hand_offs = Vec::new();
        let updated = file
            .update(hub, bulk, &mut |s| {
                hand_offs = apply_sign_in(s, &record, &wanted, random_salt);
                Ok(())
            })
            .await;
        match updated {
            Ok(_) => {
                let hub_ctx = HubContext {
                    hub_url: self.hub_url.to_string(),
                    read_url_prefix: info.read_url_prefix.clone(),
                    challenge_text: info.challenge_text.clone(),
                };
                if let Err(e) = hand_off(
                    hub,
                    bulk,
                    self.env.keychain,
                    self.env.index,
                    &hub_ctx,
                    &request.domain_name,
                    &hand_offs,
                )
                .await
                {
                    notes.push(format!(
                        "The app could not be given access to your collections: {e}"
                    ));
                }
            }
            Err(e) if wanted.is_empty() => notes.push(format!(
                "The app could not be added to your connected apps: {e}"
            )),
            Err(e) => notes.push(format!(
                "The app could not be added to your connected apps, nor given access to your collections: {e}"
            )),
        }
        Ok(SignInOutcome {
            redirect: sign_in.redirect_url(&request.redirect_uri),
            notes,
        })
    }
}
