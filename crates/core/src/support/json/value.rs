//! The document model: [`Value`], [`Number`] (kept as text), [`Map`] (insertion
//! order), conversions, and the `json!` macro.

use std::fmt;

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
pub struct Number(pub(super) String);

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
        super::parse::number_from_text(text)
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
pub struct Map<K = String, V = Value>(pub(super) Vec<(K, V)>);

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
    pub(super) fn dedup(&mut self) {
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
        f.write_str(&super::to_string(self))
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
