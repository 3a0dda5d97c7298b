#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::*;
use crate::collections::settings::{AccessMode, Grant, Settings};
use crate::crypto::ecies::{self, CipherObject, CipherTextEncoding};
use crate::keys::keychain::Keychain;
use crate::support::encoding::to_hex;
use std::collections::BTreeMap;

const WORDS: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

fn hub() -> HubContext {
    HubContext {
        hub_url: "http://127.0.0.1:4000".into(),
        read_url_prefix: "http://127.0.0.1:4000/read/".into(),
        challenge_text: crate::protocol::gaia::challenge_text("localhost"),
    }
}

#[test]
fn key_file_entries_follow_the_alpha_format_and_modes() {
    let kc = Keychain::from_mnemonic(WORDS).unwrap();
    let keys = CollectionKeys::derive(&kc, 0, "contact", 2).unwrap();
    assert_eq!(keys.address, "1AKsY2se4vQqgGrPZ3ttvT2PMyMzVxYWWf");
    let token = app_collection_token(&keys.bucket_key, &hub(), 100, [1; 16]);
    let rw = keys.key_file_entry(&hub(), AccessMode::ReadWrite, &token);
    assert_eq!(rw.key_generation, 2);
    assert_eq!(rw.previous_keys.len(), 2);
    assert_eq!(
        rw.previous_keys["0"],
        *kc.collection_encryption_key(0, "contact", 0)
            .unwrap()
            .to_hex()
    );
    assert_eq!(rw.hub_config.token, token);
    let ro = keys.key_file_entry(&hub(), AccessMode::Read, &token);
    assert_eq!(ro.hub_config.token, "");
    let v = rw.to_value();
    let keys_in_order: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(
        keys_in_order,
        [
            "encryptionKey",
            "hubConfig",
            "keyGeneration",
            "previousKeys",
            "mode"
        ]
    );
    let d = crate::protocol::jwt::decode(token.strip_prefix("v1:").unwrap()).unwrap();
    assert_eq!(d.payload["scopes"][0]["scope"], "putFileArchivalPrefix");
    assert_eq!(d.payload["iat"], 100);
}

#[test]
fn collection_tokens_cover_only_the_collection_folder() {
    let kc = Keychain::from_mnemonic(WORDS).unwrap();
    let key = kc.collection_bucket_key(0, "contact").unwrap();
    for token in [
        app_collection_token(&key, &hub(), 100, [7; 16]),
        owner_archival_token(&key, &hub(), 100),
    ] {
        let d = crate::protocol::jwt::decode(token.strip_prefix("v1:").unwrap()).unwrap();
        let scopes = d.payload["scopes"].as_array().unwrap();
        assert_eq!(scopes.len(), 1);
        assert_eq!(scopes[0]["scope"], "putFileArchivalPrefix");
        let domain = scopes[0]["domain"].as_str().unwrap();
        assert_eq!(domain, "collection/");
        // Gaia hubs grant a prefix scope to every path that starts with its domain.
        let granted = |path: &str| path.starts_with(domain);
        // What blockstack-collections writes: `collection/<identifier>`.
        assert!(granted("collection/Ada Lovelace"));
        assert!(granted("collection/.history.1.x"));
        for outside in [
            "collectionX/a",
            "collection.json",
            "collections/a",
            "collection",
        ] {
            assert!(!granted(outside), "{outside}");
        }
    }
}

#[test]
fn key_file_update_keeps_other_entries() {
    let kc = Keychain::from_mnemonic(WORDS).unwrap();
    let app = kc.app_private_key(0, "https://a.example").unwrap();
    let c = CollectionKeys::derive(&kc, 0, "contact", 0).unwrap();
    let p = CollectionKeys::derive(&kc, 0, "photo", 0).unwrap();
    let ec = c.key_file_entry(&hub(), AccessMode::ReadWrite, "v1:x");
    let ep = p.key_file_entry(&hub(), AccessMode::Read, "");
    let body =
        update_key_file(None, &app, &[("contact", Some(&ec)), ("photo", Some(&ep))]).unwrap();
    let body = update_key_file(Some(&body), &app, &[("contact", None)]).unwrap();
    let read = read_key_file(&body, &app).unwrap();
    assert_eq!(read.keys().collect::<Vec<_>>(), ["photo"]);
    let other = kc.app_private_key(0, "https://b.example").unwrap();
    assert!(matches!(
        update_key_file(Some(&body), &other, &[]),
        Err(CollectionError::KeyFile(_))
    ));
}

#[test]
fn reencrypt_moves_old_generations_and_skips_current() {
    let kc = Keychain::from_mnemonic(WORDS).unwrap();
    let old = CollectionKeys::derive(&kc, 0, "contact", 0).unwrap();
    let new = CollectionKeys::derive(&kc, 0, "contact", 1).unwrap();
    let body = ecies::encrypt(
        &old.current().public_key(),
        b"{\"a\":1}",
        true,
        CipherTextEncoding::Hex,
    )
    .unwrap()
    .to_json();
    let moved = new.reencrypt("collection/a", &body).unwrap().unwrap();
    assert!(ecies::decrypt(old.current(), &CipherObject::from_json(&moved).unwrap()).is_err());
    assert_eq!(new.decrypt("collection/a", &moved).unwrap().0, 1);
    assert_eq!(new.reencrypt("collection/a", &moved).unwrap(), None);
    assert!(matches!(
        new.reencrypt("collection/x", "not json"),
        Err(CollectionError::Undecryptable(_))
    ));
}

#[test]
fn revocation_bumps_generation_and_resumes_from_journal() {
    let mut s = Settings::default();
    record_grant(
        &mut s,
        "contact",
        "https://a.example",
        AccessMode::ReadWrite,
        5_000_000,
        [1; 16],
    );
    record_grant(
        &mut s,
        "contact",
        "https://b.example",
        AccessMode::Read,
        5_000_000,
        [2; 16],
    );
    let mut r = Revocation::start(
        &mut s,
        "contact",
        "https://a.example",
        5_000_000,
        true,
        false,
    )
    .unwrap();
    assert_eq!((r.from_generation, r.to_generation), (0, 1));
    // Past every iat handed out (5000), even at the same second.
    assert_eq!(r.oldest_valid, 5001);
    assert_eq!(s.collections["contact"].generation, 1);
    assert_eq!(s.collections["contact"].grants.len(), 1);
    assert_eq!(r.next_step(), Some(RevocationStep::RevokeAll));
    r.complete(&RevocationStep::RevokeAll);
    r.save_progress(&mut s);
    // A reload finds it and continues where it stopped.
    let resumed = Revocation::pending(&s);
    assert_eq!(resumed.len(), 1);
    assert_eq!(
        resumed[0].next_step(),
        Some(RevocationStep::RewriteKeyFiles)
    );
    assert!(r.wants_file("collection/x"));
    assert!(!r.wants_file("collection/.history.1.abc.x"));
    assert!(!r.wants_file("other/x"));
    let mut salts = BTreeMap::new();
    salts.insert("https://b.example".to_string(), "ff".to_string());
    r.finish(&mut s, &salts, 6_000_000);
    assert!(Revocation::pending(&s).is_empty());
    assert_eq!(s.collections["contact"].grants[0].token_iat, 5001);
    assert_eq!(s.log.last().unwrap().event, "revoke");
    // A grant after the revocation gets an iat the revoke-all accepts.
    let g = record_grant(
        &mut s,
        "contact",
        "https://c.example",
        AccessMode::ReadWrite,
        1_000,
        [3; 16],
    );
    assert_eq!(g.token_iat, 5001);
    assert!(matches!(
        Revocation::start(&mut s, "contact", "https://zzz.example", 1, true, true),
        Err(CollectionError::NoSuchGrant { .. })
    ));
}

#[test]
fn downgrade_rotates_and_keeps_a_read_only_grant() {
    let kc = Keychain::from_mnemonic(WORDS).unwrap();
    let mut s = Settings::default();
    s.record_sign_in("https://a.example", Some("A"), None, &[], 1);
    let h = grant_collections(
        &mut s,
        "https://a.example",
        &[("contact".into(), AccessMode::ReadWrite)],
        5_000_000,
        || [1; 16],
    );
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].generation, 0);
    let e = h[0].entry(&kc, 0, &hub()).unwrap();
    assert!(e.hub_config.token.starts_with("v1:"));
    // Asking for read-only later keeps read-and-write (taking it away is a downgrade).
    let h = grant_collections(
        &mut s,
        "https://a.example",
        &[("contact".into(), AccessMode::Read)],
        5_001_000,
        || [3; 16],
    );
    assert_eq!(h[0].grant.mode, AccessMode::ReadWrite);
    assert_eq!(h[0].grant.token_salt, to_hex(&[3; 16]));

    let mut r = Revocation::start_downgrade(
        &mut s,
        "contact",
        "https://a.example",
        5_001_000,
        true,
        false,
    )
    .unwrap();
    assert!(r.downgrade);
    assert_eq!(r.oldest_valid, 5002);
    assert_eq!(s.collections["contact"].grants[0].mode, AccessMode::Read);
    assert_eq!(
        r.key_file_targets(&s),
        [("https://a.example".to_string(), AccessMode::Read)]
    );
    // A salt chosen once is reused on resume.
    let first = r.salt_for("https://b.example", [9; 16]);
    assert_eq!(r.salt_for("https://b.example", [8; 16]), first);
    r.save_progress(&mut s);
    let back = Revocation::pending(&s);
    assert_eq!(back[0].new_salts.len(), 1);
    assert!(
        back[0]
            .status_line("A", true)
            .starts_with("Resuming making A read-only")
    );
    assert_eq!(r.status_line("A", false), "Making A read-only on contact…");
    assert!(matches!(
        Revocation::start_downgrade(&mut s, "contact", "https://a.example", 1, true, false),
        Err(CollectionError::Format(_))
    ));
    r.finish(&mut s, &BTreeMap::new(), 6_000_000);
    assert_eq!(s.log.last().unwrap().event, "downgrade");
    assert!(s.journal.is_empty());
    // The authenticator's tokens for the bucket are never older than the revoke-all.
    assert_eq!(owner_iat(&s, "contact", 1_000), 5002);
    assert_eq!(owner_iat(&s, "contact", 9_000_000), 9000);
    assert_eq!(owner_iat(&s, "photo", 9_000_000), 9000);
    // The read-only entry has the new key and no token.
    let hand = HandOff {
        collection: "contact".into(),
        generation: 1,
        grant: s.collections["contact"].grants[0].clone(),
    };
    let e = hand.entry(&kc, 0, &hub()).unwrap();
    assert_eq!(e.hub_config.token, "");
    assert_eq!(e.key_generation, 1);
}

#[test]
fn permission_view_lists_collections_and_apps() {
    let mut s = Settings::default();
    s.record_sign_in(
        "https://a.example",
        Some("A"),
        None,
        &["store_write".into()],
        10,
    );
    s.record_sign_in(
        "https://b.example",
        None,
        None,
        &["collection.contact".into()],
        20,
    );
    grant_collections(
        &mut s,
        "https://b.example",
        &[("contact".into(), AccessMode::ReadWrite)],
        20,
        || [1; 16],
    );
    let (cols, apps) = permission_view(&s);
    assert_eq!(cols.len(), 1);
    assert_eq!(cols[0].name, "contact");
    assert_eq!(cols[0].rows[0].name, "https://b.example");
    assert_eq!(cols[0].rows[0].last_sign_in, Some(20));
    assert_eq!(apps[0].name, "A");
    assert_eq!(apps[0].grantable, ["contact"]);
    assert!(apps[1].grantable.is_empty());
    assert_eq!(
        apps[1].collections,
        [("contact".to_string(), AccessMode::ReadWrite)]
    );
}

/// The runner's loop over the core's plan, against an in-memory "hub"; `budget`
/// file writes before it "crashes" (`None`: no crash). Returns whether it finished.
fn drive(
    kc: &Keychain,
    s: &mut Settings,
    files: &mut BTreeMap<String, String>,
    key_files: &mut BTreeMap<String, String>,
    mut budget: Option<usize>,
) -> bool {
    let mut r = Revocation::pending(s).remove(0);
    let keys = CollectionKeys::derive(kc, 0, &r.collection, r.to_generation).unwrap();
    while let Some(step) = r.next_step() {
        match step {
            RevocationStep::RevokeAll | RevocationStep::Finish => {}
            RevocationStep::RewriteKeyFiles => {
                for (app, mode) in r.key_file_targets(s) {
                    let salt = match mode {
                        AccessMode::ReadWrite => to_hex(&r.salt_for(&app, random_salt())),
                        AccessMode::Read => String::new(),
                    };
                    r.save_progress(s);
                    let h = HandOff {
                        collection: r.collection.clone(),
                        generation: r.to_generation,
                        grant: Grant {
                            app: app.clone(),
                            mode,
                            granted_at: 0,
                            token_salt: salt,
                            token_iat: r.oldest_valid,
                        },
                    };
                    let app_key = kc.app_private_key(0, &app).unwrap();
                    let e = h.entry(kc, 0, &hub()).unwrap();
                    let body = update_key_file(
                        key_files.get(&app).map(String::as_str),
                        &app_key,
                        &[(r.collection.as_str(), Some(&e))],
                    )
                    .unwrap();
                    key_files.insert(app, body);
                }
            }
            RevocationStep::RemoveRevokedEntry => {
                let app_key = kc.app_private_key(0, &r.app).unwrap();
                if let Some(old) = key_files.get(&r.app).cloned() {
                    let body =
                        update_key_file(Some(&old), &app_key, &[(r.collection.as_str(), None)])
                            .unwrap();
                    key_files.insert(r.app.clone(), body);
                }
            }
            RevocationStep::ReEncrypt => {
                let wanted: Vec<String> =
                    files.keys().filter(|p| r.wants_file(p)).cloned().collect();
                r.files_total = wanted.len() as u64;
                r.files_done = 0;
                for p in wanted {
                    if let Ok(Some(new)) = keys.reencrypt(&p, &files[&p]) {
                        if let Some(b) = budget.as_mut() {
                            if *b == 0 {
                                r.save_progress(s);
                                return false;
                            }
                            *b -= 1;
                        }
                        files.insert(p, new);
                    }
                    r.files_done += 1;
                }
            }
        }
        if step == RevocationStep::Finish {
            r.finish(s, &BTreeMap::new(), 9_000_000);
            return true;
        }
        r.complete(&step);
        r.save_progress(s);
    }
    true
}

#[test]
fn an_interrupted_revocation_resumes_to_the_same_end() {
    let kc = Keychain::from_mnemonic(WORDS).unwrap();
    let (a, b) = ("https://a.example", "https://b.example");
    let mut s = Settings::default();
    let mut key_files = BTreeMap::new();
    for app in [a, b] {
        s.record_sign_in(app, None, None, &[], 1);
        let h = grant_collections(
            &mut s,
            app,
            &[("contact".into(), AccessMode::ReadWrite)],
            5_000_000,
            random_salt,
        );
        let e = h[0].entry(&kc, 0, &hub()).unwrap();
        let app_key = kc.app_private_key(0, app).unwrap();
        key_files.insert(
            app.to_string(),
            update_key_file(None, &app_key, &[("contact", Some(&e))]).unwrap(),
        );
    }
    let gen0 = CollectionKeys::derive(&kc, 0, "contact", 0).unwrap();
    let mut files = BTreeMap::new();
    for i in 0..30 {
        let body = ecies::encrypt(
            &gen0.current().public_key(),
            format!("{{\"n\":{i}}}").as_bytes(),
            true,
            CipherTextEncoding::Hex,
        )
        .unwrap()
        .to_json();
        files.insert(format!("collection/item {i}"), body);
    }
    let history = files["collection/item 0"].clone();
    files.insert(
        "collection/.history.1.abcdefghij.item 0".into(),
        history.clone(),
    );
    files.insert("collection/garbage".into(), "not a cipher object".into());

    Revocation::start(&mut s, "contact", a, 5_000_000, true, false).unwrap();
    // Crash after 7 writes, then after 11 more, then finish.
    assert!(!drive(&kc, &mut s, &mut files, &mut key_files, Some(7)));
    let mid = Revocation::pending(&s).remove(0);
    assert_eq!(mid.next_step(), Some(RevocationStep::ReEncrypt));
    let salt_b = mid.new_salts[b].clone();
    assert!(!drive(&kc, &mut s, &mut files, &mut key_files, Some(11)));
    assert!(drive(&kc, &mut s, &mut files, &mut key_files, None));
    assert!(Revocation::pending(&s).is_empty());

    let gen1 = CollectionKeys::derive(&kc, 0, "contact", 1).unwrap();
    for i in 0..30 {
        let (g, _) = gen1
            .decrypt("x", &files[&format!("collection/item {i}")])
            .unwrap();
        assert_eq!(g, 1, "item {i}");
        let obj = CipherObject::from_json(&files[&format!("collection/item {i}")]).unwrap();
        assert!(ecies::decrypt(gen0.current(), &obj).is_err());
    }
    // History was not asked for; the garbage file is left as it is.
    assert_eq!(files["collection/.history.1.abcdefghij.item 0"], history);
    assert_eq!(files["collection/garbage"], "not a cipher object");
    // B has the new key and a token with the salt chosen before the crash; A has none.
    let kb = read_key_file(&key_files[b], &kc.app_private_key(0, b).unwrap()).unwrap();
    assert_eq!(kb["contact"]["keyGeneration"], 1);
    let t = kb["contact"]["hubConfig"]["token"].as_str().unwrap();
    let d = crate::protocol::jwt::decode(t.strip_prefix("v1:").unwrap()).unwrap();
    assert_eq!(d.payload["salt"], salt_b.as_str());
    assert_eq!(d.payload["iat"], 5001);
    let grant_b = &s.collections["contact"].grants[0];
    assert_eq!(
        (grant_b.token_salt.as_str(), grant_b.token_iat),
        (salt_b.as_str(), 5001)
    );
    let ka = read_key_file(&key_files[a], &kc.app_private_key(0, a).unwrap()).unwrap();
    assert!(ka.is_empty());
}
