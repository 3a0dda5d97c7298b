//! Text encodings used by the Stacks protocols: hex, base64 (standard and URL-safe),
//! base58check (Bitcoin-style addresses) and c32check (STX addresses).
//!
//! These are encodings, not cryptographic primitives; the hashes they need come from
//! RustCrypto crates.

use base64ct::{Base64, Base64UrlUnpadded, Encoding};
use sha2::{Digest, Sha256};
use std::fmt;

/// `text` in double quotes for an error message, with quotes, backslashes, control
/// and non-ASCII characters escaped (`\n`, `\u{e9}`), so a hostile value cannot
/// forge or hide text. (`{:?}` would do the same with Unicode tables the page does
/// not otherwise need.)
pub fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        out.extend(c.escape_default());
    }
    out.push('"');
    out
}

/// Why a piece of encoded text could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodingError {
    /// Hex text had an odd length or a character outside `0-9a-fA-F`.
    Hex,
    /// Base64 or base64url text was malformed.
    Base64,
    /// Base58 text had a character outside the alphabet or a wrong checksum.
    Base58,
    /// Not a Stacks c32check address: not `S` + version + c32 digits, a wrong
    /// checksum, or not in canonical form.
    C32,
}

impl fmt::Display for EncodingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodingError::Hex => f.write_str("not valid hexadecimal text"),
            EncodingError::Base64 => f.write_str("not valid base64 text"),
            EncodingError::Base58 => f.write_str("not a valid base58check string"),
            EncodingError::C32 => f.write_str("not a valid Stacks (c32check) address"),
        }
    }
}

impl std::error::Error for EncodingError {}

/// Lower-case hex, through a constant-time encoder (`base16ct`): hex is how private
/// keys, seeds and app keys leave the core, so no table lookup may depend on a secret.
pub fn to_hex(bytes: &[u8]) -> String {
    // Into a buffer of the right length, not `encode_string`: its `expect` on that length
    // brings a panic message and the crate's source path into the page's module.
    let mut out = vec![0u8; bytes.len().saturating_mul(2)];
    let written = base16ct::lower::encode_str(bytes, &mut out).map_or(0, str::len);
    out.truncate(written);
    String::from_utf8(out).unwrap_or_default()
}

/// Decodes hex text (either case), in constant time for the same reason as [`to_hex`].
pub fn from_hex(text: &str) -> Result<Vec<u8>, EncodingError> {
    base16ct::mixed::decode_vec(text).map_err(|_| EncodingError::Hex)
}

/// Standard base64 with padding (as `base64-js fromByteArray`).
pub fn to_base64(bytes: &[u8]) -> String {
    Base64::encode_string(bytes)
}

/// Decodes standard padded base64.
pub fn from_base64(text: &str) -> Result<Vec<u8>, EncodingError> {
    Base64::decode_vec(text).map_err(|_| EncodingError::Base64)
}

/// URL-safe base64 without padding, as used in JWTs.
pub fn to_base64url(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

/// Decodes URL-safe unpadded base64. Trailing `=` padding is tolerated, as the JS
/// decoders used by jsontokens do.
pub fn from_base64url(text: &str) -> Result<Vec<u8>, EncodingError> {
    let trimmed = text.trim_end_matches('=');
    Base64UrlUnpadded::decode_vec(trimmed).map_err(|_| EncodingError::Base64)
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// RIPEMD160(SHA256(data)), the Bitcoin "hash160".
pub fn hash160(data: &[u8]) -> [u8; 20] {
    use ripemd::Ripemd160;
    Ripemd160::digest(sha256(data)).into()
}

const B58: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

fn base58_encode(data: &[u8]) -> String {
    let zeros = data.iter().take_while(|b| **b == 0).count();
    // Big-number base conversion, little-endian base-58 digits.
    let mut digits: Vec<u8> = Vec::with_capacity(data.len() * 138 / 100 + 1);
    for &byte in &data[zeros..] {
        let mut carry = byte as u32;
        for d in digits.iter_mut() {
            carry += (*d as u32) << 8;
            *d = (carry % 58) as u8;
            carry /= 58;
        }
        while carry > 0 {
            digits.push((carry % 58) as u8);
            carry /= 58;
        }
    }
    let mut out = String::with_capacity(zeros + digits.len());
    out.extend(std::iter::repeat_n('1', zeros));
    out.extend(digits.iter().rev().map(|d| B58[*d as usize] as char));
    out
}

fn base58_decode(text: &str) -> Result<Vec<u8>, EncodingError> {
    let zeros = text.bytes().take_while(|c| *c == b'1').count();
    let mut bytes: Vec<u8> = Vec::with_capacity(text.len());
    for c in text.bytes().skip(zeros) {
        let mut carry = B58
            .iter()
            .position(|x| *x == c)
            .ok_or(EncodingError::Base58)? as u32;
        for b in bytes.iter_mut() {
            carry += (*b as u32) * 58;
            *b = (carry & 0xff) as u8;
            carry >>= 8;
        }
        while carry > 0 {
            bytes.push((carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    let mut out = vec![0u8; zeros];
    out.extend(bytes.iter().rev());
    Ok(out)
}

/// base58check of `version ‖ payload` with a double-SHA256 checksum.
pub fn base58check_encode(version: u8, payload: &[u8]) -> String {
    let mut data = Vec::with_capacity(payload.len() + 5);
    data.push(version);
    data.extend_from_slice(payload);
    let check = sha256(&sha256(&data));
    data.extend_from_slice(&check[..4]);
    base58_encode(&data)
}

/// Decodes base58check text into `(version, payload)`, checking the checksum.
pub fn base58check_decode(text: &str) -> Result<(u8, Vec<u8>), EncodingError> {
    let data = base58_decode(text)?;
    if data.len() < 5 {
        return Err(EncodingError::Base58);
    }
    let (body, check) = data.split_at(data.len() - 4);
    if sha256(&sha256(body))[..4] != *check {
        return Err(EncodingError::Base58);
    }
    Ok((body[0], body[1..].to_vec()))
}

/// Bitcoin mainnet P2PKH address (version 0x00) of a public key, given as its SEC1 bytes.
/// Callers pass the compressed form: that is what every Stacks library hashes.
pub fn btc_address(pubkey_sec1: &[u8]) -> String {
    base58check_encode(0x00, &hash160(pubkey_sec1))
}

const C32: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

fn c32_encode(data: &[u8]) -> String {
    // Little-endian 5-bit groups of the big-endian number, then leading-zero bytes as '0'.
    let mut out: Vec<u8> = Vec::new();
    let mut carry: u32 = 0;
    let mut carry_bits = 0;
    for &byte in data.iter().rev() {
        carry |= (byte as u32) << carry_bits;
        carry_bits += 8;
        while carry_bits >= 5 {
            out.push(C32[(carry & 31) as usize]);
            carry >>= 5;
            carry_bits -= 5;
        }
    }
    if carry_bits > 0 {
        out.push(C32[(carry & 31) as usize]);
    }
    while out.last() == Some(&b'0') {
        out.pop();
    }
    let zeros = data.iter().take_while(|b| **b == 0).count();
    out.extend(std::iter::repeat_n(b'0', zeros));
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// c32check encoding of `version` and a 20-byte hash (without the leading `S`).
pub fn c32check_encode(version: u8, hash: &[u8]) -> String {
    let mut data = Vec::with_capacity(hash.len() + 1);
    data.push(version);
    data.extend_from_slice(hash);
    let check = sha256(&sha256(&data));
    let mut body = hash.to_vec();
    body.extend_from_slice(&check[..4]);
    let mut out = String::new();
    out.push(C32[(version & 31) as usize] as char);
    out.push_str(&c32_encode(&body));
    out
}

/// STX address (`S` + c32check) of a compressed public key: version 22 (`SP…`) on
/// mainnet, 26 (`ST…`) on testnet.
pub fn stx_address(pubkey_sec1: &[u8], mainnet: bool) -> String {
    let version = if mainnet { 22 } else { 26 };
    format!("S{}", c32check_encode(version, &hash160(pubkey_sec1)))
}

/// Decodes a STX address (`S` + c32check of a version and a 20-byte hash) into its
/// version (22 `SP` mainnet, 26 `ST` testnet, 20 `SM` and 21 `SN` multisig) and hash.
/// Only the canonical upper-case form is accepted (the one [`c32check_encode`] writes).
pub fn stx_address_decode(text: &str) -> Result<(u8, [u8; 20]), EncodingError> {
    let rest = text.strip_prefix('S').ok_or(EncodingError::C32)?;
    let mut chars = rest.bytes();
    let version = chars
        .next()
        .and_then(|c| C32.iter().position(|x| *x == c))
        .ok_or(EncodingError::C32)? as u8;
    // The digits are one big-endian number: 20 hash bytes then 4 checksum bytes.
    let mut out = [0u8; 24];
    let mut idx = out.len();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in chars.rev() {
        let v = C32.iter().position(|x| *x == c).ok_or(EncodingError::C32)? as u32;
        acc |= v << bits;
        bits += 5;
        while bits >= 8 {
            if idx == 0 {
                if acc & 0xff != 0 {
                    return Err(EncodingError::C32);
                }
            } else {
                idx -= 1;
                out[idx] = acc as u8;
            }
            acc >>= 8;
            bits -= 8;
        }
    }
    if acc != 0 {
        if idx == 0 {
            return Err(EncodingError::C32);
        }
        out[idx - 1] = acc as u8;
    }
    let mut hash = [0u8; 20];
    hash.copy_from_slice(&out[..20]);
    // Re-encoding checks the checksum and the canonical form at once.
    if c32check_encode(version, &hash) != rest {
        return Err(EncodingError::C32);
    }
    Ok((version, hash))
}

/// The DER form of an ECDSA signature, `SEQUENCE { INTEGER r, INTEGER s }`, from the
/// 64-byte `r ‖ s` (minimal integers: leading zeros dropped, a zero byte added where the
/// top bit is set). This is the signature layout of `@stacks/encryption`'s `signECDSA`.
/// (Written here rather than through the `der` crate, which costs the page ~10 KB.)
pub fn ecdsa_der_encode(rs: &[u8; 64]) -> Vec<u8> {
    fn integer(out: &mut Vec<u8>, x: &[u8]) {
        let start = x.iter().position(|&b| b != 0).unwrap_or(x.len() - 1);
        let x = &x[start..];
        let pad = x[0] & 0x80 != 0;
        out.push(0x02);
        out.push((x.len() + usize::from(pad)) as u8);
        if pad {
            out.push(0);
        }
        out.extend_from_slice(x);
    }
    let mut body = Vec::with_capacity(70);
    integer(&mut body, &rs[..32]);
    integer(&mut body, &rs[32..]);
    let mut out = Vec::with_capacity(body.len() + 2);
    out.push(0x30);
    out.push(body.len() as u8);
    out.extend_from_slice(&body);
    out
}

/// Reads a DER ECDSA signature back into `r ‖ s` (64 bytes). Strict: exactly one
/// SEQUENCE of two minimal, positive INTEGERs of at most 32 bytes each, nothing after.
pub fn ecdsa_der_decode(der: &[u8]) -> Option<[u8; 64]> {
    fn integer(input: &[u8]) -> Option<(&[u8], &[u8])> {
        let (&tag, rest) = input.split_first()?;
        let (&len, rest) = rest.split_first()?;
        let len = usize::from(len);
        if tag != 0x02 || len == 0 || len > 33 || rest.len() < len {
            return None;
        }
        let (x, rest) = rest.split_at(len);
        // Negative, or a zero byte that is not needed: not minimal DER.
        if x[0] & 0x80 != 0 || (x.len() > 1 && x[0] == 0 && x[1] & 0x80 == 0) {
            return None;
        }
        let x = if x[0] == 0 && x.len() > 1 { &x[1..] } else { x };
        (x.len() <= 32).then_some((x, rest))
    }
    let (&tag, rest) = der.split_first()?;
    let (&len, body) = rest.split_first()?;
    if tag != 0x30 || usize::from(len) != body.len() {
        return None;
    }
    let (r, rest) = integer(body)?;
    let (s, rest) = integer(rest)?;
    if !rest.is_empty() {
        return None;
    }
    let mut out = [0u8; 64];
    out[32 - r.len()..32].copy_from_slice(r);
    out[64 - s.len()..].copy_from_slice(s);
    Some(out)
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn quoted_escapes_what_could_mislead() {
        assert_eq!(quoted("ES256"), r#""ES256""#);
        assert_eq!(quoted("a\"b\\c\n\u{202e}é"), r#""a\"b\\c\n\u{202e}\u{e9}""#);
    }

    #[test]
    fn hex_round_trip_and_errors() {
        assert_eq!(to_hex(&[0, 1, 0xab, 0xff]), "0001abff");
        assert_eq!(from_hex("0001ABff").unwrap(), vec![0, 1, 0xab, 0xff]);
        assert_eq!(from_hex("abc"), Err(EncodingError::Hex));
        assert_eq!(from_hex("zz"), Err(EncodingError::Hex));
    }

    #[test]
    fn base58check_round_trip_and_bad_checksum() {
        let addr = base58check_encode(0, &[7u8; 20]);
        assert_eq!(base58check_decode(&addr).unwrap(), (0, vec![7u8; 20]));
        let mut broken = addr.clone();
        let last = broken.pop().unwrap();
        broken.push(if last == 'a' { 'b' } else { 'a' });
        assert_eq!(base58check_decode(&broken), Err(EncodingError::Base58));
        assert_eq!(base58check_decode("0OIl"), Err(EncodingError::Base58));
    }

    #[test]
    fn c32_matches_known_address() {
        // c32check reference: version 22 with a zero hash.
        assert_eq!(
            format!("S{}", c32check_encode(22, &[0u8; 20])),
            "SP000000000000000000002Q6VF78"
        );
    }

    #[test]
    fn stx_address_round_trip_and_refusals() {
        assert_eq!(
            stx_address_decode("SP000000000000000000002Q6VF78"),
            Ok((22, [0u8; 20]))
        );
        for version in [20u8, 21, 22, 26] {
            for hash in [[0u8; 20], [0xff; 20], [7; 20]] {
                let addr = format!("S{}", c32check_encode(version, &hash));
                assert_eq!(stx_address_decode(&addr), Ok((version, hash)), "{addr}");
                let lower = addr.to_ascii_lowercase();
                assert_eq!(stx_address_decode(&lower), Err(EncodingError::C32));
                let mut broken = addr.clone();
                let last = broken.pop().unwrap();
                broken.push(if last == 'A' { 'B' } else { 'A' });
                assert_eq!(stx_address_decode(&broken), Err(EncodingError::C32));
                assert_eq!(
                    stx_address_decode(&format!("{addr}0")),
                    Err(EncodingError::C32)
                );
                assert_eq!(
                    stx_address_decode(&format!("{}0{}", &addr[..2], &addr[2..])),
                    Err(EncodingError::C32)
                );
            }
        }
        for bad in [
            "",
            "S",
            "SP",
            "XP000000000000000000002Q6VF78",
            "SPO00000000000000000002Q6VF78",
        ] {
            assert_eq!(stx_address_decode(bad), Err(EncodingError::C32), "{bad}");
        }
    }

    #[test]
    fn ecdsa_der_round_trips_and_matches_the_der_crate() {
        let key = crate::keys::PrivateKey::random().unwrap();
        for i in 0..300u32 {
            let sig = key.sign_prehash(&sha256(&i.to_be_bytes()));
            let rs: [u8; 64] = sig.to_bytes().into();
            let ours = ecdsa_der_encode(&rs);
            assert_eq!(ours, sig.to_der().as_bytes(), "signature {i}");
            assert_eq!(ecdsa_der_decode(&ours), Some(rs));
        }
        // Small integers (leading zeros dropped) and top-bit padding.
        let mut rs = [0u8; 64];
        rs[31] = 1;
        rs[32] = 0x80;
        let der = ecdsa_der_encode(&rs);
        assert_eq!(der[..5], [0x30, der.len() as u8 - 2, 0x02, 0x01, 0x01]);
        assert_eq!(ecdsa_der_decode(&der), Some(rs));
        // Not DER: trailing bytes, wrong tags and lengths, non-minimal or negative integers.
        let good = ecdsa_der_encode(&[7u8; 64]);
        let mut trailing = good.clone();
        trailing.push(0);
        let mut wrong_tag = good.clone();
        wrong_tag[0] = 0x31;
        let mut wrong_len = good.clone();
        wrong_len[1] += 1;
        for bad in [
            vec![],
            vec![0x30],
            vec![0x30, 0x00],
            trailing,
            wrong_tag,
            wrong_len,
            vec![0x30, 0x06, 0x02, 0x01, 0x80, 0x02, 0x01, 0x01],
            vec![0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01],
            vec![0x30, 0x05, 0x02, 0x00, 0x02, 0x01, 0x01],
        ] {
            assert_eq!(ecdsa_der_decode(&bad), None, "{bad:?}");
        }
    }
}
