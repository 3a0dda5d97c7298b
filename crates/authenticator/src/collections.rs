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
use cairn_browser::jobs::BrowserHub;
use cairn_browser::wait::{now_ms, sleep};
use cairn_browser::webcrypto::WebCrypto;
use cairn_browser::{Error, ErrorKind};
use cairn_core::collections::settings::{AccessMode, Settings};
use cairn_core::collections::{HandOff, HubContext, Revocation, grant_collections, random_salt};
use cairn_core::jobs::key_files;
use cairn_core::jobs::revocation::{Monitor, RevocationRun};
use cairn_core::jobs::settings_file::SettingsFile;
use cairn_core::jobs::{Env, HubResponse, calls};
use cairn_core::keys::PrivateKey;
use cairn_core::keys::keychain::{Identity, Keychain};
use cairn_core::protocol::gaia::HubInfo;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

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
    /// The identity's settings file.
    settings: SettingsFile,
}

impl Ctx {
    /// Asks the hub for its info and lists the identity bucket once.
    pub async fn new(keychain: &Keychain, index: u32, hub_url: &str) -> Result<Ctx, Error> {
        let identity = keychain.identity(index)?;
        let info = calls::hub_info(&BrowserHub, hub_url).await?;
        let settings = SettingsFile::probe(&BrowserHub, &identity, hub_url, &info).await;
        Ok(Self::with_file(identity, index, hub_url, info, settings))
    }

    fn with_file(
        identity: Identity,
        index: u32,
        hub_url: &str,
        info: HubInfo,
        settings: SettingsFile,
    ) -> Ctx {
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
            settings,
        }
    }

    /// The identity bucket's unscoped token.
    pub fn token(&self) -> &str {
        self.settings.token()
    }

    /// Reads the settings (a missing file is the default settings).
    pub async fn load_settings(&self) -> Result<Settings, Error> {
        Ok(self.settings.load(&BrowserHub, &WebCrypto).await?.0)
    }

    /// The settings file as stored (`None` when there is none), unchecked.
    pub async fn read_settings_file(&self) -> Result<Option<HubResponse>, Error> {
        self.settings.read_raw(&BrowserHub).await
    }

    /// Replaces the settings file with `settings`, signed, if it is still the version
    /// with `etag` (`None`: if there is none).
    pub async fn replace_settings(
        &self,
        settings: &Settings,
        etag: Option<&str>,
    ) -> Result<(), Error> {
        self.settings
            .replace(&BrowserHub, &WebCrypto, settings, etag)
            .await
    }

    /// Read, apply `f`, write with `If-Match` (or `If-None-Match: *`); on 412 again
    /// from a fresh read, through the core's one loop ([`SettingsFile::update`]).
    /// Returns what `f` returned on the attempt that was stored, and the stored settings.
    pub async fn update_settings<T>(
        &self,
        f: &mut dyn FnMut(&mut Settings) -> Result<T, Error>,
    ) -> Result<(T, Settings), Error> {
        let mut out = None;
        let settings = self
            .settings
            .update(&BrowserHub, &WebCrypto, &mut |s| {
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

    /// The time (ms) to mint a collection bucket's tokens at: now, or the hub's
    /// revocation time of the bucket when that is later (set by another device whose
    /// clock runs ahead): a token issued before it would be dead on arrival.
    pub async fn token_time(&self, keychain: &Keychain, collection: &str) -> Result<i64, Error> {
        let bucket = keychain
            .collection_bucket_key(self.index, collection)?
            .public_key()
            .address();
        let revoked =
            calls::revoked_before(&BrowserHub, &self.info.read_url_prefix, &bucket).await?;
        Ok((now_ms() as i64).max(revoked.saturating_mul(1000)))
    }

    /// The app key of `origin` for this identity.
    pub fn app_key(&self, keychain: &Keychain, origin: &str) -> Result<PrivateKey, Error> {
        keychain
            .app_private_key(self.index, origin)
            .map_err(Error::from)
    }

    /// Writes the hand-offs into the app's key file.
    pub async fn hand_off(
        &self,
        keychain: &Keychain,
        origin: &str,
        hand_offs: &[HandOff],
    ) -> Result<(), Error> {
        key_files::hand_off(
            &BrowserHub,
            &WebCrypto,
            keychain,
            self.index,
            &self.hub,
            origin,
            hand_offs,
        )
        .await
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

/// The screen's side of a running revocation.
impl Monitor for Job {
    fn say(&self, text: &str) {
        *self.detail.borrow_mut() = text.to_string();
        self.changed();
    }

    fn files(&self, done: u64, total: u64) {
        self.done.set(done);
        self.total.set(total);
        self.changed();
    }

    fn cancelled(&self) -> bool {
        self.cancel.get()
    }

    fn now_ms(&self) -> i64 {
        now_ms() as i64
    }
}

/// Executes the remaining steps of `r` in the core's revocation job, over the page's
/// one transport.
async fn execute(
    keychain: &Keychain,
    ctx: &Ctx,
    r: Revocation,
    job: &Job,
) -> Result<Revocation, Error> {
    RevocationRun {
        env: Env {
            hub: &BrowserHub,
            bulk: &WebCrypto,
            keychain,
            index: ctx.index,
        },
        ctx: &ctx.hub,
        settings: &ctx.settings,
        monitor: job,
    }
    .execute(r)
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
            // An unfinished move to another hub resumes on "Your data" (its own module).
            if settings.journal.has_op("move")
                && let Some(w) = web_sys::window()
                && w.location().pathname().ok().as_deref() != Some("/data.html")
            {
                let _ = w.location().set_href("/data.html#resume");
                return;
            }
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
