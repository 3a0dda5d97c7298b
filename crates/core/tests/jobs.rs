//! The core's hub jobs run natively over an in-memory hub (`support/mem_hub.rs`): the
//! revocation with its re-encryption (every step, the journal, resuming after the hub
//! died mid-way without re-encrypting a file twice), the settings loop under a
//! concurrent writer, and the sign-in writes. The same jobs run in the page over `fetch`
//! against a real cairn-hub in the end-to-end tests.
#![allow(clippy::unwrap_used)]

#[path = "support/mem_hub.rs"]
mod mem_hub;
#[path = "support/vectors.rs"]
mod vectors;

use cairn_core::collections::history::history_path;
use cairn_core::collections::settings::{AccessMode, Settings};
use cairn_core::collections::{
    CollectionKeys, HubContext, KEY_FILE_NAME, Revocation, grant_collections, random_salt,
    read_key_file,
};
use cairn_core::crypto::bulk::Software;
use cairn_core::crypto::ecies::{self, CipherTextEncoding};
use cairn_core::jobs::key_files::hand_off;
use cairn_core::jobs::revocation::{Monitor, RevocationRun};
use cairn_core::jobs::settings_file::{SETTINGS_ATTEMPTS, SettingsFile};
use cairn_core::jobs::sign_in::SignInWrites;
use cairn_core::jobs::{Env, JobError};
use cairn_core::keys::PrivateKey;
use cairn_core::keys::keychain::Keychain;
use cairn_core::protocol::auth::{
    AuthRequestOptions, ResponseRandomness, make_auth_request, verify_auth_request,
};
use cairn_core::protocol::signin::AppDetails;
use mem_hub::{HUB_URL, MemHub, TestError, block};
use std::cell::{Cell, RefCell};
use vectors::vectors;

const A: &str = "https://a.example";
const B: &str = "https://b.example";
const NOW: i64 = 1_750_000_000_000;

fn keychain() -> Keychain {
    Keychain::from_mnemonic(vectors()["mnemonics"][0].as_str().unwrap()).unwrap()
}

fn ctx(hub: &MemHub) -> HubContext {
    let info = hub.info();
    HubContext {
        hub_url: HUB_URL.into(),
        read_url_prefix: info.read_url_prefix,
        challenge_text: info.challenge_text,
    }
}

#[derive(Default)]
struct Watch {
    said: RefCell<Vec<String>>,
    files: Cell<(u64, u64)>,
}

impl Monitor for Watch {
    fn say(&self, text: &str) {
        self.said.borrow_mut().push(text.to_string());
    }
    fn files(&self, done: u64, total: u64) {
        self.files.set((done, total));
    }
    fn cancelled(&self) -> bool {
        false
    }
    fn now_ms(&self) -> i64 {
        NOW + 60_000
    }
}

/// Identity 0 with apps A and B granted read-and-write access to `contact`, their key
/// files written, and `n` files (plus one history version) encrypted with generation 0.
fn setup(hub: &MemHub, kc: &Keychain, n: usize) -> (SettingsFile, CollectionKeys) {
    let identity = kc.identity(0).unwrap();
    let file = SettingsFile::new(&identity, HUB_URL, &hub.info(), false);
    let c = ctx(hub);
    for app in [A, B] {
        let mut hand_offs = Vec::new();
        block(file.update(hub, &Software, &mut |s| {
            hand_offs = grant_collections(
                s,
                app,
                &[("contact".to_string(), AccessMode::ReadWrite)],
                NOW,
                random_salt,
            );
            Ok(())
        }))
        .unwrap();
        block(hand_off(hub, &Software, kc, 0, &c, app, &hand_offs)).unwrap();
    }
    let keys = CollectionKeys::derive(kc, 0, "contact", 0).unwrap();
    let encrypt = |text: &str| {
        ecies::encrypt(
            &keys.current().public_key(),
            text.as_bytes(),
            true,
            CipherTextEncoding::Hex,
        )
        .unwrap()
        .to_json()
    };
    for i in 0..n {
        hub.put(
            &keys.address,
            &format!("collection/c{i:03}.json"),
            &encrypt(&format!("{{\"i\":{i}}}")),
        );
    }
    hub.put(
        &keys.address,
        &history_path("collection/c000.json", NOW as u64, "abcdefghij"),
        &encrypt("{\"i\":-1}"),
    );
    (file, keys)
}

fn key_file_generation(hub: &MemHub, kc: &Keychain, app: &str) -> Option<i64> {
    let key = kc.app_private_key(0, app).unwrap();
    let body = hub.get(&key.public_key().address(), KEY_FILE_NAME).unwrap();
    let entries = read_key_file(&body, &key).unwrap();
    entries
        .get("contact")
        .map(|e| e["keyGeneration"].as_i64().unwrap())
}

fn start(hub: &MemHub, file: &SettingsFile) -> Revocation {
    let mut r = None;
    block(file.update(hub, &Software, &mut |s| {
        r = Some(Revocation::start(s, "contact", A, NOW + 1000, true, true).unwrap());
        Ok(())
    }))
    .unwrap();
    r.unwrap()
}

fn run<'a>(
    hub: &'a MemHub,
    kc: &'a Keychain,
    c: &'a HubContext,
    file: &'a SettingsFile,
    watch: &'a Watch,
) -> RevocationRun<'a, MemHub, Software> {
    RevocationRun {
        env: Env {
            hub,
            bulk: &Software,
            keychain: kc,
            index: 0,
        },
        ctx: c,
        settings: file,
        monitor: watch,
    }
}

fn settings(hub: &MemHub, file: &SettingsFile) -> Settings {
    block(file.load(hub, &Software)).unwrap().0
}

#[test]
fn a_revocation_runs_every_step_over_the_one_transport() {
    let (hub, kc) = (MemHub::new(), keychain());
    let (file, old) = setup(&hub, &kc, 30);
    assert_eq!(key_file_generation(&hub, &kc, A), Some(0));
    let r = start(&hub, &file);
    let (c, watch) = (ctx(&hub), Watch::default());
    let done = block(run(&hub, &kc, &c, &file, &watch).execute(r)).unwrap();

    // Revoke-all published the new oldest valid time.
    assert_eq!(
        hub.get(&format!("{}-auth", old.address), "authTimestamp"),
        Some(done.oldest_valid.to_string())
    );
    // A lost the collection; B got generation 1.
    assert_eq!(key_file_generation(&hub, &kc, A), None);
    assert_eq!(key_file_generation(&hub, &kc, B), Some(1));
    // Every file, the history version included, is on the new key.
    let new = CollectionKeys::derive(&kc, 0, "contact", 1).unwrap();
    let names = hub.names(&old.address);
    assert_eq!(names.len(), 31);
    for p in &names {
        let (generation, _) = new.decrypt(p, &hub.get(&old.address, p).unwrap()).unwrap();
        assert_eq!(generation, 1, "{p}");
    }
    assert_eq!(watch.files.get(), (31, 31));
    // Finished: journal empty, the revocation logged, B's grant on its fresh salt.
    let s = settings(&hub, &file);
    assert!(s.journal.is_empty());
    assert_eq!(s.log.last().unwrap().event, "revoke");
    let grants = &s.collections["contact"].grants;
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].token_salt, done.new_salts[B]);
}

#[test]
fn an_interrupted_revocation_resumes_from_the_journal_without_redoing_files() {
    let (hub, kc) = (MemHub::new(), keychain());
    let (file, old) = setup(&hub, &kc, 60);
    let r = start(&hub, &file);
    let (c, watch) = (ctx(&hub), Watch::default());
    // The hub dies after 40 re-encrypted files.
    *hub.die_after.borrow_mut() = Some((old.address.clone(), 40));
    let err = block(run(&hub, &kc, &c, &file, &watch).execute(r)).unwrap_err();
    assert!(matches!(err, TestError::Transport(_)), "{err}");
    hub.dead.set(false);
    *hub.die_after.borrow_mut() = None;

    // The journal kept the progress saved every 25 files.
    let pending = Revocation::pending(&settings(&hub, &file));
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].files_done, 25);
    assert_eq!(hub.stores_to(&old.address), 40);

    // Resumed: the files already on the new key are read but not written again.
    let resumed = pending.into_iter().next().unwrap();
    block(run(&hub, &kc, &c, &file, &watch).execute(resumed)).unwrap();
    assert_eq!(
        hub.stores_to(&old.address),
        61,
        "every file written exactly once"
    );
    let new = CollectionKeys::derive(&kc, 0, "contact", 1).unwrap();
    for p in hub.names(&old.address) {
        assert_eq!(
            new.decrypt(&p, &hub.get(&old.address, &p).unwrap())
                .unwrap()
                .0,
            1
        );
    }
    assert!(settings(&hub, &file).journal.is_empty());
}

#[test]
fn the_settings_loop_reads_again_when_another_writer_got_there_first() {
    let (hub, kc) = (MemHub::new(), keychain());
    let identity = kc.identity(0).unwrap();
    let file = SettingsFile::new(&identity, HUB_URL, &hub.info(), false);
    block(file.update(&hub, &Software, &mut |_| Ok(()))).unwrap();
    let path = cairn_core::collections::settings::SETTINGS_PATH;

    // Another device writes between Cairn's read and its write, once: one retry.
    hub.interfere.borrow_mut().insert(path.into(), 1);
    let before = hub.stores_to(&identity.address);
    let mut calls = 0;
    let s = block(file.update(&hub, &Software, &mut |s| {
        calls += 1;
        s.record_sign_in(A, Some("A"), None, &[], NOW);
        Ok(())
    }))
    .unwrap();
    assert_eq!(calls, 2, "the change is applied again to the fresh read");
    assert_eq!(hub.stores_to(&identity.address) - before, 2);
    assert_eq!(s.app(A).unwrap().display_name(), "A");
    assert_eq!(settings(&hub, &file).app(A).unwrap().display_name(), "A");

    // It keeps happening: after the allowed attempts, a clear error, nothing lost.
    hub.interfere.borrow_mut().insert(path.into(), 99);
    let err = block(file.update(&hub, &Software, &mut |s| {
        s.record_sign_in(B, Some("B"), None, &[], NOW);
        Ok(())
    }))
    .unwrap_err();
    assert!(
        matches!(&err, TestError::Job(JobError::Changed { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("your settings file kept changing"));
    assert_eq!(
        hub.interfere.borrow()[path],
        99 - SETTINGS_ATTEMPTS as usize
    );
    let s = settings(&hub, &file);
    assert!(s.app(A).is_some() && s.app(B).is_none());
}

fn request(scopes: &[&str]) -> cairn_core::protocol::auth::AuthRequest {
    let transit = PrivateKey::random().unwrap();
    let token = make_auth_request(
        &transit,
        &AuthRequestOptions {
            domain_name: A.into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            app_name: Some("Contacts".into()),
            now_ms: NOW,
            ..AuthRequestOptions::default()
        },
    )
    .unwrap();
    verify_auth_request(&token, Some(A), NOW).unwrap()
}

fn sign_in(
    hub: &MemHub,
    kc: &Keychain,
    request: &cairn_core::protocol::auth::AuthRequest,
    details: &AppDetails,
) -> cairn_core::jobs::sign_in::SignInOutcome {
    let writes = SignInWrites {
        env: Env {
            hub,
            bulk: &Software,
            keychain: kc,
            index: 0,
        },
        request,
        details,
        hub_url: HUB_URL,
        now_ms: NOW,
    };
    block(writes.run(&ResponseRandomness::generate().unwrap())).unwrap()
}

#[test]
fn a_sign_in_writes_the_profile_the_connected_app_and_its_collection_keys() {
    let (hub, kc) = (MemHub::new(), keychain());
    let req = request(&["store_write", "publish_data", "collection.contact"]);
    let details = AppDetails {
        name: Some("Contacts".into()),
        icon: None,
    };
    let out = sign_in(&hub, &kc, &req, &details);
    assert!(out.notes.is_empty(), "{:?}", out.notes);
    assert!(out.redirect.contains("authResponse="));
    // No request read a file the listing said was absent (no 404 in a console).
    let reads_of_missing = hub
        .log
        .borrow()
        .iter()
        .filter(|(_, url)| {
            url.ends_with(cairn_core::collections::settings::SETTINGS_PATH)
                || url.ends_with(KEY_FILE_NAME)
        })
        .filter(|(m, _)| m.as_str() == "GET")
        .map(|(_, url)| url.clone())
        .collect::<Vec<_>>();
    assert_eq!(reads_of_missing, Vec::<String>::new());
    let identity = kc.identity(0).unwrap();
    let profile = hub.get(&identity.address, "profile.json").unwrap();
    assert!(profile.contains(A), "the profile lists the app's bucket");
    let file = SettingsFile::new(&identity, HUB_URL, &hub.info(), true);
    let s = settings(&hub, &file);
    assert_eq!(s.app(A).unwrap().display_name(), "Contacts");
    assert_eq!(s.collections["contact"].grants[0].app, A);
    assert_eq!(key_file_generation(&hub, &kc, A), Some(0));
}

#[test]
fn a_sign_in_with_the_hub_down_completes_without_storage_and_says_so() {
    let (hub, kc) = (MemHub::new(), keychain());
    hub.dead.set(true);
    let req = request(&["store_write"]);
    let out = sign_in(&hub, &kc, &req, &AppDetails::default());
    assert!(out.redirect.contains("authResponse="));
    assert_eq!(out.notes.len(), 1);
    assert!(
        out.notes[0].contains("could not be reached"),
        "{}",
        out.notes[0]
    );
}

#[test]
fn a_move_survey_lists_every_bucket_cairn_holds_and_names_what_it_cannot_move() {
    use cairn_core::jobs::migration::{BucketKind, buckets, survey};
    let (hub, kc) = (MemHub::new(), keychain());
    let (file, collection) = setup(&hub, &kc, 5);
    let a = kc.app_private_key(0, A).unwrap().public_key().address();
    hub.put(&a, "notes/today.json", "0123456789");
    let profile_apps = vec![
        (A.to_string(), format!("{}{a}/", mem_hub::READ_PREFIX)),
        (
            "https://legacy.example".to_string(),
            format!("{}1LegacyBucketAddress/", mem_hub::READ_PREFIX),
        ),
    ];
    let s = settings(&hub, &file);
    let (found, not_moved) = buckets(&kc, 0, &s, &profile_apps).unwrap();
    let kinds: Vec<String> = found.iter().map(|b| b.kind.describe()).collect();
    assert_eq!(
        kinds,
        [
            "your identity",
            "the app https://a.example",
            "the app https://b.example",
            "the collection contact"
        ]
    );
    assert!(matches!(&found[1].kind, BucketKind::App { origin, .. } if origin == A));
    assert_eq!(found[3].address, collection.address);
    assert_eq!(not_moved.len(), 1);
    assert_eq!(not_moved[0].what, "https://legacy.example");
    assert!(
        not_moved[0].reason.contains("another wallet"),
        "{}",
        not_moved[0].reason
    );

    let plan = block(survey(
        &hub,
        HUB_URL,
        &hub.info().challenge_text,
        found,
        not_moved,
    ))
    .unwrap();
    let expected_files: usize = plan
        .buckets
        .iter()
        .map(|b| hub.names(&b.bucket.address).len())
        .sum();
    assert_eq!(plan.files(), expected_files as u64);
    assert_eq!(
        plan.files(),
        1 + 2 + 1 + 6,
        "settings; A's key file and note; B's key file; 5 files and a version"
    );
    assert_eq!(plan.history_files(), 1);
    let bytes: usize = plan
        .buckets
        .iter()
        .flat_map(|b| {
            hub.names(&b.bucket.address)
                .into_iter()
                .map(|n| hub.get(&b.bucket.address, &n).unwrap().len())
        })
        .sum();
    assert_eq!(plan.bytes(), bytes as u64);
}

mod moving {
    use super::*;
    use cairn_core::collections::settings::SETTINGS_PATH;
    use cairn_core::jobs::Job;
    use cairn_core::jobs::migration::{MoveJob, MoveRun, MoveSurvey, buckets, check_hub, survey};
    use cairn_core::protocol::jwt;
    use cairn_core::protocol::profile::{
        add_app_entry, claim_from_profile_file, default_profile, profile_file_body,
        sign_profile_token,
    };
    use cairn_core::support::json;
    use mem_hub::TwoHubs;

    fn new_ctx(hubs: &TwoHubs) -> HubContext {
        let info = hubs.new.info();
        HubContext {
            hub_url: hubs.new.hub_url.clone(),
            read_url_prefix: info.read_url_prefix,
            challenge_text: info.challenge_text,
        }
    }

    /// The old hub with apps A and B, a collection of `n` files and a version, A's
    /// note, and a profile listing A's bucket.
    fn seeded(n: usize) -> (TwoHubs, Keychain, SettingsFile, MoveSurvey) {
        let (hubs, kc) = (TwoHubs::new(), keychain());
        let (file, _) = setup(&hubs.old, &kc, n);
        let a = kc.app_private_key(0, A).unwrap();
        hubs.old.put(
            &a.public_key().address(),
            "notes/today.json",
            "{\"text\":\"hi\"}",
        );
        let identity = kc.identity(0).unwrap();
        let mut claim = default_profile();
        let old_bucket = format!("{}{}/", mem_hub::READ_PREFIX, a.public_key().address());
        add_app_entry(&mut claim, A, &old_bucket, &a.public_key().to_hex());
        let token = sign_profile_token(&claim, &kc.stx_key(0).unwrap(), NOW, "jti-1");
        hubs.old.put(
            &identity.address,
            "profile.json",
            &profile_file_body(&token),
        );
        let s = settings(&hubs.old, &file);
        let (found, not_moved) =
            buckets(&kc, 0, &s, &[(A.to_string(), old_bucket.clone())]).unwrap();
        let plan = block(survey(
            &hubs.old,
            HUB_URL,
            &hubs.old.info().challenge_text,
            found,
            not_moved,
        ))
        .unwrap();
        (hubs, kc, file, plan)
    }

    fn mover<'a>(
        hubs: &'a TwoHubs,
        kc: &'a Keychain,
        old: &'a HubContext,
        new: &'a HubContext,
        file: &'a SettingsFile,
        watch: &'a Watch,
        new_limit: Option<u64>,
    ) -> MoveRun<'a, TwoHubs, Software> {
        MoveRun {
            env: Env {
                hub: hubs,
                bulk: &Software,
                keychain: kc,
                index: 0,
            },
            old,
            new,
            new_limit,
            settings: file,
            monitor: watch,
        }
    }

    fn same_files(hubs: &TwoHubs, plan: &MoveSurvey) {
        for b in &plan.buckets {
            for f in &b.files {
                if f.name == SETTINGS_PATH || f.name == KEY_FILE_NAME || f.name == "profile.json" {
                    continue; // rewritten by the switch
                }
                assert_eq!(
                    hubs.new.get(&b.bucket.address, &f.name),
                    hubs.old.get(&b.bucket.address, &f.name),
                    "{}",
                    f.name
                );
            }
        }
    }

    #[test]
    fn a_move_copies_every_file_verifies_it_and_switches() {
        let (hubs, kc, file, plan) = seeded(30);
        let (old, new, watch) = (ctx(&hubs.old), new_ctx(&hubs), Watch::default());
        let run = mover(&hubs, &kc, &old, &new, &file, &watch, Some(1 << 20));
        let mut job = MoveJob::new(&new.hub_url, NOW);
        block(run.copy(&plan, &mut job)).unwrap();
        assert_eq!(job.done.len() as u64, plan.files());
        // The settings file grew meanwhile (the journal): count what the new hub holds.
        let on_new: usize = plan
            .buckets
            .iter()
            .flat_map(|b| {
                let a = &b.bucket.address;
                hubs.new.names(a).into_iter().map(move |n| (a.clone(), n))
            })
            .map(|(a, n)| hubs.new.get(&a, &n).unwrap().len())
            .sum();
        assert_eq!(job.bytes_done, on_new as u64);
        assert!(job.bytes_done >= plan.bytes());
        assert_eq!(watch.files.get(), (plan.files(), plan.files()));
        same_files(&hubs, &plan);
        // History versions keep their names.
        let collection = &plan.buckets[3];
        assert!(
            hubs.new
                .names(&collection.bucket.address)
                .iter()
                .any(|n| n.contains(".history."))
        );

        block(run.switch(&plan, &mut job)).unwrap();
        assert!(job.switched);
        // B's key file on the new hub points at the new hub.
        let b = kc.app_private_key(0, B).unwrap();
        let body = hubs
            .new
            .get(&b.public_key().address(), KEY_FILE_NAME)
            .unwrap();
        let entries = read_key_file(&body, &b).unwrap();
        assert_eq!(
            entries["contact"]["hubConfig"]["url_prefix"].as_str(),
            Some(new.read_url_prefix.as_str())
        );
        assert_eq!(
            entries["contact"]["hubConfig"]["server"].as_str(),
            Some(new.hub_url.as_str())
        );
        // The profile on the new hub lists A's bucket there, re-signed by the STX key (as
        // sign-in signs it; apps verify it against that key).
        let identity = kc.identity(0).unwrap();
        let profile_file = hubs.new.get(&identity.address, "profile.json").unwrap();
        let claim = claim_from_profile_file(&profile_file).unwrap();
        let token = json::from_str(&profile_file).unwrap()[0]["token"]
            .as_str()
            .unwrap()
            .to_string();
        let stx = kc.stx_key(0).unwrap().public_key();
        let decoded = jwt::decode(&token).unwrap();
        decoded.verify(&stx).unwrap();
        assert_eq!(
            decoded.payload["issuer"]["publicKey"].as_str(),
            Some(stx.to_hex().as_str())
        );
        let a = kc.app_private_key(0, A).unwrap().public_key().address();
        assert_eq!(
            claim["apps"][A].as_str(),
            Some(format!("{}{a}/", new.read_url_prefix).as_str())
        );
        // Settings on the new hub: no journal entry, the move logged; the old journal
        // records the switch.
        let on_new = SettingsFile::new(&identity, &new.hub_url, &hubs.new.info(), true);
        let s = block(on_new.load(&hubs, &Software)).unwrap().0;
        assert!(s.journal.is_empty());
        assert_eq!(s.log.last().unwrap().event, "move");
        let old_settings = settings(&hubs.old, &file);
        assert!(matches!(old_settings.journal.jobs(), [Job::Move(m)] if m.switched));

        // Deleting on the old hub leaves every bucket empty; the new hub is untouched.
        let before = hubs.new.all_stores();
        let left = block(
            run.delete_old(
                &plan
                    .buckets
                    .iter()
                    .map(|b| b.bucket.clone())
                    .collect::<Vec<_>>(),
            ),
        )
        .unwrap();
        assert!(left.iter().all(|n| *n == 0), "{left:?}");
        for b in &plan.buckets {
            assert!(hubs.old.names(&b.bucket.address).is_empty());
            assert!(!hubs.new.names(&b.bucket.address).is_empty());
        }
        assert_eq!(hubs.new.all_stores(), before);
    }

    #[test]
    fn an_interrupted_move_resumes_from_the_journal_without_copying_twice() {
        let (hubs, kc, file, plan) = seeded(40);
        let (old, new, watch) = (ctx(&hubs.old), new_ctx(&hubs), Watch::default());
        let run = mover(&hubs, &kc, &old, &new, &file, &watch, None);
        // The new hub dies after its 30th write, before that file is read back.
        *hubs.new.die_after.borrow_mut() = Some(("*".into(), 30));
        let mut job = MoveJob::new(&new.hub_url, NOW);
        let err = block(run.copy(&plan, &mut job)).unwrap_err();
        assert!(matches!(err, TestError::Transport(_)), "{err}");
        hubs.new.dead.set(false);
        *hubs.new.die_after.borrow_mut() = None;
        // The old hub's journal knows the 29 verified ones.
        let journaled = match settings(&hubs.old, &file).journal.jobs() {
            [Job::Move(m)] => m.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(journaled.done.len(), 29);
        let mut resumed = journaled;
        block(run.copy(&plan, &mut resumed)).unwrap();
        assert_eq!(resumed.done.len() as u64, plan.files());
        assert_eq!(
            hubs.new.all_stores() as u64,
            plan.files() + 1,
            "each file written once, but the one never read back: twice"
        );
        same_files(&hubs, &plan);
    }

    #[test]
    fn when_the_old_hub_stops_answering_the_move_waits_and_goes_on() {
        let (hubs, kc, file, plan) = seeded(40);
        let (old, new, watch) = (ctx(&hubs.old), new_ctx(&hubs), Watch::default());
        let run = mover(&hubs, &kc, &old, &new, &file, &watch, None);
        // The old hub goes away mid-move (reads and the journal's writes alike) and
        // answers again after three waits.
        let answered = hubs.old.log.borrow().len();
        hubs.old.die_after_requests.set(Some(answered + 20));
        hubs.revive_old_after_waits.set(Some(3));
        let mut job = MoveJob::new(&new.hub_url, NOW);
        block(run.copy(&plan, &mut job)).unwrap();
        assert!(hubs.old.die_after_requests.get().is_none(), "it was away");
        assert!(hubs.waited_ms.get() >= 3000, "{} ms", hubs.waited_ms.get());
        assert!(
            watch
                .said
                .borrow()
                .iter()
                .any(|t| t.contains("old hub is not answering")),
            "{:?}",
            watch.said.borrow()
        );
        assert_eq!(job.done.len() as u64, plan.files());
        assert_eq!(
            hubs.new.all_stores() as u64,
            plan.files(),
            "each file written once"
        );
        same_files(&hubs, &plan);
        match settings(&hubs.old, &file).journal.jobs() {
            [Job::Move(m)] => assert_eq!(m.done.len() as u64, plan.files()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_old_hub_gone_for_good_stops_the_move_after_the_wait_with_progress_kept() {
        let (hubs, kc, file, plan) = seeded(40);
        let (old, new, watch) = (ctx(&hubs.old), new_ctx(&hubs), Watch::default());
        let run = mover(&hubs, &kc, &old, &new, &file, &watch, None);
        let answered = hubs.old.log.borrow().len();
        hubs.old.die_after_requests.set(Some(answered + 40));
        let mut job = MoveJob::new(&new.hub_url, NOW);
        let err = block(run.copy(&plan, &mut job)).unwrap_err();
        assert!(
            matches!(&err, TestError::Job(JobError::Unavailable { waited_s, .. }) if *waited_s >= 600),
            "{err}"
        );
        assert!(err.to_string().contains("Resume"), "{err}");
        assert!(!job.done.is_empty() && (job.done.len() as u64) < plan.files());
    }

    #[test]
    fn a_file_over_the_new_hubs_limit_is_named_before_anything_is_written() {
        let (hubs, kc, file, plan) = seeded(3);
        let (old, new, watch) = (ctx(&hubs.old), new_ctx(&hubs), Watch::default());
        let run = mover(&hubs, &kc, &old, &new, &file, &watch, Some(100));
        let mut job = MoveJob::new(&new.hub_url, NOW);
        let err = block(run.copy(&plan, &mut job)).unwrap_err();
        assert!(
            matches!(&err, TestError::Job(JobError::TooLarge { limit: 100, .. })),
            "{err}"
        );
        assert!(
            err.to_string().contains("more than the hub accepts"),
            "{err}"
        );
        assert_eq!(hubs.new.all_stores(), 0);
    }

    #[test]
    fn a_full_new_hub_stops_the_move_with_its_status_and_switches_nothing() {
        let (hubs, kc, file, plan) = seeded(3);
        let (old, new, watch) = (ctx(&hubs.old), new_ctx(&hubs), Watch::default());
        let run = mover(&hubs, &kc, &old, &new, &file, &watch, None);
        hubs.new.refuse_stores.set(Some(507));
        let mut job = MoveJob::new(&new.hub_url, NOW);
        let err = block(run.copy(&plan, &mut job)).unwrap_err();
        assert!(
            matches!(&err, TestError::Job(JobError::Refused { status: 507, .. })),
            "{err}"
        );
        // The file, its bucket and what 507 means, in words.
        assert!(
            err.to_string().contains(
                "(your identity) to the new hub: it has no room left for it (507 Insufficient Storage)"
            ),
            "{err}"
        );
        assert!(job.done.is_empty() && !job.switched);
        match settings(&hubs.old, &file).journal.jobs() {
            [Job::Move(m)] => assert!(!m.switched && m.done.is_empty()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn check_hub_writes_reads_and_deletes_a_probe_or_says_what_failed() {
        let (hubs, kc) = (TwoHubs::new(), keychain());
        let identity = kc.identity(0).unwrap();
        let ok = block(check_hub(
            &hubs,
            &identity.key,
            &hubs.new.hub_url,
            "cairn-probe-1.txt",
        ))
        .unwrap();
        assert_eq!(ok.info.read_url_prefix, hubs.new.read_prefix);
        assert_eq!(ok.limit_bytes(), Some(20 << 20));
        assert!(
            hubs.new.names(&identity.address).is_empty(),
            "the probe is deleted"
        );
        let err = block(check_hub(
            &hubs,
            &identity.key,
            "http://new-hub.test/nope",
            "p.txt",
        ))
        .unwrap_err();
        assert!(err.to_string().contains("hub_info"), "{err}");
        // A refused probe says so, why in Cairn's words, and the hub's own.
        hubs.new.refuse_stores.set(Some(401));
        let err = block(check_hub(&hubs, &identity.key, &hubs.new.hub_url, "p.txt")).unwrap_err();
        assert!(
            matches!(&err, TestError::Job(JobError::ProbeRefused { status: 401, said: Some(s) }) if s == "refused with 401"),
            "{err}"
        );
        let text = err.to_string();
        assert!(text.starts_with("the hub refused the write of a probe file (401): it does not accept a token made for the challenge text its hub_info announces"), "{text}");
        assert!(
            text.ends_with("The hub said: \u{201c}refused with 401\u{201d}"),
            "{text}"
        );
        hubs.new.refuse_stores.set(None);
        hubs.new.dead.set(true);
        assert!(block(check_hub(&hubs, &identity.key, &hubs.new.hub_url, "p.txt")).is_err());
    }

    #[test]
    fn a_hubs_refusal_is_quoted_short_and_never_as_a_web_page() {
        use cairn_core::jobs::calls::hub_said;
        assert_eq!(
            hub_said(
                r#"{"message":"Address X not authorized for writes","error":"ValidationError"}"#
            )
            .as_deref(),
            Some("Address X not authorized for writes")
        );
        assert_eq!(
            hub_said("Quota exceeded\n").as_deref(),
            Some("Quota exceeded")
        );
        assert_eq!(hub_said(r#"{"error":"refused"}"#), None);
        assert_eq!(hub_said("<html><body>502 Bad Gateway</body></html>"), None);
        assert_eq!(hub_said("  "), None);
        let long = hub_said(&"x".repeat(1000)).unwrap();
        assert_eq!(long.chars().count(), 301);
        assert!(long.ends_with('\u{2026}'));
    }
}

mod exporting {
    use super::*;
    use cairn_core::collections::settings::SETTINGS_PATH;
    use cairn_core::jobs::export::{
        ExportedBucket, ExportedFile, bucket_folder, decrypted, entry_path, manifest,
    };
    use cairn_core::jobs::migration::{BucketKind, buckets};

    #[test]
    fn the_export_opens_what_cairn_can_and_never_a_key_file() {
        let (hub, kc) = (MemHub::new(), keychain());
        let (file, collection) = setup(&hub, &kc, 2);
        let s = settings(&hub, &file);
        let (found, _) = buckets(&kc, 0, &s, &[]).unwrap();
        let identity = &found[0];
        let app_b = found
            .iter()
            .find(|b| matches!(&b.kind, BucketKind::App { origin, .. } if origin == B))
            .unwrap();
        let coll = found
            .iter()
            .find(|b| b.address == collection.address)
            .unwrap();

        // The settings file: opened, as JSON.
        let body = hub.get(&identity.address, SETTINGS_PATH).unwrap();
        let open = decrypted(&kc, 0, &s, identity, SETTINGS_PATH, body.as_bytes()).unwrap();
        assert!(String::from_utf8(open).unwrap().contains(A));
        // A collection file: its plaintext.
        let body = hub.get(&coll.address, "collection/c001.json").unwrap();
        assert_eq!(
            decrypted(&kc, 0, &s, coll, "collection/c001.json", body.as_bytes()).unwrap(),
            b"{\"i\":1}"
        );
        // An app's own encrypted file: opened with the app key.
        let note = ecies::encrypt(
            &app_b.key.public_key(),
            b"note",
            true,
            CipherTextEncoding::Hex,
        )
        .unwrap()
        .to_json();
        assert_eq!(
            decrypted(&kc, 0, &s, app_b, "n.json", note.as_bytes()).unwrap(),
            b"note"
        );
        // The key file holds keys: never opened.
        let key_file = hub.get(&app_b.address, KEY_FILE_NAME).unwrap();
        assert_eq!(
            decrypted(&kc, 0, &s, app_b, KEY_FILE_NAME, key_file.as_bytes()),
            None
        );
        // Not encrypted, or not Cairn's to open: nothing.
        assert_eq!(decrypted(&kc, 0, &s, coll, "collection/x", b"plain"), None);
        assert_eq!(decrypted(&kc, 0, &s, identity, "profile.json", b"[]"), None);

        // Archive paths cannot climb out of their folder.
        assert_eq!(entry_path(&["a", "../b", "/c"]), "a/%2E%2E/b/%/c");
        assert!(
            !entry_path(&["x", "..", "."])
                .split('/')
                .any(|s| s == ".." || s == ".")
        );
        assert!(bucket_folder(0, coll).starts_with("identity-1/collection-contact-"));

        let m = manifest(
            "http://hub.test",
            "2026-12-03T00:00:00.000Z",
            &[ExportedBucket {
                index: 0,
                kind: coll.kind.clone(),
                address: coll.address.clone(),
                key_generation: Some(0),
                files: vec![ExportedFile {
                    name: "collection/c001.json".into(),
                    size: 3,
                    sha256: [1; 32],
                    content_type: "application/json".into(),
                    stored: "s".into(),
                    decrypted: Some("d".into()),
                }],
            }],
        );
        assert_eq!(m["buckets"][0]["kind"].as_str(), Some("collection"));
        assert_eq!(m["buckets"][0]["keyGeneration"].as_u64(), Some(0));
        assert_eq!(
            m["buckets"][0]["files"][0]["sha256"].as_str().map(str::len),
            Some(64)
        );
    }
}
