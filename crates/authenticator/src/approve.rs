//! Runs an approved sign-in (docs/AUTHENTICATOR_UI.md, "Sign-in writes"): the core's
//! sign-in job ([`cairn_core::jobs::sign_in`]) decides and sequences the hub writes; it
//! runs here over the page's one transport. An unreachable hub does not stop the
//! sign-in: it completes without storage and the notes say so.

use cairn_browser::Error;
use cairn_browser::jobs::BrowserHub;
use cairn_browser::wait::now_ms;
use cairn_browser::webcrypto::WebCrypto;
use cairn_core::jobs::Env;
use cairn_core::jobs::sign_in::{SignInOutcome, SignInWrites};
use cairn_core::keys::keychain::Keychain;
use cairn_core::protocol::auth::{AuthRequest, ResponseRandomness};
use cairn_core::protocol::signin::AppDetails;

/// Builds the response for identity `index` and performs the hub writes.
pub async fn run(
    keychain: &Keychain,
    index: u32,
    request: &AuthRequest,
    details: &AppDetails,
    hub_url: &str,
) -> Result<SignInOutcome, Error> {
    let rnd = ResponseRandomness::generate()?;
    SignInWrites {
        env: Env {
            hub: &BrowserHub,
            bulk: &WebCrypto,
            keychain,
            index,
        },
        request,
        details,
        hub_url,
        now_ms: now_ms() as i64,
    }
    .run(&rnd)
    .await
}
