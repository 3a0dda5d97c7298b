//! ECIES with the bulk work in WebCrypto: `encryptECIESAsync` / `decryptECIESAsync`.
//!
//! The curve part (ECDH, SHA-512 key split, the ephemeral key) runs in wasm; AES-256-CBC
//! and HMAC-SHA256 run in the browser's `crypto.subtle`, which has AES instructions wasm
//! lacks (about 25× faster on a MiB). Same cipher objects as `encryptECIES`.

use super::protocol::{parse_decrypt_args, plaintext_to_js};
use super::{js_err, parse_secret, parse_str};
use crate::webcrypto::WebCrypto;
use cairn_core::crypto::ecies::{self, CipherTextEncoding};
use cairn_core::keys::PublicKey;
use js_sys::Uint8Array;
use wasm_bindgen::prelude::*;
use zeroize::Zeroizing;

/// Encrypts to a public key (hex) in the Stacks ECIES format, like `encryptECIES`, with
/// AES-CBC and HMAC in WebCrypto. `content` is a string (`wasString: true`) or a
/// `Uint8Array`; `cipherTextEncoding` is `"hex"` (default) or `"base64"`. Resolves to the
/// cipher object's JSON text.
#[wasm_bindgen(js_name = encryptECIESAsync)]
pub async fn encrypt_ecies_async(
    #[wasm_bindgen(js_name = publicKeyHex, unchecked_param_type = "string")]
    public_key_hex: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string | Uint8Array")] content: JsValue,
    #[wasm_bindgen(js_name = cipherTextEncoding, unchecked_param_type = "'hex' | 'base64' | undefined")]
    cipher_text_encoding: JsValue,
) -> Result<String, JsValue> {
    let pk = PublicKey::from_hex(&parse_str(&public_key_hex, "the public key")?).map_err(js_err)?;
    let encoding = match cipher_text_encoding.as_string().as_deref() {
        _ if cipher_text_encoding.is_undefined() => CipherTextEncoding::Hex,
        Some("hex") => CipherTextEncoding::Hex,
        Some("base64") => CipherTextEncoding::Base64,
        _ => return Err(js_err("cipherTextEncoding must be \"hex\" or \"base64\"")),
    };
    let (data, was_string) = if content.is_string() {
        let text = parse_secret(&content, "the content")?;
        (Zeroizing::new(text.as_bytes().to_vec()), true)
    } else if content.is_instance_of::<Uint8Array>() {
        let bytes = content.unchecked_into::<Uint8Array>().to_vec();
        (Zeroizing::new(bytes), false)
    } else {
        return Err(js_err("the content must be a string or a Uint8Array"));
    };
    let obj = ecies::encrypt_async(&WebCrypto, &pk, &data, was_string, encoding)
        .await
        .map_err(js_err)?;
    Ok(obj.to_json())
}

/// Decrypts a cipher object (its JSON text) with a private key (hex), like
/// `decryptECIES`, with the MAC check and AES-CBC in WebCrypto. Resolves to a string when
/// the sender encrypted a string, else a `Uint8Array`; rejects when the MAC does not match.
#[wasm_bindgen(js_name = decryptECIESAsync)]
pub async fn decrypt_ecies_async(
    #[wasm_bindgen(js_name = privateKeyHex, unchecked_param_type = "string")]
    private_key_hex: JsValue,
    #[wasm_bindgen(js_name = cipherJson, unchecked_param_type = "string")] cipher_json: JsValue,
) -> Result<JsValue, JsValue> {
    let (key, obj) = parse_decrypt_args(&private_key_hex, &cipher_json)?;
    let plain = ecies::decrypt_async(&WebCrypto, &key, &obj)
        .await
        .map_err(js_err)?;
    Ok(plaintext_to_js(plain))
}
