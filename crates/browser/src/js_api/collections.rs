//! Seeding exports for tests and benchmarks only (feature `testing`, module
//! `pkg/testing/`): the bucket private key of a collection, the identity's Gaia token and
//! the archival app token the authenticator hands an app (with its salt, which cairn-hub
//! records as the writer of each version). Each hands out the power to write a bucket,
//! which no app or wallet developer needs from Cairn's package: apps get their
//! collection keys through the key file, and wallets sign in through the authenticator.

use super::{WasmKeychain, js_err, parse_index, parse_str};
use cairn_core::collections::{HubContext, app_collection_token};
use cairn_core::keys::PrivateKey;
use cairn_core::protocol::gaia::{V1TokenOptions, make_v1_token};
use cairn_core::support::encoding::from_hex;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(js_class = Keychain)]
impl WasmKeychain {
    /// The bucket (write) private key (64 hex characters) of collection `name` for
    /// identity `index`. Never handed to apps; the authenticator signs its own tokens
    /// for the bucket with it.
    #[wasm_bindgen(js_name = collectionBucketKey)]
    pub fn collection_bucket_key(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] index: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
    ) -> Result<String, JsValue> {
        let i = parse_index(&index)?;
        let name = parse_str(&name, "the collection name")?;
        let key = self.inner.collection_bucket_key(i, &name).map_err(js_err)?;
        Ok(key.to_hex().as_str().to_owned())
    }

    /// An unscoped v1 Gaia token for identity `index`'s own bucket (where its settings
    /// file lives), for the hub with `challengeText` at `hubUrl`.
    #[wasm_bindgen(js_name = identityGaiaToken)]
    pub fn identity_gaia_token(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] index: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] challenge_text: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] hub_url: JsValue,
    ) -> Result<String, JsValue> {
        let i = parse_index(&index)?;
        let id = self.inner.identity(i).map_err(js_err)?;
        Ok(make_v1_token(
            &id.key,
            &parse_str(&challenge_text, "the challenge text")?,
            &V1TokenOptions {
                hub_url: Some(parse_str(&hub_url, "the hub URL")?),
                ..V1TokenOptions::default()
            },
        ))
    }
}

/// The archival collection token for an app: signed by the bucket key (hex), scoped
/// to `putFileArchivalPrefix` on `collection`, with `iat` (seconds) and a 16-byte
/// `salt` (32 hex characters).
#[wasm_bindgen(js_name = collectionAppToken)]
pub fn collection_app_token(
    #[wasm_bindgen(unchecked_param_type = "string")] bucket_key_hex: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] challenge_text: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] hub_url: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] iat: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] salt_hex: JsValue,
) -> Result<String, JsValue> {
    let key =
        PrivateKey::from_hex(&parse_str(&bucket_key_hex, "the bucket key")?).map_err(js_err)?;
    let salt: [u8; 16] = from_hex(&parse_str(&salt_hex, "the salt")?)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| js_err("the salt must be 32 hex characters"))?;
    let iat = iat
        .as_f64()
        .filter(|n| n.is_finite() && *n >= 0.0)
        .ok_or_else(|| js_err("iat must be a number of seconds"))? as u64;
    let hub = HubContext {
        hub_url: parse_str(&hub_url, "the hub URL")?,
        read_url_prefix: String::new(),
        challenge_text: parse_str(&challenge_text, "the challenge text")?,
    };
    Ok(app_collection_token(&key, &hub, iat, salt))
}
