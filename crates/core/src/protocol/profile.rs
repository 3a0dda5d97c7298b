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

/// The profile fields only Cairn writes (each app's bucket URL and key, added at
/// sign-in): an update from an app keeps the stored ones and cannot change them.
pub const CAIRN_PROFILE_FIELDS: &[&str] = &["apps", "appsMeta"];

/// The profile an `stx_updateProfile` writes: the app's `update` (an object), with the
/// stored profile's [`CAIRN_PROFILE_FIELDS`] kept (the update's own are dropped), and
/// `@type` / `@context` of a schema.org Person when the update has none.
pub fn updated_profile(stored: Option<&Value>, update: &Value) -> Value {
    let mut out = Map::new();
    let defaults = default_profile();
    if let Some(d) = defaults.as_object() {
        for (k, v) in d.iter() {
            out.insert(k.clone(), v.clone());
        }
    }
    if let Some(u) = update.as_object() {
        for (k, v) in u.iter() {
            if !CAIRN_PROFILE_FIELDS.contains(&k.as_str()) {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    if let Some(s) = stored.and_then(Value::as_object) {
        for field in CAIRN_PROFILE_FIELDS {
            if let Some(v) = s.get(field) {
                out.insert((*field).into(), v.clone());
            }
        }
    }
    Value::Object(out)
}

/// One top-level field that a profile update changes, for the consent screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileChange {
    /// The field's name.
    pub field: String,
    /// Its value now (JSON text, strings with hidden characters escaped), if any.
    pub before: Option<String>,
    /// Its value after the update, if any.
    pub after: Option<String>,
}

fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => crate::protocol::clarity::visible_quoted(s),
        other => {
            // Nested strings: JSON escapes controls; bidi and zero-width marks are
            // escaped as well so what is read is what is written.
            let text = json::to_string(other);
            let mut out = String::with_capacity(text.len());
            for c in text.chars() {
                if matches!(c, '\u{061c}' | '\u{00ad}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}'
                    | '\u{2060}'..='\u{206f}' | '\u{feff}')
                {
                    out.push_str(&format!("\\u{:04x}", c as u32));
                } else {
                    out.push(c);
                }
            }
            out
        }
    }
}

/// The top-level fields that differ between `before` and `after` (in `after`'s order,
/// then the removed ones), each with its old and new value as text.
pub fn profile_changes(before: &Value, after: &Value) -> Vec<ProfileChange> {
    let empty = Map::new();
    let b = before.as_object().unwrap_or(&empty);
    let a = after.as_object().unwrap_or(&empty);
    let mut out = Vec::new();
    for (k, v) in a.iter() {
        let old = b.get(k);
        if old != Some(v) {
            out.push(ProfileChange {
                field: k.clone(),
                before: old.map(shown),
                after: Some(shown(v)),
            });
        }
    }
    for (k, v) in b.iter() {
        if a.get(k).is_none() {
            out.push(ProfileChange {
                field: k.clone(),
                before: Some(shown(v)),
                after: None,
            });
        }
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_keeps_the_apps_and_shows_its_changes() {
        let stored = json!({
            "@type": "Person", "@context": "http://schema.org", "name": "Old",
            "apps": {"https://a.example": "https://hub/x/"},
            "appsMeta": {"https://a.example": {"storage": "https://hub/x/", "publicKey": "02ab"}},
            "description": "gone",
        });
        let update = json!({"name": "New\u{202e}", "image": [{"@type": "ImageObject"}],
            "apps": {"https://evil.example": "https://evil/"}});
        let p = updated_profile(Some(&stored), &update);
        assert_eq!(p["@type"], "Person");
        assert_eq!(p["apps"], stored["apps"]);
        assert_eq!(p["appsMeta"], stored["appsMeta"]);
        assert_eq!(p["name"], "New\u{202e}");
        assert!(p.get("description").is_none());
        let changes = profile_changes(&stored, &p);
        let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["name", "image", "description"]);
        assert_eq!(changes[0].before.as_deref(), Some("\"Old\""));
        assert_eq!(changes[0].after.as_deref(), Some("\"New\\u{202e}\""));
        assert_eq!(changes[2].after, None);
        // Nothing stored: the defaults, and the app's apps entries dropped.
        let p = updated_profile(None, &update);
        assert_eq!(p["@context"], "http://schema.org");
        assert!(p.get("apps").is_none());
    }
}
