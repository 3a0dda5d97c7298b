//! JS API of Clarity values and SIP-018 structured data (`cairn_core::protocol::clarity`):
//! `deserializeClarityValue`, `serializeClarityValue`, `renderClarityValue`,
//! `hashStructuredData`, `signStructuredData`.
//!
//! Values are JSON trees shaped like `@stacks/transactions`' `ClarityValue` objects
//! (`{type: 'uint', value: '5'}`, `{type: 'tuple', value: {…}}`; see
//! [`cairn_core::protocol::clarity::to_json`]), with 128-bit integers as decimal strings.
//! `serializeClarityValue` also takes BigInt integers, so `Cl.uint(5)` from
//! `@stacks/transactions` can be passed as it is.

use super::{js_err, parse_secret, parse_str, to_js};
use cairn_core::keys::PrivateKey;
use cairn_core::protocol::clarity::{self, ClarityValue, StructuredData};
use cairn_core::support::encoding::to_hex;
use cairn_core::support::json::{self, Map, Value};
use wasm_bindgen::prelude::*;

/// Reads a JS value as JSON, turning BigInts into decimal strings.
fn value_json(value: &JsValue) -> Result<Value, JsValue> {
    let replacer =
        Closure::<dyn Fn(JsValue, JsValue) -> JsValue>::new(|_key: JsValue, v: JsValue| {
            if v.is_bigint() {
                js_sys::BigInt::from(v)
                    .to_string(10)
                    .map(JsValue::from)
                    .unwrap_or(JsValue::UNDEFINED)
            } else {
                v
            }
        });
    let text = js_sys::JSON::stringify_with_replacer(value, replacer.as_ref())
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| js_err("the Clarity value must be a plain object"))?;
    json::from_str(&text).map_err(|e| js_err(format_args!("the Clarity value: {e}")))
}

/// Decodes a hex-serialized Clarity value (as `serializeCV` writes it; `0x` prefix
/// optional) into its JSON tree, e.g. `{type: 'some', value: {type: 'uint', value:
/// '5'}}`. Throws an `Error` naming the byte offset and the rule for malformed input
/// (truncated, unknown type id, lengths beyond the input, invalid UTF-8, non-ASCII in
/// a string-ascii, nesting deeper than 32, over 1 MiB).
#[wasm_bindgen(js_name = deserializeClarityValue)]
pub fn deserialize_clarity_value(
    #[wasm_bindgen(unchecked_param_type = "string")] hex: JsValue,
) -> Result<JsValue, JsValue> {
    let hex = parse_str(&hex, "the serialized Clarity value")?;
    let value = ClarityValue::from_hex(&hex).map_err(js_err)?;
    to_js(&clarity::to_json(&value))
}

/// Serializes a Clarity value given as a JSON tree (the shape `deserializeClarityValue`
/// returns; integers as decimal strings, whole numbers or BigInts) into lower-case hex,
/// tuple fields in Clarity's consensus order. Throws an `Error` naming the path of a
/// bad part (e.g. `$.amount: uint value "-1" is out of range`).
#[wasm_bindgen(js_name = serializeClarityValue)]
pub fn serialize_clarity_value(
    #[wasm_bindgen(unchecked_param_type = "object")] value: JsValue,
) -> Result<String, JsValue> {
    let json = value_json(&value)?;
    let value = clarity::from_json(&json).map_err(js_err)?;
    value.to_hex().map_err(js_err)
}

/// The readable rendering of a hex-serialized Clarity value for a consent screen: an
/// array of `{depth, label, value}` lines (see [`cairn_core::protocol::clarity::render`]).
#[wasm_bindgen(js_name = renderClarityValue)]
pub fn render_clarity_value(
    #[wasm_bindgen(unchecked_param_type = "string")] hex: JsValue,
) -> Result<JsValue, JsValue> {
    let hex = parse_str(&hex, "the serialized Clarity value")?;
    let value = ClarityValue::from_hex(&hex).map_err(js_err)?;
    let lines: Vec<Value> = clarity::render(&value)
        .into_iter()
        .map(|line| {
            let mut m = Map::new();
            m.insert("depth".into(), Value::from(line.depth as u64));
            m.insert("label".into(), line.label.into());
            m.insert("value".into(), line.value.into());
            Value::Object(m)
        })
        .collect();
    to_js(&Value::Array(lines))
}

fn structured_data(domain_hex: &JsValue, message_hex: &JsValue) -> Result<StructuredData, JsValue> {
    let domain = parse_str(domain_hex, "the domain")?;
    let message = parse_str(message_hex, "the message")?;
    StructuredData::from_hex(&domain, &message).map_err(js_err)
}

/// The SIP-018 hash of hex-serialized `domain` and `message` Clarity values:
/// `sha256("SIP018" ‖ sha256(domain) ‖ sha256(message))`, as hex (what
/// `@stacks/transactions` computes as `sha256(encodeStructuredDataBytes(…))`). The
/// domain must be a tuple of exactly `name` and `version` (string-ascii) and `chain-id`
/// (uint); the error names the wrong field.
#[wasm_bindgen(js_name = hashStructuredData)]
pub fn hash_structured_data(
    #[wasm_bindgen(js_name = domainHex, unchecked_param_type = "string")] domain_hex: JsValue,
    #[wasm_bindgen(js_name = messageHex, unchecked_param_type = "string")] message_hex: JsValue,
) -> Result<String, JsValue> {
    Ok(to_hex(&structured_data(&domain_hex, &message_hex)?.hash))
}

/// Signs SIP-018 structured data: the recoverable signature of [`hash_structured_data`]'s
/// hash with `privateKeyHex` (64 hex characters, or 66 ending in `01`), RFC 6979 and
/// low-S, as 130 hex characters `r ‖ s ‖ v` — byte for byte what `@stacks/transactions`'
/// `signStructuredData` returns.
#[wasm_bindgen(js_name = signStructuredData)]
pub fn sign_structured_data(
    #[wasm_bindgen(js_name = privateKeyHex, unchecked_param_type = "string")]
    private_key_hex: JsValue,
    #[wasm_bindgen(js_name = domainHex, unchecked_param_type = "string")] domain_hex: JsValue,
    #[wasm_bindgen(js_name = messageHex, unchecked_param_type = "string")] message_hex: JsValue,
) -> Result<String, JsValue> {
    let key = PrivateKey::from_hex(&parse_secret(&private_key_hex, "the private key")?)
        .map_err(js_err)?;
    let data = structured_data(&domain_hex, &message_hex)?;
    Ok(to_hex(&data.sign(&key)))
}
