//! JS API of the sign-in protocol: authRequest verification, authResponse building,
//! ECIES, token decoding, and the app side (`makeAuthRequest`, `handleAuthResponse`).
//!
//! Errors from authRequest checks carry a `code` property naming the failed check
//! (e.g. `"expired"`, `"bad_signature"`), so UIs can branch without parsing messages.

use super::{WasmKeychain, from_js, js_err, parse_index, parse_secret, parse_str, to_js};
use cairn_core::crypto::ecies::{self, CipherObject, CipherTextEncoding, Plaintext};
use cairn_core::json;
use cairn_core::keys::{PrivateKey, PublicKey};
use cairn_core::protocol::auth::{
    self, AuthRequestError, AuthRequestOptions, ResponseContext, ResponseRandomness,
};
use cairn_core::protocol::jwt;
use cairn_core::support::json::{FieldError, Fields, Value};
use wasm_bindgen::prelude::*;

/// An `Error` with a `code` property.
fn coded_err(message: impl std::fmt::Display, code: &str) -> JsValue {
    let e = js_sys::Error::new(&message.to_string());
    let _ = js_sys::Reflect::set(&e, &"code".into(), &code.into());
    e.into()
}

fn request_err(e: AuthRequestError) -> JsValue {
    coded_err(&e, e.kind())
}

/// An optional string argument: `undefined`/`null` → `None`.
fn optional_str(value: &JsValue, what: &str) -> Result<Option<String>, JsValue> {
    if value.is_undefined() || value.is_null() {
        Ok(None)
    } else {
        parse_str(value, what).map(Some)
    }
}

fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

/// Verifies an authRequest token (a leading `blockstack:` is stripped): the seven
/// checks of `@stacks/auth` `verifyAuthRequest`, `alg` ES256K, absolute http(s) URLs
/// on the app's origin, a 64 KiB limit, valid scopes, and — when `expectedOrigin` is
/// given — that the app's `domain_name` is that origin. Returns the decoded payload;
/// throws an `Error` with a readable message and a `code` naming the failed check.
#[wasm_bindgen(js_name = verifyAuthRequest)]
pub fn verify_auth_request(
    #[wasm_bindgen(unchecked_param_type = "string")] token: JsValue,
    #[wasm_bindgen(js_name = expectedOrigin, unchecked_param_type = "string | undefined")]
    expected_origin: JsValue,
) -> Result<JsValue, JsValue> {
    let token = parse_str(&token, "the authRequest")?;
    let expected_origin = optional_str(&expected_origin, "the expected origin")?;
    let req = auth::verify_auth_request(&token, expected_origin.as_deref(), now_ms())
        .map_err(request_err)?;
    to_js(&Value::Object(req.payload))
}

/// Decodes a JWT without verifying it: `{header, payload, signature}`.
#[wasm_bindgen(js_name = decodeToken)]
pub fn decode_token(
    #[wasm_bindgen(unchecked_param_type = "string")] token: JsValue,
) -> Result<JsValue, JsValue> {
    let d = jwt::decode(&parse_str(&token, "the token")?).map_err(js_err)?;
    to_js(&d.to_json())
}

/// Encrypts `text` to a public key (hex) in the Stacks ECIES format and returns the
/// cipher object's JSON text (as `@stacks/encryption` `encryptContent` stores it).
#[wasm_bindgen(js_name = encryptECIES)]
pub fn encrypt_ecies(
    #[wasm_bindgen(js_name = publicKeyHex, unchecked_param_type = "string")]
    public_key_hex: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] text: JsValue,
) -> Result<String, JsValue> {
    let pk = PublicKey::from_hex(&parse_str(&public_key_hex, "the public key")?).map_err(js_err)?;
    let text = parse_secret(&text, "the text")?;
    let obj =
        ecies::encrypt(&pk, text.as_bytes(), true, CipherTextEncoding::Hex).map_err(js_err)?;
    Ok(obj.to_json())
}

/// Decrypts a cipher object (its JSON text) with a private key (hex). Returns a string
/// when the sender encrypted a string, else a `Uint8Array`. Throws when the MAC does not
/// match (wrong key or altered data).
#[wasm_bindgen(js_name = decryptECIES)]
pub fn decrypt_ecies(
    #[wasm_bindgen(js_name = privateKeyHex, unchecked_param_type = "string")]
    private_key_hex: JsValue,
    #[wasm_bindgen(js_name = cipherJson, unchecked_param_type = "string")] cipher_json: JsValue,
) -> Result<JsValue, JsValue> {
    let (key, obj) = parse_decrypt_args(&private_key_hex, &cipher_json)?;
    Ok(plaintext_to_js(ecies::decrypt(&key, &obj).map_err(js_err)?))
}

/// Reads the private key (hex) and cipher object (JSON text) of a decryption.
pub(super) fn parse_decrypt_args(
    private_key_hex: &JsValue,
    cipher_json: &JsValue,
) -> Result<(PrivateKey, CipherObject), JsValue> {
    let key =
        PrivateKey::from_hex(&parse_secret(private_key_hex, "the private key")?).map_err(js_err)?;
    let obj =
        CipherObject::from_json(&parse_str(cipher_json, "the cipher object")?).map_err(js_err)?;
    Ok((key, obj))
}

/// A string when the sender encrypted a string, else a `Uint8Array`.
pub(super) fn plaintext_to_js(plaintext: Plaintext) -> JsValue {
    match plaintext {
        Plaintext::Text(t) => JsValue::from_str(&t),
        Plaintext::Bytes(b) => js_sys::Uint8Array::from(b.as_slice()).into(),
    }
}

/// Options of `Keychain.makeAuthResponse`.
struct ResponseOptions {
    hub_url: Option<String>,
    read_url_prefix: Option<String>,
    profile: Option<Value>,
    email: Option<String>,
    expected_origin: Option<String>,
    now: Option<f64>,
}

impl ResponseOptions {
    fn read(v: &Value) -> Result<Self, FieldError> {
        let f = Fields::of(v, "makeAuthResponse options")?;
        Ok(ResponseOptions {
            hub_url: f.opt_str("hubUrl")?.map(str::to_string),
            read_url_prefix: f.opt_str("readUrlPrefix")?.map(str::to_string),
            profile: f.get("profile").filter(|p| !p.is_null()).cloned(),
            email: f.opt_str("email")?.map(str::to_string),
            expected_origin: f.opt_str("expectedOrigin")?.map(str::to_string),
            now: f.opt("now", "a number", Value::as_f64)?,
        })
    }
}

#[wasm_bindgen(js_class = Keychain)]
impl WasmKeychain {
    /// Builds the authResponse for an authRequest token, signed by identity `i`.
    /// The request is verified first (throws like `verifyAuthRequest`).
    ///
    /// `options`: `{hubUrl, readUrlPrefix?, profile?, email?, expectedOrigin?, now?}` —
    /// `readUrlPrefix` absent means the hub did not answer (`profile_url` is null and
    /// nothing is published); `profile` is the stored profile claim; `email` is sent
    /// only for the `email` scope; `now` (ms) defaults to the current time.
    ///
    /// Returns `{authResponse, redirectUrl, appPrivateKey, profile, profileFile}` where
    /// `profileFile` is the `profile.json` body to upload (or null).
    #[wasm_bindgen(js_name = makeAuthResponse)]
    pub fn make_auth_response(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] i: JsValue,
        #[wasm_bindgen(js_name = authRequest, unchecked_param_type = "string")]
        auth_request: JsValue,
        options: JsValue,
    ) -> Result<JsValue, JsValue> {
        let i = parse_index(&i)?;
        let auth_request = parse_str(&auth_request, "the authRequest")?;
        let opts = ResponseOptions::read(&from_js(options, "makeAuthResponse options")?)
            .map_err(js_err)?;
        let now = opts.now.map(|n| n as i64).unwrap_or_else(now_ms);
        let req = auth::verify_auth_request(&auth_request, opts.expected_origin.as_deref(), now)
            .map_err(request_err)?;
        let hub_url = opts
            .hub_url
            .ok_or_else(|| js_err("makeAuthResponse needs options.hubUrl"))?;
        let ctx = ResponseContext {
            hub_url,
            read_url_prefix: opts.read_url_prefix,
            stored_profile: opts.profile,
            email: opts.email,
            now_ms: now,
        };
        let rnd = ResponseRandomness::generate().map_err(js_err)?;
        let signin = auth::make_auth_response(&self.inner, i, &req, &ctx, &rnd)
            .map_err(|e| coded_err(&e, e.kind()))?;
        to_js(&json!({
            "authResponse": &signin.token,
            "redirectUrl": signin.redirect_url(&req.redirect_uri),
            "appPrivateKey": signin.app_private_key.to_hex().as_str(),
            "profile": &signin.profile,
            "profileFile": signin.profile_file.as_deref(),
        }))
    }
}

/// Options of `makeAuthRequest`.
struct RequestOptions {
    transit_private_key: Option<String>,
    app_domain: Option<String>,
    redirect_uri: Option<String>,
    manifest_uri: Option<String>,
    scopes: Vec<String>,
    app_name: Option<String>,
    app_icon: Option<String>,
    expires_at: Option<f64>,
    nonce: Option<String>,
}

impl RequestOptions {
    fn read(v: &Value) -> Result<Self, FieldError> {
        let f = Fields::of(v, "makeAuthRequest options")?;
        let text = |k: &str| f.opt_str(k).map(|s| s.map(str::to_string));
        Ok(RequestOptions {
            transit_private_key: text("transitPrivateKey")?,
            app_domain: text("appDomain")?,
            redirect_uri: text("redirectUri")?,
            manifest_uri: text("manifestUri")?,
            scopes: match f.get("scopes") {
                None | Some(Value::Null) => Vec::new(),
                Some(_) => f.list("scopes", "a list of strings", |s| {
                    s.as_str().map(str::to_string)
                })?,
            },
            app_name: text("appName")?,
            app_icon: text("appIcon")?,
            expires_at: f.opt("expiresAt", "a number (ms)", Value::as_f64)?,
            nonce: text("nonce")?,
        })
    }
}

/// App side: builds a signed authRequest as `@stacks/auth` does.
///
/// `options`: `{appDomain, redirectUri?, manifestUri?, scopes?, appName?, appIcon?,
/// expiresAt? (ms), transitPrivateKey?, nonce?}`. A fresh transit key is generated when
/// none is given. `nonce` (from the app's server) is sent as an extra claim that Cairn's
/// authenticator echoes in its response, for `verifySignInResponse`. Returns `{authRequest, transitPrivateKey}`; keep the transit key to decrypt
/// the response.
#[wasm_bindgen(js_name = makeAuthRequest)]
pub fn make_auth_request(options: JsValue) -> Result<JsValue, JsValue> {
    let opts =
        RequestOptions::read(&from_js(options, "makeAuthRequest options")?).map_err(js_err)?;
    let transit = match &opts.transit_private_key {
        Some(k) => PrivateKey::from_hex(k).map_err(js_err)?,
        None => PrivateKey::random().map_err(js_err)?,
    };
    let domain = opts
        .app_domain
        .ok_or_else(|| js_err("makeAuthRequest needs options.appDomain"))?;
    let token = auth::make_auth_request(
        &transit,
        &AuthRequestOptions {
            domain_name: domain,
            redirect_uri: opts.redirect_uri,
            manifest_uri: opts.manifest_uri,
            scopes: opts.scopes,
            app_name: opts.app_name,
            app_icon: opts.app_icon,
            expires_at_ms: opts.expires_at.map(|x| x as i64),
            now_ms: now_ms(),
            jti: None,
            nonce: opts.nonce,
        },
    )
    .map_err(request_err)?;
    to_js(&json!({
        "authRequest": token,
        "transitPrivateKey": transit.to_hex().as_str(),
    }))
}

/// App side: verifies an authResponse (times, signature, issuer) and decrypts the app
/// key with the transit key. Returns `{appPrivateKey, identityAddress, hubUrl,
/// associationToken, profile, profileUrl, email, version}`.
#[wasm_bindgen(js_name = handleAuthResponse)]
pub fn handle_auth_response(
    #[wasm_bindgen(unchecked_param_type = "string")] token: JsValue,
    #[wasm_bindgen(js_name = transitPrivateKey, unchecked_param_type = "string")]
    transit_private_key: JsValue,
) -> Result<JsValue, JsValue> {
    let token = parse_str(&token, "the authResponse")?;
    let transit = PrivateKey::from_hex(&parse_secret(&transit_private_key, "the transit key")?)
        .map_err(js_err)?;
    let user = auth::handle_auth_response(&token, &transit, now_ms())
        .map_err(|e| coded_err(&e, e.kind()))?;
    to_js(&json!({
        "appPrivateKey": user.app_private_key.to_hex().as_str(),
        "identityAddress": &user.identity_address,
        "hubUrl": &user.hub_url,
        "associationToken": user.association_token.as_deref(),
        "profile": &user.profile,
        "profileUrl": user.profile_url.as_deref(),
        "email": user.email.as_deref(),
        "version": user.version.as_deref(),
    }))
}
