//! Fuzz-style checks of the Clarity reader and writer (src/clarity.rs), seeded so a
//! failure reproduces: random values of every type round-trip through the writer, the
//! reader, the JSON form and the rendering; mutated and random bytes give a value or an
//! error, never a panic, and whatever the reader accepts the writer writes back.

#![allow(clippy::unwrap_used)] // a test that unwraps fails, which is what it should do

use cairn_core::protocol::clarity::{self, ClarityValue, StructuredData};
use cairn_core::support::json;

#[path = "support/rng.rs"]
mod rng;
use rng::Rng;

const NAME_FIRST: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const NAME_REST: &[u8] =
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_!?+<>=/*";

fn name(rng: &mut Rng, rest: &[u8]) -> String {
    let len = rng.below(12);
    let mut s = String::new();
    s.push(NAME_FIRST[rng.below(NAME_FIRST.len())] as char);
    for _ in 0..len {
        s.push(rest[rng.below(rest.len())] as char);
    }
    s
}

fn text(rng: &mut Rng, ascii: bool) -> String {
    const PIECES: &[&str] = &[
        "a", "Z", " ", "\n", "\t", "\"", "\\", "~", "é", "日", "\u{202e}", "\u{0}", "😀",
    ];
    let n = rng.below(10);
    (0..n)
        .map(|_| PIECES[rng.below(PIECES.len())])
        .filter(|p| !ascii || p.bytes().all(clarity::is_ascii_string_byte))
        .collect()
}

fn value(rng: &mut Rng, depth: usize) -> ClarityValue {
    let leaf = depth >= 6;
    let kind = if leaf { rng.below(9) } else { rng.below(15) };
    let mut hash = [0u8; 20];
    hash.iter_mut().for_each(|b| *b = rng.next() as u8);
    let version = [22, 26, 20, 21, 0, 31][rng.below(6)];
    match kind {
        0 => ClarityValue::Int(((rng.next() as u128) << 64 | rng.next() as u128) as i128),
        1 => ClarityValue::UInt((rng.next() as u128) << 64 | rng.next() as u128),
        2 => ClarityValue::Buffer(rng.bytes(40)),
        3 => ClarityValue::Bool(rng.below(2) == 0),
        4 => ClarityValue::StandardPrincipal {
            version,
            hash160: hash,
        },
        5 => ClarityValue::ContractPrincipal {
            version,
            hash160: hash,
            name: name(rng, b"abcxyzABC0123456789-_"),
        },
        6 => ClarityValue::None,
        7 => ClarityValue::StringAscii(text(rng, true)),
        8 => ClarityValue::StringUtf8(text(rng, false)),
        9 => ClarityValue::Some(Box::new(value(rng, depth + 1))),
        10 => ClarityValue::Ok(Box::new(value(rng, depth + 1))),
        11 => ClarityValue::Err(Box::new(value(rng, depth + 1))),
        12 => ClarityValue::List((0..rng.below(5)).map(|_| value(rng, depth + 1)).collect()),
        _ => {
            let mut fields: Vec<(String, ClarityValue)> = Vec::new();
            for _ in 0..rng.below(5) {
                let n = name(rng, NAME_REST);
                if fields.iter().all(|(m, _)| *m != n) {
                    let v = value(rng, depth + 1);
                    fields.push((n, v));
                }
            }
            ClarityValue::Tuple(fields)
        }
    }
}

/// The value with every tuple's fields in byte order, as the writer puts them.
fn sorted(v: &ClarityValue) -> ClarityValue {
    match v {
        ClarityValue::Some(x) => ClarityValue::Some(Box::new(sorted(x))),
        ClarityValue::Ok(x) => ClarityValue::Ok(Box::new(sorted(x))),
        ClarityValue::Err(x) => ClarityValue::Err(Box::new(sorted(x))),
        ClarityValue::List(items) => ClarityValue::List(items.iter().map(sorted).collect()),
        ClarityValue::Tuple(fields) => {
            let mut f: Vec<(String, ClarityValue)> =
                fields.iter().map(|(n, v)| (n.clone(), sorted(v))).collect();
            #[allow(clippy::disallowed_methods)] // a test's own reference sort, not in the module
            f.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            ClarityValue::Tuple(f)
        }
        other => other.clone(),
    }
}

fn mutate(rng: &mut Rng, bytes: &mut Vec<u8>) {
    for _ in 0..=rng.below(3) {
        match rng.below(5) {
            0 if !bytes.is_empty() => {
                let i = rng.below(bytes.len());
                bytes[i] = rng.next() as u8;
            }
            1 if !bytes.is_empty() => {
                let i = rng.below(bytes.len());
                bytes.truncate(i);
            }
            2 => {
                let i = rng.below(bytes.len() + 1);
                bytes.insert(i, [0x00, 0x0b, 0x0c, 0xff, 0x0a, 0x0e][rng.below(6)]);
            }
            3 if !bytes.is_empty() => {
                let i = rng.below(bytes.len());
                bytes.remove(i);
            }
            _ if !bytes.is_empty() => {
                let i = rng.below(bytes.len());
                bytes[i] ^= 1 << rng.below(8);
            }
            _ => {}
        }
    }
}

/// Everything the reader accepts is written back, read again identically (up to tuple
/// order), renders, and survives the JSON form.
fn check_accepted(v: &ClarityValue, input: &[u8]) {
    let written = v
        .to_bytes()
        .expect("the writer takes what the reader accepted");
    let again = ClarityValue::from_bytes(&written).expect("rereads");
    assert_eq!(again, sorted(v));
    if *v == sorted(v) {
        assert_eq!(
            written, input,
            "canonical input is written back byte for byte"
        );
    }
    let json_text = json::to_string(&clarity::to_json(v));
    let from_json = clarity::from_json(&json::from_str(&json_text).expect("valid JSON"))
        .expect("the JSON form reads back");
    assert_eq!(&from_json, v);
    let lines = clarity::render(v);
    assert!(!lines.is_empty());
}

#[test]
fn random_values_round_trip() {
    let mut rng = Rng(0x00c1_a417_5eed_0001);
    for _ in 0..3000 {
        let v = value(&mut rng, 1);
        let bytes = v.to_bytes().expect("random values are valid");
        let back = ClarityValue::from_bytes(&bytes).expect("reads back");
        assert_eq!(back, sorted(&v));
        check_accepted(&back, &bytes);
    }
}

#[test]
fn mutated_and_random_bytes_never_panic() {
    let mut rng = Rng(0x00c1_a417_5eed_0002);
    let (mut accepted, mut refused) = (0, 0);
    for round in 0..20_000 {
        let mut bytes = if round % 4 == 0 {
            rng.bytes(64)
        } else {
            value(&mut rng, 1).to_bytes().expect("valid")
        };
        mutate(&mut rng, &mut bytes);
        match ClarityValue::from_bytes(&bytes) {
            Ok(v) => {
                accepted += 1;
                check_accepted(&v, &bytes);
            }
            Err(e) => {
                refused += 1;
                assert!(e.to_string().starts_with("Clarity value: "));
            }
        }
        let half = rng.below(bytes.len() + 1);
        let _ = StructuredData::from_bytes(&bytes[..half], &bytes[half..]);
    }
    // Both paths were exercised.
    assert!(
        accepted > 1000 && refused > 1000,
        "{accepted} accepted, {refused} refused"
    );
}

#[test]
fn random_json_never_panics() {
    let mut rng = Rng(0x00c1_a417_5eed_0003);
    let mut accepted = 0;
    for _ in 0..3000 {
        let text = json::to_string(&clarity::to_json(&value(&mut rng, 1)));
        let mut bytes = text.into_bytes();
        for _ in 0..=rng.below(3) {
            if bytes.is_empty() {
                break;
            }
            let i = rng.below(bytes.len());
            const JSON_BYTES: &[u8] = b"{}[]\",:0123456789-abtuxyz";
            bytes[i] = JSON_BYTES[rng.below(JSON_BYTES.len())];
        }
        if let Ok(j) = json::from_str(&String::from_utf8_lossy(&bytes))
            && let Ok(v) = clarity::from_json(&j)
        {
            // What the JSON reader builds, the writer writes.
            v.to_bytes().expect("valid");
            accepted += 1;
        }
    }
    assert!(accepted > 100, "{accepted} accepted");
}
