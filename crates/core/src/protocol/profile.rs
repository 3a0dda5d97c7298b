//! Profile tokens and the `profile.json` file (PROTOCOL.md §f).

use crate::json;

use crate::keys::PrivateKey;
use crate::protocol::jwt;
use crate::support::json;
use crate::support::json::{Map, Value};
use crate::support::time::{iso8601, next_year_ms};

/// The profile an identity has before anything is stored: a schema.org Person.
pub fn default_profile() -> Value {
    json!({"@type": "Person", "@context": "http://schema.org"})
}

/// Adds the `apps` and `appsMeta` entries `publish_data` asks for: the app's public
/// bucket URL and its public key, under the app's origin.
pub fn add_app_entry(
    profile: &mut Value,
    app_origin: &str,
    bucket_url: &str,
    app_public_key_hex: &str,
) {
    if !profile.is_object() {
        *profile = default_profile();
    }
    let Some(obj) = profile.as_object_mut() else {
        return;
    };
    let apps = obj.get_or_insert_with("apps", || Value::Object(Map::new()));
    if !apps.is_object() {
        *apps = Value::Object(Map::new());
    }
    if let Some(a) = apps.as_object_mut() {
        a.insert(app_origin.into(), bucket_url.into());
    }
    let meta = obj.get_or_insert_with("appsMeta", || Value::Object(Map::new()));
    if !meta.is_object() {
        *meta = Value::Object(Map::new());
    }
    if let Some(m) = meta.as_object_mut() {
        m.insert(
            app_origin.into(),
            json!({"storage": bucket_url, "publicKey": app_public_key_hex}),
        );
    }
}

/// Signs a profile token (`@stacks/profile` `signProfileToken`): `{jti, iat, exp,
/// subject, issuer, claim}` with ISO-8601 times and a one-year lifetime.
pub fn sign_profile_token(claim: &Value, key: &PrivateKey, now_ms: i64, jti: &str) -> String {
    let pk = key.public_key().to_hex();
    let mut p = Map::new();
    p.insert("jti".into(), jti.into());
    p.insert("iat".into(), iso8601(now_ms).into());
    p.insert("exp".into(), iso8601(next_year_ms(now_ms)).into());
    p.insert("subject".into(), json!({ "publicKey": &pk }));
    p.insert("issuer".into(), json!({ "publicKey": &pk }));
    p.insert("claim".into(), claim.clone());
    jwt::sign(&Value::Object(p), key)
}

/// The `profile.json` body: `JSON.stringify([{token, decodedToken}], null, 2)`.
pub fn profile_file_body(token: &str) -> String {
    let decoded = jwt::decode(token)
        .map(|d| d.to_json())
        .unwrap_or(Value::Null);
    let file = json!([{ "token": token, "decodedToken": decoded }]);
    json::to_string_pretty(&file)
}

/// Reads the profile claim out of a `profile.json` body (first token's `claim`),
/// without verifying it: the file lives in the user's own bucket, and apps
/// (`handlePendingSignIn`) read it the same way.
pub fn claim_from_profile_file(body: &str) -> Option<Value> {
    let parsed = json::from_str(body).ok()?;
    let token = parsed.as_array()?.first()?.get("token")?.as_str()?;
    let decoded = jwt::decode(token).ok()?;
    let claim = decoded.payload.get("claim")?;
    claim.is_object().then(|| claim.clone())
}
