//! Clarity values: the reader and writer of their consensus serialization (the bytes of
//! `@stacks/transactions`' `serializeCV` / `deserializeCV` and Clarity's
//! `to-consensus-buff?`), a JSON form mirroring `@stacks/transactions`' `ClarityValue`
//! objects, a readable rendering for consent screens, and SIP-018 structured data
//! (hashing and RSV signing).
//!
//! Wire layout (big-endian lengths): one type byte, then
//!
//! | id | type | body |
//! |---|---|---|
//! | `00` | int | 16 bytes, two's complement |
//! | `01` | uint | 16 bytes |
//! | `02` | buffer | u32 length, bytes |
//! | `03` / `04` | true / false | — |
//! | `05` | standard principal | version byte, 20-byte hash160 |
//! | `06` | contract principal | version, hash160, u8 length, contract name |
//! | `07` / `08` | ok / err | one value |
//! | `09` / `0a` | none / some | — / one value |
//! | `0b` | list | u32 count, values |
//! | `0c` | tuple | u32 count, then (u8 length, name, value) per field |
//! | `0d` / `0e` | string-ascii / string-utf8 | u32 length, bytes |
//!
//! The reader never panics and never allocates more than the input justifies: a
//! declared length or count is checked against the bytes that remain before anything is
//! reserved; input size, nesting depth and the number of values are bounded
//! ([`MAX_SERIALIZED_LEN`], [`MAX_DEPTH`], [`MAX_VALUES`]). It applies Clarity's own
//! rules: string-ascii holds printable ASCII and whitespace only, string-utf8 valid
//! UTF-8, principal versions are below 32, contract and tuple field names follow
//! Clarity's name syntax, a tuple has no duplicate field. Tuple fields are accepted in
//! any order (as Clarity and `@stacks/transactions` read them) and kept in wire order;
//! the writer sorts them by their bytes, Clarity's consensus order. Rules that need
//! types across values (a list's items of one type, no empty tuple) are not checked,
//! as `@stacks/transactions` does not check them either.
//! (`@stacks/transactions` sorts with `localeCompare`, which agrees for names in lower
//! case, digits and `-`, and not, for example, for `B` against `a`.)

use crate::keys::PrivateKey;
use crate::support::encoding::{self, EncodingError, c32check_encode, sha256};
use crate::support::json::{Map, Value};
use std::fmt;

/// The largest serialized value accepted, in bytes (Clarity's `MAX_VALUE_SIZE`, 1 MiB).
pub const MAX_SERIALIZED_LEN: usize = 1 << 20;
/// The deepest nesting accepted: a top-level value is at depth 1, each list, tuple,
/// optional or response adds one (Clarity's `MAX_TYPE_DEPTH`, 32).
pub const MAX_DEPTH: usize = 32;
/// The most values (every node of the tree counted) one input may hold.
pub const MAX_VALUES: usize = 100_000;
/// The longest contract or tuple field name, in bytes (Clarity's 128).
pub const MAX_NAME_LEN: usize = 128;

/// A Clarity value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClarityValue {
    /// `int`: a signed 128-bit integer.
    Int(i128),
    /// `uint`: an unsigned 128-bit integer.
    UInt(u128),
    /// `buff`: bytes.
    Buffer(Vec<u8>),
    /// `bool`.
    Bool(bool),
    /// A standard principal: an address version (below 32) and a hash160.
    StandardPrincipal {
        /// The address version (22 `SP`, 26 `ST`, 20 `SM`, 21 `SN`).
        version: u8,
        /// The hash160 of the address.
        hash160: [u8; 20],
    },
    /// A contract principal: the deployer's address and the contract name.
    ContractPrincipal {
        /// The deployer's address version.
        version: u8,
        /// The deployer's hash160.
        hash160: [u8; 20],
        /// The contract name.
        name: String,
    },
    /// `none`.
    None,
    /// `(some value)`.
    Some(Box<ClarityValue>),
    /// `(ok value)`.
    Ok(Box<ClarityValue>),
    /// `(err value)`.
    Err(Box<ClarityValue>),
    /// `(list …)`.
    List(Vec<ClarityValue>),
    /// A tuple: its fields, in wire order when read (the writer sorts them).
    Tuple(Vec<(String, ClarityValue)>),
    /// `string-ascii`: printable ASCII and whitespace.
    StringAscii(String),
    /// `string-utf8`.
    StringUtf8(String),
}

/// Why a Clarity value could not be read, written or used.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClarityError {
    /// The hex text was not valid hexadecimal.
    Hex(EncodingError),
    /// The input is larger than [`MAX_SERIALIZED_LEN`].
    TooLarge {
        /// The input's size in bytes.
        len: usize,
    },
    /// The input is empty.
    Empty,
    /// The input ends in the middle of a value.
    Truncated {
        /// Where the missing part starts.
        offset: usize,
        /// What was being read.
        what: &'static str,
        /// How many bytes it needs.
        needed: usize,
        /// How many remain.
        remaining: usize,
    },
    /// A type byte that no Clarity type has.
    UnknownType {
        /// The offset of the type byte.
        offset: usize,
        /// The byte.
        id: u8,
    },
    /// A declared length or count larger than the rest of the input could hold.
    LengthTooLarge {
        /// The offset of the length.
        offset: usize,
        /// What the length counts.
        what: &'static str,
        /// The declared length.
        declared: u64,
        /// The most the remaining bytes allow.
        max: u64,
    },
    /// Nested deeper than [`MAX_DEPTH`].
    TooDeep {
        /// Where the value that is too deep starts.
        offset: usize,
    },
    /// More than [`MAX_VALUES`] values.
    TooManyValues {
        /// Where the value over the limit starts.
        offset: usize,
    },
    /// A string-utf8 whose bytes are not valid UTF-8.
    InvalidUtf8 {
        /// The offset of the first invalid byte.
        offset: usize,
    },
    /// A string-ascii holding a byte other than printable ASCII or whitespace.
    NotAscii {
        /// The offset of the byte.
        offset: usize,
        /// The byte.
        byte: u8,
    },
    /// A principal version of 32 or more (c32 addresses have versions 0 to 31).
    BadPrincipalVersion {
        /// The offset of the version byte.
        offset: usize,
        /// The version.
        version: u8,
    },
    /// A contract name that breaks Clarity's rule.
    BadContractName {
        /// The offset of the name's length byte.
        offset: usize,
    },
    /// A tuple field name that breaks Clarity's rule.
    BadFieldName {
        /// The offset of the name's length byte.
        offset: usize,
    },
    /// A tuple with two fields of the same name.
    DuplicateField {
        /// The offset of the second one's length byte.
        offset: usize,
        /// The name.
        name: String,
    },
    /// Bytes left after the value.
    TrailingBytes {
        /// Where they start.
        offset: usize,
    },
    /// A value (from JSON or built in code) that cannot be serialized; `path` says
    /// where (`$` is the top, `[i]` a list item, `.name` a tuple field, `.some`,
    /// `.ok`, `.err` the inside of an optional or response).
    Invalid {
        /// Where in the value.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A SIP-018 domain that is not `{name: string-ascii, version: string-ascii,
    /// chain-id: uint}`.
    BadDomain {
        /// What is wrong, naming the field.
        message: String,
    },
}

impl fmt::Display for ClarityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ClarityError::*;
        match self {
            Hex(e) => write!(f, "Clarity value: {e}"),
            TooLarge { len } => write!(
                f,
                "Clarity value: {len} bytes is over the limit of {MAX_SERIALIZED_LEN} bytes"
            ),
            Empty => f.write_str("Clarity value: empty input"),
            Truncated {
                offset,
                what,
                needed,
                remaining,
            } => write!(
                f,
                "Clarity value: truncated at byte {offset}: the {what} needs {needed} bytes, {remaining} remain"
            ),
            UnknownType { offset, id } => write!(
                f,
                "Clarity value: unknown type id 0x{id:02x} at byte {offset} (types are 0x00 to 0x0e)"
            ),
            LengthTooLarge {
                offset,
                what,
                declared,
                max,
            } => write!(
                f,
                "Clarity value: the {what} at byte {offset} declares {declared}, but the rest of the input holds at most {max}"
            ),
            TooDeep { offset } => write!(
                f,
                "Clarity value: nested more than {MAX_DEPTH} deep at byte {offset}"
            ),
            TooManyValues { offset } => write!(
                f,
                "Clarity value: more than {MAX_VALUES} values (at byte {offset})"
            ),
            InvalidUtf8 { offset } => write!(
                f,
                "Clarity value: string-utf8 is not valid UTF-8 at byte {offset}"
            ),
            NotAscii { offset, byte } => write!(
                f,
                "Clarity value: string-ascii holds byte 0x{byte:02x} at byte {offset} (only printable ASCII and whitespace are allowed)"
            ),
            BadPrincipalVersion { offset, version } => write!(
                f,
                "Clarity value: principal version {version} at byte {offset} (versions are 0 to 31)"
            ),
            BadContractName { offset } => write!(
                f,
                "Clarity value: invalid contract name at byte {offset} (1 to {MAX_NAME_LEN} characters: a letter, then letters, digits, '-' or '_')"
            ),
            BadFieldName { offset } => write!(
                f,
                "Clarity value: invalid tuple field name at byte {offset} (1 to {MAX_NAME_LEN} characters: a letter, then letters, digits or -_!?+<>=/*; or one of - + = / * < > <= >=)"
            ),
            DuplicateField { offset, name } => write!(
                f,
                "Clarity value: tuple field {} repeated at byte {offset}",
                encoding::quoted(name)
            ),
            TrailingBytes { offset } => write!(
                f,
                "Clarity value: unexpected bytes after the value, from byte {offset}"
            ),
            Invalid { path, message } => write!(f, "Clarity value: {path}: {message}"),
            BadDomain { message } => write!(f, "SIP-018 domain: {message}"),
        }
    }
}

impl std::error::Error for ClarityError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ClarityError::Hex(e) => Some(e),
            _ => None,
        }
    }
}

/// Whether `name` is a valid Clarity contract name (`[a-zA-Z][a-zA-Z0-9_-]*` or
/// `__transient`, 1 to 128 bytes).
pub fn is_contract_name(name: &str) -> bool {
    let b = name.as_bytes();
    if name == "__transient" {
        return true;
    }
    !b.is_empty()
        && b.len() <= MAX_NAME_LEN
        && b[0].is_ascii_alphabetic()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_')
}

/// Whether `name` is a valid Clarity name (tuple fields): a letter followed by letters,
/// digits or `-_!?+<>=/*`, or one of `-` `+` `=` `/` `*` `<` `>` `<=` `>=`; 1 to 128
/// bytes.
pub fn is_clarity_name(name: &str) -> bool {
    let b = name.as_bytes();
    if matches!(name, "-" | "+" | "=" | "/" | "*" | "<" | ">" | "<=" | ">=") {
        return true;
    }
    !b.is_empty()
        && b.len() <= MAX_NAME_LEN
        && b[0].is_ascii_alphabetic()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || b"-_!?+<>=/*".contains(c))
}

/// Whether `byte` may appear in a string-ascii (Clarity: alphanumeric, punctuation or
/// whitespace, i.e. 0x20–0x7e, tab, line feed, form feed, carriage return).
pub fn is_ascii_string_byte(byte: u8) -> bool {
    (0x20..=0x7e).contains(&byte) || matches!(byte, b'\t' | b'\n' | 0x0c | b'\r')
}

// ---------------------------------------------------------------------------------------
// Reader

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    values: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], ClarityError> {
        if n > self.remaining() {
            return Err(ClarityError::Truncated {
                offset: self.pos,
                what,
                needed: n,
                remaining: self.remaining(),
            });
        }
        let out = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], ClarityError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    /// A u32 length, checked so that `len * min_each` bytes still remain.
    fn length(&mut self, what: &'static str, min_each: usize) -> Result<usize, ClarityError> {
        let offset = self.pos;
        let declared = u32::from_be_bytes(self.array::<4>(what)?) as u64;
        let max = (self.remaining() / min_each) as u64;
        if declared > max {
            return Err(ClarityError::LengthTooLarge {
                offset,
                what,
                declared,
                max,
            });
        }
        Ok(declared as usize)
    }

    fn address(&mut self) -> Result<(u8, [u8; 20]), ClarityError> {
        let offset = self.pos;
        let [version] = self.array::<1>("principal version")?;
        if version >= 32 {
            return Err(ClarityError::BadPrincipalVersion { offset, version });
        }
        Ok((version, self.array::<20>("principal hash")?))
    }

    /// A u8-length-prefixed name, checked with `valid`.
    fn name(
        &mut self,
        what: [&'static str; 2],
        valid: fn(&str) -> bool,
        bad: fn(usize) -> ClarityError,
    ) -> Result<String, ClarityError> {
        let offset = self.pos;
        let [len] = self.array::<1>(what[0])?;
        let raw = self.take(len as usize, what[1])?;
        match std::str::from_utf8(raw) {
            Ok(s) if valid(s) => Ok(s.to_owned()),
            _ => Err(bad(offset)),
        }
    }

    fn value(&mut self, depth: usize) -> Result<ClarityValue, ClarityError> {
        let offset = self.pos;
        if depth > MAX_DEPTH {
            return Err(ClarityError::TooDeep { offset });
        }
        self.values += 1;
        if self.values > MAX_VALUES {
            return Err(ClarityError::TooManyValues { offset });
        }
        let [id] = self.array::<1>("type id")?;
        Ok(match id {
            0x00 => ClarityValue::Int(i128::from_be_bytes(self.array::<16>("int")?)),
            0x01 => ClarityValue::UInt(u128::from_be_bytes(self.array::<16>("uint")?)),
            0x02 => {
                let len = self.length("buffer length", 1)?;
                ClarityValue::Buffer(self.take(len, "buffer")?.to_vec())
            }
            0x03 => ClarityValue::Bool(true),
            0x04 => ClarityValue::Bool(false),
            0x05 => {
                let (version, hash160) = self.address()?;
                ClarityValue::StandardPrincipal { version, hash160 }
            }
            0x06 => {
                let (version, hash160) = self.address()?;
                let name = self.name(
                    ["contract name length", "contract name"],
                    is_contract_name,
                    |offset| ClarityError::BadContractName { offset },
                )?;
                ClarityValue::ContractPrincipal {
                    version,
                    hash160,
                    name,
                }
            }
            0x07 => ClarityValue::Ok(Box::new(self.value(depth + 1)?)),
            0x08 => ClarityValue::Err(Box::new(self.value(depth + 1)?)),
            0x09 => ClarityValue::None,
            0x0a => ClarityValue::Some(Box::new(self.value(depth + 1)?)),
            0x0b => {
                // Each item takes at least its type byte.
                let len = self.length("list length", 1)?;
                // Reserve little up front: a value takes more memory than its type byte.
                let mut items = Vec::with_capacity(len.min(1024));
                for _ in 0..len {
                    items.push(self.value(depth + 1)?);
                }
                ClarityValue::List(items)
            }
            0x0c => {
                // Each field takes at least a length byte, a one-byte name and a type byte.
                let len = self.length("tuple field count", 3)?;
                let mut fields: Vec<(String, ClarityValue)> = Vec::with_capacity(len.min(1024));
                for _ in 0..len {
                    let name_offset = self.pos;
                    let name = self.name(
                        ["field name length", "field name"],
                        is_clarity_name,
                        |offset| ClarityError::BadFieldName { offset },
                    )?;
                    if fields.iter().any(|(n, _)| *n == name) {
                        return Err(ClarityError::DuplicateField {
                            offset: name_offset,
                            name,
                        });
                    }
                    let value = self.value(depth + 1)?;
                    fields.push((name, value));
                }
                ClarityValue::Tuple(fields)
            }
            0x0d => {
                let len = self.length("string-ascii length", 1)?;
                let start = self.pos;
                let raw = self.take(len, "string-ascii")?;
                if let Some(i) = raw.iter().position(|b| !is_ascii_string_byte(*b)) {
                    return Err(ClarityError::NotAscii {
                        offset: start + i,
                        byte: raw[i],
                    });
                }
                // Checked above: every byte is ASCII.
                ClarityValue::StringAscii(raw.iter().map(|b| *b as char).collect())
            }
            0x0e => {
                let len = self.length("string-utf8 length", 1)?;
                let start = self.pos;
                let raw = self.take(len, "string-utf8")?;
                match std::str::from_utf8(raw) {
                    Ok(s) => ClarityValue::StringUtf8(s.to_owned()),
                    Err(e) => {
                        return Err(ClarityError::InvalidUtf8 {
                            offset: start + e.valid_up_to(),
                        });
                    }
                }
            }
            id => return Err(ClarityError::UnknownType { offset, id }),
        })
    }
}

impl ClarityValue {
    /// Reads one serialized value that fills `bytes` exactly.
    pub fn from_bytes(bytes: &[u8]) -> Result<ClarityValue, ClarityError> {
        if bytes.len() > MAX_SERIALIZED_LEN {
            return Err(ClarityError::TooLarge { len: bytes.len() });
        }
        if bytes.is_empty() {
            return Err(ClarityError::Empty);
        }
        let mut reader = Reader {
            bytes,
            pos: 0,
            values: 0,
        };
        let value = reader.value(1)?;
        if reader.pos != bytes.len() {
            return Err(ClarityError::TrailingBytes { offset: reader.pos });
        }
        Ok(value)
    }

    /// Reads a serialized value from hex text (an optional `0x` prefix, either case).
    pub fn from_hex(text: &str) -> Result<ClarityValue, ClarityError> {
        ClarityValue::from_bytes(&hex_bytes(text)?)
    }

    /// Serializes the value (tuple fields sorted by their bytes). Refuses what Clarity
    /// would not accept: non-ASCII in a string-ascii, invalid names, duplicate fields,
    /// versions of 32 or more, lengths beyond a u32, nesting deeper than [`MAX_DEPTH`],
    /// more than [`MAX_VALUES`] values, or a result over [`MAX_SERIALIZED_LEN`].
    pub fn to_bytes(&self) -> Result<Vec<u8>, ClarityError> {
        let mut out = Vec::new();
        let mut count = 0usize;
        write_value(self, 1, &mut count, &mut "$".to_string(), &mut out)?;
        Ok(out)
    }

    /// [`ClarityValue::to_bytes`] as lower-case hex.
    pub fn to_hex(&self) -> Result<String, ClarityError> {
        Ok(encoding::to_hex(&self.to_bytes()?))
    }

    /// The Clarity type name of the value's outer layer (`int`, `uint`, `buff`, `bool`,
    /// `principal`, `optional`, `response`, `list`, `tuple`, `string-ascii`,
    /// `string-utf8`).
    pub fn type_name(&self) -> &'static str {
        match self {
            ClarityValue::Int(_) => "int",
            ClarityValue::UInt(_) => "uint",
            ClarityValue::Buffer(_) => "buff",
            ClarityValue::Bool(_) => "bool",
            ClarityValue::StandardPrincipal { .. } | ClarityValue::ContractPrincipal { .. } => {
                "principal"
            }
            ClarityValue::None | ClarityValue::Some(_) => "optional",
            ClarityValue::Ok(_) | ClarityValue::Err(_) => "response",
            ClarityValue::List(_) => "list",
            ClarityValue::Tuple(_) => "tuple",
            ClarityValue::StringAscii(_) => "string-ascii",
            ClarityValue::StringUtf8(_) => "string-utf8",
        }
    }

    /// The field `name` of a tuple (`None` for other values or a missing field).
    pub fn field(&self, name: &str) -> Option<&ClarityValue> {
        match self {
            ClarityValue::Tuple(fields) => fields.iter().find(|(n, _)| n == name).map(|(_, v)| v),
            _ => None,
        }
    }
}

fn hex_bytes(text: &str) -> Result<Vec<u8>, ClarityError> {
    let text = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    if text.len() / 2 > MAX_SERIALIZED_LEN {
        return Err(ClarityError::TooLarge {
            len: text.len() / 2,
        });
    }
    encoding::from_hex(text).map_err(ClarityError::Hex)
}

fn invalid(path: &str, message: impl Into<String>) -> ClarityError {
    ClarityError::Invalid {
        path: path.to_owned(),
        message: message.into(),
    }
}

fn write_len(len: usize, path: &str, out: &mut Vec<u8>) -> Result<(), ClarityError> {
    let len = u32::try_from(len).map_err(|_| invalid(path, "longer than 4294967295"))?;
    out.extend_from_slice(&len.to_be_bytes());
    Ok(())
}

fn write_address(
    version: u8,
    hash: &[u8; 20],
    path: &str,
    out: &mut Vec<u8>,
) -> Result<(), ClarityError> {
    if version >= 32 {
        return Err(invalid(
            path,
            format!("principal version {version} (versions are 0 to 31)"),
        ));
    }
    out.push(version);
    out.extend_from_slice(hash);
    Ok(())
}

/// Runs `f` with `segment` appended to `path`, then restores it.
fn nested<T>(path: &mut String, segment: &str, f: impl FnOnce(&mut String) -> T) -> T {
    let len = path.len();
    path.push_str(segment);
    let out = f(path);
    path.truncate(len);
    out
}

fn write_value(
    value: &ClarityValue,
    depth: usize,
    count: &mut usize,
    path: &mut String,
    out: &mut Vec<u8>,
) -> Result<(), ClarityError> {
    if depth > MAX_DEPTH {
        return Err(invalid(path, format!("nested more than {MAX_DEPTH} deep")));
    }
    *count += 1;
    if *count > MAX_VALUES {
        return Err(invalid(path, format!("more than {MAX_VALUES} values")));
    }
    if out.len() > MAX_SERIALIZED_LEN {
        return Err(invalid(path, format!("over {MAX_SERIALIZED_LEN} bytes")));
    }
    match value {
        ClarityValue::Int(n) => {
            out.push(0x00);
            out.extend_from_slice(&n.to_be_bytes());
        }
        ClarityValue::UInt(n) => {
            out.push(0x01);
            out.extend_from_slice(&n.to_be_bytes());
        }
        ClarityValue::Buffer(b) => {
            out.push(0x02);
            write_len(b.len(), path, out)?;
            out.extend_from_slice(b);
        }
        ClarityValue::Bool(true) => out.push(0x03),
        ClarityValue::Bool(false) => out.push(0x04),
        ClarityValue::StandardPrincipal { version, hash160 } => {
            out.push(0x05);
            write_address(*version, hash160, path, out)?;
        }
        ClarityValue::ContractPrincipal {
            version,
            hash160,
            name,
        } => {
            out.push(0x06);
            write_address(*version, hash160, path, out)?;
            if !is_contract_name(name) {
                return Err(invalid(
                    path,
                    format!("invalid contract name {}", encoding::quoted(name)),
                ));
            }
            out.push(name.len() as u8);
            out.extend_from_slice(name.as_bytes());
        }
        ClarityValue::None => out.push(0x09),
        ClarityValue::Some(v) => {
            out.push(0x0a);
            nested(path, ".some", |p| write_value(v, depth + 1, count, p, out))?;
        }
        ClarityValue::Ok(v) => {
            out.push(0x07);
            nested(path, ".ok", |p| write_value(v, depth + 1, count, p, out))?;
        }
        ClarityValue::Err(v) => {
            out.push(0x08);
            nested(path, ".err", |p| write_value(v, depth + 1, count, p, out))?;
        }
        ClarityValue::List(items) => {
            out.push(0x0b);
            write_len(items.len(), path, out)?;
            for (i, item) in items.iter().enumerate() {
                nested(path, &format!("[{i}]"), |p| {
                    write_value(item, depth + 1, count, p, out)
                })?;
            }
        }
        ClarityValue::Tuple(fields) => {
            out.push(0x0c);
            write_len(fields.len(), path, out)?;
            let mut sorted: Vec<&(String, ClarityValue)> = fields.iter().collect();
            crate::support::sorting::sort_by(&mut sorted, |a, b| {
                a.0.as_bytes().cmp(b.0.as_bytes())
            });
            for pair in sorted.windows(2) {
                if pair[0].0 == pair[1].0 {
                    return Err(invalid(
                        path,
                        format!("tuple field {} repeated", encoding::quoted(&pair[0].0)),
                    ));
                }
            }
            for (name, v) in sorted {
                if !is_clarity_name(name) {
                    return Err(invalid(
                        path,
                        format!("invalid tuple field name {}", encoding::quoted(name)),
                    ));
                }
                out.push(name.len() as u8);
                out.extend_from_slice(name.as_bytes());
                nested(path, &format!(".{name}"), |p| {
                    write_value(v, depth + 1, count, p, out)
                })?;
            }
        }
        ClarityValue::StringAscii(s) => {
            if let Some(b) = s.bytes().find(|b| !is_ascii_string_byte(*b)) {
                return Err(invalid(
                    path,
                    format!(
                        "string-ascii holds byte 0x{b:02x} (only printable ASCII and whitespace are allowed)"
                    ),
                ));
            }
            out.push(0x0d);
            write_len(s.len(), path, out)?;
            out.extend_from_slice(s.as_bytes());
        }
        ClarityValue::StringUtf8(s) => {
            out.push(0x0e);
            write_len(s.len(), path, out)?;
            out.extend_from_slice(s.as_bytes());
        }
    }
    if out.len() > MAX_SERIALIZED_LEN {
        return Err(invalid(path, format!("over {MAX_SERIALIZED_LEN} bytes")));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Addresses

const C32: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// The c32 address (`SP…`, `ST…`) of a principal's version and hash160.
pub fn principal_address(version: u8, hash160: &[u8; 20]) -> String {
    format!("S{}", c32check_encode(version, hash160))
}

/// Parses a c32 STX address (canonical upper-case form with a valid checksum) into its
/// version and hash160.
pub fn parse_address(text: &str) -> Option<(u8, [u8; 20])> {
    let body = text.strip_prefix('S')?.as_bytes();
    let (&version_char, digits) = body.split_first()?;
    let version = C32.iter().position(|c| *c == version_char)? as u8;
    if digits.is_empty() || digits.len() > 64 {
        return None;
    }
    // The digits are a big-endian base-32 number of 24 bytes: hash160 ‖ checksum.
    let mut number = [0u8; 24];
    for &d in digits {
        let mut carry = C32.iter().position(|c| *c == d)? as u32;
        for byte in number.iter_mut().rev() {
            let v = (*byte as u32) * 32 + carry;
            *byte = v as u8;
            carry = v >> 8;
        }
        if carry != 0 {
            return None;
        }
    }
    let mut hash = [0u8; 20];
    hash.copy_from_slice(&number[..20]);
    // Re-encoding checks the checksum and that the text is the canonical form.
    (principal_address(version, &hash) == text).then_some((version, hash))
}

// ---------------------------------------------------------------------------------------
// JSON form

/// The JSON form of a value, mirroring `@stacks/transactions`' `ClarityValue` objects
/// with 128-bit integers as decimal strings: `{type: 'int' | 'uint', value: '-5'}`,
/// `{type: 'buffer', value: '<hex>'}`, `{type: 'true'}`, `{type: 'false'}`,
/// `{type: 'address', value: 'SP…'}`, `{type: 'contract', value: 'SP….name'}`,
/// `{type: 'none'}`, `{type: 'some' | 'ok' | 'err', value: <value>}`,
/// `{type: 'list', value: [<value>…]}`, `{type: 'tuple', value: {name: <value>…}}`,
/// `{type: 'ascii' | 'utf8', value: '<text>'}`.
pub fn to_json(value: &ClarityValue) -> Value {
    let mut m = Map::new();
    let (kind, inner): (&str, Option<Value>) = match value {
        ClarityValue::Int(n) => ("int", Some(n.to_string().into())),
        ClarityValue::UInt(n) => ("uint", Some(n.to_string().into())),
        ClarityValue::Buffer(b) => ("buffer", Some(encoding::to_hex(b).into())),
        ClarityValue::Bool(true) => ("true", None),
        ClarityValue::Bool(false) => ("false", None),
        ClarityValue::StandardPrincipal { version, hash160 } => {
            ("address", Some(principal_address(*version, hash160).into()))
        }
        ClarityValue::ContractPrincipal {
            version,
            hash160,
            name,
        } => (
            "contract",
            Some(format!("{}.{name}", principal_address(*version, hash160)).into()),
        ),
        ClarityValue::None => ("none", None),
        ClarityValue::Some(v) => ("some", Some(to_json(v))),
        ClarityValue::Ok(v) => ("ok", Some(to_json(v))),
        ClarityValue::Err(v) => ("err", Some(to_json(v))),
        ClarityValue::List(items) => (
            "list",
            Some(Value::Array(items.iter().map(to_json).collect())),
        ),
        ClarityValue::Tuple(fields) => {
            let mut inner = Map::new();
            for (name, v) in fields {
                inner.insert(name.clone(), to_json(v));
            }
            ("tuple", Some(Value::Object(inner)))
        }
        ClarityValue::StringAscii(s) => ("ascii", Some(s.as_str().into())),
        ClarityValue::StringUtf8(s) => ("utf8", Some(s.as_str().into())),
    };
    m.insert("type".into(), kind.into());
    if let Some(inner) = inner {
        m.insert("value".into(), inner);
    }
    Value::Object(m)
}

/// Reads the JSON form of [`to_json`]. Integers may be decimal strings or whole JSON
/// numbers; errors name the path of the bad part.
pub fn from_json(json: &Value) -> Result<ClarityValue, ClarityError> {
    let mut path = "$".to_string();
    value_from_json(json, 1, &mut path)
}

fn value_from_json(
    json: &Value,
    depth: usize,
    path: &mut String,
) -> Result<ClarityValue, ClarityError> {
    if depth > MAX_DEPTH {
        return Err(invalid(path, format!("nested more than {MAX_DEPTH} deep")));
    }
    let obj = json
        .as_object()
        .ok_or_else(|| invalid(path, format!("expected an object, not {}", json.kind())))?;
    let kind = obj
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(path, "missing or non-string \"type\""))?;
    let takes_value = !matches!(kind, "true" | "false" | "none");
    for key in obj.keys() {
        if key != "type" && !(key == "value" && takes_value) {
            return Err(invalid(
                path,
                format!("unexpected key {}", encoding::quoted(key)),
            ));
        }
    }
    let inner = || {
        obj.get("value")
            .ok_or_else(|| invalid(path, format!("{kind} needs a \"value\"")))
    };
    let text = |what: &str| -> Result<&str, ClarityError> {
        inner()?
            .as_str()
            .ok_or_else(|| invalid(path, format!("{what} value must be a string")))
    };
    Ok(match kind {
        "int" => ClarityValue::Int(integer(inner()?, path, "int")?),
        "uint" => ClarityValue::UInt(integer(inner()?, path, "uint")?),
        "buffer" => ClarityValue::Buffer(
            encoding::from_hex(text("buffer")?)
                .map_err(|_| invalid(path, "buffer value must be hex"))?,
        ),
        "true" => ClarityValue::Bool(true),
        "false" => ClarityValue::Bool(false),
        "address" => {
            let t = text("address")?;
            let (version, hash160) = parse_address(t).ok_or_else(|| {
                invalid(
                    path,
                    format!("not a valid STX address: {}", encoding::quoted(t)),
                )
            })?;
            ClarityValue::StandardPrincipal { version, hash160 }
        }
        "contract" => {
            let t = text("contract")?;
            let bad = || {
                invalid(
                    path,
                    format!(
                        "not a contract principal (address.name): {}",
                        encoding::quoted(t)
                    ),
                )
            };
            let (address, name) = t.split_once('.').ok_or_else(bad)?;
            let (version, hash160) = parse_address(address).ok_or_else(bad)?;
            if !is_contract_name(name) {
                return Err(bad());
            }
            ClarityValue::ContractPrincipal {
                version,
                hash160,
                name: name.to_owned(),
            }
        }
        "none" => ClarityValue::None,
        "some" | "ok" | "err" => {
            let v = inner()?;
            let v = Box::new(nested(path, &format!(".{kind}"), |p| {
                value_from_json(v, depth + 1, p)
            })?);
            match kind {
                "some" => ClarityValue::Some(v),
                "ok" => ClarityValue::Ok(v),
                _ => ClarityValue::Err(v),
            }
        }
        "list" => {
            let items = inner()?
                .as_array()
                .ok_or_else(|| invalid(path, "list value must be an array"))?;
            let mut out = Vec::with_capacity(items.len().min(MAX_VALUES));
            for (i, item) in items.iter().enumerate() {
                out.push(nested(path, &format!("[{i}]"), |p| {
                    value_from_json(item, depth + 1, p)
                })?);
            }
            ClarityValue::List(out)
        }
        "tuple" => {
            let fields = inner()?
                .as_object()
                .ok_or_else(|| invalid(path, "tuple value must be an object"))?;
            let mut out = Vec::with_capacity(fields.len().min(MAX_VALUES));
            for (name, v) in fields.iter() {
                if !is_clarity_name(name) {
                    return Err(invalid(
                        path,
                        format!("invalid tuple field name {}", encoding::quoted(name)),
                    ));
                }
                let v = nested(path, &format!(".{name}"), |p| {
                    value_from_json(v, depth + 1, p)
                })?;
                out.push((name.clone(), v));
            }
            ClarityValue::Tuple(out)
        }
        "ascii" => {
            let t = text("ascii")?;
            if let Some(b) = t.bytes().find(|b| !is_ascii_string_byte(*b)) {
                return Err(invalid(
                    path,
                    format!(
                        "ascii value holds byte 0x{b:02x} (only printable ASCII and whitespace are allowed)"
                    ),
                ));
            }
            ClarityValue::StringAscii(t.to_owned())
        }
        "utf8" => ClarityValue::StringUtf8(text("utf8")?.to_owned()),
        other => {
            return Err(invalid(
                path,
                format!("unknown type {}", encoding::quoted(other)),
            ));
        }
    })
}

/// A 128-bit integer from a decimal string (optional `-` for int) or a whole JSON number.
fn integer<T: std::str::FromStr>(v: &Value, path: &str, what: &str) -> Result<T, ClarityError> {
    let text = match v {
        Value::String(s) => s.as_str(),
        Value::Number(n) => n.as_str(),
        _ => {
            return Err(invalid(
                path,
                format!("{what} value must be a decimal string or a whole number"),
            ));
        }
    };
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(
            path,
            format!(
                "{what} value {} is not a whole decimal number",
                encoding::quoted(text)
            ),
        ));
    }
    text.parse::<T>()
        .map_err(|_| invalid(path, format!("{what} value {text} is out of range")))
}

// ---------------------------------------------------------------------------------------
// Rendering

/// One line of a value's readable rendering: `depth` is the indentation level, `label`
/// the field name (`[i]` for list items, empty at the top and inside optionals and
/// responses), `value` the value in Clarity notation or, for lists and tuples, a summary
/// whose parts follow on deeper lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Indentation level (0 at the top).
    pub depth: usize,
    /// The field name, `[i]` for a list item, or empty.
    pub label: String,
    /// The rendered value or summary.
    pub value: String,
}

/// The readable rendering of a value for a consent screen: ints in decimal (`-5`),
/// uints with Clarity's `u` (`u5`), buffers as `0x…`, principals as c32 addresses
/// (`SP…`, `SP….name`), strings quoted (`"…"`, string-utf8 as `u"…"`) with quotes,
/// backslashes, control, invisible and bidirectional characters shown as escapes
/// (`\n`, `\u{202e}`); `(some …)`, `(ok …)`, `(err …)` wrap their value on the same line
/// when it is a single line; lists and tuples get a summary line and one line per
/// item or field, indented.
pub fn render(value: &ClarityValue) -> Vec<Line> {
    let mut lines = Vec::new();
    render_into(value, 0, String::new(), &mut lines);
    lines
}

fn render_into(value: &ClarityValue, depth: usize, label: String, lines: &mut Vec<Line>) {
    let wrapper = match value {
        ClarityValue::Some(v) => Some(("some", v)),
        ClarityValue::Ok(v) => Some(("ok", v)),
        ClarityValue::Err(v) => Some(("err", v)),
        _ => None,
    };
    if let Some((word, inner)) = wrapper {
        let start = lines.len();
        render_into(inner, depth, label, lines);
        if let Some(first) = lines.get_mut(start) {
            first.value = format!("({word} {})", first.value);
        }
        return;
    }
    let summary = match value {
        ClarityValue::List(items) => {
            Some(format!("list, {} item{}", items.len(), plural(items.len())))
        }
        ClarityValue::Tuple(fields) => Some(format!(
            "tuple, {} field{}",
            fields.len(),
            plural(fields.len())
        )),
        _ => None,
    };
    match summary {
        Some(summary) => {
            lines.push(Line {
                depth,
                label,
                value: summary,
            });
            match value {
                ClarityValue::List(items) => {
                    for (i, item) in items.iter().enumerate() {
                        render_into(item, depth + 1, format!("[{i}]"), lines);
                    }
                }
                ClarityValue::Tuple(fields) => {
                    for (name, v) in fields {
                        render_into(v, depth + 1, name.clone(), lines);
                    }
                }
                _ => {}
            }
        }
        None => lines.push(Line {
            depth,
            label,
            value: scalar_text(value),
        }),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn scalar_text(value: &ClarityValue) -> String {
    match value {
        ClarityValue::Int(n) => n.to_string(),
        ClarityValue::UInt(n) => format!("u{n}"),
        ClarityValue::Buffer(b) => format!("0x{}", encoding::to_hex(b)),
        ClarityValue::Bool(b) => b.to_string(),
        ClarityValue::StandardPrincipal { version, hash160 } => {
            principal_address(*version, hash160)
        }
        ClarityValue::ContractPrincipal {
            version,
            hash160,
            name,
        } => format!("{}.{name}", principal_address(*version, hash160)),
        ClarityValue::None => "none".into(),
        ClarityValue::StringAscii(s) => visible_quoted(s),
        ClarityValue::StringUtf8(s) => format!("u{}", visible_quoted(s)),
        // Composite values are rendered by `render_into`.
        _ => String::new(),
    }
}

/// Whether `c` is invisible or reorders text: C0/C1 controls, DEL, bidirectional
/// marks, embeddings, overrides and isolates, zero-width characters, line and paragraph
/// separators, the byte-order mark, variation selectors, tag characters.
fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00ad}' | '\u{034f}' | '\u{061c}' | '\u{115f}' | '\u{1160}' | '\u{17b4}' | '\u{17b5}'
            | '\u{180b}'..='\u{180f}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}' | '\u{3164}' | '\u{fe00}'..='\u{fe0f}' | '\u{feff}'
            | '\u{ffa0}' | '\u{fff0}'..='\u{fffb}' | '\u{1d173}'..='\u{1d17a}'
            | '\u{e0000}'..='\u{e0fff}')
}

/// `text` in double quotes with `"` and `\` escaped and hidden characters as escapes.
pub fn visible_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if is_hidden(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

// ---------------------------------------------------------------------------------------
// SIP-018

/// The prefix of SIP-018's signed bytes, `"SIP018"`.
pub const SIP018_PREFIX: &[u8; 6] = b"SIP018";

/// A SIP-018 domain: the tuple `{name, version, chain-id}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    /// The app's name.
    pub name: String,
    /// The app's version.
    pub version: String,
    /// The chain id (1 for mainnet, 2147483648 for testnet).
    pub chain_id: u128,
}

impl Domain {
    /// Checks that `value` is a tuple of exactly `name` (string-ascii), `version`
    /// (string-ascii) and `chain-id` (uint); the error names the wrong field.
    pub fn from_value(value: &ClarityValue) -> Result<Domain, ClarityError> {
        let bad = |message: String| ClarityError::BadDomain { message };
        let ClarityValue::Tuple(fields) = value else {
            return Err(bad(format!(
                "must be a tuple {{name, version, chain-id}}, not a {}",
                value.type_name()
            )));
        };
        if let Some((extra, _)) = fields
            .iter()
            .find(|(n, _)| !matches!(n.as_str(), "name" | "version" | "chain-id"))
        {
            return Err(bad(format!(
                "unexpected field {} (a domain has only name, version and chain-id)",
                encoding::quoted(extra)
            )));
        }
        let text = |field: &str| match value.field(field) {
            Some(ClarityValue::StringAscii(s)) => Ok(s.clone()),
            Some(other) => Err(bad(format!(
                "field \"{field}\" must be a string-ascii, not a {}",
                other.type_name()
            ))),
            None => Err(bad(format!("field \"{field}\" is missing"))),
        };
        let name = text("name")?;
        let version = text("version")?;
        let chain_id = match value.field("chain-id") {
            Some(ClarityValue::UInt(n)) => *n,
            Some(other) => {
                return Err(bad(format!(
                    "field \"chain-id\" must be a uint, not a {}",
                    other.type_name()
                )));
            }
            None => return Err(bad("field \"chain-id\" is missing".into())),
        };
        Ok(Domain {
            name,
            version,
            chain_id,
        })
    }
}

/// A checked SIP-018 request: the decoded domain and message and the hash to sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructuredData {
    /// The domain's fields.
    pub domain: Domain,
    /// The domain as a value.
    pub domain_value: ClarityValue,
    /// The message.
    pub message: ClarityValue,
    /// `sha256("SIP018" ‖ sha256(domain bytes) ‖ sha256(message bytes))`.
    pub hash: [u8; 32],
}

impl StructuredData {
    /// Decodes and checks serialized `domain` and `message` values and hashes them as
    /// given (the bytes are hashed, not a re-serialization).
    pub fn from_bytes(domain: &[u8], message: &[u8]) -> Result<StructuredData, ClarityError> {
        let domain_value = ClarityValue::from_bytes(domain)?;
        let domain_fields = Domain::from_value(&domain_value)?;
        let message_value = ClarityValue::from_bytes(message)?;
        let mut data = Vec::with_capacity(6 + 64);
        data.extend_from_slice(SIP018_PREFIX);
        data.extend_from_slice(&sha256(domain));
        data.extend_from_slice(&sha256(message));
        Ok(StructuredData {
            domain: domain_fields,
            domain_value,
            message: message_value,
            hash: sha256(&data),
        })
    }

    /// [`StructuredData::from_bytes`] from hex text.
    pub fn from_hex(domain: &str, message: &str) -> Result<StructuredData, ClarityError> {
        StructuredData::from_bytes(&hex_bytes(domain)?, &hex_bytes(message)?)
    }

    /// The recoverable signature of [`StructuredData::hash`] in RSV order, as
    /// `@stacks/transactions`' `signStructuredData` makes it.
    pub fn sign(&self, key: &PrivateKey) -> [u8; 65] {
        sign_hash_rsv(key, &self.hash)
    }
}

/// Signs a 32-byte hash with RFC 6979 (deterministic, low-S): `r ‖ s ‖ v`, with `v` the
/// recovery id (0 or 1; bit 1 when r overflowed the order). This is the layout of
/// `@stacks/transactions`' `signMessageHashRsv`.
pub fn sign_hash_rsv(key: &PrivateKey, hash: &[u8; 32]) -> [u8; 65] {
    key.sign_prehash_recoverable(hash)
}

#[cfg(test)]
mod tests;
