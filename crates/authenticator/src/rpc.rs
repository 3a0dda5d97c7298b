//! The wallet interface's transport (docs/AUTHENTICATOR_UI.md, "Wallet interface"):
//! the page at `/rpc.html` is a popup opened by `/provider.js` in an app's page, and
//! takes JSON-RPC requests from it by `postMessage`.
//!
//! Every message is hostile input. One is read only when it comes from the window that
//! opened this popup (`event.source === window.opener`), from an http(s) origin other
//! than Cairn's; the first such origin binds the popup, and the app's origin is never
//! taken from anything but `event.origin`. Ids already seen are ignored (replays).
//! Answers go to the opener only, with that origin as the target (never `'*'`).
//! Requests are handled one at a time; the popup closes itself when none is left.

use super::{App, screens, spawn};
use cairn_browser::wait;
use cairn_core::protocol::wallet_rpc::{self, Refusal, Request, RpcError};
use cairn_core::support::http_url::HttpUrl;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use web_sys::{MessageEvent, Window};

/// The popup's path.
pub const RPC_PATH: &str = "/rpc.html";

/// Requests one popup reads at most.
const MAX_REQUESTS: usize = 1000;

#[derive(Default)]
struct Rpc {
    /// The app's origin (from the first accepted message's `event.origin`).
    origin: RefCell<Option<String>>,
    /// Ids seen so far (JSON text).
    seen: RefCell<Vec<String>>,
    /// Requests waiting their turn.
    queue: RefCell<Vec<Request>>,
    /// The request being shown.
    current: RefCell<Option<Request>>,
    /// Answered requests (the popup closes when nothing is left).
    answered: Cell<u32>,
}

thread_local! {
    static RPC: RefCell<Option<Rc<Rpc>>> = const { RefCell::new(None) };
}

fn rpc() -> Option<Rc<Rpc>> {
    RPC.with(|r| r.borrow().clone())
}

/// Whether this page is the wallet interface's popup.
pub fn active() -> bool {
    rpc().is_some()
}

fn opener() -> Option<Window> {
    let o = web_sys::window()?.opener().ok()?;
    (!o.is_null() && !o.is_undefined()).then(|| o.unchecked_into())
}

/// The app's origin and the request on screen.
pub fn current() -> Option<(String, Request)> {
    let r = rpc()?;
    let origin = r.origin.borrow().clone()?;
    let req = r.current.borrow().clone()?;
    Some((origin, req))
}

/// Starts the transport when the page is `/rpc.html`: listens for requests and tells
/// the opener the popup is ready.
pub fn start(app: &Rc<App>) {
    let Some(w) = web_sys::window() else { return };
    if w.location().pathname().ok().as_deref() != Some(RPC_PATH) {
        return;
    }
    RPC.with(|r| *r.borrow_mut() = Some(Rc::new(Rpc::default())));
    let a = app.clone();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        receive(&a, &e);
    });
    let _ = w.add_event_listener_with_callback("message", on_message.as_ref().unchecked_ref());
    on_message.forget();
    // "Ready" carries nothing secret; it goes only to the origin the provider said it
    // has (`#origin=…`): if that is not the opener's real origin, the browser drops it.
    let claimed = w
        .location()
        .hash()
        .ok()
        .and_then(|h| h.strip_prefix("#origin=").map(str::to_string))
        .and_then(|o| js_sys::decode_uri_component(&o).ok())
        .and_then(|o| o.as_string())
        .and_then(|o| HttpUrl::parse(&o).ok().map(|u| u.origin()));
    if let (Some(target), Some(op)) = (claimed, opener()) {
        post(&op, r#"{"jsonrpc":"2.0","method":"cairn_ready"}"#, &target);
    }
}

fn post(to: &Window, text: &str, origin: &str) {
    if let Ok(v) = js_sys::JSON::parse(text) {
        let _ = to.post_message(&v, origin);
    }
}

fn receive(app: &Rc<App>, e: &MessageEvent) {
    let (Some(r), Some(op)) = (rpc(), opener()) else {
        return;
    };
    // Only the window that opened this popup.
    match e.source() {
        Some(src) if js_sys::Object::is(&src, &op) => {}
        _ => return,
    }
    let origin = e.origin();
    let own = web_sys::window().and_then(|w| w.location().origin().ok());
    let Ok(url) = HttpUrl::parse(&origin) else {
        return;
    };
    if url.origin() != origin || own.as_deref() == Some(origin.as_str()) {
        return;
    }
    if let Some(bound) = r.origin.borrow().as_deref()
        && bound != origin
    {
        return;
    }
    let Ok(text) = js_sys::JSON::stringify(&e.data()) else {
        return;
    };
    let Some(text) = text.as_string() else { return };
    let id_of = |id: &cairn_core::support::json::Value| cairn_core::support::json::to_string(id);
    let parsed = wallet_rpc::parse_request(&text);
    let id = match &parsed {
        Ok(req) => id_of(&req.id),
        Err(Refusal::Error(id, _)) => id_of(id),
        // `Refusal::Ignore`: nothing is posted back.
        Err(_) => return,
    };
    {
        let mut seen = r.seen.borrow_mut();
        // A window that sends this many requests is not a person's app.
        if seen.len() >= MAX_REQUESTS || seen.contains(&id) {
            return;
        }
        seen.push(id);
    }
    r.origin.borrow_mut().get_or_insert(origin.clone());
    match parsed {
        Ok(req) => {
            r.queue.borrow_mut().push(req);
            if r.current.borrow().is_none() {
                next(app);
            }
        }
        Err(Refusal::Error(id, err)) => {
            post(&op, &wallet_rpc::answer_error(&id, &err), &origin);
            // Nothing else to do: the popup closes.
            if r.current.borrow().is_none() && r.queue.borrow().is_empty() {
                r.answered.set(r.answered.get().wrapping_add(1));
                next(app);
            }
        }
        Err(_) => {}
    }
}

/// Shows the next request, or closes the popup when none is left.
fn next(app: &Rc<App>) {
    let Some(r) = rpc() else { return };
    let req = {
        let mut q = r.queue.borrow_mut();
        (!q.is_empty()).then(|| q.remove(0))
    };
    let done = req.is_none();
    *r.current.borrow_mut() = req;
    if !done {
        // Locked (or not set up): the screen shown leads to the request once unlocked.
        if app.keychain().is_some() {
            app.route();
        }
        return;
    }
    screens::wallet::show_done(app);
    let seen = r.answered.get();
    spawn(async move {
        wait::sleep(300).await;
        // Close unless a new request arrived meanwhile.
        if r.current.borrow().is_none()
            && r.answered.get() == seen
            && let Some(w) = web_sys::window()
        {
            let _ = w.close();
        }
    });
}

/// Answers the request on screen (`Ok(result)` or an error) and moves on.
pub fn finish(app: &Rc<App>, outcome: Result<cairn_core::support::json::Value, RpcError>) {
    let Some(r) = rpc() else { return };
    let Some(req) = r.current.borrow_mut().take() else {
        return;
    };
    let origin = r.origin.borrow().clone();
    if let (Some(op), Some(origin)) = (opener(), origin) {
        let text = match outcome {
            Ok(v) => wallet_rpc::answer(&req.id, v),
            Err(e) => wallet_rpc::answer_error(&req.id, &e),
        };
        post(&op, &text, &origin);
    }
    r.answered.set(r.answered.get().wrapping_add(1));
    next(app);
}
