//! The wallet interface of `@stacks/connect` 8 (SIP-030 JSON-RPC 2.0), as Cairn answers
//! it through its popup (`/rpc.html`, docs/AUTHENTICATOR_UI.md "Wallet interface").
//!
//! Everything here is pure: [`parse_request`] reads one message an app posted (hostile
//! input: anything unexpected is an error or is ignored, never a panic), and the
//! `*_result` functions build the results exactly as Connect's `src/methods.ts` types
//! them. The page decides about consent and does the posting.

use crate::json;

use crate::keys::keychain::Keychain;
use crate::protocol::clarity::{ClarityValue, Domain, StructuredData};
use crate::protocol::sign_in_with_stacks::{SignInFields, sign_message};
use crate::support::encoding::to_hex;
use crate::support::json::{Map, Value};

/// JSON-RPC error codes (`@stacks/connect` `src/errors.ts`).
pub mod code {
    /// The request is not a JSON-RPC 2.0 request object.
    pub const INVALID_REQUEST: i64 = -32600;
    /// Method not found or not available.
    pub const METHOD_NOT_FOUND: i64 = -32601;
    /// Invalid method params.
    pub const INVALID_PARAMS: i64 = -32602;
    /// Internal error.
    pub const INTERNAL_ERROR: i64 = -32603;
    /// The user said no (Deny).
    pub const USER_REJECTION: i64 = -32000;
    /// The user closed the window.
    pub const USER_CANCELED: i64 = -31001;
}

/// The scope recorded for an app connected through the wallet interface (in the
/// identity's settings file, `apps[].scopes`).
pub const WALLET_SCOPE: &str = "wallet_interface";

/// Recorded as well when the app also got its storage key (`stx_getAccounts`).
pub const WALLET_STORAGE_SCOPE: &str = "wallet_interface.storage";

/// Longest message `stx_signMessage` accepts (bytes of UTF-8).
pub const MAX_SIGN_MESSAGE_LEN: usize = 64 * 1024;

/// Longest request (JSON text) the page reads at all.
pub const MAX_REQUEST_LEN: usize = 256 * 1024;

/// Longest string id.
const MAX_ID_LEN: usize = 128;

/// Methods Connect 8 knows that sign or send transactions: Cairn answers them with
/// [`code::METHOD_NOT_FOUND`] and says why.
pub const TRANSACTION_METHODS: &[&str] = &[
    "sendTransfer",
    "signPsbt",
    "stx_transferStx",
    "stx_transferSip10Ft",
    "stx_transferSip9Nft",
    "stx_callContract",
    "stx_deployContract",
    "stx_signTransaction",
];

/// What an app may ask.
#[derive(Debug, Clone, PartialEq)]
pub enum Method {
    /// `getAddresses` / `stx_getAddresses`: the STX address and public key.
    GetAddresses,
    /// `stx_getAccounts`: as above, plus the Gaia hub URL and the app's own key.
    GetAccounts,
    /// `stx_signMessage`: a signature over the Stacks message hash of `message`.
    SignMessage {
        /// The text to sign.
        message: String,
    },
    /// `stx_signStructuredMessage`: a SIP-018 signature over a Clarity `message` in a
    /// `domain` (both decoded and checked).
    SignStructuredMessage {
        /// The decoded domain and message and the hash to sign.
        data: Box<StructuredData>,
    },
    /// `stx_updateProfile`: the new public profile (a JSON object), to be signed and
    /// written to the identity's `profile.json`.
    UpdateProfile {
        /// The profile the app asks for.
        profile: Value,
    },
}

impl Method {
    /// Whether the method only reads addresses (answered without consent for a
    /// connected app).
    pub fn reads_addresses(&self) -> bool {
        matches!(self, Method::GetAddresses)
    }
}

/// A request Cairn will handle.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The request id (a string or a number), echoed in the answer.
    pub id: Value,
    /// The method name as sent.
    pub name: String,
    /// What is asked.
    pub method: Method,
    /// Mainnet (`SP…`) or testnet (`ST…`) addresses.
    pub mainnet: bool,
}

/// A JSON-RPC error.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RpcError {
    /// The code ([`code`]).
    pub code: i64,
    /// Plain-language message.
    pub message: String,
}

impl RpcError {
    /// An error with `code` ([`code`]) and a plain-language `message`.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        RpcError {
            code,
            message: message.into(),
        }
    }

    /// The user denied the request.
    pub fn rejected() -> Self {
        RpcError::new(code::USER_REJECTION, "The user rejected the request")
    }
}

/// The message, as the answer's `error.message` carries it.
impl std::fmt::Display for RpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RpcError {}

/// Why a message is not answered as a request.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Refusal {
    /// Not a JSON-RPC request with a usable id: ignored, nothing is posted back.
    Ignore,
    /// A request with an id that gets this error as its answer.
    Error(Value, RpcError),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Ignore => f.write_str("not a JSON-RPC request with a usable id"),
            Refusal::Error(_, e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Refusal {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Refusal::Ignore => None,
            Refusal::Error(_, e) => Some(e),
        }
    }
}

fn usable_id(v: Option<&Value>) -> Option<Value> {
    match v? {
        Value::String(s) if !s.is_empty() && s.len() <= MAX_ID_LEN => {
            Some(Value::String(s.clone()))
        }
        Value::Number(n) => Some(Value::Number(n.clone())),
        _ => None,
    }
}

fn network(params: Option<&Map>) -> Result<bool, RpcError> {
    match params.and_then(|p| p.get("network")) {
        None | Some(Value::Null) => Ok(true),
        Some(Value::String(s)) => match s.as_str() {
            "mainnet" => Ok(true),
            "testnet" | "regtest" | "devnet" | "mocknet" => Ok(false),
            _ => Err(RpcError::new(
                code::INVALID_PARAMS,
                "params.network must be \"mainnet\", \"testnet\", \"regtest\" or \"devnet\"",
            )),
        },
        Some(_) => Err(RpcError::new(
            code::INVALID_PARAMS,
            "params.network must be a string",
        )),
    }
}

/// Reads `stx_signStructuredMessage`'s params: `domain` and `message`, hex-serialized
/// Clarity values (as Connect's `Cl.serialize` writes them). The error names the field.
fn structured_message(params: Option<&Map>) -> Result<Method, String> {
    let hex = |field: &str| match params.and_then(|p| p.get(field)) {
        Some(Value::String(s)) => Ok(s.as_str()),
        _ => Err(format!(
            "params.{field} must be a hex-serialized Clarity value (a string)"
        )),
    };
    let (domain, message) = (hex("domain")?, hex("message")?);
    let domain_value = ClarityValue::from_hex(domain).map_err(|e| format!("params.domain: {e}"))?;
    Domain::from_value(&domain_value).map_err(|e| format!("params.domain: {e}"))?;
    ClarityValue::from_hex(message).map_err(|e| format!("params.message: {e}"))?;
    let data = StructuredData::from_hex(domain, message).map_err(|e| e.to_string())?;
    Ok(Method::SignStructuredMessage {
        data: Box::new(data),
    })
}

/// Reads one message posted by an app (as JSON text).
pub fn parse_request(text: &str) -> Result<Request, Refusal> {
    if text.len() > MAX_REQUEST_LEN {
        return Err(Refusal::Ignore);
    }
    let v = crate::support::json::from_str(text).map_err(|_| Refusal::Ignore)?;
    let obj = v.as_object().ok_or(Refusal::Ignore)?;
    if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err(Refusal::Ignore);
    }
    // Answers and notifications (no method) are not requests.
    let Some(name) = obj.get("method") else {
        return Err(Refusal::Ignore);
    };
    let id = usable_id(obj.get("id")).ok_or(Refusal::Ignore)?;
    let fail = |code, msg: &str| Refusal::Error(id.clone(), RpcError::new(code, msg));
    let Some(name) = name.as_str() else {
        return Err(fail(code::INVALID_REQUEST, "method must be a string"));
    };
    let params = match obj.get("params") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(m),
        Some(_) => return Err(fail(code::INVALID_PARAMS, "params must be an object")),
    };
    let method = match name {
        "getAddresses" | "stx_getAddresses" => Method::GetAddresses,
        "stx_getAccounts" => Method::GetAccounts,
        "stx_signMessage" => match params.and_then(|p| p.get("message")) {
            Some(Value::String(m)) if m.len() <= MAX_SIGN_MESSAGE_LEN => {
                Method::SignMessage { message: m.clone() }
            }
            Some(Value::String(_)) => {
                return Err(fail(
                    code::INVALID_PARAMS,
                    "params.message is too long (at most 64 KiB)",
                ));
            }
            _ => {
                return Err(fail(
                    code::INVALID_PARAMS,
                    "params.message must be a string",
                ));
            }
        },
        "stx_signStructuredMessage" => {
            structured_message(params).map_err(|m| fail(code::INVALID_PARAMS, &m))?
        }
        "stx_updateProfile" => match params.and_then(|p| p.get("profile")) {
            Some(p @ Value::Object(_)) => Method::UpdateProfile { profile: p.clone() },
            _ => {
                return Err(fail(
                    code::INVALID_PARAMS,
                    "params.profile must be an object (the new public profile)",
                ));
            }
        },
        m if TRANSACTION_METHODS.contains(&m) => {
            return Err(fail(
                code::METHOD_NOT_FOUND,
                &format!("{m}: Cairn does not sign or send transactions"),
            ));
        }
        m => {
            let shown: String = m.chars().take(64).collect();
            return Err(fail(
                code::METHOD_NOT_FOUND,
                &format!("Cairn does not support the method \"{shown}\""),
            ));
        }
    };
    let mainnet = network(params).map_err(|e| Refusal::Error(id.clone(), e))?;
    Ok(Request {
        id,
        name: name.to_string(),
        method,
        mainnet,
    })
}

/// A success answer.
pub fn answer(id: &Value, result: Value) -> String {
    crate::support::json::to_string(&json!({"jsonrpc": "2.0", "id": id.clone(), "result": result}))
}

/// An error answer.
pub fn answer_error(id: &Value, e: &RpcError) -> String {
    crate::support::json::to_string(&json!({
        "jsonrpc": "2.0",
        "id": id.clone(),
        "error": {"code": e.code, "message": e.message.as_str()},
    }))
}

fn address_entry(keychain: &Keychain, i: u32, mainnet: bool) -> Result<Map, String> {
    let key = keychain.stx_key(i).map_err(|e| e.to_string())?;
    let address = keychain
        .stx_address(i, mainnet)
        .map_err(|e| e.to_string())?;
    let mut m = Map::new();
    m.insert("symbol".into(), "STX".into());
    m.insert("address".into(), address.into());
    m.insert("publicKey".into(), key.public_key().to_hex().into());
    Ok(m)
}

/// `getAddresses` / `stx_getAddresses`: `{addresses: [{symbol, address, publicKey}]}`
/// for account (identity) `i`.
pub fn addresses_result(keychain: &Keychain, i: u32, mainnet: bool) -> Result<Value, String> {
    let entry = address_entry(keychain, i, mainnet)?;
    Ok(json!({"addresses": [Value::Object(entry)]}))
}

/// `stx_getAccounts`: `{accounts: [{address, publicKey, gaiaHubUrl, gaiaAppKey}]}`;
/// `gaiaAppKey` is the legacy app private key for `origin` (so the app keeps its bucket).
pub fn accounts_result(
    keychain: &Keychain,
    i: u32,
    mainnet: bool,
    origin: &str,
    hub_url: &str,
) -> Result<Value, String> {
    let mut entry = address_entry(keychain, i, mainnet)?;
    let app_key = keychain
        .app_private_key(i, origin)
        .map_err(|e| e.to_string())?;
    entry.insert("gaiaHubUrl".into(), hub_url.into());
    entry.insert("gaiaAppKey".into(), app_key.to_hex().as_str().into());
    Ok(json!({"accounts": [Value::Object(entry)]}))
}

/// `stx_signMessage`: `{signature, publicKey}`, the RSV signature with account `i`'s
/// STX key.
pub fn sign_message_result(keychain: &Keychain, i: u32, message: &str) -> Result<Value, String> {
    let key = keychain.stx_key(i).map_err(|e| e.to_string())?;
    Ok(json!({
        "signature": sign_message(&key, message),
        "publicKey": key.public_key().to_hex(),
    }))
}

/// `stx_signStructuredMessage`: `{signature, publicKey}`, the SIP-018 RSV signature (130
/// hex characters, as `@stacks/transactions`' `signStructuredData`) with account `i`'s STX
/// key.
pub fn sign_structured_message_result(
    keychain: &Keychain,
    i: u32,
    data: &StructuredData,
) -> Result<Value, String> {
    let key = keychain.stx_key(i).map_err(|e| e.to_string())?;
    Ok(json!({
        "signature": to_hex(&data.sign(&key)),
        "publicKey": key.public_key().to_hex(),
    }))
}

/// `stx_updateProfile`: `{profile}`, the profile as written.
pub fn update_profile_result(profile: &Value) -> Value {
    json!({ "profile": profile.clone() })
}

/// The message as shown for signing: every character that would not print visibly
/// (controls other than line breaks and tabs, zero-width and bidi controls, BOM) is
/// marked as `[U+XXXX]`, so what the user reads is what is signed.
pub fn visible_message(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for c in message.chars() {
        let hidden = (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2069}' | '\u{FEFF}' | '\u{00AD}');
        if hidden {
            out.push_str(&format!("[U+{:04X}]", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// What is wrong with a Sign-In with Stacks message signed by `address` for an app at
/// `origin` (empty when nothing): its domain must be the origin's host (and port), its
/// address the signing account's.
pub fn sign_in_problems(fields: &SignInFields, origin: &str, address: &str) -> Vec<String> {
    let mut out = Vec::new();
    let authority = origin.split_once("://").map_or(origin, |(_, a)| a);
    if fields.domain != authority {
        out.push(format!(
            "This sign-in message is for {}, but the request comes from {origin}.",
            fields.domain
        ));
    }
    if fields.address != address {
        out.push(format!(
            "This sign-in message names the address {}, but you are signing with {address}.",
            fields.address
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> (Value, i64, String) {
        match parse_request(text) {
            Err(Refusal::Error(id, e)) => (id, e.code, e.message),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reads_requests() {
        let r = parse_request(
            r#"{"jsonrpc":"2.0","id":"a1","method":"getAddresses","params":{"network":"testnet"}}"#,
        )
        .unwrap();
        assert_eq!(r.method, Method::GetAddresses);
        assert!(!r.mainnet);
        let r = parse_request(
            r#"{"jsonrpc":"2.0","id":7,"method":"stx_signMessage","params":{"message":"hi"}}"#,
        )
        .unwrap();
        assert_eq!(
            r.method,
            Method::SignMessage {
                message: "hi".into()
            }
        );
        assert!(r.mainnet);
    }

    #[test]
    fn ignores_what_is_not_a_request() {
        for t in [
            "",
            "null",
            "[]",
            "{}",
            r#"{"jsonrpc":"1.0","id":1,"method":"getAddresses"}"#,
            r#"{"jsonrpc":"2.0","method":"getAddresses"}"#,
            r#"{"jsonrpc":"2.0","id":{},"method":"getAddresses"}"#,
            r#"{"jsonrpc":"2.0","id":1,"result":{}}"#,
        ] {
            assert_eq!(parse_request(t), Err(Refusal::Ignore), "{t}");
        }
        assert_eq!(
            parse_request(&"x".repeat(MAX_REQUEST_LEN + 1)),
            Err(Refusal::Ignore)
        );
    }

    #[test]
    fn errors_name_the_field() {
        let (_, c, m) = err(r#"{"jsonrpc":"2.0","id":1,"method":"stx_signMessage","params":{}}"#);
        assert_eq!(c, code::INVALID_PARAMS);
        assert!(m.contains("message"));
        let (_, c, m) =
            err(r#"{"jsonrpc":"2.0","id":1,"method":"getAddresses","params":{"network":5}}"#);
        assert_eq!(c, code::INVALID_PARAMS);
        assert!(m.contains("network"));
        let (_, c, m) = err(r#"{"jsonrpc":"2.0","id":1,"method":"stx_transferStx","params":{}}"#);
        assert_eq!(c, code::METHOD_NOT_FOUND);
        assert!(m.contains("does not sign"));
        let (id, c, _) = err(r#"{"jsonrpc":"2.0","id":"q","method":"nope"}"#);
        assert_eq!((id, c), (Value::String("q".into()), code::METHOD_NOT_FOUND));
    }

    /// `{name: "A", version: "1", chain-id: u1}` serialized.
    const DOMAIN: &str = "0c00000003\
        08636861696e2d69640100000000000000000000000000000001\
        046e616d650d0000000141\
        0776657273696f6e0d0000000131";

    fn structured(params: &str) -> Result<Request, Refusal> {
        parse_request(&format!(
            r#"{{"jsonrpc":"2.0","id":3,"method":"stx_signStructuredMessage","params":{params}}}"#
        ))
    }

    #[test]
    fn reads_structured_messages() {
        let r = structured(&format!(
            r#"{{"domain":"{DOMAIN}","message":"0x0100000000000000000000000000000005"}}"#
        ))
        .unwrap();
        let Method::SignStructuredMessage { data } = &r.method else {
            panic!("{:?}", r.method)
        };
        assert_eq!(data.domain.name, "A");
        assert_eq!(data.domain.chain_id, 1);
        assert_eq!(data.message, ClarityValue::UInt(5));
        let kc = Keychain::from_mnemonic(
            "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
        )
        .unwrap();
        let out = sign_structured_message_result(&kc, 0, data).unwrap();
        let key = kc.stx_key(0).unwrap();
        assert_eq!(out["signature"], to_hex(&data.sign(&key)).as_str());
        assert_eq!(out["publicKey"], key.public_key().to_hex().as_str());
    }

    #[test]
    fn structured_message_errors_name_the_field() {
        for (params, want) in [
            (r#"{}"#.to_string(), "params.domain must be"),
            (
                format!(r#"{{"domain":"{DOMAIN}"}}"#),
                "params.message must be",
            ),
            (
                format!(r#"{{"domain":"{DOMAIN}","message":"zz"}}"#),
                "params.message: Clarity value",
            ),
            (
                r#"{"domain":"0100000000000000000000000000000001","message":"03"}"#.into(),
                "params.domain: SIP-018 domain: must be a tuple",
            ),
            (
                format!(r#"{{"domain":"{DOMAIN}","message":"0e0000000a"}}"#),
                "params.message: Clarity value",
            ),
        ] {
            match structured(&params) {
                Err(Refusal::Error(_, e)) => {
                    assert_eq!(e.code, code::INVALID_PARAMS, "{params}");
                    assert!(e.message.starts_with(want), "{params}: {}", e.message);
                }
                other => panic!("{params}: {other:?}"),
            }
        }
    }

    #[test]
    fn reads_profile_updates() {
        let r = parse_request(
            r#"{"jsonrpc":"2.0","id":4,"method":"stx_updateProfile","params":{"profile":{"name":"A"}}}"#,
        )
        .unwrap();
        assert_eq!(
            r.method,
            Method::UpdateProfile {
                profile: json!({"name": "A"})
            }
        );
        assert_eq!(
            update_profile_result(&json!({"name": "A"}))["profile"]["name"],
            "A"
        );
        let (_, c, m) = err(
            r#"{"jsonrpc":"2.0","id":4,"method":"stx_updateProfile","params":{"profile":"x"}}"#,
        );
        assert_eq!(c, code::INVALID_PARAMS);
        assert!(m.starts_with("params.profile must be an object"));
    }

    #[test]
    fn sign_in_messages_must_match() {
        let f = SignInFields {
            domain: "localhost:3000".into(),
            address: "SP1".into(),
            ..SignInFields::default()
        };
        assert!(sign_in_problems(&f, "http://localhost:3000", "SP1").is_empty());
        assert_eq!(sign_in_problems(&f, "https://evil.example", "SP2").len(), 2);
    }

    #[test]
    fn marks_hidden_characters() {
        assert_eq!(visible_message("a\u{202E}b\n\u{0}"), "a[U+202E]b\n[U+0000]");
    }
}
