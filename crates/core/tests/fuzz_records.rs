//! Fuzz target: the records Cairn reads back from storage and from apps — ECIES cipher
//! objects (`cairn_core::crypto::ecies`), the settings document (`cairn_core::collections::settings`), collection key
//! files and their entries (`cairn_core::collections`), the journal's revocations and undo
//! jobs (`Revocation`, `files::UndoJob`, `history::Change`), history file names and
//! `list-files` pages (`cairn_core::collections::history`, `files::parse_list_page`), file bodies
//! (`files::open_body`), web app manifests (`signin::parse_manifest`) and the hub's
//! `/hub_info` and `GaiaHubConfig` objects (`cairn_core::protocol::gaia`).
//!
//! Inputs are generated records (every field drawn, strings from all of Unicode
//! including controls), written as Cairn writes them, then often mutated: byte
//! mutations of the JSON text, or of one field of a cipher object.
//!
//! Properties: every record reads back as the value written (settings, key file
//! entries, revocations, undo jobs, cipher objects, hub configs, history names);
//! whatever a mutated record reads as writes back to the same thing; decryption of a
//! changed cipher object, settings file or key file either fails or yields exactly the
//! bytes that were sealed (the MAC covers IV, ephemeral key and ciphertext); a parsed
//! history name is a split of its own path; a manifest's icon is a data: image or an
//! http(s) URL that WHATWG reads to the same origin; nothing panics.

#![allow(clippy::unwrap_used)] // a test that unwraps fails, which is what it should do
#![cfg(not(target_arch = "wasm32"))]

#[macro_use]
#[path = "support/fuzz.rs"]
mod fuzz;

use cairn_core::collections::files::{UndoJob, open_body, parse_list_page};
use cairn_core::collections::history::{Change, build_histories, parse_history_path};
use cairn_core::collections::settings::{
    AccessMode, CollectionState, ConnectedApp, Grant, LogEntry, SETTINGS_VERSION, Settings,
};
use cairn_core::collections::{
    KeyFileEntry, Revocation, RevocationStep, read_key_file, update_key_file,
};
use cairn_core::crypto::ecies::{self, CipherObject, CipherTextEncoding, Plaintext};
use cairn_core::jobs::{Job, Journal};
use cairn_core::keys::PrivateKey;
use cairn_core::protocol::gaia::{HubConfig, HubInfo};
use cairn_core::protocol::signin::parse_manifest;
use cairn_core::support::http_url::HttpUrl;
use cairn_core::support::json::{self, Value};
use fuzz::{fuzz, mutate, mutations};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use std::collections::BTreeMap;

fn key() -> PrivateKey {
    PrivateKey::from_hex("6dad38fa92add38d913bdfb2e646ef4ce2a50a2f39853f848a792835626a5690")
        .expect("a valid key")
}

/// Any short string: controls, quotes, backslashes, non-BMP characters included.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-z0-9:/._-]{0,10}",
        2 => "(?s).{0,8}",
        1 => Just(String::new()),
    ]
}

fn mode() -> impl Strategy<Value = AccessMode> {
    prop_oneof![Just(AccessMode::ReadWrite), Just(AccessMode::Read)]
}

fn string_map() -> impl Strategy<Value = BTreeMap<String, String>> {
    proptest::collection::btree_map(text(), text(), 0..3)
}

fn grant() -> impl Strategy<Value = Grant> {
    (text(), mode(), any::<i64>(), text(), any::<i64>()).prop_map(
        |(app, mode, granted_at, token_salt, token_iat)| Grant {
            app,
            mode,
            granted_at,
            token_salt,
            token_iat,
        },
    )
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        (text(), text(), any::<bool>()).prop_map(|(path, from, was_deleted)| Change::Restore {
            path,
            from,
            was_deleted
        }),
        text().prop_map(|path| Change::Remove { path }),
    ]
}

fn undo_job() -> impl Strategy<Value = UndoJob> {
    (
        text(),
        any::<i64>(),
        proptest::option::of(text()),
        proptest::collection::vec(change(), 0..4),
        any::<usize>(),
        any::<i64>(),
    )
        .prop_map(|(collection, since_ms, app, plan, done, now)| {
            let mut job = UndoJob::new(&collection, since_ms, app.as_deref(), plan, now);
            job.done = done;
            job
        })
}

fn revocation() -> impl Strategy<Value = Revocation> {
    (
        (
            text(),
            text(),
            mode(),
            any::<u32>(),
            any::<u32>(),
            any::<i64>(),
        ),
        (
            any::<bool>(),
            any::<bool>(),
            proptest::collection::vec(0..RevocationStep::ALL.len(), 0..3),
        ),
        (
            any::<u64>(),
            any::<u64>(),
            any::<i64>(),
            any::<bool>(),
            string_map(),
        ),
    )
        .prop_map(
            |(
                (collection, app, mode, from_generation, to_generation, oldest_valid),
                (reencrypt_current, reencrypt_history, done),
                (files_done, files_total, started_at, downgrade, new_salts),
            )| Revocation {
                collection,
                app,
                mode,
                from_generation,
                to_generation,
                oldest_valid,
                reencrypt_current,
                reencrypt_history,
                done: done.into_iter().map(|i| RevocationStep::ALL[i]).collect(),
                files_done,
                files_total,
                started_at,
                downgrade,
                new_salts,
            },
        )
}

fn settings() -> impl Strategy<Value = Settings> {
    let app = (
        text(),
        proptest::option::of(text()),
        proptest::option::of(text()),
        any::<i64>(),
        any::<i64>(),
        proptest::collection::vec(text(), 0..3),
    )
        .prop_map(
            |(origin, name, icon, first_sign_in, last_sign_in, scopes)| ConnectedApp {
                origin,
                // Names are stored cleaned (and cleaned again when read).
                name: name.and_then(|n| cairn_core::protocol::signin::clean_text(&n)),
                icon,
                first_sign_in,
                last_sign_in,
                scopes,
            },
        );
    let collection = (
        any::<u32>(),
        proptest::collection::vec(grant(), 0..3),
        any::<i64>(),
        string_map(),
    )
        .prop_map(
            |(generation, grants, revoked_before, past_writers)| CollectionState {
                generation,
                grants,
                revoked_before,
                past_writers,
            },
        );
    let log = (
        any::<i64>(),
        text(),
        proptest::option::of(text()),
        proptest::option::of(text()),
        proptest::option::of(text()),
    )
        .prop_map(|(at, event, collection, app, detail)| LogEntry {
            at,
            event,
            collection,
            app,
            detail,
        });
    let journal = prop_oneof![
        revocation().prop_map(|r| Job::Revocation(r).to_value()),
        undo_job().prop_map(|j| Job::Undo(j).to_value()),
        text().prop_map(Value::from),
        Just(Value::Null),
    ];
    (
        proptest::collection::vec(app, 0..3),
        proptest::collection::btree_map(text(), collection, 0..3),
        proptest::collection::vec(log, 0..3),
        proptest::collection::vec(journal, 0..3),
    )
        .prop_map(|(apps, collections, log, journal)| Settings {
            v: SETTINGS_VERSION,
            apps,
            collections,
            log,
            journal: Journal::from_values(&journal),
        })
}

fn hub_config() -> impl Strategy<Value = HubConfig> {
    (text(), text(), text(), text()).prop_map(|(url_prefix, address, token, server)| HubConfig {
        url_prefix,
        address,
        token,
        server,
    })
}

fn key_file_entry() -> impl Strategy<Value = KeyFileEntry> {
    (text(), hub_config(), any::<u32>(), string_map(), mode()).prop_map(
        |(encryption_key, hub_config, key_generation, previous_keys, mode)| KeyFileEntry {
            encryption_key,
            hub_config,
            key_generation,
            previous_keys,
            mode,
        },
    )
}

/// Writes `value` as JSON text and reads it back with `read`.
fn through_text<T>(
    value: &Value,
    read: impl Fn(&Value) -> Result<T, json::FieldError>,
) -> Result<T, TestCaseError> {
    let text = json::to_string(value);
    let parsed =
        json::from_str(&text).map_err(|e| TestCaseError::fail(format!("{text:?}: {e}")))?;
    read(&parsed).map_err(|e| TestCaseError::fail(format!("{text:?}: {e}")))
}

/// Reads a (possibly mutated) text with `read`; what it reads must write back to
/// itself.
fn stable<T: PartialEq + std::fmt::Debug>(
    text: &str,
    read: impl Fn(&Value) -> Result<T, json::FieldError>,
    write: impl Fn(&T) -> Value,
) -> Result<(), TestCaseError> {
    let Ok(v) = json::from_str(text) else {
        return Ok(());
    };
    let Ok(record) = read(&v) else {
        return Ok(());
    };
    let again = through_text(&write(&record), &read)?;
    check!(
        again == record,
        "{text:?} reads as {record:?} but re-reads as {again:?}"
    );
    Ok(())
}

#[test]
fn settings_round_trip_and_survive_mutation() {
    fuzz(
        "settings::from_value",
        1_000,
        || (settings(), mutations(4)),
        |(s, m)| {
            let back = through_text(&s.to_value(), Settings::from_value)?;
            check!(back == s, "settings {s:?} read back as {back:?}");
            let text = json::to_string(&s.to_value());
            stable(&mutate(&text, &m), Settings::from_value, Settings::to_value)
        },
    );
}

#[test]
fn journal_records_round_trip_and_survive_mutation() {
    fuzz(
        "journal (Revocation, UndoJob, Change)",
        2_000,
        || (revocation(), undo_job(), mutations(4)),
        |(r, j, m)| {
            let back = through_text(&r.to_value(), Revocation::from_value)?;
            check!(back == r, "revocation {r:?} read back as {back:?}");
            let back = through_text(&j.to_value(), UndoJob::from_value)?;
            check!(back == j, "undo job {j:?} read back as {back:?}");
            for c in &j.plan {
                let back = through_text(&c.to_value(), Change::from_value)?;
                check!(&back == c, "change {c:?} read back as {back:?}");
            }
            stable(
                &mutate(&json::to_string(&r.to_value()), &m),
                Revocation::from_value,
                Revocation::to_value,
            )?;
            stable(
                &mutate(&json::to_string(&j.to_value()), &m),
                UndoJob::from_value,
                UndoJob::to_value,
            )
        },
    );
}

#[test]
fn key_file_entries_round_trip_and_survive_mutation() {
    fuzz(
        "collections::KeyFileEntry",
        2_000,
        || (key_file_entry(), mutations(4)),
        |(e, m)| {
            let back = through_text(&e.to_value(), KeyFileEntry::from_value)?;
            check!(back == e, "entry {e:?} read back as {back:?}");
            let back = through_text(&e.hub_config.to_value(), HubConfig::from_value)?;
            check!(back == e.hub_config, "hub config read back as {back:?}");
            let mutated = mutate(&json::to_string(&e.to_value()), &m);
            stable(&mutated, KeyFileEntry::from_value, KeyFileEntry::to_value)?;
            if let Ok(v) = json::from_str(&mutated) {
                let _ = HubInfo::from_value(&v);
                let _ = HubConfig::from_value(&v);
            }
            Ok(())
        },
    );
}

/// A field-level change to a cipher object.
fn tamper(obj: &CipherObject, field: u8, m: &[(u8, usize, u8)]) -> CipherObject {
    let mut o = obj.clone();
    match field % 7 {
        0 => o.iv = mutate(&o.iv, m),
        1 => o.ephemeral_pk = mutate(&o.ephemeral_pk, m),
        2 => o.cipher_text = mutate(&o.cipher_text, m),
        3 => o.mac = mutate(&o.mac, m),
        4 => o.was_string = !o.was_string,
        5 => {
            o.cipher_text_encoding = match o.cipher_text_encoding {
                Some(_) => None,
                None => Some("base64".into()),
            }
        }
        _ => o.mac = o.mac.to_uppercase(),
    }
    o
}

fn bytes_of(p: &Plaintext) -> &[u8] {
    match p {
        Plaintext::Text(t) => t.as_bytes(),
        Plaintext::Bytes(b) => b,
    }
}

#[test]
fn cipher_objects_open_only_to_what_was_sealed() {
    fuzz(
        "ecies::decrypt",
        1_000,
        || {
            let content = prop_oneof![
                "(?s).{0,40}".prop_map(|s| (s.into_bytes(), true)),
                proptest::collection::vec(any::<u8>(), 0..48).prop_map(|b| (b, false)),
            ];
            let encoding = prop_oneof![
                Just(CipherTextEncoding::Hex),
                Just(CipherTextEncoding::Base64)
            ];
            (content, encoding, any::<u8>(), mutations(3), any::<bool>())
        },
        |((content, was_string), encoding, field, m, whole)| {
            let k = key();
            let obj = ecies::encrypt(&k.public_key(), &content, was_string, encoding)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let back = CipherObject::from_json(&obj.to_json())
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            check!(back == obj, "{obj:?} read back as {back:?}");
            let plain = ecies::decrypt(&k, &obj).map_err(|e| TestCaseError::fail(e.to_string()))?;
            check!(bytes_of(&plain) == content, "decrypts to {plain:?}");
            let changed = if whole {
                CipherObject::from_json(&mutate(&obj.to_json(), &m)).ok()
            } else {
                Some(tamper(&obj, field, &m))
            };
            if let Some(c) = changed
                && let Ok(p) = ecies::decrypt(&k, &c)
            {
                check!(
                    bytes_of(&p) == content,
                    "changed object {c:?} decrypts to {p:?}, sealed {content:?}"
                );
            }
            Ok(())
        },
    );
}

#[test]
fn sealed_settings_and_key_files_open_only_to_what_was_sealed() {
    fuzz(
        "settings::open+read_key_file",
        200,
        || {
            (
                settings(),
                key_file_entry(),
                mutations(3),
                proptest::sample::select(vec!["signature", "publicKey", "cipherText"]),
            )
        },
        |(s, e, m, field)| {
            let k = key();
            let sealed = s.seal(&k).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let mut expected = s.clone();
            for c in expected.collections.values_mut() {
                c.remember_writers();
            }
            let opened =
                Settings::open(&sealed, &k).map_err(|e| TestCaseError::fail(e.to_string()))?;
            check!(opened == expected, "settings opened as {opened:?}");
            // A change to one field's value (or to the text anywhere).
            let mut v = json::from_str(&sealed).map_err(|e| TestCaseError::fail(e.to_string()))?;
            if let Some(o) = v.as_object_mut()
                && let Some(f) = o.get_mut(field)
            {
                *f = match &*f {
                    Value::String(x) => Value::String(mutate(x, &m)),
                    Value::Bool(b) => Value::Bool(!*b),
                    other => other.clone(),
                };
            }
            for body in [json::to_string(&v), mutate(&sealed, &m)] {
                if let Ok(o) = Settings::open(&body, &k) {
                    check!(o == expected, "changed settings {body:?} opened as {o:?}");
                }
            }
            let file = update_key_file(None, &k, &[("c", Some(&e))])
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let entries =
                read_key_file(&file, &k).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let back = entries.get("c").map(KeyFileEntry::from_value);
            check!(
                back == Some(Ok(e.clone())),
                "key file entry read back as {back:?}"
            );
            if let Ok(changed) = read_key_file(&mutate(&file, &m), &k) {
                check!(changed == entries, "changed key file read as {changed:?}");
            }
            let _ = update_key_file(Some(&mutate(&file, &m)), &k, &[("d", None)]);
            Ok(())
        },
    );
}

#[test]
fn file_bodies_open_only_to_what_was_sealed() {
    fuzz(
        "files::open_body",
        1_000,
        || ("(?s).{0,30}", mutations(3), any::<bool>()),
        |(content, m, signed)| {
            let k = key();
            let obj = ecies::encrypt(
                &k.public_key(),
                content.as_bytes(),
                true,
                CipherTextEncoding::Hex,
            )
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let body = if signed {
                json::to_string(&cairn_core::json!({
                    "signature": "00", "publicKey": "02", "cipherText": obj.to_json()
                }))
            } else {
                obj.to_json()
            };
            let keys = [
                PrivateKey::from_hex(&"11".repeat(32))
                    .map_err(|e| TestCaseError::fail(e.to_string()))?,
                k,
            ];
            let opened = open_body(&body, &keys).map_err(|e| TestCaseError::fail(e.to_string()))?;
            check!(
                opened.key_index == Some(1)
                    && opened.signed == signed
                    && bytes_of(&opened.plain) == content.as_bytes(),
                "{body:?} opened as {opened:?}"
            );
            let changed = mutate(&body, &m);
            if let Ok(o) = open_body(&changed, &keys)
                && o.key_index.is_some()
            {
                check!(
                    bytes_of(&o.plain) == content.as_bytes(),
                    "{changed:?} opened as {o:?}"
                );
            }
            Ok(())
        },
    );
}

fn history_segment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9_-]{1,8}",
        "\\.?[a-z]{0,4}\\.[a-z]{1,4}",
        "(?s)[^/]{1,6}",
    ]
}

#[test]
fn history_names_round_trip() {
    fuzz(
        "history::parse_history_path",
        10_000,
        || {
            (
                proptest::collection::vec(history_segment(), 0..3)
                    .prop_map(|s| s.iter().map(|x| format!("{x}/")).collect::<String>()),
                history_segment(),
                1_000_000_000_000i64..=9_999_999_999_999_999,
                "[0-9A-Za-z]{10}",
                0u64..100_000_000_000,
                mutations(3),
            )
        },
        |(dir, name, ms, id, n, m)| {
            let hub = format!("{dir}.history.{ms}.{id}.{name}");
            let parsed = parse_history_path(&hub);
            check!(
                parsed.as_ref().is_some_and(|h| h.dir == dir
                    && h.name == name
                    && h.replaced_at_ms == Some(ms)
                    && h.id.as_deref() == Some(id.as_str())
                    && h.original_path() == format!("{dir}{name}")),
                "{hub:?} parses as {parsed:?}"
            );
            let seq = format!("{dir}.history.{n}.{name}");
            let parsed = parse_history_path(&seq);
            check!(
                parsed.as_ref().is_some_and(|h| h.dir == dir
                    && h.name == name
                    && h.sequence == Some(n)
                    && h.original_path() == format!("{dir}{name}")),
                "{seq:?} parses as {parsed:?}"
            );
            for path in [mutate(&hub, &m), mutate(&seq, &m)] {
                if let Some(h) = parse_history_path(&path) {
                    check!(
                        path.starts_with(&h.dir)
                            && path.ends_with(&h.name)
                            && !h.name.is_empty()
                            && path[h.dir.len()..].starts_with(".history.")
                            && !path[h.dir.len()..].contains('/'),
                        "{path:?} parses as {h:?}"
                    );
                }
            }
            Ok(())
        },
    );
}

#[test]
fn list_pages_never_panic() {
    let strategy = || {
        let entry = prop_oneof![
            (
                text(),
                text(),
                any::<u64>(),
                text(),
                any::<i64>(),
                proptest::option::of(text())
            )
                .prop_map(|(name, etag, len, ct, t, w)| {
                    let mut v = cairn_core::json!({
                        "name": name, "etag": etag, "contentLength": len,
                        "contentType": ct, "lastModifiedDate": t,
                    });
                    if let (Some(w), Some(o)) = (w, v.as_object_mut()) {
                        o.insert("writer".into(), w.into());
                    }
                    v
                }),
            "(\\.history\\.[0-9]{1,14}\\.([0-9A-Za-z]{10}\\.)?)?[a-z]{1,3}".prop_map(Value::from),
            Just(Value::Null),
        ];
        (
            proptest::collection::vec(entry, 0..8),
            proptest::option::of(text()),
            mutations(3),
            any::<bool>(),
        )
    };
    fuzz(
        "files::parse_list_page+build_histories",
        2_000,
        strategy,
        |(entries, page, m, mutated)| {
            let mut body = cairn_core::json!({"entries": entries});
            if let (Some(p), Some(o)) = (page, body.as_object_mut()) {
                o.insert("page".into(), p.into());
            }
            let text = json::to_string(&body);
            let text = if mutated { mutate(&text, &m) } else { text };
            if let Ok(page) = parse_list_page(&text) {
                let histories = build_histories(&page.entries);
                for h in &histories {
                    let _ = (
                        h.current(),
                        h.is_deleted(),
                        h.version_at(0),
                        h.changed_since(0),
                    );
                }
            }
            Ok(())
        },
    );
}

#[test]
fn manifests_give_safe_names_and_icons() {
    let strategy = || {
        let icon = prop_oneof![
            Just("icon.png".to_string()),
            Just("/i.png".to_string()),
            Just("//cdn.example/i.png".to_string()),
            Just("https://cdn.example/i.png".to_string()),
            Just("javascript:alert(1)".to_string()),
            Just("data:image/png;base64,AA".to_string()),
            Just("data:text/html,x".to_string()),
            Just(" //evil.example/x".to_string()),
            Just("http://2130706433/i.png".to_string()),
            Just("\\\\evil.example/i.png".to_string()),
            "[a-zA-Z0-9:/.?#@%\\\\ -]{0,16}",
        ];
        let base = prop_oneof![
            Just("https://app.example/manifest.json"),
            Just("http://localhost:3000/a/b/manifest.json"),
            Just("not a url"),
        ];
        ("(?s).{0,100}", icon, base, mutations(3), any::<bool>())
    };
    fuzz(
        "signin::parse_manifest",
        5_000,
        strategy,
        |(name, icon, base, m, mutated)| {
            let body = json::to_string(&cairn_core::json!({
                "name": name.as_str(), "short_name": "s", "icons": [{"src": icon.as_str()}]
            }));
            let body = if mutated { mutate(&body, &m) } else { body };
            let Ok(details) = parse_manifest(&body, base) else {
                return Ok(());
            };
            if let Some(n) = &details.name {
                check!(
                    !n.is_empty()
                        && n.trim_start() == n
                        && n.chars().count() <= cairn_core::protocol::signin::MAX_APP_NAME_CHARS,
                    "name {n:?}"
                );
            }
            if let Some(i) = &details.icon
                && !i.starts_with("data:image/")
            {
                let ours = HttpUrl::parse(i)
                    .map_err(|e| TestCaseError::fail(format!("icon {i:?}: {e}")))?;
                let theirs = url::Url::parse(i).map(|u| u.origin().ascii_serialization());
                check!(
                    theirs.as_deref() == Ok(ours.origin().as_str()),
                    "icon {i:?} is on {} for us, {theirs:?} for WHATWG",
                    ours.origin()
                );
            }
            Ok(())
        },
    );
}
