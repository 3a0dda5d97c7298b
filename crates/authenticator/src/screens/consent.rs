//! Consent (sign-in): who asks, for what, with which identity; Approve or Deny.
//! Also the "Denied" and "Framed" screens.
//!
//! Approve is held disabled until the screen has been visible, in a focused window, for
//! [`APPROVE_DELAY_MS`] (a double-click begun on the app's page, or a window slipped
//! under the pointer, must not land on it). When the browser did not tell which page
//! sent the user (no referrer), the screen says that Cairn cannot confirm the origin.

use super::identities::picker;
use crate::dom::{actions, alert_region, button, el, heading, link, para, progress, say};
use crate::{App, approve};
use cairn_browser::{http, wait};
use cairn_core::protocol::auth::AuthRequest;
use cairn_core::protocol::signin::{
    AppDetails, MAX_MANIFEST_LEN, parse_manifest, scope_description,
};
use cairn_core::support::http_url::HttpUrl;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use web_sys::{Element, HtmlButtonElement, HtmlImageElement};

/// Approve becomes clickable this long after the consent screen is visible in a focused
/// window (and again after every time the window loses focus or is hidden).
pub const APPROVE_DELAY_MS: f64 = 500.0;

/// How often the window's focus and visibility are checked.
const GATE_POLL_MS: i32 = 50;

/// Whether the page is visible and its window has the focus.
fn page_active() -> bool {
    let d = crate::dom::document();
    !d.hidden() && d.has_focus().unwrap_or(false)
}

/// Whether the browser reported the page that sent the user here and it is `origin`.
/// (A referrer from another site was already checked against `domain_name` before this
/// screen; without one, nothing confirms where the request comes from.)
fn referrer_confirms(origin: &str) -> bool {
    let Some(referrer) = web_sys::window()
        .and_then(|w| w.document())
        .map(|d| d.referrer())
    else {
        return false;
    };
    match (HttpUrl::parse(&referrer), HttpUrl::parse(origin)) {
        (Ok(from), Ok(app)) => from.same_origin(&app),
        _ => false,
    }
}

/// Approve's state: clickable once the page has been active long enough, and not while
/// a sign-in runs.
#[derive(Default)]
pub struct Gate {
    /// Clickable now (the page has been active long enough).
    pub ready: Cell<bool>,
    /// An approval is running.
    pub busy: Cell<bool>,
}

impl Gate {
    /// Whether a click on Approve counts now.
    pub fn open(&self) -> bool {
        self.ready.get() && !self.busy.get()
    }
}

/// Holds `approve_btn` disabled until the page has been active for
/// [`APPROVE_DELAY_MS`], following focus and visibility while screen `screen` is shown.
pub fn arm(app: &Rc<App>, screen: u32, approve_btn: &HtmlButtonElement) -> Rc<Gate> {
    approve_btn.set_disabled(true);
    let gate = Rc::new(Gate::default());
    let (app, g, approve_btn) = (app.clone(), gate.clone(), approve_btn.clone());
    crate::spawn(async move {
        let mut active_since: Option<f64> = None;
        while app.is_current(screen) {
            let now = wait::now_ms();
            active_since = if page_active() {
                Some(active_since.unwrap_or(now))
            } else {
                None
            };
            let ready = active_since.is_some_and(|t| now - t >= APPROVE_DELAY_MS);
            if ready != g.ready.get() {
                g.ready.set(ready);
                if !g.busy.get() {
                    approve_btn.set_disabled(!ready);
                }
            }
            wait::sleep(GATE_POLL_MS).await;
        }
    });
    gate
}

/// Shows the consent screen for a verified request.
pub fn show(app: &Rc<App>, request: AuthRequest) {
    let Some(keychain) = app.keychain() else {
        return app.route();
    };
    let origin = request.domain_name.clone();
    let (count, selected) = {
        let p = &app.state.borrow().prefs;
        (p.identity_count.max(1), p.selected)
    };
    let chosen = Rc::new(Cell::new(selected.min(count - 1)));
    let details: Rc<RefCell<Option<AppDetails>>> = Rc::new(RefCell::new(None));

    let title = heading(2, &format!("Sign in to {origin}"));
    let unconfirmed = (!referrer_confirms(&origin)).then(|| {
        el("div")
            .class("unconfirmed")
            .attr("role", "note")
            .child(el("p").child(el("strong").text(&format!(
                "Cairn can't confirm that this request comes from {origin}"
            ))))
            .child(para(&format!(
                "Your browser did not say which page sent you here. Approve only if you \
                 started signing in on {origin} yourself, just now."
            )))
            .done()
    });
    let icon: HtmlImageElement = el("img").attr("alt", "").class("app-icon hidden").cast();
    let who = el("strong").text(&origin).done();
    let intro = el("p")
        .child(who.clone())
        .child(el("span").text(&format!(" at {origin} wants to:")))
        .done();
    let scopes = el("ul")
        .class("scopes")
        .children(
            request
                .scopes
                .iter()
                .map(|s| el("li").text(&scope_description(s))),
        )
        .done();
    let c = chosen.clone();
    let pick = picker(app, &keychain, count, chosen.get(), move |i| c.set(i));
    let approve_btn = button("Approve", true);
    approve_btn.set_disabled(true);
    let deny_btn = button("Deny", false);
    let alert = alert_region();
    let status = el("div").class("busy").done();
    let mut section = el("section")
        .class("card consent")
        .child(el("div").class("consent-head").child(&icon).child(&title));
    if let Some(warning) = unconfirmed {
        section = section.child(warning);
    }
    let section = section
        .child(intro)
        .child(scopes)
        .child(pick)
        .child(alert.clone())
        .child(status.clone())
        .child(actions([&approve_btn, &deny_btn]))
        .done();
    let screen = app.show(&[section]);

    let gate = arm(app, screen, &approve_btn);

    // The manifest fills in the name and icon when (if) it arrives.
    {
        let (app, details, manifest_uri) =
            (app.clone(), details.clone(), request.manifest_uri.clone());
        let (title, who, icon) = (title.clone(), who.clone(), icon.clone());
        crate::spawn(async move {
            let Ok(body) =
                http::get_text_limited(&manifest_uri, http::MANIFEST_TIMEOUT_MS, MAX_MANIFEST_LEN)
                    .await
            else {
                return;
            };
            // An unusable manifest (too large, not JSON) leaves the origin naming the app.
            let Ok(d) = parse_manifest(&body, &manifest_uri) else {
                return;
            };
            if !app.is_current(screen) {
                return;
            }
            if let Some(name) = &d.name {
                title.set_text_content(Some(&format!("Sign in to {name}")));
                who.set_text_content(Some(name));
            }
            if let Some(src) = &d.icon {
                icon.set_src(src);
                icon.set_class_name("app-icon");
            }
            *details.borrow_mut() = Some(d);
        });
    }

    let request = Rc::new(request);
    let buttons = [approve_btn.clone(), deny_btn.clone()];
    {
        let (request, details) = (request.clone(), details.clone());
        app.on_click(&deny_btn, move |app| {
            let (request, details) = (request.clone(), details.clone());
            async move {
                let name = details
                    .borrow()
                    .as_ref()
                    .and_then(|d| d.name.clone())
                    .unwrap_or_else(|| request.domain_name.clone());
                app.end_sign_in();
                show_denied(&app, &name, &request.redirect_uri);
            }
        });
    }
    app.on_click(&approve_btn, move |app| {
        let (request, details, chosen) = (request.clone(), details.clone(), chosen.clone());
        let (alert, status, buttons) = (alert.clone(), status.clone(), buttons.clone());
        let gate = gate.clone();
        async move {
            // A click that reaches a button not yet clickable (synthetic, or raced with
            // the gate) does nothing.
            if !gate.ready.get() || gate.busy.get() {
                return;
            }
            let Some(keychain) = app.keychain() else {
                return app.route();
            };
            gate.busy.set(true);
            for b in &buttons {
                b.set_disabled(true);
            }
            say(&alert, "");
            let _ = status.append_child(&progress("Signing in"));
            let d = details
                .borrow()
                .clone()
                .unwrap_or_default()
                .or_request(&request);
            let hub_url = app.hub_url();
            match approve::run(&keychain, chosen.get(), &request, &d, &hub_url).await {
                Ok(outcome) => {
                    if !outcome.notes.is_empty() {
                        let notes = el("div")
                            .attr("role", "status")
                            .class("notes")
                            .children(outcome.notes.iter().map(|n| para(n)))
                            .child(para("Returning to the app…"))
                            .done();
                        let _ = status.append_child(&notes);
                        wait::sleep(2500).await;
                    }
                    if let Some(w) = web_sys::window() {
                        let _ = w.location().assign(&outcome.redirect);
                    }
                }
                Err(e) => {
                    crate::dom::clear(&status);
                    say(&alert, &format!("The sign-in failed: {e}"));
                    gate.busy.set(false);
                    let [approve_btn, deny_btn] = &buttons;
                    approve_btn.set_disabled(!gate.ready.get());
                    deny_btn.set_disabled(false);
                }
            }
        }
    });
}

/// After Deny: nothing was sent; a link back to the app without a response.
pub fn show_denied(app: &Rc<App>, app_name: &str, redirect_uri: &str) {
    let section = el("section")
        .class("card")
        .child(heading(2, "Sign-in cancelled"))
        .child(para("Nothing was shared with the app."))
        .child(el("p").child(link(&format!("Back to {app_name}"), redirect_uri)))
        .done();
    app.show(&[section]);
}

/// Inside a frame: refuse to act at all (no Approve button, no other screen).
pub fn show_framed(app: &Rc<App>) {
    let section: Element = el("section")
        .class("card")
        .child(heading(
            2,
            "Cairn can't sign you in from inside another page",
        ))
        .child(para("Open Cairn in its own tab or window to sign in."))
        .done();
    app.show(&[section]);
}
