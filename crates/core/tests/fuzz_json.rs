//! Fuzz target: the JSON reader and writer (`cairn_core::support::json`), differential against
//! `serde_json` (with `preserve_order`, so key order is comparable).
//!
//! Inputs are JSON texts generated from trees — numbers in every syntax JSON allows
//! (signs, fractions, exponents, long digit strings, out-of-range magnitudes), strings
//! with every escape including surrogate pairs, repeated keys, all four kinds of white
//! space — then sometimes mutated byte by byte.
//!
//! Properties: whatever `serde_json` accepts we accept, with the same tree (numbers
//! compared by value); what we accept and `serde_json` refuses is only a number beyond
//! the range of a double (we keep numbers as text) or nesting at the depth limit; what
//! we write reads back as the same value (compact and pretty), `serde_json` reads it
//! too, and our string escaping is byte for byte `serde_json`'s (= `JSON.stringify`'s);
//! `Number::as_f64` is the correctly rounded double for up to 15 significant digits and
//! a decimal exponent within ±22, and within a few units in the last place otherwise.

#![allow(clippy::unwrap_used)] // a test that unwraps fails, which is what it should do
#![cfg(not(target_arch = "wasm32"))]

#[macro_use]
#[path = "support/fuzz.rs"]
mod fuzz;

use cairn_core::support::json::{self, Number, Value};
use fuzz::{fuzz, mutate, mutations};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

fn ws() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => Just(String::new()),
        1 => "[ \t\r\n]{1,3}",
        1 => Just("\u{a0}".to_string()), // not JSON white space
        1 => Just("\u{b}".to_string()),  // nor this
    ]
}

fn number_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "-?(0|[1-9][0-9]{0,18})(\\.[0-9]{1,6})?([eE][+-]?[0-9]{1,3})?",
        1 => "-?[1-9][0-9]{15,30}(\\.[0-9]{0,25})?",
        1 => "-?0\\.0{0,30}[1-9][0-9]{0,20}",
        1 => "-?[0-9]{1,3}[eE][+-]?[0-9]{3,5}",
        1 => prop_oneof![
            Just("-0".to_string()),
            Just("1.7976931348623157e308".to_string()),
            Just("1.7976931348623159e308".to_string()),
            Just("4.9e-324".to_string()),
            Just("2.4703282292062328e-324".to_string()),
            Just("18446744073709551615".to_string()),
            Just("18446744073709551616".to_string()),
            Just("-9223372036854775808".to_string()),
            Just("-9223372036854775809".to_string()),
            Just("01".to_string()),
            Just("1.".to_string()),
            Just(".5".to_string()),
            Just("+1".to_string()),
            Just("1e".to_string()),
            Just("0x10".to_string()),
            Just("NaN".to_string()),
            Just("Infinity".to_string()),
        ],
    ]
}

fn string_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        6 => "[ -!#-\\[\\]-~]{1,6}",
        2 => "[\u{80}-\u{7ff}\u{800}-\u{ffff}\u{10000}-\u{10ffff}]{1,2}",
        2 => prop_oneof![
            Just("\\\"".to_string()), Just("\\\\".to_string()), Just("\\/".to_string()),
            Just("\\b".to_string()), Just("\\f".to_string()), Just("\\n".to_string()),
            Just("\\r".to_string()), Just("\\t".to_string()),
        ],
        2 => (0u32..0x10000).prop_map(|c| format!("\\u{c:04x}")),
        1 => (0u32..0x20).prop_map(|c| format!("\\u{c:04X}")),
        1 => (0x10000u32..0x110000).prop_map(|c| {
            let c = c - 0x10000;
            format!("\\ud{:03x}\\u{:04x}", 0x800 + (c >> 10), 0xdc00 + (c & 0x3ff))
        }),
        1 => prop_oneof![
            Just("\\ud800".to_string()),
            Just("\\udc00".to_string()),
            Just("\\ud800\\u0041".to_string()),
            Just("\\x41".to_string()),
            Just("\\u12".to_string()),
            Just("\u{1}".to_string()),
            Just("\u{7f}".to_string()),
        ],
    ];
    proptest::collection::vec(piece, 0..5).prop_map(|p| format!("\"{}\"", p.concat()))
}

fn leaf() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => number_text(),
        3 => string_text(),
        1 => Just("null".to_string()),
        1 => Just("true".to_string()),
        1 => Just("false".to_string()),
        1 => Just("nul".to_string()),
        1 => Just("True".to_string()),
    ]
}

/// JSON text from a generated tree (mostly valid; the leaves include near misses).
fn json_text() -> impl Strategy<Value = String> {
    leaf().prop_recursive(5, 64, 6, |inner| {
        let item = (ws(), inner.clone(), ws()).prop_map(|(a, v, b)| format!("{a}{v}{b}"));
        let key = prop_oneof![
            4 => string_text(),
            2 => Just("\"k\"".to_string()),
            1 => Just("\"\\u006b\"".to_string()),
        ];
        let member = (key, ws(), inner, ws()).prop_map(|(k, a, v, b)| format!("{k}{a}:{v}{b}"));
        prop_oneof![
            proptest::collection::vec(item, 0..6).prop_map(|v| format!("[{}]", v.join(","))),
            proptest::collection::vec(member, 0..6).prop_map(|m| format!("{{{}}}", m.join(","))),
        ]
    })
}

fn input() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => (ws(), json_text(), ws()).prop_map(|(a, t, b)| format!("{a}{t}{b}")),
        2 => (json_text(), mutations(4)).prop_map(|(t, m)| mutate(&t, &m)),
    ]
}

/// Whether two numbers agree: the same integer, or doubles within a few ULP (neither
/// side is guaranteed correctly rounded for long digit strings).
fn same_number(ours: &Number, theirs: &serde_json::Number) -> bool {
    if let Some(t) = theirs.as_u64() {
        return ours.as_u64() == Some(t);
    }
    if let Some(t) = theirs.as_i64() {
        return ours.as_i64() == Some(t);
    }
    match (ours.as_f64(), theirs.as_f64()) {
        (Some(a), Some(b)) => close(a, b, 4),
        _ => false,
    }
}

/// `a` and `b` within `ulps` units in the last place (of the smaller magnitude).
fn close(a: f64, b: f64, ulps: u64) -> bool {
    if a == b {
        return true;
    }
    if a.is_sign_negative() != b.is_sign_negative() {
        return a == 0.0 && b == 0.0;
    }
    a.abs().to_bits().abs_diff(b.abs().to_bits()) <= ulps
}

fn same(ours: &Value, theirs: &serde_json::Value) -> bool {
    use serde_json::Value as S;
    match (ours, theirs) {
        (Value::Null, S::Null) => true,
        (Value::Bool(a), S::Bool(b)) => a == b,
        (Value::Number(a), S::Number(b)) => same_number(a, b),
        (Value::String(a), S::String(b)) => a == b,
        (Value::Array(a), S::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
        }
        (Value::Object(a), S::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|((ka, va), (kb, vb))| ka == kb && same(va, vb))
        }
        _ => false,
    }
}

fn strings_in(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings_in(x, out)),
        Value::Object(m) => {
            for (k, x) in m.iter() {
                out.push(k.clone());
                strings_in(x, out);
            }
        }
        _ => {}
    }
}

fn differential(text: &str) -> Result<(), TestCaseError> {
    let ours = json::from_str(text);
    let theirs = serde_json::from_str::<serde_json::Value>(text);
    match (&ours, &theirs) {
        (Ok(a), Ok(b)) => check!(
            same(a, b),
            "{text:?}: we read {a:?}, serde_json reads {b:?}"
        ),
        (Err(e), Ok(b)) => check!(
            false,
            "{text:?}: serde_json reads {b:?}, we refuse it ({e})"
        ),
        (Ok(a), Err(e)) => {
            let why = e.to_string();
            check!(
                why.contains("number out of range") || why.contains("recursion limit"),
                "{text:?}: we read {a:?}, serde_json refuses it ({why})"
            )
        }
        (Err(_), Err(_)) => {}
    }
    let Ok(v) = ours else { return Ok(()) };
    for written in [json::to_string(&v), json::to_string_pretty(&v)] {
        let back = json::from_str(&written);
        check!(
            back.as_ref() == Ok(&v),
            "{text:?} written as {written:?} reads back as {back:?}"
        );
        if let Ok(s) = serde_json::from_str::<serde_json::Value>(&written) {
            check!(same(&v, &s), "serde_json reads our {written:?} as {s:?}");
        }
    }
    let mut strings = Vec::new();
    strings_in(&v, &mut strings);
    for s in strings {
        let ours = json::to_string(&Value::String(s.clone()));
        let theirs = serde_json::to_string(&s).unwrap_or_default();
        check!(
            ours == theirs,
            "{s:?} written as {ours}, serde_json writes {theirs}"
        );
    }
    Ok(())
}

#[test]
fn reader_agrees_with_serde_json() {
    fuzz("json::from_str", 5000, input, |text| differential(&text));
}

#[test]
fn bytes_never_panic() {
    fuzz(
        "json::from_slice",
        5000,
        || proptest::collection::vec(any::<u8>(), 0..64),
        |bytes| {
            let ours = json::from_slice(&bytes);
            let theirs = serde_json::from_slice::<serde_json::Value>(&bytes);
            if std::str::from_utf8(&bytes).is_err() {
                check!(ours.is_err(), "{bytes:?} is not UTF-8 but we read it");
            } else if let Ok(t) = theirs {
                check!(
                    ours.as_ref().is_ok_and(|o| same(o, &t)),
                    "{bytes:?}: serde_json reads {t:?}, we read {ours:?}"
                );
            }
            Ok(())
        },
    );
}

/// The shape of a decimal number: its significant digits and decimal exponent.
fn significant(text: &str) -> (usize, i64) {
    let t = text.trim_start_matches('-');
    let (mantissa, exp) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], t[i + 1..].parse::<i64>().unwrap_or(0)),
        None => (t, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = format!("{int}{frac}");
    let trimmed = digits.trim_start_matches('0');
    let zeros = trimmed.len() - trimmed.trim_end_matches('0').len();
    (
        trimmed.trim_end_matches('0').len(),
        exp - frac.len() as i64 + zeros as i64,
    )
}

#[test]
fn numbers_read_as_doubles() {
    fuzz("json::Number::as_f64", 20_000, number_text, |text| {
        let Some(n) = Number::from_text(&text) else {
            check!(
                serde_json::from_str::<serde_json::Number>(&text).is_err(),
                "{text:?} is a JSON number but from_text refuses it"
            );
            return Ok(());
        };
        let exact: f64 = text
            .parse()
            .map_err(|e| TestCaseError::fail(format!("{e}")))?;
        let (digits, exp) = significant(&text);
        match n.as_f64() {
            None => check!(
                exact.is_infinite() || exact.abs() > f64::MAX * 0.999_999,
                "{text:?} is {exact:e} but as_f64 gives None"
            ),
            Some(x) if digits <= 15 && (-22..=22).contains(&exp) => check!(
                x == exact,
                "{text:?}: as_f64 {x:e}, correctly rounded {exact:e} ({digits} digits, 10^{exp})"
            ),
            Some(x) => check!(
                close(x, exact, 8),
                "{text:?}: as_f64 {x:e}, correctly rounded {exact:e} (off by {} ULP)",
                x.abs().to_bits().abs_diff(exact.abs().to_bits())
            ),
        }
        Ok(())
    });
}

#[test]
fn nesting_at_the_limit() {
    let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    assert!(json::from_str(&nested(json::MAX_DEPTH)).is_ok());
    assert!(json::from_str(&nested(json::MAX_DEPTH + 1)).is_err());
    assert!(json::from_str(&nested(100_000)).is_err());
    differential(&nested(json::MAX_DEPTH)).unwrap();
    differential(&nested(json::MAX_DEPTH + 1)).unwrap();
}
