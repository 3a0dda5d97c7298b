//! Runs an approved sign-in against the hub (docs/AUTHENTICATOR_UI.md, "Sign-in
//! writes"): what to write is decided by [`crate::signin`]; this module fetches and
//! writes. An unreachable hub does not stop the sign-in: it completes without storage
//! and the notes say so.

use super::hub::{self, Stored};
use super::wait::now_ms;
use crate::auth::{AuthRequest, ResponseRandomness, make_auth_response};
use crate::gaia::{V1TokenOptions, make_v1_token};
use crate::keychain::Keychain;
use crate::keys::PrivateKey;
use crate::settings::SETTINGS_PATH;
use crate::signin::{
    AppDetails, ConnectedAppRecord, PROFILE_PATH, SETTINGS_ATTEMPTS, apply_to_settings,
    granted_scopes, plan, read_url, response_context, settings_condition,
};

/// A finished sign-in.
pub struct Outcome {
    /// `redirect_uri` with `authResponse=…`.
    pub redirect: String,
    /// What did not work (shown before redirecting); empty when all went well.
    pub notes: Vec<String>,
}

/// Builds the response for identity `index` and performs the hub writes.
pub async fn run(
    keychain: &Keychain,
    index: u32,
    request: &AuthRequest,
    details: &AppDetails,
    hub_url: &str,
) -> Result<Outcome, String> {
    let now = now_ms() as i64;
    let identity = keychain.identity(index).map_err(|e| e.to_string())?;
    let mut notes = Vec::new();

    let info = match hub::hub_info(hub_url).await {
        Ok(i) => Some(i),
        Err(e) => {
            notes.push(format!(
                "Your Gaia hub could not be reached ({e}). The app is signed in without storage."
            ));
            None
        }
    };
    let token = info.as_ref().map(|info| {
        make_v1_token(
            &identity.key,
            &info.challenge_text,
            &V1TokenOptions {
                hub_url: Some(hub_url.to_string()),
                ..V1TokenOptions::default()
            },
        )
    });
    // Which files exist: listing first spares a 404 (which the browser logs as an error).
    let existing = match &token {
        Some(t) => hub::list_files(hub_url, &identity.address, t).await.ok(),
        None => None,
    };
    let exists = |path: &str| {
        existing
            .as_ref()
            .is_none_or(|names| names.iter().any(|n| n == path))
    };
    let profile_body = match &info {
        Some(info) if exists(PROFILE_PATH) => {
            match hub::read(&read_url(info, &identity.address, PROFILE_PATH)).await {
                Ok(found) => found.map(|a| a.body),
                Err(e) => {
                    notes.push(format!("Your profile could not be read: {e}"));
                    None
                }
            }
        }
        _ => None,
    };
    let ctx = response_context(hub_url, info.as_ref(), profile_body.as_deref(), now);
    let rnd = ResponseRandomness::generate().map_err(|e| e.to_string())?;
    let sign_in =
        make_auth_response(keychain, index, request, &ctx, &rnd).map_err(|e| e.to_string())?;
    let plan = plan(&sign_in, hub_url, info.as_ref(), &identity.address);

    if let Some(token) = &token {
        let settings_exist = exists(SETTINGS_PATH);
        if let Some(w) = &plan.profile_upload {
            match hub::store(&w.url, token, &w.body, w.content_type, None).await {
                Ok(Stored::Done) => {}
                Ok(Stored::Conflict) => {
                    notes.push("Your public profile could not be updated.".into())
                }
                Err(e) => notes.push(format!("Your public profile could not be updated: {e}")),
            }
        }
        if let (Some(read), Some(store)) = (&plan.settings_read_url, &plan.settings_store_url) {
            let record = ConnectedAppRecord {
                origin: request.domain_name.clone(),
                details: details.clone(),
                scopes: granted_scopes(request),
                now_ms: now,
            };
            if let Err(e) =
                record_app(read, store, token, &identity.key, &record, settings_exist).await
            {
                notes.push(format!(
                    "The app could not be added to your connected apps: {e}"
                ));
            }
        }
    }
    Ok(Outcome {
        redirect: sign_in.redirect_url(&request.redirect_uri),
        notes,
    })
}

/// Read (unless the listing showed no file), apply, conditional write; on 412 again
/// (at most [`SETTINGS_ATTEMPTS`] times).
async fn record_app(
    read: &str,
    store: &str,
    token: &str,
    key: &PrivateKey,
    record: &ConnectedAppRecord,
    mut may_exist: bool,
) -> Result<(), String> {
    for _ in 0..SETTINGS_ATTEMPTS {
        let existing = if may_exist {
            hub::read(read).await?
        } else {
            None
        };
        may_exist = true;
        let body = apply_to_settings(existing.as_ref().map(|a| a.body.as_str()), key, record)
            .map_err(|e| format!("your settings file is unreadable ({e})"))?;
        let condition = match &existing {
            None => Some(settings_condition(None)),
            Some(a) => a.etag.as_deref().map(|e| settings_condition(Some(e))),
        };
        let cond = condition.as_ref().map(|(k, v)| (*k, v.as_str()));
        match hub::store(store, token, &body, "application/json", cond).await? {
            Stored::Done => return Ok(()),
            Stored::Conflict => continue,
        }
    }
    Err("it kept changing while Cairn wrote it".into())
}
