//! Reading the members of a record object, with errors naming the record and the field.

use super::{Map, Value};
use std::fmt;

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
