//! The bulk (symmetric) steps of Cairn's formats — AES-256-CBC, AES-256-GCM and
//! HMAC-SHA256 — behind one trait, so that whoever runs a protocol chooses where they
//! run.
//!
//! The core composes ECIES, the vault and everything built on them over [`Bulk`] and
//! never calls an AES crate directly. [`Software`] runs the steps in Rust (RustCrypto's
//! `aes`, `cbc`, `aes-gcm`, `hmac`): native code, tests and the synchronous JS API use it
//! through [`now`]. The browser binding's implementation hands them to WebCrypto, which
//! has AES instructions wasm lacks (about 40× faster on a MiB) — and because the
//! authenticator page uses only that one, no AES code is compiled into its module.
//!
//! The trait's methods return futures because WebCrypto's do; the software ones are
//! ready at once.

use aes::Aes256;
use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit, block_padding::Pkcs7};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use zeroize::Zeroizing;

/// Why a bulk step failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BulkError {
    /// The ciphertext was refused: bad CBC padding, or a GCM tag that does not match
    /// (wrong key, or altered data).
    Rejected,
    /// The implementation could not run the step (e.g. WebCrypto is missing or failed);
    /// the message says why.
    Unavailable(String),
}

impl fmt::Display for BulkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BulkError::Rejected => {
                f.write_str("decryption failed: wrong key, or the data was altered")
            }
            BulkError::Unavailable(why) => write!(f, "the browser's cryptography failed: {why}"),
        }
    }
}

impl std::error::Error for BulkError {}

/// AES-256-CBC, AES-256-GCM and HMAC-SHA256: the steps whose cost grows with the data.
pub trait Bulk {
    /// AES-256-CBC with PKCS#7 padding.
    fn cbc_encrypt(
        &self,
        key: &[u8; 32],
        iv: &[u8; 16],
        plain: &[u8],
    ) -> impl Future<Output = Result<Vec<u8>, BulkError>>;

    /// AES-256-CBC decryption; [`BulkError::Rejected`] on bad padding.
    fn cbc_decrypt(
        &self,
        key: &[u8; 32],
        iv: &[u8; 16],
        ciphertext: &[u8],
    ) -> impl Future<Output = Result<Zeroizing<Vec<u8>>, BulkError>>;

    /// AES-256-GCM with a 16-byte tag appended to the ciphertext.
    fn gcm_encrypt(
        &self,
        key: &[u8; 32],
        nonce: &[u8; 12],
        aad: &[u8],
        plain: &[u8],
    ) -> impl Future<Output = Result<Vec<u8>, BulkError>>;

    /// AES-256-GCM decryption; [`BulkError::Rejected`] when the tag does not match.
    fn gcm_decrypt(
        &self,
        key: &[u8; 32],
        nonce: &[u8; 12],
        aad: &[u8],
        ciphertext: &[u8],
    ) -> impl Future<Output = Result<Zeroizing<Vec<u8>>, BulkError>>;

    /// HMAC-SHA256 of `data`.
    fn hmac_sha256(
        &self,
        key: &[u8; 32],
        data: &[u8],
    ) -> impl Future<Output = Result<[u8; 32], BulkError>>;

    /// Whether `mac` is the HMAC-SHA256 of `data`, compared in constant time.
    fn hmac_sha256_verify(
        &self,
        key: &[u8; 32],
        data: &[u8],
        mac: &[u8],
    ) -> impl Future<Output = Result<bool, BulkError>>;
}

/// The bulk steps in Rust (RustCrypto crates). Its futures are always ready.
#[derive(Debug, Clone, Copy, Default)]
pub struct Software;

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8; 32], data: &[u8]) -> HmacSha256 {
    let mut m = <HmacSha256 as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(data);
    m
}

impl Bulk for Software {
    async fn cbc_encrypt(
        &self,
        key: &[u8; 32],
        iv: &[u8; 16],
        plain: &[u8],
    ) -> Result<Vec<u8>, BulkError> {
        Ok(cbc::Encryptor::<Aes256>::new(key.into(), iv.into()).encrypt_padded_vec::<Pkcs7>(plain))
    }

    async fn cbc_decrypt(
        &self,
        key: &[u8; 32],
        iv: &[u8; 16],
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, BulkError> {
        cbc::Decryptor::<Aes256>::new(key.into(), iv.into())
            .decrypt_padded_vec::<Pkcs7>(ciphertext)
            .map(Zeroizing::new)
            .map_err(|_| BulkError::Rejected)
    }

    async fn gcm_encrypt(
        &self,
        key: &[u8; 32],
        nonce: &[u8; 12],
        aad: &[u8],
        plain: &[u8],
    ) -> Result<Vec<u8>, BulkError> {
        Aes256Gcm::new(key.into())
            .encrypt(&Nonce::from(*nonce), Payload { msg: plain, aad })
            .map_err(|_| BulkError::Unavailable("AES-GCM refused the message length".into()))
    }

    async fn gcm_decrypt(
        &self,
        key: &[u8; 32],
        nonce: &[u8; 12],
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, BulkError> {
        Aes256Gcm::new(key.into())
            .decrypt(
                &Nonce::from(*nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| BulkError::Rejected)
    }

    async fn hmac_sha256(&self, key: &[u8; 32], data: &[u8]) -> Result<[u8; 32], BulkError> {
        Ok(hmac(key, data).finalize().into_bytes().into())
    }

    async fn hmac_sha256_verify(
        &self,
        key: &[u8; 32],
        data: &[u8],
        mac: &[u8],
    ) -> Result<bool, BulkError> {
        Ok(hmac(key, data).verify_slice(mac).is_ok())
    }
}

/// Runs a computation over [`Software`] to completion, synchronously: the core's
/// synchronous functions are their `*_async` forms run through this.
pub fn now<T, F: Future<Output = T>>(f: impl FnOnce(&'static Software) -> F) -> T {
    static SOFTWARE: Software = Software;
    let mut fut = pin!(f(&SOFTWARE));
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        // Nothing the core awaits waits on anything but `Software`, which never waits.
        Poll::Pending => unreachable!("a software bulk step never waits"),
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn software_round_trips_and_refuses_tampering() {
        let key = [7u8; 32];
        let iv = [9u8; 16];
        let nonce = [3u8; 12];
        now(|s| async move {
            let ct = s.cbc_encrypt(&key, &iv, b"sixteen byte msg").await.unwrap();
            // PKCS#7 adds a whole block when the input fills its last one.
            assert_eq!(ct.len(), 32);
            assert_eq!(
                &*s.cbc_decrypt(&key, &iv, &ct).await.unwrap(),
                b"sixteen byte msg"
            );
            let mut bad = ct.clone();
            bad[31] ^= 1;
            assert_eq!(
                s.cbc_decrypt(&key, &iv, &bad).await,
                Err(BulkError::Rejected)
            );

            let ct = s
                .gcm_encrypt(&key, &nonce, b"aad", b"secret")
                .await
                .unwrap();
            assert_eq!(ct.len(), 6 + 16);
            assert_eq!(
                &*s.gcm_decrypt(&key, &nonce, b"aad", &ct).await.unwrap(),
                b"secret"
            );
            assert_eq!(
                s.gcm_decrypt(&key, &nonce, b"aaD", &ct).await,
                Err(BulkError::Rejected)
            );

            let mac = s.hmac_sha256(&key, b"data").await.unwrap();
            assert!(s.hmac_sha256_verify(&key, b"data", &mac).await.unwrap());
            assert!(!s.hmac_sha256_verify(&key, b"dat", &mac).await.unwrap());
            assert!(
                !s.hmac_sha256_verify(&key, b"data", &mac[..31])
                    .await
                    .unwrap()
            );
        });
    }

    /// RFC 4231 test case 2 ("Jefe") has a 4-byte key; HMAC pads keys, so the same key
    /// zero-padded to 32 bytes gives the same MAC.
    #[test]
    fn hmac_matches_rfc_4231() {
        let mut key = [0u8; 32];
        key[..4].copy_from_slice(b"Jefe");
        let mac = now(|s| s.hmac_sha256(&key, b"what do ya want for nothing?")).unwrap();
        assert_eq!(
            crate::support::encoding::to_hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
