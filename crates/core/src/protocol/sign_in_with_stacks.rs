//! Sign-In with Stacks (SIWS): EIP-4361 messages for Stacks accounts, and their
//! verification by a server.
//!
//! A server that needs proof that it talks to the holder of a Stacks address — and
//! must never receive anything that lets it act for the user — sends a fresh nonce;
//! the wallet signs a message in EIP-4361's exact layout (with "Stacks account" in
//! place of "Ethereum account" and SIP-005 chain ids: mainnet 1, testnet 2147483648):
//!
//! ```text
//! example.com wants you to sign in with your Stacks account:
//! SP2J6ZY48GV1EZ5V2V5RB9MP66SW86PYKKNRV9EJ7
//!
//! Sign in to the example service.
//!
//! URI: https://example.com/login
//! Version: 1
//! Chain ID: 1
//! Nonce: 32891756
//! Issued At: 2025-01-31T12:00:00Z
//! ```
//!
//! The signature is a 65-byte recoverable ECDSA signature `r ‖ s ‖ v` (hex) over the
//! Stacks message hash, `sha256("\x17Stacks Signed Message:\n" ‖ varint(len) ‖ message)`,
//! as `@stacks/encryption`'s `hashMessage` and `signMessageHashRsv` make it.
//! [`verify_sign_in`] recovers the public key from it and checks that its address is
//! the message's, then checks the message against what the server expects (domain,
//! nonce, times, chain). The server learns an address and a public key: nothing that
//! can sign, decrypt or write for the user.
//!
//! High-S signatures are accepted, as `verifyMessageSignatureRsv` accepts them; the
//! recovery id must then be the one of the signature as given. Only the current
//! message prefix is accepted (not the legacy `"\x18Stacks Message Signing:\n"`).

use crate::keys::{PrivateKey, PublicKey};
use crate::support::encoding::{from_hex, hash160, quoted, stx_address_decode, to_hex};
use crate::support::json::{Fields, Map, Value};
use crate::support::time::{TimeError, parse_rfc3339};
use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};
use std::fmt;

/// Messages longer than this (16 KiB) are refused unread.
pub const MAX_MESSAGE_LEN: usize = 16 * 1024;

/// SIP-005 chain id of Stacks mainnet.
pub const CHAIN_ID_MAINNET: u64 = 1;

/// SIP-005 chain id of Stacks testnet.
pub const CHAIN_ID_TESTNET: u64 = 2_147_483_648;

/// The clock skew [`VerifyOptions::new`] allows: 5 minutes.
pub const DEFAULT_SKEW_MS: i64 = 5 * 60 * 1000;

/// The prefix of the Stacks message hash.
pub const MESSAGE_PREFIX: &str = "\x17Stacks Signed Message:\n";

const HEADER_SUFFIX: &str = " wants you to sign in with your Stacks account:";

/// The fields of a Sign-In with Stacks message (EIP-4361's, with a Stacks address).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SignInFields {
    /// The authority (host, optionally `:port`) asking for the sign-in, e.g. `example.com`.
    pub domain: String,
    /// The signer's Stacks address (`SP…` on mainnet, `ST…` on testnet).
    pub address: String,
    /// A human-readable sentence shown to the user (no line breaks).
    pub statement: Option<String>,
    /// The absolute URI the sign-in is for.
    pub uri: String,
    /// Always `"1"`.
    pub version: String,
    /// SIP-005 chain id: [`CHAIN_ID_MAINNET`] or [`CHAIN_ID_TESTNET`].
    pub chain_id: u64,
    /// The server's nonce: at least 8 ASCII letters or digits.
    pub nonce: String,
    /// When the message was made (RFC 3339 with a zone).
    pub issued_at: String,
    /// When the message stops being valid (RFC 3339 with a zone).
    pub expiration_time: Option<String>,
    /// When the message starts being valid (RFC 3339 with a zone).
    pub not_before: Option<String>,
    /// An identifier the server may use to refer to the request.
    pub request_id: Option<String>,
    /// Absolute URIs the user is asked to grant access to.
    pub resources: Vec<String>,
}

/// Why a message or a signature was refused. [`Self::kind`] gives a stable
/// machine-readable name; `Display` says what to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignInError {
    /// The message (or signature) is empty.
    Empty,
    /// The message is larger than [`MAX_MESSAGE_LEN`].
    TooLarge {
        /// Its length in bytes.
        len: usize,
    },
    /// The message bytes are not UTF-8.
    NotUtf8,
    /// The message uses CRLF (or CR) line endings; EIP-4361 messages use LF only.
    CrLf {
        /// The first line ending in CR (1-based).
        line: usize,
    },
    /// A line does not follow EIP-4361's grammar.
    Malformed {
        /// The line (1-based).
        line: usize,
        /// The rule broken.
        rule: String,
    },
    /// A required field is missing.
    MissingField {
        /// Where it was expected (1-based).
        line: usize,
        /// Its name as it appears in the message, e.g. `"Nonce"`.
        field: &'static str,
    },
    /// A field appears twice.
    DuplicateField {
        /// The second occurrence (1-based).
        line: usize,
        /// Its name.
        field: &'static str,
    },
    /// A field is not in EIP-4361's order.
    FieldOutOfOrder {
        /// Its line (1-based).
        line: usize,
        /// Its name.
        field: &'static str,
    },
    /// The domain is not an ASCII authority without user information, in lower case.
    BadDomain {
        /// The line (1-based; 1 in a message).
        line: usize,
        /// What is wrong.
        rule: &'static str,
    },
    /// A time has no zone (`Z` or an offset).
    TimeWithoutZone {
        /// Its line (1-based).
        line: usize,
        /// The field.
        field: &'static str,
    },
    /// The signature is not 65 bytes (130 hex characters).
    SignatureLength {
        /// The length given, in characters.
        len: usize,
    },
    /// The signature's recovery id (its last byte) is not 0 to 3.
    RecoveryId(u8),
    /// No key made this signature for this message's address.
    BadSignature,
    /// The message is for another domain than the server's.
    DomainMismatch {
        /// The server's domain.
        expected: String,
        /// The message's.
        found: String,
    },
    /// The message carries another nonce than the server issued.
    NonceMismatch,
    /// The message's `Expiration Time` has passed.
    Expired {
        /// The expiration time as written.
        expiration_time: String,
    },
    /// The message's `Not Before` time has not come yet.
    NotYetValid {
        /// The time as written.
        not_before: String,
    },
    /// The message's `Issued At` is later than now plus the allowed skew.
    IssuedInFuture {
        /// The time as written.
        issued_at: String,
    },
    /// The message's chain id is not the one expected, or the address is for the
    /// other network.
    WrongChain {
        /// The chain id expected.
        expected: u64,
        /// The message's chain id.
        found: u64,
    },
    /// The message is signed for another address than the server expected.
    AddressMismatch {
        /// The address the server expected.
        expected: String,
        /// The message's.
        found: String,
    },
    /// A field given to [`create_sign_in_message`] or a verification option is invalid.
    BadInput(String),
}

impl SignInError {
    /// A stable identifier for the failed check (the JS error's `code`, the CLI's
    /// `error.code`).
    pub fn kind(&self) -> &'static str {
        use SignInError::*;
        match self {
            Empty => "empty",
            TooLarge { .. } => "too_large",
            NotUtf8 => "not_utf8",
            CrLf { .. } => "crlf",
            Malformed { .. } => "malformed",
            MissingField { .. } => "missing_field",
            DuplicateField { .. } => "duplicate_field",
            FieldOutOfOrder { .. } => "field_out_of_order",
            BadDomain { .. } => "bad_domain",
            TimeWithoutZone { .. } => "time_without_zone",
            SignatureLength { .. } => "signature_length",
            RecoveryId(_) => "recovery_id",
            BadSignature => "bad_signature",
            DomainMismatch { .. } => "domain_mismatch",
            NonceMismatch => "nonce_mismatch",
            Expired { .. } => "expired",
            NotYetValid { .. } => "not_yet_valid",
            IssuedInFuture { .. } => "issued_in_future",
            WrongChain { .. } => "wrong_chain",
            AddressMismatch { .. } => "address_mismatch",
            BadInput(_) => "bad_input",
        }
    }

    /// The message line the error is about, when it is about one.
    pub fn line(&self) -> Option<usize> {
        use SignInError::*;
        match self {
            CrLf { line }
            | Malformed { line, .. }
            | MissingField { line, .. }
            | DuplicateField { line, .. }
            | FieldOutOfOrder { line, .. }
            | BadDomain { line, .. }
            | TimeWithoutZone { line, .. } => Some(*line),
            _ => None,
        }
    }
}

impl fmt::Display for SignInError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use SignInError::*;
        match self {
            Empty => f.write_str("the sign-in message or its signature is empty"),
            TooLarge { len } => write!(
                f,
                "the sign-in message is too large ({len} bytes; the limit is {MAX_MESSAGE_LEN})"
            ),
            NotUtf8 => f.write_str("the sign-in message is not UTF-8 text"),
            CrLf { line } => write!(
                f,
                "line {line}: the sign-in message uses CRLF line endings; EIP-4361 messages separate lines with LF only"
            ),
            Malformed { line, rule } => write!(f, "line {line}: {rule}"),
            MissingField { line, field } => {
                write!(f, "line {line}: the \"{field}\" field is missing")
            }
            DuplicateField { line, field } => {
                write!(f, "line {line}: the \"{field}\" field appears twice")
            }
            FieldOutOfOrder { line, field } => write!(
                f,
                "line {line}: the \"{field}\" field is out of order (EIP-4361 order: URI, Version, Chain ID, Nonce, Issued At, Expiration Time, Not Before, Request ID, Resources)"
            ),
            BadDomain { line, rule } => write!(f, "line {line}: the domain {rule}"),
            TimeWithoutZone { line, field } => write!(
                f,
                "line {line}: \"{field}\" has no time zone; end it with Z or an offset such as +02:00"
            ),
            SignatureLength { len } => write!(
                f,
                "the signature must be 130 hexadecimal characters (65 bytes r, s, recovery id), not {len}"
            ),
            RecoveryId(v) => write!(
                f,
                "the signature's recovery id (last byte) is {v}; it must be 0 to 3 (RSV order: r, s, then v)"
            ),
            BadSignature => f.write_str(
                "the signature was not made by the message's address over this message: it was altered or forged",
            ),
            DomainMismatch { expected, found } => {
                write!(
                    f,
                    "the message is for the domain {}, not this server's {}",
                    quoted(found),
                    quoted(expected)
                )?;
                let (e, d) = (expected.to_ascii_lowercase(), found.to_ascii_lowercase());
                let host = |s: &str| {
                    let authority = s.rsplit('@').next().unwrap_or_default();
                    authority.split(':').next().unwrap_or_default().to_string()
                };
                if e == d {
                    f.write_str(" (they differ only in case: messages carry lower-case domains, so pass the server's domain in lower case)")
                } else if host(&e) == host(&d) {
                    f.write_str(" (same host, different port or user information)")
                } else {
                    Ok(())
                }
            }
            NonceMismatch => f.write_str(
                "the message's nonce is not the one this server issued: it may be a replay",
            ),
            Expired { expiration_time } => write!(
                f,
                "the sign-in message expired at {expiration_time}; sign in again"
            ),
            NotYetValid { not_before } => {
                write!(f, "the sign-in message is not valid before {not_before}")
            }
            IssuedInFuture { issued_at } => write!(
                f,
                "the sign-in message claims to be issued at {issued_at}, in the future; check the clocks"
            ),
            WrongChain { expected, found } => write!(
                f,
                "the message is for chain {found}, expected chain {expected} (mainnet 1, testnet 2147483648), or its address is for the other network"
            ),
            AddressMismatch { expected, found } => write!(
                f,
                "the message is signed by {found}, not the expected {expected}"
            ),
            BadInput(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for SignInError {}

fn malformed(line: usize, rule: impl Into<String>) -> SignInError {
    SignInError::Malformed {
        line,
        rule: rule.into(),
    }
}

// --- RFC 3986 character classes, as EIP-4361's ABNF uses them ---

fn is_unreserved(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"-._~".contains(&c)
}

fn is_sub_delim(c: u8) -> bool {
    b"!$&'()*+,;=".contains(&c)
}

fn is_reserved(c: u8) -> bool {
    is_sub_delim(c) || b":/?#[]@".contains(&c)
}

/// Letters, digits, `- . _ ~`, sub-delims, `: @`, and `%HH` escapes.
fn all_pchar_or(text: &str, extra: &[u8]) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'%' {
            if i + 2 >= b.len() {
                return false;
            }
            if !(b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit()) {
                return false;
            }
            i += 3;
            continue;
        }
        if !(is_unreserved(c) || is_sub_delim(c) || c == b':' || c == b'@' || extra.contains(&c)) {
            return false;
        }
        i += 1;
    }
    true
}

/// An absolute URI (RFC 3986 `absolute-URI` with an optional fragment): a scheme,
/// `:`, then only URI characters.
fn is_absolute_uri(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once(':') else {
        return false;
    };
    let mut s = scheme.bytes();
    s.next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.all(|c| c.is_ascii_alphanumeric() || b"+-.".contains(&c))
        && all_pchar_or(rest, b"/?#[]")
        && rest.matches('#').count() <= 1
}

/// Checks an EIP-4361 `domain` (an RFC 3986 authority), refusing what could mislead:
/// user information, non-ASCII (look-alike) characters, upper case.
fn check_domain(domain: &str, line: usize) -> Result<(), SignInError> {
    let bad = |rule| SignInError::BadDomain { line, rule };
    if domain.is_empty() {
        return Err(bad("is empty"));
    }
    if !domain.is_ascii() {
        return Err(bad(
            "contains non-ASCII characters (possible look-alikes); internationalized names must be written in punycode (xn--)",
        ));
    }
    if domain.contains('@') {
        return Err(bad(
            "contains user information (user@); only host[:port] is allowed",
        ));
    }
    if domain.contains("://") {
        return Err(bad("must be an authority (host[:port]) without a scheme"));
    }
    if domain.bytes().any(|c| c.is_ascii_uppercase()) {
        return Err(bad("must be in lower case"));
    }
    let (host, port) = if let Some(rest) = domain.strip_prefix('[') {
        // IP literal: [v6]:port
        let (inside, after) = rest.split_once(']').ok_or(bad("has an unclosed [ ]"))?;
        if inside.is_empty()
            || !inside
                .bytes()
                .all(|c| c.is_ascii_hexdigit() || c == b':' || c == b'.')
        {
            return Err(bad("has an invalid IP literal"));
        }
        let port = match after {
            "" => None,
            _ => Some(
                after
                    .strip_prefix(':')
                    .ok_or(bad("has text after its IP literal"))?,
            ),
        };
        (inside, port)
    } else {
        match domain.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (domain, None),
        }
    };
    if host.is_empty()
        || !host
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"-.:".contains(&c))
    {
        return Err(bad("has a host with characters hosts cannot have"));
    }
    if let Some(p) = port
        && (p.is_empty()
            || p.len() > 5
            || !p.bytes().all(|c| c.is_ascii_digit())
            || p.parse::<u32>().map_or(true, |n| n > 65_535))
    {
        return Err(bad("has a port that is not a number from 0 to 65535"));
    }
    Ok(())
}

fn check_address(address: &str, line: usize) -> Result<(), SignInError> {
    match stx_address_decode(address) {
        Ok((22 | 26 | 20 | 21, _)) => Ok(()),
        _ => Err(malformed(
            line,
            format!(
                "the address {} is not a valid Stacks address (c32check, SP/SM mainnet or ST/SN testnet)",
                quoted(address)
            ),
        )),
    }
}

fn check_statement(statement: &str, line: usize) -> Result<(), SignInError> {
    if statement.is_empty()
        || !statement
            .bytes()
            .all(|c| is_reserved(c) || is_unreserved(c) || c == b' ')
    {
        return Err(malformed(
            line,
            "the statement must be one line of ASCII letters, digits, spaces and URI punctuation (EIP-4361 statement)",
        ));
    }
    Ok(())
}

fn check_nonce(nonce: &str, line: usize) -> Result<(), SignInError> {
    if nonce.len() < 8 || !nonce.bytes().all(|c| c.is_ascii_alphanumeric()) {
        return Err(malformed(
            line,
            "the nonce must be at least 8 ASCII letters or digits",
        ));
    }
    Ok(())
}

fn check_time(text: &str, line: usize, field: &'static str) -> Result<i64, SignInError> {
    parse_rfc3339(text).map_err(|e| match e {
        TimeError::NoZone => SignInError::TimeWithoutZone { line, field },
        _ => malformed(
            line,
            format!("\"{field}\" is not an RFC 3339 date-time such as 2025-01-31T12:00:00Z"),
        ),
    })
}

fn check_uri(uri: &str, line: usize, field: &str) -> Result<(), SignInError> {
    if !is_absolute_uri(uri) {
        return Err(malformed(
            line,
            format!(
                "\"{field}\" must be an absolute URI (RFC 3986), got {}",
                quoted(uri)
            ),
        ));
    }
    Ok(())
}

fn check_request_id(id: &str, line: usize) -> Result<(), SignInError> {
    if !all_pchar_or(id, b"") {
        return Err(malformed(
            line,
            "the request id may contain only URI path characters (RFC 3986 pchar)",
        ));
    }
    Ok(())
}

/// Writes the message text for `fields` in EIP-4361's exact line layout. The fields
/// are checked first (the text must parse back to the same fields), so a statement
/// with a line break, a non-c32 address or a time without zone is refused.
pub fn create_sign_in_message(fields: &SignInFields) -> Result<String, SignInError> {
    let bad = |e: SignInError| SignInError::BadInput(format!("cannot create the message: {e}"));
    let mut out = String::new();
    out.push_str(&fields.domain);
    out.push_str(HEADER_SUFFIX);
    out.push('\n');
    out.push_str(&fields.address);
    out.push_str("\n\n");
    if let Some(statement) = &fields.statement {
        out.push_str(statement);
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&format!("URI: {}\n", fields.uri));
    out.push_str(&format!("Version: {}\n", fields.version));
    out.push_str(&format!("Chain ID: {}\n", fields.chain_id));
    out.push_str(&format!("Nonce: {}\n", fields.nonce));
    out.push_str(&format!("Issued At: {}", fields.issued_at));
    let optional = [
        ("Expiration Time", &fields.expiration_time),
        ("Not Before", &fields.not_before),
        ("Request ID", &fields.request_id),
    ];
    for (name, value) in optional {
        if let Some(v) = value {
            out.push_str(&format!("\n{name}: {v}"));
        }
    }
    if !fields.resources.is_empty() {
        out.push_str("\nResources:");
        for r in &fields.resources {
            out.push_str(&format!("\n- {r}"));
        }
    }
    match parse_sign_in_message(&out) {
        Ok(parsed) if parsed == *fields => Ok(out),
        Ok(_) => Err(SignInError::BadInput(
            "cannot create the message: a field contains a line break or text that reads as another field".into(),
        )),
        Err(e) => Err(bad(e)),
    }
}

/// The tagged lines after the header, in EIP-4361 order.
const TAGS: [&str; 9] = [
    "URI",
    "Version",
    "Chain ID",
    "Nonce",
    "Issued At",
    "Expiration Time",
    "Not Before",
    "Request ID",
    "Resources",
];

/// Parses message bytes: refuses empty, oversized (> 16 KiB) and non-UTF-8 input, then
/// [`parse_sign_in_message`].
pub fn parse_sign_in_message_bytes(bytes: &[u8]) -> Result<SignInFields, SignInError> {
    if bytes.len() > MAX_MESSAGE_LEN {
        return Err(SignInError::TooLarge { len: bytes.len() });
    }
    let text = std::str::from_utf8(bytes).map_err(|_| SignInError::NotUtf8)?;
    parse_sign_in_message(text)
}

/// Parses a message strictly against EIP-4361's grammar (with "Stacks account"):
/// every field in its place, RFC 3339 times with a zone, a nonce of at least 8
/// letters or digits, absolute URIs, a valid c32 Stacks address, LF line endings and
/// no trailing line break. Errors name the line (1-based) and the rule broken.
pub fn parse_sign_in_message(text: &str) -> Result<SignInFields, SignInError> {
    if text.is_empty() {
        return Err(SignInError::Empty);
    }
    if text.len() > MAX_MESSAGE_LEN {
        return Err(SignInError::TooLarge { len: text.len() });
    }
    if let Some(pos) = text.find('\r') {
        let line = text[..pos].matches('\n').count() + 1;
        return Err(SignInError::CrLf { line });
    }
    let lines: Vec<&str> = text.split('\n').collect();
    let get = |i: usize| lines.get(i).copied();
    let mut fields = SignInFields::default();

    // Line 1: "<domain> wants you to sign in with your Stacks account:"
    let header = lines[0];
    let domain = header.strip_suffix(HEADER_SUFFIX).ok_or_else(|| {
        if header.ends_with(" wants you to sign in with your Ethereum account:") {
            malformed(1, "this is an Ethereum sign-in message; expected \"... wants you to sign in with your Stacks account:\"")
        } else {
            malformed(1, "the first line must be \"<domain> wants you to sign in with your Stacks account:\"")
        }
    })?;
    check_domain(domain, 1)?;
    fields.domain = domain.to_string();

    // Line 2: the address.
    let address = get(1).ok_or(malformed(2, "the address line is missing"))?;
    check_address(address, 2)?;
    fields.address = address.to_string();

    // Line 3 empty; then either "" (no statement) or statement + "".
    if get(2) != Some("") {
        return Err(malformed(3, "an empty line must follow the address"));
    }
    let mut i = match get(3) {
        None => {
            return Err(SignInError::MissingField {
                line: 4,
                field: "URI",
            });
        }
        Some("") => 4,
        Some(s) if s.starts_with("URI: ") => {
            return Err(malformed(
                4,
                "two empty lines must come before \"URI:\" when there is no statement",
            ));
        }
        Some(s) => {
            check_statement(s, 4)?;
            fields.statement = Some(s.to_string());
            if get(4) != Some("") {
                return Err(malformed(5, "an empty line must follow the statement"));
            }
            5
        }
    };

    // Tagged fields in order.
    let mut seen = [false; TAGS.len()];
    let mut line_of = [0usize; TAGS.len()];
    let mut last = None::<usize>;
    while i < lines.len() {
        let line_no = i + 1;
        let line = lines[i];
        let (tag_index, value) = if line == "Resources:" {
            (8, "")
        } else {
            let Some((tag, value)) = line.split_once(": ") else {
                return Err(malformed(
                    line_no,
                    if line.is_empty() {
                        "unexpected empty line (the message must not end with a line break)"
                            .to_string()
                    } else {
                        format!("expected \"<Field>: <value>\", got {}", quoted(line))
                    },
                ));
            };
            match TAGS.iter().position(|t| *t == tag) {
                Some(8) | None => {
                    return Err(malformed(line_no, format!("unknown field {}", quoted(tag))));
                }
                Some(k) => (k, value),
            }
        };
        let name = TAGS[tag_index];
        if seen[tag_index] {
            return Err(SignInError::DuplicateField {
                line: line_no,
                field: name,
            });
        }
        if last.is_some_and(|l| l > tag_index) {
            return Err(SignInError::FieldOutOfOrder {
                line: line_no,
                field: name,
            });
        }
        seen[tag_index] = true;
        line_of[tag_index] = line_no;
        last = Some(tag_index);
        match tag_index {
            0 => {
                check_uri(value, line_no, "URI")?;
                fields.uri = value.to_string();
            }
            1 => {
                if value != "1" {
                    return Err(malformed(line_no, "\"Version\" must be 1"));
                }
                fields.version = value.to_string();
            }
            2 => {
                let ok = !value.is_empty()
                    && value.bytes().all(|c| c.is_ascii_digit())
                    && !(value.len() > 1 && value.starts_with('0'));
                let id = value.parse::<u64>().ok().filter(|_| ok).ok_or_else(|| {
                    malformed(
                        line_no,
                        "\"Chain ID\" must be a decimal number (mainnet 1, testnet 2147483648)",
                    )
                })?;
                fields.chain_id = id;
            }
            3 => {
                check_nonce(value, line_no)?;
                fields.nonce = value.to_string();
            }
            4 => {
                check_time(value, line_no, "Issued At")?;
                fields.issued_at = value.to_string();
            }
            5 => {
                check_time(value, line_no, "Expiration Time")?;
                fields.expiration_time = Some(value.to_string());
            }
            6 => {
                check_time(value, line_no, "Not Before")?;
                fields.not_before = Some(value.to_string());
            }
            7 => {
                check_request_id(value, line_no)?;
                fields.request_id = Some(value.to_string());
            }
            _ => {
                // Resources: then "- <uri>" lines to the end.
                for (k, item) in lines.iter().enumerate().skip(i + 1) {
                    let uri = item.strip_prefix("- ").ok_or_else(|| {
                        malformed(
                            k + 1,
                            "after \"Resources:\" every line must be \"- <absolute URI>\"",
                        )
                    })?;
                    check_uri(uri, k + 1, "Resources")?;
                    fields.resources.push(uri.to_string());
                }
                i = lines.len();
                continue;
            }
        }
        i += 1;
    }
    if let Some(missing) = (0..5).find(|k| !seen[*k]) {
        // Reported where it belongs: at the first field that should follow it.
        let line = (missing + 1..TAGS.len())
            .find(|k| seen[*k])
            .map_or(lines.len() + 1, |k| line_of[k]);
        return Err(SignInError::MissingField {
            line,
            field: TAGS[missing],
        });
    }
    Ok(fields)
}

/// The Stacks message hash of `message`: `sha256(prefix ‖ varint(len) ‖ message)`, as
/// `@stacks/encryption`'s `hashMessage`.
pub fn hash_message(message: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let len = message.len() as u64;
    // Bitcoin varint (little-endian after the marker), as the JS `varuint` encoder.
    let mut varint = [0u8; 9];
    let n = if len < 0xfd {
        varint[0] = len as u8;
        1
    } else if len <= 0xffff {
        varint[0] = 0xfd;
        varint[1..3].copy_from_slice(&(len as u16).to_le_bytes());
        3
    } else if len <= 0xffff_ffff {
        varint[0] = 0xfe;
        varint[1..5].copy_from_slice(&(len as u32).to_le_bytes());
        5
    } else {
        varint[0] = 0xff;
        varint[1..9].copy_from_slice(&len.to_le_bytes());
        9
    };
    let mut hasher = Sha256::new();
    hasher.update(MESSAGE_PREFIX.as_bytes());
    hasher.update(&varint[..n]);
    hasher.update(message);
    hasher.finalize().into()
}

/// Signs `message` as a Stacks wallet does for `stx_signMessage`: a recoverable
/// signature over [`hash_message`], returned as 130 hex characters `r ‖ s ‖ v` (low-S,
/// RFC 6979), the form `verifyMessageSignatureRsv` reads.
pub fn sign_message(key: &PrivateKey, message: &str) -> String {
    to_hex(&key.sign_prehash_recoverable(&hash_message(message.as_bytes())))
}

/// Recovers the public key that made a 65-byte hex `r ‖ s ‖ v` signature over the
/// Stacks message hash of `message` (high-S accepted).
pub fn recover_message_signer(
    message: &str,
    signature_hex: &str,
) -> Result<PublicKey, SignInError> {
    let sig = signature_hex;
    if sig.is_empty() {
        return Err(SignInError::Empty);
    }
    if sig.len() != 130 {
        return Err(SignInError::SignatureLength { len: sig.len() });
    }
    let bytes = from_hex(sig)
        .map_err(|_| SignInError::BadInput("the signature is not hexadecimal text".into()))?;
    let v = bytes[64];
    let id = RecoveryId::from_byte(v).ok_or(SignInError::RecoveryId(v))?;
    let signature = Signature::from_slice(&bytes[..64]).map_err(|_| SignInError::BadSignature)?;
    let hash = hash_message(message.as_bytes());
    // The recovered point is on the curve and not the identity (k256 checks): kept as is,
    // without a compress-and-decompress round trip (a square root, ~10 % of the time).
    VerifyingKey::recover_from_prehash(&hash, &signature, id)
        .map(PublicKey::from)
        .map_err(|_| SignInError::BadSignature)
}

/// What the server expects of a sign-in ([`verify_sign_in`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyOptions {
    /// The server's own domain (authority: host[:port], lower case), e.g. `example.com`.
    pub domain: String,
    /// The nonce the server issued for this sign-in (single use: the server must mark
    /// it used once a sign-in with it succeeds).
    pub nonce: String,
    /// Now, in milliseconds since the epoch.
    pub now_ms: i64,
    /// The address the server expects, if it knows it.
    pub address: Option<String>,
    /// The chain id the server expects; `None` accepts mainnet (1) and testnet
    /// (2147483648).
    pub chain_id: Option<u64>,
    /// Allowed clock difference for `Issued At` and `Not Before`, in ms.
    pub skew_ms: i64,
}

impl VerifyOptions {
    /// Options with the default 5-minute skew, no expected address or chain.
    pub fn new(domain: &str, nonce: &str, now_ms: i64) -> Self {
        VerifyOptions {
            domain: domain.to_string(),
            nonce: nonce.to_string(),
            now_ms,
            address: None,
            chain_id: None,
            skew_ms: DEFAULT_SKEW_MS,
        }
    }
}

/// A verified sign-in: who signed, and the message's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedSignIn {
    /// The signer's Stacks address (the message's, now proven).
    pub address: String,
    /// The signer's compressed public key, recovered from the signature.
    pub public_key: PublicKey,
    /// The parsed message.
    pub fields: SignInFields,
}

/// Verifies a signed Sign-In with Stacks message: parses it strictly, recovers the
/// signer from the `r ‖ s ‖ v` signature and checks that its address is the message's
/// (for the message's chain), then that the message is for `opts.domain` with
/// `opts.nonce`, within its validity times (with `opts.skew_ms` for `Issued At` and
/// `Not Before`; `Expiration Time` is strict), on the expected chain, and (when given)
/// for the expected address. The first failed check is returned.
pub fn verify_sign_in(
    message: &str,
    signature_hex: &str,
    opts: &VerifyOptions,
) -> Result<VerifiedSignIn, SignInError> {
    let fields = parse_sign_in_message(message)?;
    let key = recover_message_signer(message, signature_hex)?;
    let (version, hash) =
        stx_address_decode(&fields.address).map_err(|_| SignInError::BadSignature)?;
    let mainnet = match fields.chain_id {
        CHAIN_ID_MAINNET => true,
        CHAIN_ID_TESTNET => false,
        other => {
            return Err(SignInError::WrongChain {
                expected: opts.chain_id.unwrap_or(CHAIN_ID_MAINNET),
                found: other,
            });
        }
    };
    // A single-signature address of the message's network.
    let expected_version = if mainnet { 22 } else { 26 };
    if hash != hash160(&key.to_compressed()) {
        return Err(SignInError::BadSignature);
    }
    if version != expected_version {
        return Err(SignInError::WrongChain {
            expected: fields.chain_id,
            found: if mainnet {
                CHAIN_ID_TESTNET
            } else {
                CHAIN_ID_MAINNET
            },
        });
    }
    if fields.domain != opts.domain {
        return Err(SignInError::DomainMismatch {
            expected: opts.domain.clone(),
            found: fields.domain.clone(),
        });
    }
    if !bool::from(subtle::ConstantTimeEq::ct_eq(
        fields.nonce.as_bytes(),
        opts.nonce.as_bytes(),
    )) {
        return Err(SignInError::NonceMismatch);
    }
    if let Some(expected) = opts.chain_id
        && expected != fields.chain_id
    {
        return Err(SignInError::WrongChain {
            expected,
            found: fields.chain_id,
        });
    }
    if let Some(expected) = &opts.address
        && *expected != fields.address
    {
        return Err(SignInError::AddressMismatch {
            expected: expected.clone(),
            found: fields.address.clone(),
        });
    }
    let skew = opts.skew_ms.max(0);
    let now = opts.now_ms;
    // The times were checked by the parser; a failure here cannot happen.
    let time = |t: &str| parse_rfc3339(t).map_err(|_| SignInError::BadSignature);
    if let Some(exp) = &fields.expiration_time
        && now >= time(exp)?
    {
        return Err(SignInError::Expired {
            expiration_time: exp.clone(),
        });
    }
    if let Some(nbf) = &fields.not_before
        && now.saturating_add(skew) < time(nbf)?
    {
        return Err(SignInError::NotYetValid {
            not_before: nbf.clone(),
        });
    }
    if now.saturating_add(skew) < time(&fields.issued_at)? {
        return Err(SignInError::IssuedInFuture {
            issued_at: fields.issued_at.clone(),
        });
    }
    Ok(VerifiedSignIn {
        address: fields.address.clone(),
        public_key: key,
        fields,
    })
}

// --- JSON forms (shared by the JS API and the `cairn-verify` CLI) ---

impl SignInFields {
    /// The fields as a JSON object with EIP-4361's camelCase names (`chainId` a
    /// number; absent optional fields left out).
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("domain".into(), self.domain.as_str().into());
        m.insert("address".into(), self.address.as_str().into());
        m.insert_opt("statement", self.statement.as_deref());
        m.insert("uri".into(), self.uri.as_str().into());
        m.insert("version".into(), self.version.as_str().into());
        m.insert("chainId".into(), self.chain_id.into());
        m.insert("nonce".into(), self.nonce.as_str().into());
        m.insert("issuedAt".into(), self.issued_at.as_str().into());
        m.insert_opt("expirationTime", self.expiration_time.as_deref());
        m.insert_opt("notBefore", self.not_before.as_deref());
        m.insert_opt("requestId", self.request_id.as_deref());
        if !self.resources.is_empty() {
            m.insert(
                "resources".into(),
                Value::Array(self.resources.iter().map(Value::from).collect()),
            );
        }
        Value::Object(m)
    }

    /// Reads the JSON form of [`Self::to_json`]; `version` defaults to `"1"`.
    pub fn from_json(value: &Value) -> Result<SignInFields, SignInError> {
        let err = |e: crate::support::json::FieldError| SignInError::BadInput(e.to_string());
        let f = Fields::of(value, "the sign-in message fields").map_err(err)?;
        let opt = |k: &str| f.opt_str(k).map(|o| o.map(str::to_string)).map_err(err);
        let resources = f
            .opt_array("resources")
            .map_err(err)?
            .iter()
            .map(|r| {
                r.as_str().map(str::to_string).ok_or_else(|| {
                    SignInError::BadInput("`resources` must be an array of strings".into())
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SignInFields {
            domain: f.str("domain").map_err(err)?.to_string(),
            address: f.str("address").map_err(err)?.to_string(),
            statement: opt("statement")?,
            uri: f.str("uri").map_err(err)?.to_string(),
            version: opt("version")?.unwrap_or_else(|| "1".into()),
            chain_id: f.u64("chainId").map_err(err)?,
            nonce: f.str("nonce").map_err(err)?.to_string(),
            issued_at: f.str("issuedAt").map_err(err)?.to_string(),
            expiration_time: opt("expirationTime")?,
            not_before: opt("notBefore")?,
            request_id: opt("requestId")?,
            resources,
        })
    }
}

impl VerifyOptions {
    /// Reads `{domain, nonce, now?, address?, chainId?, skewMs?}`; `now` (ms) falls
    /// back to `default_now_ms`.
    pub fn from_json(value: &Value, default_now_ms: i64) -> Result<VerifyOptions, SignInError> {
        let err = |e: crate::support::json::FieldError| SignInError::BadInput(e.to_string());
        let f = Fields::of(value, "the sign-in verification options").map_err(err)?;
        Ok(VerifyOptions {
            domain: f.str("domain").map_err(err)?.to_string(),
            nonce: f.str("nonce").map_err(err)?.to_string(),
            now_ms: f
                .opt("now", "a whole number of milliseconds", Value::as_i64)
                .map_err(err)?
                .unwrap_or(default_now_ms),
            address: f.opt_str("address").map_err(err)?.map(str::to_string),
            chain_id: f
                .opt("chainId", "a whole number", Value::as_u64)
                .map_err(err)?,
            skew_ms: f
                .opt("skewMs", "a whole number of milliseconds", Value::as_i64)
                .map_err(err)?
                .unwrap_or(DEFAULT_SKEW_MS),
        })
    }
}

impl VerifiedSignIn {
    /// `{address, publicKey, fields}`.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("address".into(), self.address.as_str().into());
        m.insert("publicKey".into(), self.public_key.to_hex().into());
        m.insert("fields".into(), self.fields.to_json());
        Value::Object(m)
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::support::encoding::{sha256, stx_address};

    fn key() -> PrivateKey {
        PrivateKey::from_hex("6dad38fa92add38d913bdfb2e646ef4ce2a50a2f39853f848a792835626a5690")
            .unwrap()
    }

    fn fields(k: &PrivateKey) -> SignInFields {
        SignInFields {
            domain: "example.com".into(),
            address: stx_address(&k.public_key().to_compressed(), true),
            statement: Some("Sign in to the example service.".into()),
            uri: "https://example.com/login".into(),
            version: "1".into(),
            chain_id: CHAIN_ID_MAINNET,
            nonce: "abcdef123456".into(),
            issued_at: "2023-11-14T22:13:20Z".into(),
            expiration_time: Some("2023-11-14T22:23:20Z".into()),
            not_before: None,
            request_id: Some("req-1".into()),
            resources: vec!["ipfs://bafy".into(), "https://example.com/a?b=c#d".into()],
        }
    }

    #[test]
    fn layout_matches_eip4361() {
        let k = key();
        let mut f = fields(&k);
        let text = create_sign_in_message(&f).unwrap();
        let addr = &f.address;
        assert_eq!(
            text,
            format!(
                "example.com wants you to sign in with your Stacks account:\n{addr}\n\nSign in to the example service.\n\nURI: https://example.com/login\nVersion: 1\nChain ID: 1\nNonce: abcdef123456\nIssued At: 2023-11-14T22:13:20Z\nExpiration Time: 2023-11-14T22:23:20Z\nRequest ID: req-1\nResources:\n- ipfs://bafy\n- https://example.com/a?b=c#d"
            )
        );
        assert_eq!(parse_sign_in_message(&text).unwrap(), f);
        f.statement = None;
        f.resources.clear();
        f.request_id = None;
        f.expiration_time = None;
        let text = create_sign_in_message(&f).unwrap();
        assert_eq!(
            text,
            format!(
                "example.com wants you to sign in with your Stacks account:\n{addr}\n\n\nURI: https://example.com/login\nVersion: 1\nChain ID: 1\nNonce: abcdef123456\nIssued At: 2023-11-14T22:13:20Z"
            )
        );
        assert_eq!(parse_sign_in_message(&text).unwrap(), f);
        f.statement = Some("two\nlines".into());
        assert!(matches!(
            create_sign_in_message(&f),
            Err(SignInError::BadInput(_))
        ));
    }

    #[test]
    fn sign_then_verify() {
        let k = key();
        let f = fields(&k);
        let text = create_sign_in_message(&f).unwrap();
        let sig = sign_message(&k, &text);
        assert_eq!(sig.len(), 130);
        let now = 1_700_000_100_000;
        let v = verify_sign_in(
            &text,
            &sig,
            &VerifyOptions::new("example.com", "abcdef123456", now),
        )
        .unwrap();
        assert_eq!(v.address, f.address);
        assert_eq!(v.public_key, k.public_key());
        let wrong_nonce = verify_sign_in(
            &text,
            &sig,
            &VerifyOptions::new("example.com", "abcdef123457", now),
        );
        assert_eq!(wrong_nonce.unwrap_err(), SignInError::NonceMismatch);
        let other = PrivateKey::random().unwrap();
        assert_eq!(
            verify_sign_in(
                &text,
                &sign_message(&other, &text),
                &VerifyOptions::new("example.com", "abcdef123456", now)
            )
            .unwrap_err(),
            SignInError::BadSignature
        );
    }

    #[test]
    fn hash_prefix_and_varint() {
        // 253 bytes switch to the 0xfd marker.
        let short = hash_message(&[b'a'; 252]);
        let long = hash_message(&[b'a'; 253]);
        let mut manual = MESSAGE_PREFIX.as_bytes().to_vec();
        manual.extend_from_slice(&[0xfd, 253, 0]);
        manual.extend_from_slice(&[b'a'; 253]);
        assert_eq!(long, sha256(&manual));
        let mut manual = MESSAGE_PREFIX.as_bytes().to_vec();
        manual.push(252);
        manual.extend_from_slice(&[b'a'; 252]);
        assert_eq!(short, sha256(&manual));
    }
}
