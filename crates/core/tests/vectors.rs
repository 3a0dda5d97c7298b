//! The shared test vectors (`tests/data/stacks-vectors.json`, a copy of `../shared/spec/stacks-vectors.json`, produced by the real npm
//! libraries), checked natively with `cargo test` and in headless Chromium with
//! `cargo test --target wasm32-unknown-unknown`.

#![allow(clippy::unwrap_used)] // a test that unwraps fails, which is what it should do

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use cairn_core::crypto::ecies::{self, CipherObject, CipherTextEncoding, Plaintext};
use cairn_core::keys::keychain::{Keychain, hash_code};
use cairn_core::keys::{PrivateKey, PublicKey};
use cairn_core::protocol::jwt;
use cairn_core::support::encoding::{from_hex, to_hex};
use cairn_core::support::json::Value;

#[path = "support/vectors.rs"]
mod support_vectors;
use support_vectors::{s, vectors};

#[test]
fn derivation_every_wallet_account_and_domain() {
    let v = vectors();
    let wallets = v["derivation"]["wallets"].as_array().unwrap();
    assert_eq!(wallets.len(), 3);
    let mut checked_apps = 0;
    for w in wallets {
        let kc = Keychain::from_mnemonic(s(w, "mnemonic")).unwrap();
        assert_eq!(*kc.root_xprv(), s(&w["root"], "xprv"));
        assert_eq!(
            kc.identity_keychain_public_key().to_hex(),
            s(&w["identityKeychain"], "publicKey")
        );
        assert_eq!(kc.salt(), s(&w["salt"], "walletSdk"));
        for id in w["identities"].as_array().unwrap() {
            let i = id["index"].as_u64().unwrap() as u32;
            let ident = kc.identity(i).unwrap();
            assert_eq!(*ident.key.to_hex(), s(id, "dataPrivateKey"));
            assert_eq!(ident.public_key.to_hex(), s(id, "publicKey"));
            assert_eq!(ident.address, s(id, "identityAddress"));
            assert_eq!(ident.did(), s(id, "did"));
            assert_eq!(
                *kc.apps_node_xprv(i).unwrap(),
                s(&id["appsNode"], "walletSdkAppsKey")
            );
            let stx = kc.stx_key(i).unwrap();
            assert_eq!(format!("{}01", *stx.to_hex()), s(&id["stx"], "privateKey"));
            assert_eq!(stx.public_key().to_hex(), s(&id["stx"], "publicKey"));
            assert_eq!(kc.stx_address(i, true).unwrap(), s(&id["stx"], "mainnet"));
            assert_eq!(kc.stx_address(i, false).unwrap(), s(&id["stx"], "testnet"));
            for app in id["apps"].as_array().unwrap() {
                let domain = s(app, "appDomain");
                assert_eq!(
                    kc.app_index(domain).unwrap() as u64,
                    app["hashCodeIndex"].as_u64().unwrap()
                );
                let key = kc.app_private_key(i, domain).unwrap();
                assert_eq!(*key.to_hex(), s(app, "appPrivateKey"));
                assert_eq!(key.public_key().to_hex(), s(app, "appPublicKey"));
                assert_eq!(key.public_key().address(), s(app, "appBucketAddress"));
                checked_apps += 1;
            }
            for coll in id["collections"].as_array().unwrap() {
                let name = s(coll, "collectionName");
                assert_eq!(
                    *kc.collections_node_xprv(i).unwrap(),
                    s(coll, "collectionsNodeKey")
                );
                let bucket = kc.collection_bucket_key(i, name).unwrap();
                assert_eq!(*bucket.to_hex(), s(&coll["bucketKey"], "privateKey"));
                assert_eq!(
                    bucket.public_key().address(),
                    s(&coll["bucketKey"], "gaiaBucketAddress")
                );
                let g = coll["encryptionKey"]["encryptionKeyIndex"]
                    .as_u64()
                    .unwrap() as u32;
                let enc = kc.collection_encryption_key(i, name, g).unwrap();
                assert_eq!(*enc.to_hex(), s(&coll["encryptionKey"], "privateKey"));
                assert_eq!(
                    enc.public_key().to_hex(),
                    s(&coll["encryptionKey"], "publicKey")
                );
            }
        }
    }
    assert_eq!(checked_apps, 3 * 2 * 3);
}

#[test]
fn long_path_variant_is_not_what_we_derive() {
    let v = vectors();
    for w in v["derivation"]["wallets"].as_array().unwrap() {
        let kc = Keychain::from_mnemonic(s(w, "mnemonic")).unwrap();
        for id in w["identities"].as_array().unwrap() {
            let i = id["index"].as_u64().unwrap() as u32;
            for app in id["apps"].as_array().unwrap() {
                let long = &app["longPathVariant"];
                // Re-derive the 11-level path ourselves to show the vector is what that
                // path gives, and that our app key is not it.
                let mut path = vec![i, 0];
                path.extend(
                    long["indices"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|x| x.as_u64().unwrap() as u32),
                );
                let long_key = kc.derive_below_identity_keychain(&path).unwrap();
                assert_eq!(*long_key.to_hex(), s(long, "appPrivateKey"));
                let ours = kc.app_private_key(i, s(app, "appDomain")).unwrap();
                assert_ne!(*ours.to_hex(), *long_key.to_hex());
                assert_ne!(ours.public_key().address(), s(long, "appBucketAddress"));
            }
        }
    }
}

#[test]
fn hash_code_cases() {
    let v = vectors();
    let cases = v["hashCode"]["cases"].as_array().unwrap();
    assert!(cases.len() >= 7);
    for c in cases {
        assert_eq!(
            hash_code(s(c, "input")) as u64,
            c["output"].as_u64().unwrap(),
            "{c}"
        );
    }
}

#[test]
fn collections_sample_keys() {
    let v = vectors();
    let c = &v["collectionsSample"];
    let mnemonic = v["mnemonics"][0].as_str().unwrap();
    let kc = Keychain::from_mnemonic(mnemonic).unwrap();
    let i = c["inputs"]["accountIndex"].as_u64().unwrap() as u32;
    let name = s(&c["inputs"], "collection");
    let d = &c["derived"];
    let app = kc.app_private_key(i, s(&c["inputs"], "appDomain")).unwrap();
    assert_eq!(*app.to_hex(), s(d, "appPrivateKey"));
    assert_eq!(app.public_key().address(), s(d, "appBucketAddress"));
    assert_eq!(
        *kc.collections_node_xprv(i).unwrap(),
        s(d, "collectionsNodeKey")
    );
    let bucket = kc.collection_bucket_key(i, name).unwrap();
    assert_eq!(*bucket.to_hex(), s(&d["bucketKey"], "privateKey"));
    assert_eq!(
        bucket.public_key().to_hex(),
        s(&d["bucketKey"], "publicKey")
    );
    assert_eq!(
        bucket.public_key().address(),
        s(&d["bucketKey"], "gaiaBucketAddress")
    );
    let enc = kc.collection_encryption_key(i, name, 0).unwrap();
    assert_eq!(*enc.to_hex(), s(&d["encryptionKey"], "privateKey"));
    // Generations differ from each other and from the alpha's generation 0.
    let g1 = kc.collection_encryption_key(i, name, 1).unwrap();
    assert_ne!(*g1.to_hex(), *enc.to_hex());
    // The sample's stored item decrypts with the derived generation-0 key.
    let item = &c["storedItemSample"];
    let obj = CipherObject::from_json(s(item, "body")).unwrap();
    assert_eq!(
        ecies::decrypt(&enc, &obj).unwrap(),
        Plaintext::Text(s(item, "decrypted").to_string())
    );
    // And the key file uploaded to the app bucket decrypts with the app key.
    let kf = CipherObject::from_json(s(&c["authenticatorSide"], "keyFileUploadedBody")).unwrap();
    let Plaintext::Text(text) = ecies::decrypt(&app, &kf).unwrap() else {
        panic!("key file is text")
    };
    let parsed: Value = cairn_core::support::json::from_str(&text).unwrap();
    assert_eq!(parsed, c["authenticatorSide"]["keyFilePlaintext"]);
}

#[test]
fn ecies_cases_byte_for_byte() {
    let v = vectors();
    let e = &v["ecies"];
    let recipient_priv = PrivateKey::from_hex(s(e, "recipientPrivateKey")).unwrap();
    let recipient = PublicKey::from_hex(s(e, "recipientPublicKey")).unwrap();
    assert_eq!(recipient_priv.public_key(), recipient);
    let cases = e["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 8);
    for c in cases {
        let eph = PrivateKey::from_hex(s(c, "ephemeralPrivateKey")).unwrap();
        let iv: [u8; 16] = from_hex(s(c, "iv")).unwrap().try_into().unwrap();
        let pt = from_hex(s(c, "plaintextHex")).unwrap();
        let was_string = c["wasString"].as_bool().unwrap();
        let encoding = if c["cipherObject"]["cipherTextEncoding"] == "base64" {
            CipherTextEncoding::Base64
        } else {
            CipherTextEncoding::Hex
        };
        let obj = ecies::encrypt_with(&recipient, &pt, was_string, encoding, &eph, iv).unwrap();
        assert_eq!(
            obj.to_json(),
            s(c, "cipherObjectJson"),
            "{}",
            s(c, "description")
        );
        let back = ecies::decrypt(&recipient_priv, &obj).unwrap();
        match back {
            Plaintext::Text(t) => assert_eq!(t.as_bytes(), pt.as_slice()),
            Plaintext::Bytes(b) => assert_eq!(b, pt),
        }
        // Decrypting the vector's own JSON works too.
        let theirs = CipherObject::from_json(s(c, "cipherObjectJson")).unwrap();
        assert!(ecies::decrypt(&recipient_priv, &theirs).is_ok());
    }
}

#[test]
fn encrypt_private_key_cases() {
    let v = vectors();
    for c in v["encryptPrivateKey"]["cases"].as_array().unwrap() {
        let transit = PrivateKey::from_hex(s(c, "transitPrivateKey")).unwrap();
        assert_eq!(transit.public_key().to_hex(), s(c, "transitPublicKey"));
        let app = PrivateKey::from_hex(s(c, "appPrivateKey")).unwrap();
        let eph = PrivateKey::from_hex(s(c, "ephemeralPrivateKey")).unwrap();
        let iv: [u8; 16] = from_hex(s(c, "iv")).unwrap().try_into().unwrap();
        let field = ecies::encrypt_private_key_with(&transit.public_key(), &app, &eph, iv).unwrap();
        assert_eq!(field, s(c, "privateKeyField"));
        let back = ecies::decrypt_private_key(&transit, s(c, "privateKeyField")).unwrap();
        assert_eq!(*back.to_hex(), s(c, "appPrivateKey"));
    }
}

#[test]
fn jwt_cases() {
    let v = vectors();
    let mut low_s_seen = 0;
    let mut high_s_seen = 0;
    for c in v["jwt"]["cases"].as_array().unwrap() {
        let key = PrivateKey::from_hex(s(c, "privateKey")).unwrap();
        assert_eq!(key.public_key().to_hex(), s(c, "publicKey"));
        let ours = jwt::sign_json(s(c, "payloadJson"), &key);
        let theirs = s(c, "token");
        let (our_input, our_sig) = ours.rsplit_once('.').unwrap();
        let (their_input, _) = theirs.rsplit_once('.').unwrap();
        assert_eq!(our_input, s(c, "signingInput"));
        assert_eq!(our_input, their_input);
        // Payload JSON re-serialised from a parsed value is byte-identical (key order,
        // non-ASCII, nested nulls).
        let parsed: Value = cairn_core::support::json::from_str(s(c, "payloadJson")).unwrap();
        assert_eq!(jwt::json_string(&parsed), s(c, "payloadJson"));
        let raw = s(c, "signatureRawHex_r_s");
        if c["lowS"].as_bool().unwrap() {
            assert_eq!(ours, theirs, "{}", s(c, "description"));
            low_s_seen += 1;
        } else {
            // jsontokens emitted high-S; ours is its low-S twin: same r, s' = n - s.
            let ours_raw = to_hex(&cairn_core::support::encoding::from_base64url(our_sig).unwrap());
            assert_eq!(&ours_raw[..64], &raw[..64]);
            let sig = k256::ecdsa::Signature::from_slice(&from_hex(raw).unwrap()).unwrap();
            let normalized = sig.normalize_s();
            assert_eq!(ours_raw, to_hex(&normalized.to_bytes()));
            high_s_seen += 1;
        }
        // Their token verifies with our verifier, high-S or not.
        jwt::decode(theirs)
            .unwrap()
            .verify(&key.public_key())
            .unwrap();
        jwt::decode(&ours)
            .unwrap()
            .verify(&key.public_key())
            .unwrap();
    }
    assert!(low_s_seen >= 1 && high_s_seen >= 1);
}
