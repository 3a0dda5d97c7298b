//! JS API for servers (and apps) checking who signed in: Sign-In with Stacks messages
//! (`createSignInMessage`, `parseSignInMessage`, `verifySignIn`, `signMessage`,
//! `hashMessage`) and `verifySignInResponse` for authResponses. Works in Node ≥ 20 and
//! browsers. Objects go in and out as plain JSON objects; errors are `Error`s with a
//! `code` (the failed check, e.g. `"nonce_mismatch"`) and, for message errors, a `line`.

use super::{from_js, js_err, parse_secret, parse_str, to_js};
use cairn_core::keys::PrivateKey;
use cairn_core::protocol::response_verify::{
    ResponseCheck, verify_sign_in_response as verify_response,
};
use cairn_core::protocol::sign_in_with_stacks::{
    self as siws, SignInError, SignInFields, VerifyOptions, create_sign_in_message as create,
    hash_message as hash, parse_sign_in_message as parse, sign_message as sign,
    verify_sign_in as verify,
};
use cairn_core::support::encoding::to_hex;
use cairn_core::support::json::Value;
use wasm_bindgen::prelude::*;

fn coded(message: &str, code: &str, line: Option<usize>) -> JsValue {
    let e = js_sys::Error::new(message);
    let _ = js_sys::Reflect::set(&e, &"code".into(), &code.into());
    if let Some(l) = line {
        let _ = js_sys::Reflect::set(&e, &"line".into(), &(l as f64).into());
    }
    e.into()
}

fn sign_in_err(e: SignInError) -> JsValue {
    coded(&e.to_string(), e.kind(), e.line())
}

fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

/// Writes a Sign-In with Stacks message (EIP-4361 layout, "Stacks account") from
/// `{domain, address, statement?, uri, version?: '1', chainId, nonce, issuedAt,
/// expirationTime?, notBefore?, requestId?, resources?}`. Throws (code `bad_input`)
/// when a field would not parse back, e.g. a statement with a line break.
#[wasm_bindgen(js_name = createSignInMessage)]
pub fn create_sign_in_message(fields: JsValue) -> Result<String, JsValue> {
    let value = from_js(fields, "the sign-in message fields")?;
    let fields = SignInFields::from_json(&value).map_err(sign_in_err)?;
    create(&fields).map_err(sign_in_err)
}

/// Parses a Sign-In with Stacks message strictly (EIP-4361 grammar) into its fields
/// object. Throws with `code` and `line` naming the rule broken.
#[wasm_bindgen(js_name = parseSignInMessage)]
pub fn parse_sign_in_message(
    #[wasm_bindgen(unchecked_param_type = "string")] text: JsValue,
) -> Result<JsValue, JsValue> {
    let text = parse_str(&text, "the sign-in message")?;
    to_js(&parse(&text).map_err(sign_in_err)?.to_json())
}

/// Verifies a signed sign-in: `signed` is `{message, signature}` (signature: 130 hex
/// characters `r‖s‖v`, as `stx_signMessage` returns); `options` is `{domain, nonce,
/// now?, address?, chainId?, skewMs?}` (`now` in ms, default the current time;
/// `skewMs` default 300000). Returns `{address, publicKey, fields}`; throws an `Error`
/// whose `code` names the failed check.
#[wasm_bindgen(js_name = verifySignIn)]
pub fn verify_sign_in(signed: JsValue, options: JsValue) -> Result<JsValue, JsValue> {
    let signed = from_js(signed, "the signed sign-in ({message, signature})")?;
    let field = |k: &str| signed.get(k).and_then(Value::as_str).map(str::to_string);
    let (Some(message), Some(signature)) = (field("message"), field("signature")) else {
        return Err(coded(
            "verifySignIn needs {message, signature} strings",
            "bad_input",
            None,
        ));
    };
    let opts = from_js(options, "the verifySignIn options")?;
    let opts = VerifyOptions::from_json(&opts, now_ms()).map_err(sign_in_err)?;
    let verified = verify(&message, &signature, &opts).map_err(sign_in_err)?;
    to_js(&verified.to_json())
}

/// Verifies an authResponse on a server without any power to act for the user (its
/// `private_key` is never read): signature, issuer, expiry, issue time, and — when given
/// in `options` `{appDomain?, nonce?, now?, skewMs?}` — the `aud` and `nonce` claims
/// Cairn's authenticator adds. Returns `{identityAddress, publicKey, hubUrl, profileUrl,
/// expiresAt, audience, nonce}`; throws an `Error` with a `code` (`not_bound` when the
/// response lacks a claim to check).
#[wasm_bindgen(js_name = verifySignInResponse)]
pub fn verify_sign_in_response(
    #[wasm_bindgen(unchecked_param_type = "string")] token: JsValue,
    options: JsValue,
) -> Result<JsValue, JsValue> {
    let token = parse_str(&token, "the authResponse")?;
    let opts = from_js(options, "the verifySignInResponse options")?;
    let check =
        ResponseCheck::from_json(&opts, now_ms()).map_err(|e| coded(&e, "bad_input", None))?;
    let verified =
        verify_response(&token, &check).map_err(|e| coded(&e.to_string(), e.kind(), None))?;
    to_js(&verified.to_json())
}

/// Signs `message` as a wallet's `stx_signMessage` does: 130 hex characters `r‖s‖v`
/// over the Stacks message hash (readable by `@stacks/encryption`'s
/// `verifyMessageSignatureRsv`).
#[wasm_bindgen(js_name = signMessage)]
pub fn sign_message(
    #[wasm_bindgen(js_name = privateKey, unchecked_param_type = "string")] private_key: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] message: JsValue,
) -> Result<String, JsValue> {
    let key =
        PrivateKey::from_hex(&parse_secret(&private_key, "the private key")?).map_err(js_err)?;
    let message = parse_str(&message, "the message")?;
    Ok(sign(&key, &message))
}

/// The Stacks message hash of `message` (hex), as `@stacks/encryption`'s `hashMessage`.
#[wasm_bindgen(js_name = hashMessage)]
pub fn hash_message(
    #[wasm_bindgen(unchecked_param_type = "string")] message: JsValue,
) -> Result<String, JsValue> {
    let message = parse_str(&message, "the message")?;
    Ok(to_hex(&hash(message.as_bytes())))
}

/// SIP-005 chain ids: `{mainnet: 1, testnet: 2147483648}`.
#[wasm_bindgen(js_name = stacksChainIds)]
pub fn stacks_chain_ids() -> Result<JsValue, JsValue> {
    to_js(
        &cairn_core::json!({"mainnet": siws::CHAIN_ID_MAINNET, "testnet": siws::CHAIN_ID_TESTNET}),
    )
}
