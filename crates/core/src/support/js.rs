//! JavaScript's coercions of JSON values, as the real (Node) Gaia hub applies them to
//! token claims and request bodies: truthiness (`if (x)`), `String(x)`, the number a
//! comparison such as `x < y` sees, and `parseInt(x)`.
//!
//! One definition for both sides: the core's readers of hub requests
//! ([`crate::protocol::gaia::ListFilesRequest`], [`crate::protocol::gaia::RevokeAllRequest`],
//! token scopes) and `cairn-hub`'s token checks use these, so the authenticator and the
//! hub agree with the Node hub on what a field means. A missing member is JS
//! `undefined` and is passed as `None`.

use crate::support::json::Value;

/// Deepest array nesting [`string`] follows; deeper parts print as empty, where JS
/// would eventually overflow its stack.
const MAX_STRING_DEPTH: usize = 32;

/// JS truthiness: `false` for `undefined` (`None`), `null`, `false`, `0`, `NaN` and
/// `""`; `true` for everything else (objects and arrays, even empty ones).
pub fn truthy(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|x| x != 0.0 && !x.is_nan()),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(_)) | Some(Value::Object(_)) => true,
    }
}

/// JS `String(value)`: `"undefined"` for a missing value, `"null"`, `"true"`, numbers
/// by value (`1.50` → `"1.5"`), strings as they are, `"[object Object]"`, and arrays
/// as their items joined with `,` (with `null` items empty).
pub fn string(value: Option<&Value>) -> String {
    match value {
        None => "undefined".into(),
        Some(v) => string_of(v, 0),
    }
}

fn string_of(v: &Value, depth: usize) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        // JS prints the number's value, not its source text ("1.50" → "1.5").
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(x)) => x.to_string(),
            (None, None) => n.to_string(),
        },
        Value::String(s) => s.clone(),
        Value::Object(_) => "[object Object]".into(),
        Value::Array(items) => {
            if depth > MAX_STRING_DEPTH {
                return String::new();
            }
            items
                .iter()
                .map(|i| match i {
                    Value::Null => String::new(),
                    other => string_of(other, depth + 1),
                })
                .collect::<Vec<_>>()
                .join(",")
        }
    }
}

/// The number a JS comparison (`x < y`) sees for numbers, numeric strings (surrounding
/// whitespace allowed) and booleans; `None` for anything else, which callers treat
/// more strictly than JS (whose `NaN` comparisons are all false).
pub fn number(value: Option<&Value>) -> Option<f64> {
    match value? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|x| x.is_finite()),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    }
}

/// Most digits of a string [`parse_int`] reads: `i128` holds any 30-digit number.
const MAX_PARSE_INT_DIGITS: usize = 30;

/// JS `parseInt(value)` for numbers and strings: numbers are truncated toward zero;
/// strings are read as the decimal digits after optional leading whitespace and one
/// sign, up to the first other character (`"  42abc"` → 42), at most 30 of them.
/// `None` (JS `NaN`) when there is no digit, and for every other kind of value.
pub fn parse_int(value: &Value) -> Option<i128> {
    match value {
        Value::Number(n) => n
            .as_f64()
            .filter(|x| x.is_finite())
            .map(|x| x.trunc() as i128),
        Value::String(s) => {
            let s = s.trim_start();
            let (neg, digits) = match s.as_bytes().first() {
                Some(b'-') => (true, &s[1..]),
                Some(b'+') => (false, &s[1..]),
                _ => (false, s),
            };
            let end = digits.bytes().take_while(u8::is_ascii_digit).count();
            if end == 0 {
                return None;
            }
            let n: i128 = digits[..end.min(MAX_PARSE_INT_DIGITS)].parse().ok()?;
            Some(if neg { -n } else { n })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::support::json::from_str;

    fn jv(text: &str) -> Value {
        from_str(text).unwrap_or(Value::Null)
    }

    #[test]
    fn truthiness() {
        for falsy in ["null", "false", "0", "0.0", "-0", "\"\""] {
            assert!(!truthy(Some(&jv(falsy))), "{falsy}");
        }
        assert!(!truthy(None));
        for t in ["true", "1", "-1.5", "\"0\"", "\" \"", "[]", "{}"] {
            assert!(truthy(Some(&jv(t))), "{t}");
        }
    }

    #[test]
    fn strings_like_js() {
        assert_eq!(string(None), "undefined");
        assert_eq!(string(Some(&jv("[1,null,\"a\"]"))), "1,,a");
        assert_eq!(string(Some(&jv("{\"a\":1}"))), "[object Object]");
        assert_eq!(string(Some(&jv("1.50"))), "1.5");
        assert_eq!(string(Some(&jv("null"))), "null");
        assert_eq!(string(Some(&jv("[[1,2],[3]]"))), "1,2,3");
    }

    #[test]
    fn numbers_like_js_comparisons() {
        assert_eq!(number(Some(&jv("5"))), Some(5.0));
        assert_eq!(number(Some(&jv("\" 7 \""))), Some(7.0));
        assert_eq!(number(Some(&jv("true"))), Some(1.0));
        assert_eq!(number(Some(&jv("\"x\""))), None);
        assert_eq!(number(Some(&jv("null"))), None);
        assert_eq!(number(None), None);
    }

    #[test]
    fn parse_int_like_js() {
        assert_eq!(parse_int(&jv(r#"1700000000"#)), Some(1700000000));
        assert_eq!(parse_int(&jv(r#"1.9"#)), Some(1));
        assert_eq!(parse_int(&jv(r#""  42abc""#)), Some(42));
        assert_eq!(parse_int(&jv(r#""-5""#)), Some(-5));
        assert_eq!(parse_int(&jv(r#""abc""#)), None);
        assert_eq!(parse_int(&jv(r#"true"#)), None);
        assert_eq!(
            parse_int(&jv(r#""99999999999999999999999999999999999""#)),
            Some(999999999999999999999999999999)
        );
    }
}
