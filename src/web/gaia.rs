//! JS API for talking to a Gaia hub from an app or the authenticator: v1 auth tokens
//! and bucket addresses. (The HTTP calls themselves are plain `fetch`.)

use super::{from_js, js_err, parse_secret, parse_str};
use crate::gaia::{self, Scope, V1TokenOptions};
use crate::keys::{PrivateKey, PublicKey};
use serde::Deserialize;
use wasm_bindgen::prelude::*;

/// Options of `gaiaAuthToken`.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct TokenOptions {
    hub_url: Option<String>,
    association_token: Option<String>,
    scopes: Vec<Scope>,
    iat: Option<u64>,
    exp: Option<u64>,
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
    let opts: TokenOptions = from_js(options, "gaiaAuthToken options")?;
    if opts.scopes.len() > gaia::MAX_SCOPES {
        return Err(js_err(format!(
            "a Gaia token carries at most {} scopes",
            gaia::MAX_SCOPES
        )));
    }
    Ok(gaia::make_v1_token(
        &key,
        &challenge,
        &V1TokenOptions {
            hub_url: opts.hub_url,
            association_token: opts.association_token,
            scopes: opts.scopes,
            iat: opts.iat,
            exp: opts.exp,
            salt: None,
        },
    ))
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
