//! The browser runner of collection plans (COLLECTIONS.md §3–§6): the settings file
//! read-apply-write loop, key-file hand-offs into apps' buckets, and revocations
//! (and downgrades) executed step by step from the journal. What to write is decided
//! by [`cairn_core::collections`]; this module only fetches and stores.
//!
//! One operation runs at a time per page ([`current_job`]); the permission manager
//! shows its progress and can cancel it between files. The journal lives in the
//! settings file on the hub, so a closed tab or a failing hub only pauses it: the next
//! unlock (or a visit to Permissions) resumes it ([`resume_pending`]).

use super::{App, spawn};
use cairn_browser::http::{self, Stored};
use cairn_browser::jobs::{self, Rewrite};
use cairn_browser::wait::{now_ms, sleep};
use cairn_browser::webcrypto::WebCrypto;
use cairn_browser::{Call, Error, ErrorKind};
use cairn_core::collections::settings::{AccessMode, Grant, SETTINGS_PATH, Settings};
use cairn_core::collections::{
    CollectionKeys, HandOff, HubContext, KEY_FILE_NAME, Revocation, RevocationStep,
    grant_collections, owner_token, random_salt, update_key_file_async,
};
use cairn_core::jobs::hub_io::Condition;
use cairn_core::keys::PrivateKey;
use cairn_core::keys::keychain::{Identity, Keychain};
use cairn_core::protocol::gaia::RevokeAllRequest;
use cairn_core::protocol::gaia::{HubInfo, V1TokenOptions, make_v1_token};
use cairn_core::protocol::hub_urls::revoke_all_url;
use cairn_core::protocol::signin::{SETTINGS_ATTEMPTS, read_url, store_url};
use cairn_core::support::encoding::to_hex;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

/// Settings writes between progress saves while re-encrypting.
const SAVE_EVERY: u64 = 25;
/// Attempts of one file write on 412/409.
const FILE_ATTEMPTS: u32 = 4;

/// One identity's view of the hub: what the runner needs for every call.
pub struct Ctx {
    /// Hub write URL.
    pub hub_url: String,
    /// `/hub_info`.
    pub info: HubInfo,
    /// The same, as the core wants it.
    pub hub: HubContext,
    /// Identity index.
    pub index: u32,
    /// The identity (key and bucket address).
    pub identity: Identity,
    /// An unscoped token for the identity bucket.
    pub token: String,
    /// Whether the settings file may exist (false once a listing showed it does not).
    may_exist: Cell<bool>,
}

impl Ctx {
    /// Asks the hub for its info and lists the identity bucket once.
    pub async fn new(keychain: &Keychain, index: u32, hub_url: &str) -> Result<Ctx, Error> {
        let identity = keychain.identity(index)?;
        let info = http::hub_info(hub_url).await?;
        Ok(Self::with_info(identity, index, hub_url, info, None).await)
    }

    /// From a known `/hub_info` (and, if known, the identity bucket's file names).
    pub async fn with_info(
        identity: Identity,
        index: u32,
        hub_url: &str,
        info: HubInfo,
        names: Option<&[String]>,
    ) -> Ctx {
        let token = make_v1_token(
            &identity.key,
            &info.challenge_text,
            &V1TokenOptions {
                hub_url: Some(hub_url.to_string()),
                ..V1TokenOptions::default()
            },
        );
        let may_exist = match names {
            Some(n) => n.iter().any(|p| p == SETTINGS_PATH),
            // Listing first spares a 404 (which the browser logs as an error).
            None => http::list_files(hub_url, &identity.address, &token)
                .await
                .map(|n| n.iter().any(|p| p == SETTINGS_PATH))
                .unwrap_or(true),
        };
        Ctx {
            hub: HubContext {
                hub_url: hub_url.to_string(),
                read_url_prefix: info.read_url_prefix.clone(),
                challenge_text: info.challenge_text.clone(),
            },
            hub_url: hub_url.to_string(),
            info,
            index,
            identity,
            token,
            may_exist: Cell::new(may_exist),
        }
    }

    /// Reads the settings (a missing file is the default settings).
    pub async fn load_settings(&self) -> Result<Settings, Error> {
        Ok(self.read_settings().await?.0)
    }

    /// The settings file as stored (`None` when there is none), unchecked.
    pub async fn read_settings_file(&self) -> Result<Option<http::Answer>, Error> {
        if !self.may_exist.get() {
            return Ok(None);
        }
        http::read(&read_url(&self.info, &self.identity.address, SETTINGS_PATH)).await
    }

    /// Replaces the settings file with `settings`, signed, if it is still the version
    /// with `etag` (`None`: if there is none).
    pub async fn replace_settings(
        &self,
        settings: &Settings,
        etag: Option<&str>,
    ) -> Result<(), Error> {
        let store = store_url(&self.hub_url, &self.identity.address, SETTINGS_PATH);
        let body = settings.seal_async(&WebCrypto, &self.identity.key).await?;
        let condition = Condition::on_version(etag.is_some(), etag);
        match http::store(
            &store,
            &self.token,
            &body,
            "application/json",
            condition.as_ref().map(Condition::header),
        )
        .await?
        {
            Stored::Done => {
                self.may_exist.set(true);
                Ok(())
            }
            Stored::Conflict => Err(Error::from(ErrorKind::Changed {
                file: "your settings file".into(),
                retried: false,
            })),
        }
    }

    async fn read_settings(&self) -> Result<(Settings, Option<http::Answer>), Error> {
        match self.read_settings_file().await? {
            None => Ok((Settings::default(), None)),
            Some(a) => {
                let s = Settings::open_async(&WebCrypto, &a.body, &self.identity.key).await?;
                Ok((s, Some(a)))
            }
        }
    }

    /// Read, apply `f`, write with `If-Match` (or `If-None-Match: *`); on 412 again
    /// from a fresh read (at most [`SETTINGS_ATTEMPTS`] times), through the one loop
    /// ([`jobs::update_file`]). Returns what `f` returned on the attempt that was stored,
    /// and the stored settings.
    pub async fn update_settings<T>(
        &self,
        f: &mut dyn FnMut(&mut Settings) -> Result<T, Error>,
    ) -> Result<(T, Settings), Error> {
        // The loop itself is not generic (one copy in the page's module); only this
        // wrapper is, per result type.
        let mut out = None;
        let settings = self
            .change_settings(&mut |s| {
                out = Some(f(s)?);
                Ok(())
            })
            .await?;
        match out {
            Some(out) => Ok((out, settings)),
            // `f` runs before every write, so a stored file always has its result.
            None => Err(Error::from(ErrorKind::Changed {
                file: "your settings file".into(),
                retried: true,
            })),
        }
    }

    async fn change_settings(
        &self,
        f: &mut dyn FnMut(&mut Settings) -> Result<(), Error>,
    ) -> Result<Settings, Error> {
        let key = &self.identity.key;
        let stored = jobs::update_file(
            &read_url(&self.info, &self.identity.address, SETTINGS_PATH),
            &store_url(&self.hub_url, &self.identity.address, SETTINGS_PATH),
            &self.token,
            "application/json",
            self.may_exist.get(),
            SETTINGS_ATTEMPTS,
            "your settings file",
            async |existing| {
                let mut settings = match existing {
                    None => Settings::default(),
                    Some(a) => Settings::open_async(&WebCrypto, &a.body, key).await?,
                };
                f(&mut settings)?;
                let body = settings.seal_async(&WebCrypto, key).await?;
                Ok(Rewrite::Write {
                    body,
                    out: settings,
                })
            },
        )
        .await;
        if stored.is_ok() {
            self.may_exist.set(true);
        }
        stored
    }

    /// The time (ms) to mint a collection bucket's tokens at: now, or the hub's
    /// revocation time of the bucket when that is later (set by another device whose
    /// clock runs ahead): a token issued before it would be dead on arrival.
    pub async fn token_time(&self, keychain: &Keychain, collection: &str) -> Result<i64, Error> {
        let bucket = keychain
            .collection_bucket_key(self.index, collection)?
            .public_key()
            .address();
        let revoked = http::revoked_before(&self.info.read_url_prefix, &bucket).await?;
        Ok((now_ms() as i64).max(revoked.saturating_mul(1000)))
    }

    /// The app key of `origin` for this identity.
    pub fn app_key(&self, keychain: &Keychain, origin: &str) -> Result<PrivateKey, Error> {
        keychain
            .app_private_key(self.index, origin)
            .map_err(Error::from)
    }

    /// Sets or removes collection entries in an app's `.collections.keys` (in the
    /// app's own bucket), with `If-Match` and a fresh read on 412.
    pub async fn write_key_file(
        &self,
        app_key: &PrivateKey,
        changes: &[(String, Option<cairn_core::collections::KeyFileEntry>)],
    ) -> Result<(), Error> {
        let address = app_key.public_key().address();
        let token = make_v1_token(
            app_key,
            &self.info.challenge_text,
            &V1TokenOptions {
                hub_url: Some(self.hub_url.clone()),
                ..V1TokenOptions::default()
            },
        );
        let may_exist = http::list_files(&self.hub_url, &address, &token)
            .await
            .map(|n| n.iter().any(|p| p == KEY_FILE_NAME))
            .unwrap_or(true);
        let changes: Vec<(&str, Option<&cairn_core::collections::KeyFileEntry>)> = changes
            .iter()
            .map(|(n, e)| (n.as_str(), e.as_ref()))
            .collect();
        jobs::update_file(
            &read_url(&self.info, &address, KEY_FILE_NAME),
            &store_url(&self.hub_url, &address, KEY_FILE_NAME),
            &token,
            "application/json",
            may_exist,
            FILE_ATTEMPTS,
            "the app's key file",
            async |existing| {
                if existing.is_none() && changes.iter().all(|(_, e)| e.is_none()) {
                    // Nothing to remove from a file that does not exist.
                    return Ok(Rewrite::Keep(()));
                }
                let body = update_key_file_async(
                    &WebCrypto,
                    existing.map(|a| a.body.as_str()),
                    app_key,
                    &changes,
                )
                .await?;
                Ok(Rewrite::Write { body, out: () })
            },
        )
        .await
    }

    /// Writes the hand-offs into the app's key file.
    pub async fn hand_off(
        &self,
        keychain: &Keychain,
        origin: &str,
        hand_offs: &[HandOff],
    ) -> Result<(), Error> {
        if hand_offs.is_empty() {
            return Ok(());
        }
        let app_key = self.app_key(keychain, origin)?;
        let changes = hand_offs
            .iter()
            .map(|h| {
                h.entry(keychain, self.index, &self.hub)
                    .map(|e| (h.collection.clone(), Some(e)))
                    .map_err(Error::from)
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.write_key_file(&app_key, &changes).await
    }
}

/// Grants a connected app access to a collection (read and write) and hands it the
/// keys.
pub async fn grant_existing(
    keychain: &Keychain,
    ctx: &Ctx,
    origin: &str,
    collection: &str,
    mode: AccessMode,
) -> Result<(), Error> {
    let now = ctx.token_time(keychain, collection).await?;
    let (hand_offs, _) = ctx
        .update_settings(&mut |s| {
            Ok(grant_collections(
                s,
                origin,
                &[(collection.to_string(), mode)],
                now,
                random_salt,
            ))
        })
        .await?;
    ctx.hand_off(keychain, origin, &hand_offs).await
}

/// A running operation, shared with whichever screen shows it.
pub struct Job {
    /// The identity it runs for.
    pub identity: u32,
    /// What it is ("Revocation" …) — the progress bar's name comes from it.
    pub kind: String,
    /// The status line (what runs; says when it was resumed).
    pub status: RefCell<String>,
    /// The current step, in plain words.
    pub detail: RefCell<String>,
    /// Files done.
    pub done: Cell<u64>,
    /// Files to do (0 until listed).
    pub total: Cell<u64>,
    /// Set by Cancel; checked between files.
    pub cancel: Cell<bool>,
    /// Ended (successfully, cancelled or failed).
    pub ended: Cell<bool>,
    /// Why it stopped, when it did not finish.
    pub error: RefCell<Option<String>>,
    /// Called on every change (the screen's renderer).
    pub on_change: RefCell<Option<Rc<dyn Fn()>>>,
}

impl Job {
    /// Tells the screen showing it to update.
    pub fn changed(&self) {
        let f = self.on_change.borrow().clone();
        if let Some(f) = f {
            f();
        }
    }

    fn say(&self, text: &str) {
        *self.detail.borrow_mut() = text.to_string();
        self.changed();
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Rc<Job>>> = const { RefCell::new(None) };
}

/// The operation running (or last run) on this page.
pub fn current_job() -> Option<Rc<Job>> {
    CURRENT.with(|c| c.borrow().clone())
}

/// Whether an operation is running now.
pub fn busy() -> bool {
    current_job().is_some_and(|j| !j.ended.get())
}

/// Starts running `r` (already journaled) in the background; `resumed` says it was
/// picked up from the journal. Returns the job, or `None` when one is running.
pub fn run(
    app: &Rc<App>,
    ctx: Rc<Ctx>,
    r: Revocation,
    app_name: String,
    resumed: bool,
) -> Option<Rc<Job>> {
    if busy() {
        return None;
    }
    let keychain = app.keychain()?;
    let job = Rc::new(Job {
        identity: ctx.index,
        kind: r.kind().to_string(),
        status: RefCell::new(r.status_line(&app_name, resumed)),
        detail: RefCell::new(String::new()),
        done: Cell::new(r.files_done),
        total: Cell::new(r.files_total),
        cancel: Cell::new(false),
        ended: Cell::new(false),
        error: RefCell::new(None),
        on_change: RefCell::new(None),
    });
    CURRENT.with(|c| *c.borrow_mut() = Some(job.clone()));
    let j = job.clone();
    spawn(async move {
        let app_name = app_name;
        let started = now_ms();
        let result = execute(&keychain, &ctx, r, &j).await;
        // Tenths of a second as integers: formatting an f64 would pull the float printer
        // into the page's wasm.
        let tenths = ((now_ms() - started) / 100.0).round() as u64;
        match result {
            Ok(r) => {
                let msg = format!(
                    "Done: {app_name} {} {} — key generation {} → {}; {} file(s) on the new key ({}.{} s).",
                    if r.downgrade {
                        "is now read-only on"
                    } else {
                        "can no longer use"
                    },
                    r.collection,
                    r.from_generation,
                    r.to_generation,
                    r.files_done,
                    tenths / 10,
                    tenths % 10
                );
                *j.status.borrow_mut() = msg;
                j.detail.borrow_mut().clear();
            }
            Err(e) => {
                let msg = if j.cancel.get() {
                    "Cancelled. The operation is saved unfinished and resumes when you choose Resume or unlock again.".to_string()
                } else {
                    let e = if e.is_unreachable() {
                        "your Gaia hub did not answer".to_string()
                    } else {
                        e.to_string()
                    };
                    format!(
                        "Stopped: {e}. Nothing is lost: the operation is saved and resumes when you choose Resume or unlock again."
                    )
                };
                *j.error.borrow_mut() = Some(msg);
            }
        }
        j.ended.set(true);
        j.changed();
    });
    Some(job)
}

/// Executes the remaining steps of `r`, saving progress in the journal after each.
async fn execute(
    keychain: &Keychain,
    ctx: &Ctx,
    mut r: Revocation,
    job: &Job,
) -> Result<Revocation, Error> {
    let keys = CollectionKeys::derive(keychain, ctx.index, &r.collection, r.to_generation)?;
    // Past the revoke-all: the authenticator's own bucket token must survive it.
    let owner = owner_token(&keys.bucket_key, &ctx.hub, r.oldest_valid.max(0) as u64);
    while let Some(step) = r.next_step() {
        match step {
            RevocationStep::RevokeAll => {
                job.say("Stopping every old token of the collection…");
                let url = revoke_all_url(&ctx.hub_url, &keys.address);
                let body = RevokeAllRequest {
                    oldest_valid_timestamp: r.oldest_valid.max(0) as u64,
                }
                .to_value();
                let a = http::post_json(&url, &owner, &body).await?;
                if !(200..300).contains(&a.status) {
                    return Err(Error::from(ErrorKind::Status {
                        call: Call::RevokeAll,
                        status: a.status,
                        url,
                    }));
                }
            }
            RevocationStep::RewriteKeyFiles => {
                let settings = ctx.load_settings().await?;
                for (origin, mode) in r.key_file_targets(&settings) {
                    let salt = match mode {
                        AccessMode::ReadWrite => to_hex(&r.salt_for(&origin, random_salt())),
                        AccessMode::Read => String::new(),
                    };
                    // Keep the chosen salts in the journal before handing tokens out.
                    save_progress_in(&r, ctx).await?;
                    let h = HandOff {
                        collection: r.collection.clone(),
                        generation: r.to_generation,
                        grant: Grant {
                            app: origin.clone(),
                            mode,
                            granted_at: 0,
                            token_salt: salt,
                            token_iat: r.oldest_valid,
                        },
                    };
                    let name = settings
                        .app(&origin)
                        .map(|a| a.display_name().to_string())
                        .unwrap_or_else(|| origin.clone());
                    job.say(&format!("Giving the new key to {name}…"));
                    ctx.hand_off(keychain, &origin, &[h]).await?;
                }
            }
            RevocationStep::RemoveRevokedEntry => {
                if !r.downgrade {
                    job.say("Removing the collection from the app's key file…");
                    let key = ctx.app_key(keychain, &r.app)?;
                    ctx.write_key_file(&key, &[(r.collection.clone(), None)])
                        .await?;
                }
            }
            RevocationStep::ReEncrypt => {
                if r.reencrypt_current || r.reencrypt_history {
                    reencrypt(ctx, &keys, &owner, &mut r, job).await?;
                }
            }
            RevocationStep::Finish => {
                let now = now_ms() as i64;
                ctx.update_settings(&mut |s| {
                    r.finish(s, &BTreeMap::new(), now);
                    Ok(())
                })
                .await?;
                r.complete(&step);
                break;
            }
        }
        r.complete(&step);
        save_progress_in(&r, ctx).await?;
    }
    Ok(r)
}

/// Saves a revocation's progress in the settings file's journal.
async fn save_progress_in(r: &Revocation, ctx: &Ctx) -> Result<(), Error> {
    ctx.update_settings(&mut |s| {
        r.save_progress(s);
        Ok(())
    })
    .await
    .map(|_| ())
}

/// Re-encrypts every wanted file of the collection bucket in place (unscoped owner
/// token, `If-Match` of what was read); files already at the new generation are
/// skipped, so a resumed run only does what is left.
async fn reencrypt(
    ctx: &Ctx,
    keys: &CollectionKeys,
    owner: &str,
    r: &mut Revocation,
    job: &Job,
) -> Result<(), Error> {
    let names = http::list_files(&ctx.hub_url, &keys.address, owner).await?;
    let wanted: Vec<String> = names.into_iter().filter(|n| r.wants_file(n)).collect();
    job.say(&format!(
        "Re-encrypting the files of {} with the new key…",
        r.collection
    ));
    r.files_total = wanted.len() as u64;
    r.files_done = 0;
    job.total.set(r.files_total);
    job.done.set(0);
    job.changed();
    let mut left_alone = 0u64;
    for (i, path) in wanted.iter().enumerate() {
        if job.cancel.get() {
            save_progress_in(r, ctx).await?;
            return Err(Error::from(ErrorKind::Cancelled));
        }
        if reencrypt_one(ctx, keys, owner, path).await? {
            // re-encrypted or already current
        } else {
            left_alone += 1;
        }
        r.files_done = i as u64 + 1;
        job.done.set(r.files_done);
        job.changed();
        if r.files_done.is_multiple_of(SAVE_EVERY) {
            save_progress_in(r, ctx).await?;
        }
    }
    if left_alone > 0 {
        job.say(&format!(
            "{left_alone} file(s) could not be decrypted with any key of the collection and were left as they are."
        ));
    }
    Ok(())
}

/// One file: read, re-encrypt if older, write back with `If-Match`, through the one
/// loop ([`jobs::update_file`]). `Ok(false)` when it cannot be decrypted at all (left
/// as it is); a file deleted meanwhile needs nothing.
async fn reencrypt_one(
    ctx: &Ctx,
    keys: &CollectionKeys,
    owner: &str,
    path: &str,
) -> Result<bool, Error> {
    jobs::update_file(
        &read_url(&ctx.info, &keys.address, path),
        &store_url(&ctx.hub_url, &keys.address, path),
        owner,
        "application/json",
        true,
        FILE_ATTEMPTS,
        path,
        async |existing| {
            let Some(a) = existing else {
                return Ok(Rewrite::Keep(true));
            };
            Ok(
                match keys.reencrypt_async(&WebCrypto, path, &a.body).await {
                    Ok(None) => Rewrite::Keep(true),
                    Ok(Some(body)) => Rewrite::Write { body, out: true },
                    Err(_) => Rewrite::Keep(false),
                },
            )
        },
    )
    .await
}

/// Starts a revocation (or downgrade) chosen in the UI: journals it, then runs it.
#[allow(clippy::too_many_arguments)]
pub async fn start_revocation(
    app: &Rc<App>,
    ctx: Rc<Ctx>,
    collection: &str,
    origin: &str,
    app_name: &str,
    downgrade: bool,
    current: bool,
    history: bool,
) -> Result<Rc<Job>, Error> {
    if busy() {
        return Err(Error::from(ErrorKind::Busy));
    }
    let keychain = app.keychain().ok_or(Error::from(ErrorKind::Locked))?;
    let now = ctx.token_time(&keychain, collection).await?;
    let (r, _) = ctx
        .update_settings(&mut |s| {
            if downgrade {
                Revocation::start_downgrade(s, collection, origin, now, current, history)
            } else {
                Revocation::start(s, collection, origin, now, current, history)
            }
            .map_err(Error::from)
        })
        .await?;
    run(app, ctx, r, app_name.to_string(), false).ok_or(Error::from(ErrorKind::Busy))
}

/// After unlock: looks for unfinished operations in each identity's journal and
/// resumes the first one found, showing Permissions.
pub fn resume_pending(app: &Rc<App>) {
    let Some(keychain) = app.keychain() else {
        return;
    };
    if app.state.borrow().request.is_some() {
        return;
    }
    let count = app.state.borrow().prefs.identity_count.max(1);
    let hub_url = app.hub_url();
    let app = app.clone();
    spawn(async move {
        // A job stopped by Lock ends after the file in flight; wait for it (briefly)
        // rather than skip the resume.
        for _ in 0..150 {
            if !busy() {
                break;
            }
            sleep(200).await;
        }
        if busy() || app.keychain().is_none() {
            return;
        }
        for index in 0..count {
            let Ok(ctx) = Ctx::new(&keychain, index, &hub_url).await else {
                return;
            };
            let Ok(settings) = ctx.load_settings().await else {
                continue;
            };
            let Some(r) = Revocation::pending(&settings).into_iter().next() else {
                continue;
            };
            if app.state.borrow().request.is_some() || busy() {
                return;
            }
            let name = settings
                .app(&r.app)
                .map(|a| a.display_name().to_string())
                .unwrap_or_else(|| r.app.clone());
            if app.state.borrow().prefs.selected != index {
                app.state.borrow_mut().prefs.selected = index;
                app.save_prefs().await;
            }
            if run(&app, Rc::new(ctx), r, name, true).is_some() {
                show_permissions(&app);
            }
            return;
        }
    });
}

/// Shows the Permissions section (navigating there if needed).
pub fn show_permissions(app: &Rc<App>) {
    if let Some(w) = web_sys::window() {
        let hash = w.location().hash().unwrap_or_default();
        if hash != "#/permissions" {
            // The hashchange listener shows it.
            let _ = w.location().set_hash("#/permissions");
            return;
        }
    }
    super::screens::home::show(app);
}
