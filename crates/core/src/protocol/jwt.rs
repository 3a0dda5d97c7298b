//! ES256K JSON Web Tokens, byte-compatible with `jsontokens` (PROTOCOL.md §e).
//!
//! Signing: header exactly `{"typ":"JWT","alg":"ES256K"}`, payload serialised as JS
//! `JSON.stringify` would (insertion order, no spaces), RFC 6979 nonce, raw `r‖s`
//! signature in base64url. We always emit low-S signatures, so a token equals the
//! jsontokens one whenever jsontokens happened to produce low-S.
//!
//! Verification accepts high-S signatures, as the JS verifier does.

use crate::keys::{PrivateKey, PublicKey};
use crate::support::encoding::{from_base64url, sha256, to_base64url};
use crate::support::json::{Map, Value};
use k256::ecdsa::Signature;
use k256::ecdsa::signature::hazmat::PrehashVerifier;
use std::fmt;

/// The only header Cairn emits, in jsontokens' key order.
pub const HEADER_JSON: &str = r#"{"typ":"JWT","alg":"ES256K"}"#;

/// Tokens longer than this are refused before any parsing.
pub const MAX_TOKEN_LEN: usize = 1 << 20;

/// Why a token could not be decoded or verified.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JwtError {
    /// The token is longer than the limit.
    TooLarge {
        /// Its length in bytes.
        len: usize,
        /// The limit that applied.
        limit: usize,
    },
    /// The token does not have three dot-separated parts.
    Structure,
    /// A part is not valid base64url.
    Base64(&'static str),
    /// The header or payload is not a JSON object.
    Json(&'static str),
    /// The signature is not 64 bytes of `r‖s`.
    SignatureFormat,
    /// The signature does not verify with the given key.
    BadSignature,
}

impl fmt::Display for JwtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JwtError::TooLarge { len, limit } => {
                write!(f, "the token is {len} bytes long; the limit is {limit}")
            }
            JwtError::Structure => {
                f.write_str("the token is not a JWT: it must have three parts separated by dots")
            }
            JwtError::Base64(part) => write!(f, "the token's {part} is not valid base64url"),
            JwtError::Json(part) => write!(f, "the token's {part} is not a JSON object"),
            JwtError::SignatureFormat => {
                f.write_str("the token's signature is not a 64-byte ES256K signature")
            }
            JwtError::BadSignature => f.write_str("the token's signature does not match its key"),
        }
    }
}

impl std::error::Error for JwtError {}

/// A decoded (not yet verified) token.
#[derive(Debug, Clone)]
pub struct DecodedToken {
    /// The header object.
    pub header: Map<String, Value>,
    /// The payload object.
    pub payload: Map<String, Value>,
    /// The signature part as it appeared (base64url), empty for unsecured tokens.
    pub signature: String,
    signing_input: String,
}

impl DecodedToken {
    /// `header.payload`, the bytes the signature covers.
    pub fn signing_input(&self) -> &str {
        &self.signing_input
    }

    /// The header's `alg`, if a string.
    pub fn alg(&self) -> Option<&str> {
        self.header.get("alg").and_then(Value::as_str)
    }

    /// `{header, payload, signature}` as jsontokens' `decodeToken` returns it.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("header".into(), Value::Object(self.header.clone()));
        m.insert("payload".into(), Value::Object(self.payload.clone()));
        m.insert("signature".into(), Value::String(self.signature.clone()));
        Value::Object(m)
    }

    /// Verifies the ES256K signature with `key` (high-S accepted).
    pub fn verify(&self, key: &PublicKey) -> Result<(), JwtError> {
        let raw = from_base64url(&self.signature).map_err(|_| JwtError::SignatureFormat)?;
        let sig = Signature::from_slice(&raw).map_err(|_| JwtError::SignatureFormat)?;
        let sig = sig.normalize_s();
        let hash = sha256(self.signing_input.as_bytes());
        key.verifying_key()
            .verify_prehash(&hash, &sig)
            .map_err(|_| JwtError::BadSignature)
    }
}

fn decode_part(part: &str, name: &'static str) -> Result<Map<String, Value>, JwtError> {
    let bytes = from_base64url(part).map_err(|_| JwtError::Base64(name))?;
    match crate::support::json::from_slice(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(JwtError::Json(name)),
    }
}

/// Decodes a compact JWS without verifying it.
pub fn decode(token: &str) -> Result<DecodedToken, JwtError> {
    decode_with_limit(token, MAX_TOKEN_LEN)
}

/// Decodes a token, refusing it if longer than `limit` bytes.
pub fn decode_with_limit(token: &str, limit: usize) -> Result<DecodedToken, JwtError> {
    if token.len() > limit {
        return Err(JwtError::TooLarge {
            len: token.len(),
            limit,
        });
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Structure);
    };
    let header = decode_part(h, "header")?;
    let payload = decode_part(p, "payload")?;
    Ok(DecodedToken {
        header,
        payload,
        signature: s.to_string(),
        signing_input: format!("{h}.{p}"),
    })
}

/// Serialises a JSON value as JS `JSON.stringify` does for the values Cairn emits.
pub fn json_string(value: &Value) -> String {
    crate::support::json::to_string(value)
}

/// Signs a payload already serialised as JSON text.
pub fn sign_json(payload_json: &str, key: &PrivateKey) -> String {
    let input = format!(
        "{}.{}",
        to_base64url(HEADER_JSON.as_bytes()),
        to_base64url(payload_json.as_bytes())
    );
    let hash = sha256(input.as_bytes());
    let sig: Signature = key.sign_prehash(&hash);
    format!("{input}.{}", to_base64url(&sig.to_bytes()))
}

/// Signs a JSON payload object.
pub fn sign(payload: &Value, key: &PrivateKey) -> String {
    sign_json(&json_string(payload), key)
}

/// A time in milliseconds as a JSON number of seconds, the way JS prints
/// `Date.now() / 1000`: whole seconds without a point, else up to three decimals with
/// no trailing zeros (the shortest text of that double is exactly this decimal).
pub fn js_seconds(ms: u64) -> Value {
    let (s, frac) = (ms / 1000, ms % 1000);
    let text = if frac == 0 {
        s.to_string()
    } else {
        let digits = format!("{frac:03}");
        format!("{s}.{}", digits.trim_end_matches('0'))
    };
    crate::support::json::Number::from_text(&text).map_or(Value::Null, Value::Number)
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn decode_rejects_malformed() {
        assert_eq!(decode("abc").unwrap_err(), JwtError::Structure);
        assert_eq!(decode("a.b.c.d").unwrap_err(), JwtError::Structure);
        assert_eq!(decode("!!.e30.").unwrap_err(), JwtError::Base64("header"));
        assert_eq!(decode("e30.WzFd.").unwrap_err(), JwtError::Json("payload"));
        assert!(matches!(
            decode_with_limit(&"a".repeat(100), 10),
            Err(JwtError::TooLarge {
                len: 100,
                limit: 10
            })
        ));
    }

    #[test]
    fn sign_then_verify_and_tamper() {
        let key = PrivateKey::random().unwrap();
        let token = sign(&crate::json!({"a": 1, "é": "ü"}), &key);
        let d = decode(&token).unwrap();
        d.verify(&key.public_key()).unwrap();
        let other = PrivateKey::random().unwrap();
        assert_eq!(d.verify(&other.public_key()), Err(JwtError::BadSignature));
        let tampered = token.replacen("eyJ", "eyK", 2);
        if let Ok(t) = decode(&tampered) {
            assert!(t.verify(&key.public_key()).is_err());
        }
    }

    #[test]
    fn js_numbers() {
        assert_eq!(json_string(&js_seconds(1_700_000_000_000)), "1700000000");
        assert_eq!(
            json_string(&js_seconds(1_826_751_826_661)),
            "1826751826.661"
        );
        assert_eq!(json_string(&js_seconds(1_826_751_826_610)), "1826751826.61");
        assert_eq!(json_string(&js_seconds(5)), "0.005");
        // What JS prints for the same division, for a spread of times.
        for ms in (0..2000u64).map(|i| 1_600_000_000_000 + i * 7_919_731) {
            let js = (ms as f64 / 1000.0).to_string();
            assert_eq!(json_string(&js_seconds(ms)), js, "{ms}");
        }
    }
}
