//! [`Bulk`] in the browser's `crypto.subtle`: AES-256-CBC, AES-256-GCM and HMAC-SHA256
//! with the hardware AES that wasm cannot reach. The authenticator page runs every bulk
//! step here, so its module carries no AES code; the developer package's `*Async`
//! functions use it too.

use cairn_core::crypto::bulk::{Bulk, BulkError};
use js_sys::{Array, Object, Reflect, Uint8Array};
use std::future::Future;
use std::pin::Pin;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, SubtleCrypto};
use zeroize::Zeroizing;

/// The bulk steps in WebCrypto (window, worker or Node: whichever global has
/// `crypto.subtle`).
#[derive(Debug, Clone, Copy, Default)]
pub struct WebCrypto;

/// A JS exception as a [`BulkError::Unavailable`].
fn unavailable(e: JsValue) -> BulkError {
    let text = Reflect::get(&e, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "WebCrypto failed".into());
    BulkError::Unavailable(text)
}

/// `crypto.subtle` of the current global.
fn subtle() -> Result<SubtleCrypto, BulkError> {
    let crypto = Reflect::get(&js_sys::global(), &"crypto".into()).map_err(unavailable)?;
    let subtle = if crypto.is_object() {
        Reflect::get(&crypto, &"subtle".into()).map_err(unavailable)?
    } else {
        JsValue::UNDEFINED
    };
    if !subtle.is_object() {
        return Err(BulkError::Unavailable(
            "WebCrypto (crypto.subtle) is not available here".into(),
        ));
    }
    Ok(subtle.unchecked_into())
}

/// `{name, ...extra}`.
fn algorithm(name: &str, extra: &[(&str, &JsValue)]) -> Result<Object, BulkError> {
    let o = Object::new();
    Reflect::set(&o, &"name".into(), &name.into()).map_err(unavailable)?;
    for (k, v) in extra {
        Reflect::set(&o, &(*k).into(), v).map_err(unavailable)?;
    }
    Ok(o)
}

fn hmac_alg() -> Result<Object, BulkError> {
    algorithm("HMAC", &[("hash", &"SHA-256".into())])
}

/// A WebCrypto step in flight. Boxed and type-erased on purpose: every caller's state
/// machine then holds one pointer, and the step's code exists once in the module
/// instead of being inlined into each `async` function that awaits it.
type Step<T> = Pin<Box<dyn Future<Output = Result<T, BulkError>>>>;

/// What one step does.
enum Op {
    Encrypt,
    Decrypt,
    Sign,
    Verify(Uint8Array),
}

/// Runs one step: imports `key` (raw, not extractable) for `op` under `key_alg`, then
/// applies it with `alg` to `data`. The inputs are JS copies made before the first
/// await, so the future borrows nothing from its caller.
fn step(key: Uint8Array, key_alg: Object, alg: Object, op: Op, data: Uint8Array) -> Step<JsValue> {
    Box::pin(async move {
        let subtle = match subtle() {
            Ok(s) => s,
            Err(e) => {
                key.fill(0, 0, key.length());
                return Err(e);
            }
        };
        let usage = match op {
            Op::Encrypt => "encrypt",
            Op::Decrypt => "decrypt",
            Op::Sign => "sign",
            Op::Verify(_) => "verify",
        };
        let usages = Array::of1(&usage.into());
        let imported = subtle
            .import_key_with_object("raw", &key, &key_alg, false, &usages)
            .map_err(unavailable);
        let imported = match imported {
            Ok(p) => JsFuture::from(p).await.map_err(unavailable),
            Err(e) => Err(e),
        };
        // The JS copy of the key bytes is overwritten once WebCrypto holds its own.
        key.fill(0, 0, key.length());
        let k: CryptoKey = imported?.unchecked_into();
        let promise = match &op {
            Op::Encrypt => subtle.encrypt_with_object_and_js_u8_array(&alg, &k, &data),
            Op::Decrypt => subtle.decrypt_with_object_and_js_u8_array(&alg, &k, &data),
            Op::Sign => subtle.sign_with_object_and_js_u8_array(&alg, &k, &data),
            // WebCrypto compares in constant time; a MAC of the wrong length just fails.
            Op::Verify(mac) => {
                subtle.verify_with_object_and_js_u8_array_and_js_u8_array(&alg, &k, mac, &data)
            }
        };
        match JsFuture::from(promise.map_err(unavailable)?).await {
            Ok(v) => Ok(v),
            // A refused decryption (bad padding or tag) is an `OperationError`.
            Err(e) => match Reflect::get(&e, &"name".into())
                .ok()
                .and_then(|n| n.as_string())
            {
                Some(n) if n == "OperationError" => Err(BulkError::Rejected),
                _ => Err(unavailable(e)),
            },
        }
    })
}

/// An AES step in `mode` (`"AES-CBC"` or `"AES-GCM"`) with parameters `params` (the IV,
/// and for GCM the associated data).
fn aes(mode: &str, params: &[(&str, &[u8])], op: Op, key: &[u8; 32], data: &[u8]) -> Step<Vec<u8>> {
    let inputs = (|| {
        let params: Vec<(&str, JsValue)> = params
            .iter()
            .map(|(k, v)| (*k, Uint8Array::from(*v).into()))
            .collect();
        let refs: Vec<(&str, &JsValue)> = params.iter().map(|(k, v)| (*k, v)).collect();
        Ok((algorithm(mode, &[])?, algorithm(mode, &refs)?))
    })();
    let key = Uint8Array::from(&key[..]);
    let data = Uint8Array::from(data);
    Box::pin(async move {
        let (key_alg, alg) = inputs?;
        let out = step(key, key_alg, alg, op, data).await?;
        Ok(Uint8Array::new(&out).to_vec())
    })
}

/// An HMAC-SHA256 step.
fn hmac(op: Op, key: &[u8; 32], data: &[u8]) -> Step<JsValue> {
    let key = Uint8Array::from(&key[..]);
    let data = Uint8Array::from(data);
    match hmac_alg() {
        // The same object serves as the import and the operation algorithm.
        Ok(alg) => step(key, alg.clone(), alg, op, data),
        Err(e) => Box::pin(async move { Err(e) }),
    }
}

impl Bulk for WebCrypto {
    fn cbc_encrypt(
        &self,
        key: &[u8; 32],
        iv: &[u8; 16],
        plain: &[u8],
    ) -> impl Future<Output = Result<Vec<u8>, BulkError>> {
        aes("AES-CBC", &[("iv", iv)], Op::Encrypt, key, plain)
    }

    fn cbc_decrypt(
        &self,
        key: &[u8; 32],
        iv: &[u8; 16],
        ciphertext: &[u8],
    ) -> impl Future<Output = Result<Zeroizing<Vec<u8>>, BulkError>> {
        let out = aes("AES-CBC", &[("iv", iv)], Op::Decrypt, key, ciphertext);
        async move { out.await.map(Zeroizing::new) }
    }

    fn gcm_encrypt(
        &self,
        key: &[u8; 32],
        nonce: &[u8; 12],
        aad: &[u8],
        plain: &[u8],
    ) -> impl Future<Output = Result<Vec<u8>, BulkError>> {
        let params = [("iv", &nonce[..]), ("additionalData", aad)];
        aes("AES-GCM", &params, Op::Encrypt, key, plain)
    }

    fn gcm_decrypt(
        &self,
        key: &[u8; 32],
        nonce: &[u8; 12],
        aad: &[u8],
        ciphertext: &[u8],
    ) -> impl Future<Output = Result<Zeroizing<Vec<u8>>, BulkError>> {
        let params = [("iv", &nonce[..]), ("additionalData", aad)];
        let out = aes("AES-GCM", &params, Op::Decrypt, key, ciphertext);
        async move { out.await.map(Zeroizing::new) }
    }

    fn hmac_sha256(
        &self,
        key: &[u8; 32],
        data: &[u8],
    ) -> impl Future<Output = Result<[u8; 32], BulkError>> {
        let mac = hmac(Op::Sign, key, data);
        async move {
            Uint8Array::new(&mac.await?)
                .to_vec()
                .try_into()
                .map_err(|_| {
                    BulkError::Unavailable("WebCrypto gave an HMAC of the wrong length".into())
                })
        }
    }

    fn hmac_sha256_verify(
        &self,
        key: &[u8; 32],
        data: &[u8],
        mac: &[u8],
    ) -> impl Future<Output = Result<bool, BulkError>> {
        let ok = hmac(Op::Verify(Uint8Array::from(mac)), key, data);
        async move { Ok(ok.await?.as_bool() == Some(true)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_core::crypto::bulk::Software;
    use wasm_bindgen_test::wasm_bindgen_test;

    /// Every step agrees with the software implementation byte for byte, in both
    /// directions, and refuses what it refuses.
    #[wasm_bindgen_test]
    async fn agrees_with_software() {
        let w = WebCrypto;
        let s = Software;
        let key = [0x42u8; 32];
        let iv = [0x24u8; 16];
        let nonce = [0x11u8; 12];
        for len in [0usize, 1, 15, 16, 17, 4096, 65_537] {
            let plain: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let ours = w.cbc_encrypt(&key, &iv, &plain).await.unwrap();
            assert_eq!(
                ours,
                s.cbc_encrypt(&key, &iv, &plain).await.unwrap(),
                "{len}"
            );
            assert_eq!(*w.cbc_decrypt(&key, &iv, &ours).await.unwrap(), plain);

            let ours = w.gcm_encrypt(&key, &nonce, b"aad", &plain).await.unwrap();
            let theirs = s.gcm_encrypt(&key, &nonce, b"aad", &plain).await.unwrap();
            assert_eq!(ours, theirs, "{len}");
            assert_eq!(
                *w.gcm_decrypt(&key, &nonce, b"aad", &theirs).await.unwrap(),
                plain
            );

            let mac = w.hmac_sha256(&key, &plain).await.unwrap();
            assert_eq!(mac, s.hmac_sha256(&key, &plain).await.unwrap());
            assert!(w.hmac_sha256_verify(&key, &plain, &mac).await.unwrap());
        }
        let ct = s.cbc_encrypt(&key, &iv, b"padding").await.unwrap();
        let other = [0x43u8; 32];
        // With these fixed inputs the wrong key leaves bad padding behind, for both.
        assert_eq!(
            s.cbc_decrypt(&other, &iv, &ct).await,
            Err(BulkError::Rejected)
        );
        assert_eq!(
            w.cbc_decrypt(&other, &iv, &ct).await,
            Err(BulkError::Rejected)
        );
        let ct = s.gcm_encrypt(&key, &nonce, b"aad", b"x").await.unwrap();
        assert_eq!(
            w.gcm_decrypt(&key, &nonce, b"aaD", &ct).await,
            Err(BulkError::Rejected)
        );
        let mac = s.hmac_sha256(&key, b"data").await.unwrap();
        assert!(!w.hmac_sha256_verify(&key, b"datA", &mac).await.unwrap());
        assert!(
            !w.hmac_sha256_verify(&key, b"data", &mac[..31])
                .await
                .unwrap()
        );
    }
}
