//! JSON text in and out, as the Stacks libraries read and write it.
//!
//! A small document model instead of serde: the authenticator's wasm module has a size
//! budget, and generic (de)serialisation code was a third of it. What matters here:
//!
//! - **Key order is kept.** Objects remember insertion order, as JavaScript objects do, so
//!   a payload we build is written in the order `JSON.stringify` would write it (JWT
//!   signatures and the test vectors depend on it). A repeated key keeps its first
//!   position and its last value, as `JSON.parse` does.
//! - **Numbers keep their text.** A number is stored as the digits it was read with (or the
//!   integer it was made from) and written back unchanged, so nothing is lost to floating
//!   point and no float printer is needed. [`Number::as_f64`] parses on demand.
//! - **Output is `JSON.stringify`'s**: no spaces, non-ASCII as raw UTF-8, `"` and `\`
//!   escaped, control characters as `\b \t \n \f \r` or `\u00xx`.
//! - **Input is strict RFC 8259**, nested at most [`MAX_DEPTH`] deep; errors say what was
//!   expected and at which byte.

use std::fmt;

/// How deep arrays and objects may nest in parsed text (serde_json's default too).
pub const MAX_DEPTH: usize = 128;

/// A JSON value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Value {
    /// `null`.
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, kept as text.
    Number(Number),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Value>),
    /// An object, in insertion order.
    Object(Map),
}

/// A JSON number: its text, always valid JSON number syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Number(String);

impl Number {
    /// The number as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The value when the text is a whole number (no fraction, no exponent) in `u64`.
    pub fn as_u64(&self) -> Option<u64> {
        self.0.parse().ok()
    }

    /// The value when the text is a whole number in `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        self.0.parse().ok()
    }

    /// The number as an `f64`; `None` for numbers too large for a double.
    ///
    /// Exactly what `JSON.parse` gives (correctly rounded) when the number has at most
    /// 15 significant digits and its decimal exponent is within ±22, which covers every
    /// timestamp, size and count in the protocol: the digits and the power of ten are
    /// then both exact doubles and one multiplication or division rounds once. Longer
    /// or more extreme numbers come within a few units in the last place. (Rust's
    /// correctly rounded parser would add a 10 KB table of powers of five to the page.)
    pub fn as_f64(&self) -> Option<f64> {
        // Exact powers of ten: 10^22 is the largest a double holds exactly.
        const POW10: [f64; 23] = [
            1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
            1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
        ];
        let text = self.0.as_bytes();
        let (negative, rest) = match text.split_first() {
            Some((b'-', rest)) => (true, rest),
            _ => (false, text),
        };
        // Significant digits (up to 19, into a u64) and the decimal exponent.
        let mut mantissa: u64 = 0;
        let mut digits = 0u32;
        let mut exp10: i64 = 0;
        let mut seen_point = false;
        let mut i = 0;
        while let Some(&c) = rest.get(i) {
            match c {
                b'0'..=b'9' => {
                    if digits < 19 {
                        if mantissa != 0 || c != b'0' {
                            digits += 1;
                        }
                        mantissa = mantissa * 10 + u64::from(c - b'0');
                        if seen_point {
                            exp10 -= 1;
                        }
                    } else if !seen_point {
                        exp10 += 1; // a dropped integer digit
                    }
                }
                b'.' => seen_point = true,
                _ => break,
            }
            i += 1;
        }
        if let Some(b'e' | b'E') = rest.get(i) {
            let e: i64 = std::str::from_utf8(&rest[i + 1..])
                .ok()?
                .trim_start_matches('+')
                .parse()
                .unwrap_or(if rest.get(i + 1) == Some(&b'-') {
                    i64::MIN / 2
                } else {
                    i64::MAX / 2
                });
            exp10 = exp10.saturating_add(e);
        }
        // Trailing zeros only scale: moved into the exponent, "560e-23", "4.20e-8" and
        // "80200222004027300e7" stay in the range where one operation rounds once.
        while mantissa != 0 && mantissa.is_multiple_of(10) && (exp10 < 0 || mantissa > 1 << 53) {
            mantissa /= 10;
            exp10 += 1;
        }
        let m = mantissa as f64;
        let value = if mantissa == 0 {
            0.0
        } else if (0..=22).contains(&exp10) {
            m * POW10[exp10 as usize]
        } else if (-22..0).contains(&exp10) {
            m / POW10[(-exp10) as usize]
        } else if exp10 > 0 {
            let mut v = m;
            let mut e = exp10;
            while e > 0 && v.is_finite() {
                let step = e.min(22);
                v *= POW10[step as usize];
                e -= step;
            }
            v
        } else {
            let mut v = m;
            let mut e = -exp10;
            while e > 0 && v != 0.0 {
                let step = e.min(22);
                v /= POW10[step as usize];
                e -= step;
            }
            v
        };
        let value = if negative { -value } else { value };
        value.is_finite().then_some(value)
    }

    /// A number from a decimal string in JSON syntax; `None` if it is not one.
    pub fn from_text(text: &str) -> Option<Number> {
        let mut p = Parser {
            s: text.as_bytes(),
            i: 0,
            depth: 0,
        };
        match p.number() {
            Ok(n) if p.i == text.len() => Some(n),
            _ => None,
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A JSON object: keys in insertion order, each at most once. (The parameters only let
/// code name it `Map<String, Value>`; those are the only ones it is used with.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Map<K = String, V = Value>(Vec<(K, V)>);

impl Default for Map {
    fn default() -> Map {
        Map(Vec::new())
    }
}

impl Map {
    /// An empty object.
    pub fn new() -> Map {
        Map(Vec::new())
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The value of `key`, to change it.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.0.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Sets `key` (keeping its position if present, else appending it); returns the old value.
    pub fn insert(&mut self, key: String, value: Value) -> Option<Value> {
        match self.get_mut(&key) {
            Some(slot) => Some(std::mem::replace(slot, value)),
            None => {
                self.0.push((key, value));
                None
            }
        }
    }

    /// Sets `key` when `value` is `Some`; a `None` field is left out rather than
    /// written as `null` (as `JSON.stringify` drops `undefined`).
    pub fn insert_opt(&mut self, key: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.insert(key.to_string(), v.into());
        }
    }

    /// The value of `key`, inserted with `make` first if absent.
    pub fn get_or_insert_with(&mut self, key: &str, make: impl FnOnce() -> Value) -> &mut Value {
        let at = match self.0.iter().position(|(k, _)| k == key) {
            Some(at) => at,
            None => {
                self.0.push((key.to_string(), make()));
                self.0.len() - 1
            }
        };
        &mut self.0[at].1
    }

    /// Removes `key`, keeping the order of the others.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let at = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.remove(at).1)
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Keys and values in order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    /// Keys in order.
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(k, _)| k)
    }

    /// Values in order.
    pub fn values(&self) -> impl Iterator<Item = &Value> {
        self.0.iter().map(|(_, v)| v)
    }

    /// Keeps the entries `keep` says yes to.
    pub fn retain(&mut self, mut keep: impl FnMut(&String, &mut Value) -> bool) {
        self.0.retain_mut(|(k, v)| keep(k, v));
    }

    // Parsed objects may repeat keys; JSON.parse keeps the first position and the last
    // value. Quadratic for small objects, sorted for large ones (no slow path for a
    // hostile document with thousands of keys).
    fn dedup(&mut self) {
        let n = self.0.len();
        if n < 2 {
            return;
        }
        if n <= 16 {
            let mut i = 0;
            while i < self.0.len() {
                if let Some(j) = self.0[..i].iter().position(|(k, _)| *k == self.0[i].0) {
                    let (_, v) = self.0.remove(i);
                    self.0[j].1 = v;
                } else {
                    i += 1;
                }
            }
            return;
        }
        let order =
            crate::support::sorting::sorted_indices(n, &|a, b| self.0[a].0.cmp(&self.0[b].0));
        let mut drop = vec![false; n];
        let mut moves = Vec::new();
        let mut g = 0;
        while g < n {
            let mut e = g + 1;
            while e < n && self.0[order[e]].0 == self.0[order[g]].0 {
                e += 1;
            }
            if e - g > 1 {
                moves.push((order[g], order[e - 1]));
                for &d in &order[g + 1..e] {
                    drop[d] = true;
                }
            }
            g = e;
        }
        for (first, last) in moves {
            let v = std::mem::take(&mut self.0[last].1);
            self.0[first].1 = v;
        }
        let mut idx = 0;
        self.0.retain(|_| {
            idx += 1;
            !drop[idx - 1]
        });
    }
}

impl<K: Into<String>, V: Into<Value>> FromIterator<(K, V)> for Map {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Map {
        let mut m = Map::new();
        for (k, v) in iter {
            m.insert(k.into(), v.into());
        }
        m
    }
}

impl<'a> IntoIterator for &'a Map {
    type Item = (&'a String, &'a Value);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, Value)>,
        fn(&'a (String, Value)) -> (&'a String, &'a Value),
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl IntoIterator for Map {
    type Item = (String, Value);
    type IntoIter = std::vec::IntoIter<(String, Value)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl Value {
    /// The member `key` of an object (`None` for other values).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object().and_then(|m| m.get(key))
    }

    /// The text of a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// A boolean's value.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// A whole number in `u64`.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Number(n) => n.as_u64(),
            _ => None,
        }
    }

    /// A whole number in `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    /// A number as the nearest `f64`.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => n.as_f64(),
            _ => None,
        }
    }

    /// An object's members.
    pub fn as_object(&self) -> Option<&Map> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// An object's members, to change them.
    pub fn as_object_mut(&mut self) -> Option<&mut Map> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// An array's items.
    pub fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Whether this is an object.
    pub fn is_object(&self) -> bool {
        matches!(self, Value::Object(_))
    }

    /// Whether this is a string.
    pub fn is_string(&self) -> bool {
        matches!(self, Value::String(_))
    }

    /// Whether this is a number.
    pub fn is_number(&self) -> bool {
        matches!(self, Value::Number(_))
    }

    /// A short name of the value's kind, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }
}

static NULL: Value = Value::Null;

impl std::ops::Index<&str> for Value {
    type Output = Value;
    /// The member `key`, or `null` when absent or not an object (as in JS).
    fn index(&self, key: &str) -> &Value {
        self.get(key).unwrap_or(&NULL)
    }
}

impl std::ops::Index<usize> for Value {
    type Output = Value;
    /// Item `i`, or `null` when absent or not an array.
    fn index(&self, i: usize) -> &Value {
        self.as_array().and_then(|a| a.get(i)).unwrap_or(&NULL)
    }
}

impl std::ops::Index<&str> for Map {
    type Output = Value;
    /// The member `key`, or `null` when absent.
    fn index(&self, key: &str) -> &Value {
        self.get(key).unwrap_or(&NULL)
    }
}

impl PartialEq<str> for Value {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == Some(other)
    }
}

impl PartialEq<&str> for Value {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == Some(*other)
    }
}

impl PartialEq<bool> for Value {
    fn eq(&self, other: &bool) -> bool {
        self.as_bool() == Some(*other)
    }
}

macro_rules! eq_integer {
    ($($t:ty),*) => {$(
        impl PartialEq<$t> for Value {
            fn eq(&self, other: &$t) -> bool {
                self.as_i64().map(i128::from) == i64::try_from(*other).ok().map(i128::from)
                    || self.as_u64().map(i128::from) == u64::try_from(*other).ok().map(i128::from)
            }
        }
    )*};
}
eq_integer!(i32, i64, u32, u64, usize);

impl fmt::Display for Value {
    /// Compact JSON text, as [`to_string`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&to_string(self))
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}
impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}
impl From<&String> for Value {
    fn from(s: &String) -> Value {
        Value::String(s.clone())
    }
}
impl From<Map> for Value {
    fn from(m: Map) -> Value {
        Value::Object(m)
    }
}
impl From<Number> for Value {
    fn from(n: Number) -> Value {
        Value::Number(n)
    }
}
impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(items: Vec<T>) -> Value {
        Value::Array(items.into_iter().map(Into::into).collect())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}
impl From<&Value> for Value {
    fn from(v: &Value) -> Value {
        v.clone()
    }
}

impl From<&std::collections::BTreeMap<String, String>> for Value {
    /// A `{string: string}` object, keys in sorted order.
    fn from(m: &std::collections::BTreeMap<String, String>) -> Value {
        Value::Object(Map(m
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect()))
    }
}

macro_rules! from_integer {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(n: $t) -> Value {
                Value::Number(Number(n.to_string()))
            }
        }
    )*};
}
from_integer!(u8, u16, u32, u64, usize, i32, i64);

/// Builds a [`Value`] from JSON-like syntax: `json!({"a": 1, "b": [x, null]})`. Values
/// are expressions converted with `Value::from`; keys are string literals or
/// parenthesised expressions.
#[macro_export]
macro_rules! json {
    (null) => { $crate::support::json::Value::Null };
    ([]) => { $crate::support::json::Value::Array(::std::vec::Vec::new()) };
    ([ $($tt:tt)+ ]) => {{
        let mut items = $crate::support::json::new_array();
        $crate::__json_items!(items [] $($tt)+);
        $crate::support::json::Value::Array(items)
    }};
    ({}) => { $crate::support::json::Value::Object($crate::support::json::Map::new()) };
    ({ $($tt:tt)+ }) => {{
        let mut map = $crate::support::json::Map::new();
        $crate::__json_members!(map $($tt)+);
        $crate::support::json::Value::Object(map)
    }};
    ($e:expr) => { $crate::support::json::Value::from($e) };
}

/// An empty array for [`json!`] to push items onto.
#[doc(hidden)]
pub fn new_array() -> Vec<Value> {
    Vec::new()
}

/// Array items of [`json!`], split at top-level commas.
#[doc(hidden)]
#[macro_export]
macro_rules! __json_items {
    ($v:ident [$($cur:tt)+]) => { $v.push($crate::json!($($cur)+)); };
    ($v:ident []) => {};
    ($v:ident [$($cur:tt)+] , $($rest:tt)*) => {
        $v.push($crate::json!($($cur)+));
        $crate::__json_items!($v [] $($rest)*);
    };
    ($v:ident [$($cur:tt)*] $next:tt $($rest:tt)*) => {
        $crate::__json_items!($v [$($cur)* $next] $($rest)*);
    };
}

/// Object members of [`json!`]: `key: value` pairs split at top-level commas.
#[doc(hidden)]
#[macro_export]
macro_rules! __json_members {
    ($m:ident) => {};
    ($m:ident $k:tt : $($rest:tt)+) => { $crate::__json_members!(@value $m $k [] $($rest)+); };
    (@value $m:ident $k:tt [$($cur:tt)+]) => { $m.insert(::std::string::String::from($k), $crate::json!($($cur)+)); };
    (@value $m:ident $k:tt [$($cur:tt)+] , $($rest:tt)*) => {
        $m.insert(::std::string::String::from($k), $crate::json!($($cur)+));
        $crate::__json_members!($m $($rest)*);
    };
    (@value $m:ident $k:tt [$($cur:tt)*] $next:tt $($rest:tt)*) => {
        $crate::__json_members!(@value $m $k [$($cur)* $next] $($rest)*);
    };
}

/// Why JSON text could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Error {
    /// What was wrong.
    pub message: &'static str,
    /// The byte offset where it was noticed.
    pub offset: usize,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.message, self.offset)
    }
}

impl std::error::Error for Error {}

/// Parses JSON text.
pub fn from_str(text: &str) -> Result<Value, Error> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
        depth: 0,
    };
    p.ws();
    let v = p.value()?;
    p.ws();
    if p.i != p.s.len() {
        return Err(p.err("unexpected text after the JSON value"));
    }
    Ok(v)
}

/// Parses JSON bytes (which must be UTF-8).
pub fn from_slice(bytes: &[u8]) -> Result<Value, Error> {
    match std::str::from_utf8(bytes) {
        Ok(s) => from_str(s),
        Err(e) => Err(Error {
            message: "the text is not valid UTF-8",
            offset: e.valid_up_to(),
        }),
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    depth: usize,
}

impl Parser<'_> {
    fn err(&self, message: &'static str) -> Error {
        Error {
            message,
            offset: self.i,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn eat(&mut self, b: u8, message: &'static str) -> Result<(), Error> {
        if self.peek() == Some(b) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.err(message))
        }
    }

    fn literal(&mut self, word: &[u8], v: Value) -> Result<Value, Error> {
        if self.s[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(v)
        } else {
            Err(self.err("expected a JSON value"))
        }
    }

    fn value(&mut self) -> Result<Value, Error> {
        match self.peek() {
            None => Err(self.err("unexpected end of the text")),
            Some(b'n') => self.literal(b"null", Value::Null),
            Some(b't') => self.literal(b"true", Value::Bool(true)),
            Some(b'f') => self.literal(b"false", Value::Bool(false)),
            Some(b'"') => Ok(Value::String(self.string()?)),
            Some(b'-' | b'0'..=b'9') => Ok(Value::Number(self.number()?)),
            Some(b'[') => self.nested(|p| {
                let mut items = Vec::new();
                p.ws();
                if p.peek() == Some(b']') {
                    p.i += 1;
                    return Ok(Value::Array(items));
                }
                loop {
                    p.ws();
                    items.push(p.value()?);
                    p.ws();
                    match p.peek() {
                        Some(b',') => p.i += 1,
                        Some(b']') => {
                            p.i += 1;
                            return Ok(Value::Array(items));
                        }
                        _ => return Err(p.err("expected `,` or `]`")),
                    }
                }
            }),
            Some(b'{') => self.nested(|p| {
                let mut map = Map::new();
                p.ws();
                if p.peek() == Some(b'}') {
                    p.i += 1;
                    return Ok(Value::Object(map));
                }
                loop {
                    p.ws();
                    if p.peek() != Some(b'"') {
                        return Err(p.err("expected a string key"));
                    }
                    let key = p.string()?;
                    p.ws();
                    p.eat(b':', "expected `:`")?;
                    p.ws();
                    let v = p.value()?;
                    map.0.push((key, v));
                    p.ws();
                    match p.peek() {
                        Some(b',') => p.i += 1,
                        Some(b'}') => {
                            p.i += 1;
                            map.dedup();
                            return Ok(Value::Object(map));
                        }
                        _ => return Err(p.err("expected `,` or `}`")),
                    }
                }
            }),
            Some(_) => Err(self.err("expected a JSON value")),
        }
    }

    fn nested(
        &mut self,
        body: impl FnOnce(&mut Self) -> Result<Value, Error>,
    ) -> Result<Value, Error> {
        if self.depth >= MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        self.depth += 1;
        self.i += 1;
        let v = body(self);
        self.depth -= 1;
        v
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self) -> Result<Number, Error> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.err("expected a digit")),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return Err(self.err("expected a digit after the decimal point"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if self.digits() == 0 {
                return Err(self.err("expected a digit in the exponent"));
            }
        }
        // Only ASCII was consumed, so this slice is valid UTF-8.
        Ok(Number(
            String::from_utf8_lossy(&self.s[start..self.i]).into_owned(),
        ))
    }

    fn hex4(&mut self) -> Result<u32, Error> {
        let mut n = 0;
        for _ in 0..4 {
            let d = match self.peek() {
                Some(c @ b'0'..=b'9') => c - b'0',
                Some(c @ b'a'..=b'f') => c - b'a' + 10,
                Some(c @ b'A'..=b'F') => c - b'A' + 10,
                _ => return Err(self.err("expected four hexadecimal digits after \\u")),
            };
            n = n * 16 + u32::from(d);
            self.i += 1;
        }
        Ok(n)
    }

    fn string(&mut self) -> Result<String, Error> {
        self.i += 1; // the opening quote
        let mut out: Vec<u8> = Vec::new();
        loop {
            let run = self.i;
            while let Some(c) = self.peek() {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                self.i += 1;
            }
            out.extend_from_slice(&self.s[run..self.i]);
            match self.peek() {
                None => return Err(self.err("unterminated string")),
                Some(b'"') => {
                    self.i += 1;
                    // The input is a &str and we only split it at ASCII bytes, so the
                    // bytes are UTF-8; escapes below add whole characters.
                    return String::from_utf8(out).map_err(|_| self.err("invalid UTF-8"));
                }
                Some(b'\\') => {
                    self.i += 1;
                    let c = match self.peek() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.i += 1;
                            let first = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&first) {
                                if !self.s[self.i..].starts_with(b"\\u") {
                                    return Err(self.err("lone UTF-16 surrogate in \\u escape"));
                                }
                                self.i += 2;
                                let second = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&second) {
                                    return Err(self.err("lone UTF-16 surrogate in \\u escape"));
                                }
                                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                            } else {
                                first
                            };
                            let c = char::from_u32(code)
                                .ok_or_else(|| self.err("lone UTF-16 surrogate in \\u escape"))?;
                            let mut buf = [0; 4];
                            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                            continue;
                        }
                        _ => return Err(self.err("invalid escape in string")),
                    };
                    self.i += 1;
                    out.push(c as u8);
                }
                Some(_) => return Err(self.err("control character in string")),
            }
        }
    }
}

/// Compact JSON text, byte for byte what `JSON.stringify` writes for the same value.
pub fn to_string(value: &Value) -> String {
    let mut out = String::new();
    write(&mut out, value, None, 0);
    out
}

/// Indented JSON text (two spaces), as `JSON.stringify(value, null, 2)`.
pub fn to_string_pretty(value: &Value) -> String {
    let mut out = String::new();
    write(&mut out, value, Some(2), 0);
    out
}

fn newline(out: &mut String, indent: Option<usize>, level: usize) {
    if let Some(n) = indent {
        out.push('\n');
        for _ in 0..n * level {
            out.push(' ');
        }
    }
}

fn write(out: &mut String, value: &Value, indent: Option<usize>, level: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => out.push_str(&n.0),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, level + 1);
                write(out, item, indent, level + 1);
            }
            if !items.is_empty() {
                newline(out, indent, level);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.0.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, level + 1);
                write_string(out, k);
                out.push(':');
                if indent.is_some() {
                    out.push(' ');
                }
                write(out, v, indent, level + 1);
            }
            if !map.is_empty() {
                newline(out, indent, level);
            }
            out.push('}');
        }
    }
}

fn write_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let mut run = 0;
    for (i, b) in s.bytes().enumerate() {
        let escaped = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[run..i]);
        run = i + 1;
        if escaped.is_empty() {
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        } else {
            out.push_str(escaped);
        }
    }
    out.push_str(&s[run..]);
    out.push('"');
}

/// Reads the members of an object that stands for a record (a vault record, a key file
/// entry, a settings document …), with errors that name the record and the field.
pub struct Fields<'a> {
    map: &'a Map,
    what: &'static str,
}

/// A record's field is missing or has the wrong type.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FieldError {
    /// The record, e.g. "the vault record".
    pub what: &'static str,
    /// The field, or empty when the record itself is not an object.
    pub field: String,
    /// What the field must be, e.g. "a string".
    pub expected: &'static str,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{} must be {}", self.what, self.expected)
        } else {
            write!(
                f,
                "{}: `{}` must be {}",
                self.what, self.field, self.expected
            )
        }
    }
}

impl std::error::Error for FieldError {}

impl<'a> Fields<'a> {
    /// The members of `value`, which must be an object.
    pub fn of(value: &'a Value, what: &'static str) -> Result<Fields<'a>, FieldError> {
        match value {
            Value::Object(map) => Ok(Fields { map, what }),
            _ => Err(FieldError {
                what,
                field: String::new(),
                expected: "an object",
            }),
        }
    }

    /// The error for `field`.
    pub fn error(&self, field: &str, expected: &'static str) -> FieldError {
        FieldError {
            what: self.what,
            field: field.to_string(),
            expected,
        }
    }

    /// The raw value of `field`, if present.
    pub fn get(&self, field: &str) -> Option<&'a Value> {
        self.map.get(field)
    }

    /// An optional field read with `read`; missing and `null` both mean `None`.
    pub fn opt<T>(
        &self,
        field: &str,
        expected: &'static str,
        read: impl FnOnce(&'a Value) -> Option<T>,
    ) -> Result<Option<T>, FieldError> {
        match self.map.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => read(v).map(Some).ok_or_else(|| self.error(field, expected)),
        }
    }

    /// A required field read with `read`.
    pub fn req<T>(
        &self,
        field: &str,
        expected: &'static str,
        read: impl FnOnce(&'a Value) -> Option<T>,
    ) -> Result<T, FieldError> {
        self.opt(field, expected, read)?
            .ok_or_else(|| self.error(field, expected))
    }

    /// A required string.
    pub fn str(&self, field: &str) -> Result<&'a str, FieldError> {
        self.req(field, "a string", Value::as_str)
    }

    /// An optional string.
    pub fn opt_str(&self, field: &str) -> Result<Option<&'a str>, FieldError> {
        self.opt(field, "a string", Value::as_str)
    }

    /// A required whole number ≥ 0.
    pub fn u64(&self, field: &str) -> Result<u64, FieldError> {
        self.req(field, "a whole number", Value::as_u64)
    }

    /// A required whole number that fits in `u32`.
    pub fn u32(&self, field: &str) -> Result<u32, FieldError> {
        self.req(field, "a whole number", |v| {
            v.as_u64().and_then(|n| u32::try_from(n).ok())
        })
    }

    /// A required whole number (may be negative).
    pub fn i64(&self, field: &str) -> Result<i64, FieldError> {
        self.req(field, "a whole number", Value::as_i64)
    }

    /// A required boolean.
    pub fn bool(&self, field: &str) -> Result<bool, FieldError> {
        self.req(field, "true or false", Value::as_bool)
    }

    /// A required array.
    pub fn array(&self, field: &str) -> Result<&'a Vec<Value>, FieldError> {
        self.req(field, "an array", Value::as_array)
    }

    /// An optional array (missing or `null`: empty).
    pub fn opt_array(&self, field: &str) -> Result<&'a [Value], FieldError> {
        Ok(self
            .opt(field, "an array", Value::as_array)?
            .map_or(&[][..], |a| a.as_slice()))
    }

    /// An optional `{string: string}` member as a sorted map (missing or `null`: empty).
    pub fn string_map(
        &self,
        field: &str,
    ) -> Result<std::collections::BTreeMap<String, String>, FieldError> {
        let mut out = std::collections::BTreeMap::new();
        if let Some(obj) = self.opt(field, "an object of strings", Value::as_object)? {
            // Inserted one by one: collecting into a BTreeMap would bring in another sort.
            for (k, v) in obj.iter() {
                let s = v
                    .as_str()
                    .ok_or_else(|| self.error(field, "an object of strings"))?;
                out.insert(k.clone(), s.to_string());
            }
        }
        Ok(out)
    }

    /// A required array, each item read with `read`.
    pub fn list<T>(
        &self,
        field: &str,
        expected: &'static str,
        mut read: impl FnMut(&'a Value) -> Option<T>,
    ) -> Result<Vec<T>, FieldError> {
        self.array(field)?
            .iter()
            .map(|v| read(v).ok_or_else(|| self.error(field, expected)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

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
}
