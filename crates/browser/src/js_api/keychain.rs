//! The keychain part of the JS API: Secret Key generation and validation, and the
//! `Keychain` class (identities, app keys, addresses, collection keys).

use super::{describe, js_err, parse_bool, parse_index, parse_secret, parse_str, parse_u32};
use cairn_core::keys::keychain::Keychain;
use cairn_core::keys::mnemonic::SecretKey;
use wasm_bindgen::prelude::*;

/// Generates a new random Secret Key of `wordCount` words (12 or 24) and returns it as
/// lower-case words separated by single spaces. Throws an `Error` for any other count.
#[wasm_bindgen(js_name = generateMnemonic)]
pub fn generate_mnemonic(
    #[wasm_bindgen(js_name = wordCount, unchecked_param_type = "number")] word_count: JsValue,
) -> Result<String, JsValue> {
    let n = parse_u32(
        &word_count,
        u32::MAX,
        format_args!(
            "a new Secret Key has 12 or 24 words, not {}",
            describe(&word_count)
        ),
    )?;
    let secret = SecretKey::generate(n).map_err(js_err)?;
    Ok(secret.phrase().to_owned())
}

/// Checks a Secret Key typed by the user (case, extra spaces and line breaks are
/// forgiven) and returns it in canonical form: lower-case words separated by single
/// spaces. Throws an `Error` naming the problem: empty input, an unknown word (with its
/// position and the closest valid words), a wrong word count, or a bad checksum.
#[wasm_bindgen(js_name = validateMnemonic)]
pub fn validate_mnemonic(
    #[wasm_bindgen(unchecked_param_type = "string")] words: JsValue,
) -> Result<String, JsValue> {
    let words = parse_secret(&words, "the Secret Key")?;
    let secret = SecretKey::parse(&words).map_err(js_err)?;
    Ok(secret.phrase().to_owned())
}

/// A user's master keychain, derived from a Secret Key. Holds private key material in
/// wasm memory (wiped when freed): call `free()` when done with it.
#[wasm_bindgen(js_name = Keychain)]
#[derive(Debug)]
pub struct WasmKeychain {
    pub(super) inner: Keychain,
}

#[wasm_bindgen(js_class = Keychain)]
impl WasmKeychain {
    /// Validates a Secret Key (12 or 24 words; same rules and errors as
    /// `validateMnemonic`) and derives the keychain with the empty BIP39 passphrase.
    #[wasm_bindgen(js_name = fromMnemonic)]
    pub fn from_mnemonic(
        #[wasm_bindgen(unchecked_param_type = "string")] words: JsValue,
    ) -> Result<WasmKeychain, JsValue> {
        let words = parse_secret(&words, "the Secret Key")?;
        let inner = Keychain::from_mnemonic(&words).map_err(js_err)?;
        Ok(WasmKeychain { inner })
    }

    /// The wallet salt (64 hex characters): SHA-256 of the hex public key of `m/888'/0'`.
    pub fn salt(&self) -> String {
        self.inner.salt().to_owned()
    }

    /// The identity address (Bitcoin-style, `1…`) of identity `index` (`m/888'/0'/index'`).
    /// Throws unless `index` is a whole number from 0 to 2147483647.
    #[wasm_bindgen(js_name = identityAddress)]
    pub fn identity_address(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] index: JsValue,
    ) -> Result<String, JsValue> {
        let i = parse_index(&index)?;
        Ok(self.inner.identity(i).map_err(js_err)?.address)
    }

    /// The compressed public key (66 hex characters) of identity `index`.
    /// Throws unless `index` is a whole number from 0 to 2147483647.
    #[wasm_bindgen(js_name = identityPublicKey)]
    pub fn identity_public_key(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] index: JsValue,
    ) -> Result<String, JsValue> {
        let i = parse_index(&index)?;
        Ok(self.inner.identity(i).map_err(js_err)?.public_key.to_hex())
    }

    /// The DID of identity `index`: `did:btc-addr:<identity address>`.
    /// Throws unless `index` is a whole number from 0 to 2147483647.
    pub fn did(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] index: JsValue,
    ) -> Result<String, JsValue> {
        let i = parse_index(&index)?;
        Ok(self.inner.identity(i).map_err(js_err)?.did())
    }

    /// The app private key (64 hex characters) that identity `index` uses for the app
    /// at `appDomain`, an origin such as `https://example.com` or
    /// `http://localhost:3000` (no path, no trailing slash). Throws for a bad index or
    /// a malformed origin.
    #[wasm_bindgen(js_name = appPrivateKey)]
    pub fn app_private_key(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] index: JsValue,
        #[wasm_bindgen(js_name = appDomain, unchecked_param_type = "string")] app_domain: JsValue,
    ) -> Result<String, JsValue> {
        let i = parse_index(&index)?;
        let app_domain = parse_str(&app_domain, "the app domain")?;
        let key = self.inner.app_private_key(i, &app_domain).map_err(js_err)?;
        Ok(key.to_hex().as_str().to_owned())
    }

    /// The STX address of account `index` (`m/44'/5757'/0'/0/index`): `SP…` when
    /// `mainnet` is `true`, `ST…` when it is `false`. Throws for a bad index or a
    /// `mainnet` that is not a boolean.
    #[wasm_bindgen(js_name = stxAddress)]
    pub fn stx_address(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] index: JsValue,
        #[wasm_bindgen(unchecked_param_type = "boolean")] mainnet: JsValue,
    ) -> Result<String, JsValue> {
        let i = parse_index(&index)?;
        let mainnet = parse_bool(&mainnet, "mainnet")?;
        self.inner.stx_address(i, mainnet).map_err(js_err)
    }

    /// The Gaia bucket address (`1…`) of collection `name` (e.g. `"contact"`) for
    /// identity `index`. Throws for a bad index or a bad collection name (1 to 32
    /// characters: a lower-case letter, then lower-case letters, digits, `_` or `-`).
    #[wasm_bindgen(js_name = collectionBucketAddress)]
    pub fn collection_bucket_address(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] index: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
    ) -> Result<String, JsValue> {
        let i = parse_index(&index)?;
        let name = parse_str(&name, "the collection name")?;
        let key = self.inner.collection_bucket_key(i, &name).map_err(js_err)?;
        Ok(key.public_key().address())
    }

    /// The encryption private key (64 hex characters) of generation `generation`
    /// (a whole number from 0 to 4294967295; 0 is the first) of collection `name` for
    /// identity `index`. Throws for a bad index, generation or collection name.
    #[wasm_bindgen(js_name = collectionEncryptionKey)]
    pub fn collection_encryption_key(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] index: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
        #[wasm_bindgen(unchecked_param_type = "number")] generation: JsValue,
    ) -> Result<String, JsValue> {
        let i = parse_index(&index)?;
        let name = parse_str(&name, "the collection name")?;
        let generation = parse_u32(
            &generation,
            u32::MAX,
            "a collection key generation must be a whole number from 0 to 4294967295",
        )?;
        let key = self
            .inner
            .collection_encryption_key(i, &name, generation)
            .map_err(js_err)?;
        Ok(key.to_hex().as_str().to_owned())
    }
}
