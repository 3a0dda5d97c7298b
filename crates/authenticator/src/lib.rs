//! The authenticator page's UI (compiled only for `wasm32`), written against
//! docs/AUTHENTICATOR_UI.md. The platform it runs on (IndexedDB, fetch, WebCrypto, the
//! tab session) is `cairn-browser`; what to write and why is `cairn-core`.
//!
//! `www/main.js` loads the module and calls [`start`] (`startAuthenticator`). The
//! [`App`] holds the state and renders one screen at a time into `<main id="cairn-root">`:
//! - `screens/` — one file per screen (welcome, create, restore, unlock, home with its
//!   sections, consent, bad request);
//! - `dom` — element builders; `kdf` — the Argon2id worker; `approve` — the hub writes
//!   of an approved sign-in (planned by [`cairn_core::protocol::signin`]); `collections`
//!   and `file_browser` — the hub work of the Permissions and Files screens.

#![cfg(target_arch = "wasm32")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod approve;
pub mod collections;
pub mod dom;
pub mod file_browser;
pub mod kdf;
#[cfg(feature = "wallet")]
pub mod rpc;
pub mod screens;
pub mod settings_guard;

use cairn_browser::{http, idb, session, wait};
use cairn_core::keys::keychain::Keychain;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use web_sys::{Element, Event, EventTarget};

/// The hub used when neither the user nor `config.json` names one.
pub const FALLBACK_HUB_URL: &str = "http://127.0.0.1:4000";

/// Non-secret preferences, kept in IndexedDB (`prefs` store, key `"prefs"`) as
/// `{hubUrl, identityCount, selected}`.
#[derive(Debug, Clone)]
pub struct Prefs {
    /// The user's Gaia hub URL, overriding `config.json`.
    pub hub_url: Option<String>,
    /// How many identities are shown (at least 1).
    pub identity_count: u32,
    /// The identity used for sign-in by default (0-based).
    pub selected: u32,
    /// The hub the data was moved away from, until its copy there is deleted.
    pub old_hub_url: Option<String>,
}

impl Prefs {
    /// The stored text.
    pub fn to_json(&self) -> String {
        cairn_core::support::json::to_string(&cairn_core::json!({
            "hubUrl": self.hub_url.as_deref(),
            "identityCount": self.identity_count,
            "selected": self.selected,
            "oldHubUrl": self.old_hub_url.as_deref(),
        }))
    }

    /// Reads the stored text; anything unreadable falls back to the defaults, field by
    /// field.
    pub fn from_json(text: &str) -> Prefs {
        let d = Prefs::default();
        let Ok(v) = cairn_core::support::json::from_str(text) else {
            return d;
        };
        let Ok(f) = cairn_core::support::json::Fields::of(&v, "the preferences") else {
            return d;
        };
        Prefs {
            hub_url: f.opt_str("hubUrl").ok().flatten().map(str::to_string),
            identity_count: f.u32("identityCount").unwrap_or(d.identity_count),
            selected: f.u32("selected").unwrap_or(d.selected),
            old_hub_url: f.opt_str("oldHubUrl").ok().flatten().map(str::to_string),
        }
    }
}

impl Default for Prefs {
    fn default() -> Self {
        Prefs {
            hub_url: None,
            identity_count: 1,
            selected: 0,
            old_hub_url: None,
        }
    }
}

/// The page's state.
#[derive(Default)]
pub struct State {
    /// The unlocked keychain (`None` while locked).
    pub keychain: Option<Rc<Keychain>>,
    /// Whether a vault exists.
    pub has_vault: bool,
    /// Preferences.
    pub prefs: Prefs,
    /// The hub URL from `config.json`.
    pub config_hub: String,
    /// The pending `authRequest` token, until the sign-in ends.
    pub request: Option<String>,
    /// Time of the last user activity (ms).
    pub last_activity: f64,
    /// When the session expiry was last pushed back (ms).
    pub last_touch: f64,
    /// The identity whose settings file was last found signed (no notice needed).
    pub settings_trusted: Option<u32>,
}

type Listener = Closure<dyn FnMut(Event)>;

/// The running page.
pub struct App {
    root: Element,
    listeners: RefCell<Vec<Listener>>,
    retired: RefCell<Vec<Listener>>,
    screen: Cell<u32>,
    /// The state.
    pub state: RefCell<State>,
}

/// Runs a future on the page's event loop.
pub fn spawn(f: impl Future<Output = ()> + 'static) {
    spawn_boxed(Box::pin(f));
}

/// An event handler's task, type-erased.
type Task = Rc<dyn Fn(Rc<App>) -> std::pin::Pin<Box<dyn Future<Output = ()>>>>;

/// `f` as a [`Task`].
fn boxed_task<F, Fut>(f: F) -> Task
where
    F: Fn(Rc<App>) -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    Rc::new(move |app| Box::pin(f(app)))
}

// One instance of the executor's spawn for every task: spawning each future type
// directly would copy the task machinery per call site (about 12 KB of module).
fn spawn_boxed(f: std::pin::Pin<Box<dyn Future<Output = ()>>>) {
    wasm_bindgen_futures::spawn_local(f);
}

impl App {
    /// Replaces the screen with `nodes` and moves focus to its first heading.
    /// Returns the new screen's number (see [`App::is_current`]).
    pub fn show(&self, nodes: &[Element]) -> u32 {
        // The old screen's listeners are kept one more screen: the handler that called
        // `show` may still be running.
        let old = self.listeners.take();
        *self.retired.borrow_mut() = old;
        dom::clear(&self.root);
        for n in nodes {
            let _ = self.root.append_child(n);
        }
        if let Ok(Some(h)) = self.root.query_selector(".screen-heading") {
            dom::focus(&h);
        }
        if let Some(w) = web_sys::window() {
            w.scroll_to_with_x_and_y(0.0, 0.0);
        }
        let n = self.screen.get().wrapping_add(1);
        self.screen.set(n);
        n
    }

    /// Whether screen `n` is still the one shown.
    pub fn is_current(&self, n: u32) -> bool {
        self.screen.get() == n
    }

    /// Adds an event listener that lives as long as the current screen.
    pub fn on(&self, target: &EventTarget, event: &str, f: impl FnMut(Event) + 'static) {
        self.on_boxed(target, event, Box::new(f));
    }

    // Not generic, so that the listener plumbing exists once in the module.
    fn on_boxed(&self, target: &EventTarget, event: &str, f: Box<dyn FnMut(Event)>) {
        let c = Closure::wrap(f);
        let _ = target.add_event_listener_with_callback(event, c.as_ref().unchecked_ref());
        self.listeners.borrow_mut().push(c);
    }

    /// A click handler that runs an async task.
    pub fn on_click<F, Fut>(self: &Rc<Self>, target: &EventTarget, f: F)
    where
        F: Fn(Rc<App>) -> Fut + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        self.on_click_boxed(target, boxed_task(f));
    }

    /// Like [`App::on_click`], and also on Enter in any of `fields`.
    pub fn on_submit<F, Fut>(self: &Rc<Self>, button: &EventTarget, fields: &[&EventTarget], f: F)
    where
        F: Fn(Rc<App>) -> Fut + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        self.on_submit_boxed(button, fields, boxed_task(f));
    }

    // The two below are not generic: one copy of the listener closures in the module
    // for the dozens of handlers (each generic copy cost about 300 bytes).
    fn on_click_boxed(self: &Rc<Self>, target: &EventTarget, f: Task) {
        let app = self.clone();
        self.on(target, "click", move |_| spawn_boxed(f(app.clone())));
    }

    fn on_submit_boxed(self: &Rc<Self>, button: &EventTarget, fields: &[&EventTarget], f: Task) {
        self.on_click_boxed(button, f.clone());
        for field in fields {
            let app = self.clone();
            let btn = button.clone();
            let f = f.clone();
            self.on(field, "keydown", move |e| {
                let enter = js_sys::Reflect::get(&e, &"key".into())
                    .ok()
                    .and_then(|k| k.as_string())
                    .is_some_and(|k| k == "Enter");
                let disabled = js_sys::Reflect::get(&btn, &"disabled".into())
                    .ok()
                    .and_then(|d| d.as_bool())
                    .unwrap_or(false);
                if enter && !disabled {
                    e.prevent_default();
                    spawn_boxed(f(app.clone()));
                }
            });
        }
    }

    /// The Gaia hub URL in use: the user's choice, else `config.json`'s.
    pub fn hub_url(&self) -> String {
        let s = self.state.borrow();
        s.prefs
            .hub_url
            .clone()
            .unwrap_or_else(|| s.config_hub.clone())
    }

    /// The unlocked keychain.
    pub fn keychain(&self) -> Option<Rc<Keychain>> {
        self.state.borrow().keychain.clone()
    }

    /// Saves the preferences.
    pub async fn save_prefs(&self) {
        let text = self.state.borrow().prefs.to_json();
        let _ = idb::put(idb::PREFS, idb::PREFS, &text.into()).await;
    }

    /// Unlocks with `phrase`: derives the keychain, starts this tab's session, and
    /// shows what comes next (consent or home).
    pub async fn unlocked(self: &Rc<Self>, phrase: &str) -> Result<(), cairn_browser::Error> {
        let keychain = Keychain::from_mnemonic(phrase)?;
        {
            let mut s = self.state.borrow_mut();
            s.keychain = Some(Rc::new(keychain));
            s.has_vault = true;
            s.last_activity = wait::now_ms();
            s.last_touch = s.last_activity;
        }
        // Without a session the page still works; it just asks again after a reload.
        let _ = session::start(phrase).await;
        self.route();
        // Unfinished collection operations (revocations) resume after unlock.
        collections::resume_pending(self);
        Ok(())
    }

    /// Locks: forgets the keychain, ends the session, shows the unlock screen. A job
    /// that holds the keychain (revocation, re-encryption, undo) stops after the file
    /// in flight; its journal resumes it after the next unlock.
    pub async fn lock(self: &Rc<Self>) {
        if let Some(job) = collections::current_job() {
            job.cancel.set(true);
        }
        {
            let mut s = self.state.borrow_mut();
            s.keychain = None;
            s.settings_trusted = None;
        }
        let _ = session::end().await;
        self.route();
    }

    /// Shows the screen the state calls for.
    pub fn route(self: &Rc<Self>) {
        let (has_vault, unlocked, request) = {
            let s = self.state.borrow();
            (s.has_vault, s.keychain.is_some(), s.request.clone())
        };
        // Inside a frame the page does nothing at all (clickjacking): no consent, no
        // Secret Key, no settings.
        if is_framed() {
            return screens::consent::show_framed(self);
        }
        // "Your data": its own page and module.
        #[cfg(feature = "data")]
        if data_page() {
            return if !has_vault {
                screens::welcome::show(self)
            } else if !unlocked {
                screens::unlock::show(self)
            } else {
                screens::data::show(self)
            };
        }
        // The wallet interface's popup: its own screens, never a sign-in or Home.
        #[cfg(feature = "wallet")]
        if rpc::active() {
            return if !has_vault {
                screens::welcome::show(self)
            } else if !unlocked {
                screens::unlock::show(self)
            } else if let Some((origin, req)) = rpc::current() {
                screens::wallet::show(self, origin, req)
            } else {
                screens::wallet::show_waiting(self)
            };
        }
        if let Some(token) = request {
            let sender = referrer_origin();
            match cairn_core::protocol::auth::verify_auth_request(
                &token,
                sender.as_deref(),
                wait::now_ms() as i64,
            ) {
                Err(e) => return screens::bad_request::show(self, &e.to_string()),
                Ok(req) if has_vault && unlocked => return screens::consent::show(self, req),
                Ok(_) => {}
            }
        }
        if !has_vault {
            screens::welcome::show(self);
        } else if !unlocked {
            screens::unlock::show(self);
        } else {
            screens::home::show(self);
        }
    }

    /// Ends the sign-in in progress: forgets the request and drops it from the URL.
    pub fn end_sign_in(&self) {
        self.state.borrow_mut().request = None;
        if let Some(w) = web_sys::window()
            && let Ok(path) = w.location().pathname()
            && let Ok(history) = w.history()
        {
            let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&path));
        }
    }

    fn note_activity(self: &Rc<Self>) {
        let now = wait::now_ms();
        let touch = {
            let mut s = self.state.borrow_mut();
            s.last_activity = now;
            let due = s.keychain.is_some() && now - s.last_touch > 30_000.0;
            if due {
                s.last_touch = now;
            }
            due
        };
        if touch {
            spawn(async {
                let _ = session::touch().await;
            });
        }
    }

    fn check_idle(self: &Rc<Self>) {
        let idle = {
            let s = self.state.borrow();
            s.keychain.is_some() && wait::now_ms() - s.last_activity >= session::IDLE_LOCK_MS
        };
        if idle {
            let app = self.clone();
            spawn(async move { app.lock().await });
        }
    }
}

/// Whether this is "Your data" (`/data.html`).
#[cfg(feature = "data")]
fn data_page() -> bool {
    web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .is_some_and(|p| p == "/data.html")
}

/// Whether this is the wallet interface's popup (`/rpc.html`).
fn in_popup() -> bool {
    #[cfg(feature = "wallet")]
    return rpc::active();
    #[cfg(not(feature = "wallet"))]
    false
}

/// Whether the page runs inside a frame.
pub fn is_framed() -> bool {
    let Some(w) = web_sys::window() else {
        return false;
    };
    match w.top() {
        Ok(Some(top)) => !js_sys::Object::is(&top, &w),
        // No access to `top` at all: certainly framed by someone else.
        _ => true,
    }
}

/// The origin of the page that sent the user here (`document.referrer`), when the
/// browser tells it and it is another site: a sign-in request must come from the app it
/// names. Unknown (no referrer, e.g. a `no-referrer` policy) means the check is skipped.
fn referrer_origin() -> Option<String> {
    let w = web_sys::window()?;
    let referrer = w.document()?.referrer();
    let from = cairn_core::support::http_url::HttpUrl::parse(&referrer).ok()?;
    let own = w.location().origin().ok()?;
    (from.origin() != own).then(|| from.origin())
}

/// The `authRequest` query parameter of the page's URL (the `blockstack:` prefix is
/// stripped by the verifier).
fn request_from_url() -> Option<String> {
    // The browser's own query parser (URLSearchParams), so we read exactly what it does.
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()?
        .get("authRequest")
}

/// The default hub from `config.json` (`{"hubUrl": …}`).
async fn config_hub() -> String {
    let configured = match http::get_text("/config.json", 3000).await {
        Ok(text) => cairn_core::support::json::from_str(&text)
            .ok()
            .and_then(|c| c.get("hubUrl").and_then(|u| u.as_str().map(str::to_string))),
        Err(_) => None,
    };
    configured.unwrap_or_else(|| FALLBACK_HUB_URL.into())
}

/// Starts the authenticator in `<main id="cairn-root">`.
#[wasm_bindgen(js_name = startAuthenticator)]
pub async fn start() -> Result<(), JsValue> {
    let root = dom::document()
        .get_element_by_id("cairn-root")
        .ok_or("the page has no #cairn-root")?;
    let prefs = match idb::get_text(idb::PREFS, idb::PREFS).await {
        Ok(Some(t)) => Prefs::from_json(&t),
        _ => Prefs::default(),
    };
    let has_vault = idb::get_text(idb::VAULT, idb::VAULT).await?.is_some();
    let now = wait::now_ms();
    let app = Rc::new(App {
        root,
        listeners: RefCell::new(Vec::new()),
        retired: RefCell::new(Vec::new()),
        screen: Cell::new(0),
        state: RefCell::new(State {
            has_vault,
            prefs,
            config_hub: config_hub().await,
            request: request_from_url(),
            last_activity: now,
            last_touch: now,
            ..State::default()
        }),
    });
    if has_vault
        && let Ok(Some(phrase)) = session::resume().await
        && let Ok(k) = Keychain::from_mnemonic(&phrase)
    {
        app.state.borrow_mut().keychain = Some(Rc::new(k));
    }
    install_global_listeners(&app);
    #[cfg(feature = "wallet")]
    rpc::start(&app);
    app.route();
    // A tab session resumed (reload): unfinished collection operations resume too.
    collections::resume_pending(&app);
    Ok(())
}

/// Activity tracking, the idle timer and hash navigation: for the page's lifetime.
fn install_global_listeners(app: &Rc<App>) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let doc = dom::document();
    for event in ["pointerdown", "keydown"] {
        let a = app.clone();
        let c = Closure::<dyn FnMut(Event)>::new(move |_| a.note_activity());
        let _ = doc.add_event_listener_with_callback(event, c.as_ref().unchecked_ref());
        c.forget();
    }
    let a = app.clone();
    let tick = Closure::<dyn FnMut()>::new(move || a.check_idle());
    let _ = window.set_interval_with_callback_and_timeout_and_arguments_0(
        tick.as_ref().unchecked_ref(),
        10_000,
    );
    tick.forget();
    let a = app.clone();
    let hash = Closure::<dyn FnMut(Event)>::new(move |_| {
        let s = a.state.borrow();
        let home = s.keychain.is_some() && s.request.is_none() && !in_popup();
        drop(s);
        if home {
            screens::home::show(&a);
        }
    });
    let _ = window.add_event_listener_with_callback("hashchange", hash.as_ref().unchecked_ref());
    hash.forget();
}
