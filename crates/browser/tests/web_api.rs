//! The wasm-bindgen exports of `src/web.rs`, called from Rust in headless Chromium
//! (`./test wasm`): good input gives the vector values, bad input gives an `Err` holding a
//! JS `Error` with a clear message, never a panic or a trap.

#![cfg(feature = "api")]
#![allow(clippy::unwrap_used)] // a test that unwraps fails, which is what it should do
#![cfg(target_arch = "wasm32")]

use cairn_browser::{WasmKeychain, generate_mnemonic, validate_mnemonic};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::{wasm_bindgen_test as test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const ABOUT: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
const INDEX_ERROR: &str = "an identity index must be a whole number from 0 to 2147483647";

fn message(e: JsValue) -> String {
    let e: js_sys::Error = e.dyn_into().expect("a JS Error");
    e.message().into()
}

fn keychain() -> WasmKeychain {
    WasmKeychain::from_mnemonic(ABOUT.into()).expect("valid mnemonic")
}

fn num(n: f64) -> JsValue {
    JsValue::from_f64(n)
}

#[test]
fn vector_values_for_the_about_mnemonic() {
    let kc = keychain();
    assert_eq!(
        kc.salt(),
        "1f697dc22fc7c4ef696419712c521ba6f75076a3bdce067908920b519ea790c8"
    );
    assert_eq!(
        kc.identity_address(num(0.0)).unwrap(),
        "1NBsnVpx9SVD88MxC7tPUE6xxuWt1wigyL"
    );
    assert_eq!(
        kc.identity_public_key(num(0.0)).unwrap(),
        "02ed9b172e392fd595e7918aa0c21a401a6bc1fba3bfd89872d3b92fabd971710c"
    );
    assert_eq!(
        kc.did(num(0.0)).unwrap(),
        "did:btc-addr:1NBsnVpx9SVD88MxC7tPUE6xxuWt1wigyL"
    );
    assert_eq!(
        kc.app_private_key(num(0.0), "https://example.com".into())
            .unwrap(),
        "47ed2eae720b6a70a8fe83e0b91632e5342fb095020cd629a86e993b126fbb90"
    );
    assert_eq!(
        kc.stx_address(num(0.0), JsValue::TRUE).unwrap(),
        "SPC5KHM41H6WHAST7MWWDD807YSPRQKJ69FSH54J"
    );
    assert_eq!(
        kc.stx_address(num(0.0), JsValue::FALSE).unwrap(),
        "STC5KHM41H6WHAST7MWWDD807YSPRQKJ68T330BQ"
    );
    assert_eq!(
        kc.collection_bucket_address(num(0.0), "contact".into())
            .unwrap(),
        "1AKsY2se4vQqgGrPZ3ttvT2PMyMzVxYWWf"
    );
    assert_eq!(
        kc.collection_encryption_key(num(0.0), "contact".into(), num(0.0))
            .unwrap(),
        "c250a89b77dc144c1ac13881d0ac7b3673439bfa2d334165414eccd1105fc610"
    );
}

#[test]
fn bad_indices_are_errors_not_panics() {
    let kc = keychain();
    let bad = [
        num(-1.0),
        num(1.5),
        num(f64::NAN),
        num(2f64.powi(31)),
        num(1e20),
        num(f64::INFINITY),
        JsValue::NULL,
        JsValue::UNDEFINED,
        JsValue::from_str("0"),
        JsValue::TRUE,
    ];
    for index in bad {
        assert_eq!(
            message(kc.identity_address(index.clone()).unwrap_err()),
            INDEX_ERROR
        );
        assert_eq!(
            message(kc.identity_public_key(index.clone()).unwrap_err()),
            INDEX_ERROR
        );
        assert_eq!(message(kc.did(index.clone()).unwrap_err()), INDEX_ERROR);
        assert_eq!(
            message(
                kc.app_private_key(index.clone(), "https://example.com".into())
                    .unwrap_err()
            ),
            INDEX_ERROR
        );
        assert_eq!(
            message(kc.stx_address(index.clone(), JsValue::TRUE).unwrap_err()),
            INDEX_ERROR
        );
        assert_eq!(
            message(
                kc.collection_bucket_address(index.clone(), "contact".into())
                    .unwrap_err()
            ),
            INDEX_ERROR
        );
        assert_eq!(
            message(
                kc.collection_encryption_key(index, "contact".into(), num(0.0))
                    .unwrap_err()
            ),
            INDEX_ERROR
        );
    }
    // The largest valid index works.
    assert!(
        kc.did(num(2147483647.0))
            .unwrap()
            .starts_with("did:btc-addr:1")
    );
}

#[test]
fn bad_strings_and_booleans_are_errors() {
    let kc = keychain();
    assert_eq!(
        message(
            kc.app_private_key(num(0.0), "example.com".into())
                .unwrap_err()
        ),
        "invalid app domain: it must start with https:// or http://"
    );
    assert_eq!(
        message(
            kc.app_private_key(num(0.0), "https://example.com/".into())
                .unwrap_err()
        ),
        "invalid app domain: it must be an origin only, with no path, query or trailing slash"
    );
    assert_eq!(
        message(kc.app_private_key(num(0.0), num(1.0)).unwrap_err()),
        "the app domain must be a string, not 1"
    );
    assert!(
        message(
            kc.collection_bucket_address(num(0.0), "Contact".into())
                .unwrap_err()
        )
        .starts_with("invalid collection name \"Contact\"")
    );
    assert_eq!(
        message(kc.stx_address(num(0.0), JsValue::UNDEFINED).unwrap_err()),
        "mainnet must be true or false, not undefined"
    );
}

#[test]
fn mnemonics() {
    for n in [12.0, 24.0] {
        let words = generate_mnemonic(num(n)).unwrap();
        assert_eq!(words.split(' ').count(), n as usize);
        assert_eq!(validate_mnemonic(words.clone().into()).unwrap(), words);
    }
    assert_ne!(
        generate_mnemonic(num(12.0)).unwrap(),
        generate_mnemonic(num(12.0)).unwrap()
    );
    assert_eq!(
        message(generate_mnemonic(num(13.0)).unwrap_err()),
        "a new Secret Key has 12 or 24 words, not 13"
    );
    assert_eq!(
        message(validate_mnemonic(format!("{ABOUT} abandon").into()).unwrap_err()),
        "the Secret Key has 13 words; it should have 12 or 24 words"
    );
    assert_eq!(
        message(validate_mnemonic(JsValue::UNDEFINED).unwrap_err()),
        "the Secret Key must be a string, not undefined"
    );
    assert!(
        message(WasmKeychain::from_mnemonic("abandon abandn".into()).unwrap_err())
            .starts_with("word 2 is not a valid Secret Key word")
    );
}
