//! `cairn-verify`: checks a Sign-In with Stacks message or an authResponse for servers
//! written in any language. Reads one JSON request on stdin, writes one JSON answer on
//! stdout; exit status 0 when valid, 1 when invalid, 2 for a usage error (bad JSON, an
//! unknown `kind`, a missing option). `cairn-verify --help` describes the format.

use cairn_core::protocol::response_verify::{ResponseCheck, verify_sign_in_response};
use cairn_core::protocol::sign_in_with_stacks::{VerifyOptions, verify_sign_in};
use cairn_core::support::json::{self, Map, Value};
use std::io::{Read, Write};
use std::process::ExitCode;

/// Requests larger than this are a usage error (the verifiers' own limits are lower).
const MAX_INPUT: u64 = 1 << 20;

const USAGE: &str = r#"cairn-verify: verify a sign-in for a server. One JSON request on stdin:

  {"kind": "siws", "message": "<EIP-4361 text>", "signature": "<130 hex chars r||s||v>",
   "domain": "example.com", "nonce": "<the nonce you issued>",
   "now"?: <ms since epoch>, "address"?: "SP...", "chainId"?: 1, "skewMs"?: 300000}

  {"kind": "authResponse", "token": "<authResponse JWT>",
   "appDomain"?: "https://app.example.com", "nonce"?: "<the nonce you issued>",
   "now"?: <ms since epoch>, "skewMs"?: 300000}

One JSON answer on stdout:
  {"valid": true, "result": {...}}                           exit status 0
  {"valid": false, "error": {"code": "...", "message": "..."}}  exit status 1
  {"valid": false, "error": {"code": "usage", "message": "..."}} exit status 2
"#;

fn error(code: &str, message: &str, line: Option<usize>) -> Value {
    let mut e = Map::new();
    e.insert("code".into(), code.into());
    e.insert("message".into(), message.into());
    if let Some(l) = line {
        e.insert("line".into(), l.into());
    }
    let mut m = Map::new();
    m.insert("valid".into(), false.into());
    m.insert("error".into(), Value::Object(e));
    Value::Object(m)
}

fn valid(result: Value) -> Value {
    let mut m = Map::new();
    m.insert("valid".into(), true.into());
    m.insert("result".into(), result);
    Value::Object(m)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Answers one request: (exit status, answer).
fn answer(input: &[u8]) -> (u8, Value) {
    let usage = |m: &str| (2, error("usage", m, None));
    if std::str::from_utf8(input).is_err() {
        return usage("the input is not UTF-8 text");
    }
    let Ok(request) = json::from_slice(input) else {
        return usage("the input is not one JSON object (see cairn-verify --help)");
    };
    if !request.is_object() {
        return usage("the input is not one JSON object (see cairn-verify --help)");
    }
    let text = |k: &str| request.get(k).and_then(Value::as_str);
    match request.get("kind").and_then(Value::as_str) {
        Some("siws") => {
            let (Some(message), Some(signature)) = (text("message"), text("signature")) else {
                return usage("a siws request needs \"message\" and \"signature\" strings");
            };
            let opts = match VerifyOptions::from_json(&request, now_ms()) {
                Ok(o) => o,
                Err(e) => return usage(&e.to_string()),
            };
            match verify_sign_in(message, signature, &opts) {
                Ok(v) => (0, valid(v.to_json())),
                Err(e) => (1, error(e.kind(), &e.to_string(), e.line())),
            }
        }
        Some("authResponse") => {
            let Some(token) = text("token") else {
                return usage("an authResponse request needs a \"token\" string");
            };
            let check = match ResponseCheck::from_json(&request, now_ms()) {
                Ok(c) => c,
                Err(e) => return usage(&e),
            };
            match verify_sign_in_response(token, &check) {
                Ok(v) => (0, valid(v.to_json())),
                Err(e) => (1, error(e.kind(), &e.to_string(), None)),
            }
        }
        _ => usage("\"kind\" must be \"siws\" or \"authResponse\""),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let (code, out) = if !args.is_empty() {
        (
            2,
            error(
                "usage",
                "cairn-verify takes no arguments; it reads JSON on stdin (see --help)",
                None,
            ),
        )
    } else {
        let mut input = Vec::new();
        match std::io::stdin().take(MAX_INPUT + 1).read_to_end(&mut input) {
            Err(e) => (2, error("usage", &format!("cannot read stdin: {e}"), None)),
            Ok(_) if input.len() as u64 > MAX_INPUT => {
                (2, error("usage", "the input is larger than 1 MiB", None))
            }
            Ok(_) => answer(&input),
        }
    };
    if code == 2
        && let Some(m) = out
            .get("error")
            .and_then(|e| e.get("message"))
            .and_then(Value::as_str)
    {
        eprintln!("cairn-verify: {m}");
    }
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{}", json::to_string(&out));
    ExitCode::from(code)
}
