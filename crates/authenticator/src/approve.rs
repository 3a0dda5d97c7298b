//! Runs an approved sign-in against the hub (docs/AUTHENTICATOR_UI.md, "Sign-in
//! writes"): what to write is decided by [`cairn_core::protocol::signin`]; this module fetches and
//! writes. An unreachable hub does not stop the sign-in: it completes without storage
//! and the notes say so.

use super::collections::Ctx;
use cairn_browser::Error;
use cairn_browser::http::{self, Stored};
use cairn_browser::wait::now_ms;
use cairn_browser::webcrypto::WebCrypto;
use cairn_core::collections::random_salt;
use cairn_core::collections::settings::SETTINGS_PATH;
use cairn_core::keys::keychain::Keychain;
use cairn_core::protocol::auth::{AuthRequest, ResponseRandomness, make_auth_response_async};
use cairn_core::protocol::gaia::{V1TokenOptions, make_v1_token};
use cairn_core::protocol::signin::{
    AppDetails, ConnectedAppRecord, PROFILE_PATH, apply_sign_in, granted_scopes, plan, read_url,
    requested_collections, response_context,
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
) -> Result<Outcome, Error> {
    let now = now_ms() as i64;
    let identity = keychain.identity(index)?;
    let mut notes = Vec::new();

    let info = match http::hub_info(hub_url).await {
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
        Some(t) => http::list_files(hub_url, &identity.address, t).await.ok(),
        None => None,
    };
    let exists = |path: &str| {
        existing
            .as_ref()
            .is_none_or(|names| names.iter().any(|n| n == path))
    };
    let profile_body = match &info {
        Some(info) if exists(PROFILE_PATH) => {
            match http::read(&read_url(info, &identity.address, PROFILE_PATH)).await {
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
    let rnd = ResponseRandomness::generate()?;
    let sign_in =
        make_auth_response_async(&WebCrypto, keychain, index, request, &ctx, &rnd).await?;
    let plan = plan(&sign_in, hub_url, info.as_ref(), &identity.address);

    if let Some(token) = &token {
        let settings_exist = exists(SETTINGS_PATH);
        if let Some(w) = &plan.profile_upload {
            match http::store(&w.url, token, &w.body, w.content_type, None).await {
                Ok(Stored::Done) => {}
                Ok(Stored::Conflict) => {
                    notes.push("Your public profile could not be updated.".into())
                }
                Err(e) => notes.push(format!("Your public profile could not be updated: {e}")),
            }
        }
        if let (Some(info), Some(_)) = (&info, &plan.settings_store_url) {
            let record = ConnectedAppRecord {
                origin: request.domain_name.clone(),
                details: details.clone(),
                scopes: granted_scopes(request),
                now_ms: now,
            };
            let wanted = requested_collections(request);
            let names: Vec<String> = if settings_exist {
                vec![SETTINGS_PATH.to_string()]
            } else {
                Vec::new()
            };
            let ctx =
                Ctx::with_info(identity.clone(), index, hub_url, info.clone(), Some(&names)).await;
            // Settings first (the grant and its token salt), then the key file in the
            // app's bucket (COLLECTIONS.md §4) — both before the response is sent.
            match ctx
                .update_settings(&mut |s| Ok(apply_sign_in(s, &record, &wanted, random_salt)))
                .await
            {
                Ok((hand_offs, _)) => {
                    if let Err(e) = ctx.hand_off(keychain, &request.domain_name, &hand_offs).await
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
        }
    }
    Ok(Outcome {
        redirect: sign_in.redirect_url(&request.redirect_uri),
        notes,
    })
}
