//! JS API for talking to a Gaia hub from an app or the authenticator: v1 auth tokens
//! and bucket addresses. (The HTTP calls themselves are plain `fetch`.)

use super::{from_js, js_err, parse_secret, parse_str};
use cairn_core::keys::{PrivateKey, PublicKey};
use cairn_core::protocol::gaia::{self, Scope, V1TokenOptions};
use cairn_core::support::json::{Fields, Value};
use wasm_bindgen::prelude::*;

/// Reads the options of `gaiaAuthToken` (all optional).
fn token_options(v: &Value) -> Result<V1TokenOptions, cairn_core::support::json::FieldError> {
    let f = Fields::of(v, "gaiaAuthToken options")?;
    let scope = |s: &Value| {
        let g = Fields::of(s, "a scope").ok()?;
        Some(Scope::new(g.str("scope").ok()?, g.str("domain").ok()?))
    };
    Ok(V1TokenOptions {
        hub_url: f.opt_str("hubUrl")?.map(str::to_string),
        association_token: f.opt_str("associationToken")?.map(str::to_string),
        scopes: match f.get("scopes") {
            None | Some(Value::Null) => Vec::new(),
            Some(_) => f.list("scopes", "a list of {scope, domain} objects", scope)?,
        },
        iat: f.opt("iat", "a whole number of seconds", Value::as_u64)?,
        exp: f.opt("exp", "a whole number of seconds", Value::as_u64)?,
        salt: None,
    })
}

/// A v1 Gaia auth token (`v1:<JWT>`) for the bucket of `privateKeyHex`, signed over the
/// hub's `challenge_text` (from `GET /hub_info`). Send it as
/// `Authorization: bearer <token>`.
///
/// `options`: `{hubUrl?, associationToken?, scopes?: [{scope, domain}], iat?, exp?}`
/// (seconds). Apps pass the `hubUrl` and `associationToken` from the sign-in.
#[wasm_bindgen(js_name = gaiaAuthToken)]
pub fn gaia_auth_token(
    #[wasm_bindgen(js_name = privateKeyHex, unchecked_param_type = "string")]
    private_key_hex: JsValue,
    #[wasm_bindgen(js_name = challengeText, unchecked_param_type = "string")]
    challenge_text: JsValue,
    options: JsValue,
) -> Result<String, JsValue> {
    let key = PrivateKey::from_hex(&parse_secret(&private_key_hex, "the private key")?)
        .map_err(js_err)?;
    let challenge = parse_str(&challenge_text, "the challenge text")?;
    let opts = token_options(&from_js(options, "gaiaAuthToken options")?).map_err(js_err)?;
    if opts.scopes.len() > gaia::MAX_SCOPES {
        return Err(js_err(format!(
            "a Gaia token carries at most {} scopes",
            gaia::MAX_SCOPES
        )));
    }
    Ok(gaia::make_v1_token(&key, &challenge, &opts))
}

/// The Gaia bucket address (base58check of the compressed public key) of a private key.
#[wasm_bindgen(js_name = bucketAddress)]
pub fn bucket_address(
    #[wasm_bindgen(js_name = privateKeyHex, unchecked_param_type = "string")]
    private_key_hex: JsValue,
) -> Result<String, JsValue> {
    let key = PrivateKey::from_hex(&parse_secret(&private_key_hex, "the private key")?)
        .map_err(js_err)?;
    Ok(key.public_key().address())
}

/// The compressed public key (hex) of a private key.
#[wasm_bindgen(js_name = publicKeyFromPrivate)]
pub fn public_key_from_private(
    #[wasm_bindgen(js_name = privateKeyHex, unchecked_param_type = "string")]
    private_key_hex: JsValue,
) -> Result<String, JsValue> {
    let key = PrivateKey::from_hex(&parse_secret(&private_key_hex, "the private key")?)
        .map_err(js_err)?;
    Ok(key.public_key().to_hex())
}

/// The Bitcoin-style address of a public key (hex, compressed or not).
#[wasm_bindgen(js_name = publicKeyToAddress)]
pub fn public_key_to_address(
    #[wasm_bindgen(js_name = publicKeyHex, unchecked_param_type = "string")]
    public_key_hex: JsValue,
) -> Result<String, JsValue> {
    let key =
        PublicKey::from_hex(&parse_str(&public_key_hex, "the public key")?).map_err(js_err)?;
    Ok(key.address())
}
