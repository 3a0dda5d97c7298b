#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::*;
use crate::json;

#[test]
fn round_trips_compact_text() {
    for text in [
        r#"{"b":1,"a":[true,false,null,-0.5e+10,"x"],"c":{}}"#,
        r#"[]"#,
        r#""\"\\\b\f\n\r\t\u0001é😀""#,
        r#"{"n":12345678901234567890123,"f":1.50}"#,
    ] {
        assert_eq!(to_string(&from_str(text).unwrap()), text);
    }
}

#[test]
fn reads_escapes_and_surrogate_pairs() {
    let v = from_str(r#""a\/b\u00e9\ud83d\ude00\u0041""#).unwrap();
    assert_eq!(v.as_str(), Some("a/bé😀A"));
    assert!(from_str(r#""\ud83d""#).is_err());
    assert!(from_str(r#""\ude00\ud83d""#).is_err());
    assert!(from_str(r#""\ud83d\u0041""#).is_err());
}

#[test]
fn rejects_what_json_parse_rejects() {
    for bad in [
        "",
        " ",
        "{",
        "[1,]",
        "{\"a\":1,}",
        "01",
        "1.",
        ".5",
        "-",
        "1e",
        "+1",
        "nul",
        "tru",
        "'a'",
        "{a:1}",
        "\"a\nb\"",
        "\"\\x\"",
        "[1 2]",
        "{\"a\" 1}",
        "1 2",
        "\"abc",
        "[",
        "NaN",
        "Infinity",
    ] {
        assert!(from_str(bad).is_err(), "{bad:?} was accepted");
    }
    let e = from_str("[1,]").unwrap_err();
    assert_eq!(e.offset, 3);
    assert_eq!(e.to_string(), "expected a JSON value at byte 3");
}

#[test]
fn limits_nesting() {
    let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
    assert!(from_str(&ok).is_ok());
    let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
    assert_eq!(from_str(&deep).unwrap_err().message, "nested too deeply");
    // Far too deep must not overflow the stack either.
    assert!(from_str(&"[".repeat(100_000)).is_err());
}

#[test]
fn repeated_keys_keep_first_position_and_last_value() {
    let v = from_str(r#"{"a":1,"b":2,"a":3}"#).unwrap();
    assert_eq!(to_string(&v), r#"{"a":3,"b":2}"#);
    // The sorted path for large objects gives the same answer.
    let mut text = String::from("{");
    for i in 0..40 {
        text += &format!("\"k{}\":{},", i % 20, i);
    }
    text += "\"z\":0}";
    let v = from_str(&text).unwrap();
    let m = v.as_object().unwrap();
    assert_eq!(m.len(), 21);
    let keys: Vec<_> = m.keys().cloned().collect();
    let expected: Vec<_> = (0..20)
        .map(|i| format!("k{i}"))
        .chain(["z".to_string()])
        .collect();
    assert_eq!(keys, expected);
    assert_eq!(m.get("k3").unwrap().as_u64(), Some(23));
}

#[test]
fn numbers() {
    let v = from_str("[0,-7,18446744073709551615,1.5,1e3,-0]").unwrap();
    let a = v.as_array().unwrap();
    assert_eq!(a[0].as_u64(), Some(0));
    assert_eq!(a[1].as_i64(), Some(-7));
    assert_eq!(a[1].as_u64(), None);
    assert_eq!(a[2].as_u64(), Some(u64::MAX));
    assert_eq!(a[3].as_u64(), None);
    assert_eq!(a[3].as_f64(), Some(1.5));
    assert_eq!(a[4].as_f64(), Some(1000.0));
    assert_eq!(to_string(&Value::from(u64::MAX)), "18446744073709551615");
    assert_eq!(to_string(&Value::from(-3i64)), "-3");
    assert_eq!(Number::from_text("1.25").unwrap().as_str(), "1.25");
    assert!(Number::from_text("1.").is_none());
    assert!(Number::from_text("1 ").is_none());
}

#[test]
fn as_f64_matches_the_correctly_rounded_parser() {
    // Exact wherever the fast path applies: up to 15 digits, exponents within ±22.
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for i in 0..20_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let digits = 1 + (x % 15) as u32;
        let m = (x >> 8) % 10u64.pow(digits);
        let e = (x >> 40) % 45;
        let text = match i % 4 {
            0 => format!("{m}"),
            1 => format!("-{m}e{}", e as i64 - 22),
            2 => format!("{}.{:0>3}", m / 1000, m % 1000),
            _ => format!("{m}E+{}", e % 23),
        };
        let n = Number::from_text(&text).unwrap();
        let exact: f64 = text.parse().unwrap();
        assert_eq!(n.as_f64(), Some(exact), "{text}");
    }
    // Beyond it: close, never wildly off.
    for text in [
        "12345678901234567890123",
        "1.7976931348623157e308",
        "4.9e-324",
        "1e-400",
    ] {
        let n = Number::from_text(text).unwrap();
        let exact: f64 = text.parse().unwrap();
        let got = n.as_f64().unwrap();
        assert!(
            (got - exact).abs() <= exact.abs() * 1e-14,
            "{text}: {got} vs {exact}"
        );
    }
    assert_eq!(Number::from_text("1e400").unwrap().as_f64(), None);
    assert_eq!(Number::from_text("-0").unwrap().as_f64(), Some(0.0));
    assert_eq!(Number::from_text("0.000e999").unwrap().as_f64(), Some(0.0));
}

#[test]
fn macro_builds_in_order() {
    let x = 5u32;
    let name = "n";
    let v = json!({"z": x + 1, "a": [1, "two", null, {"k": true}], (name): name, "e": []});
    assert_eq!(
        to_string(&v),
        r#"{"z":6,"a":[1,"two",null,{"k":true}],"n":"n","e":[]}"#
    );
}

#[test]
fn pretty_matches_json_stringify_indent_2() {
    let v = from_str(r#"{"a":[1,{}],"b":{"c":[]},"d":"x"}"#).unwrap();
    assert_eq!(
        to_string_pretty(&v),
        "{\n  \"a\": [\n    1,\n    {}\n  ],\n  \"b\": {\n    \"c\": []\n  },\n  \"d\": \"x\"\n}"
    );
}

#[test]
fn fields_name_the_record_and_field() {
    let v = from_str(r#"{"s":"x","n":3,"b":true,"z":null,"a":[1,2]}"#).unwrap();
    let f = Fields::of(&v, "the record").unwrap();
    assert_eq!(f.str("s").unwrap(), "x");
    assert_eq!(f.u64("n").unwrap(), 3);
    assert!(f.bool("b").unwrap());
    assert_eq!(f.opt_str("z").unwrap(), None);
    assert_eq!(f.opt_str("missing").unwrap(), None);
    assert_eq!(f.list("a", "numbers", Value::as_u64).unwrap(), vec![1, 2]);
    assert_eq!(
        f.str("n").unwrap_err().to_string(),
        "the record: `n` must be a string"
    );
    assert_eq!(
        f.u64("missing").unwrap_err().to_string(),
        "the record: `missing` must be a whole number"
    );
    assert_eq!(
        Fields::of(&Value::Null, "the record")
            .err()
            .unwrap()
            .to_string(),
        "the record must be an object"
    );
}
