//! One module per screen. Each has a `show(app, …)` that builds the screen with
//! [`super::dom`] and hands it to [`super::App::show`].
//!
//! Shared here: the new-password fields with their live strength hint, and saving a
//! new vault (create and restore end the same way).

pub mod apps;
pub mod backup;
pub mod bad_request;
pub mod consent;
pub mod create;
#[cfg(feature = "data")]
pub mod data;
pub mod files;
pub mod home;
pub mod identities;
pub mod permissions;
pub mod restore;
pub mod settings;
pub mod unlock;
#[cfg(feature = "wallet")]
pub mod wallet;
pub mod welcome;

use super::dom::{self, button, el, field, para, progress, say};
use super::{App, kdf};
use cairn_browser::idb;
use cairn_browser::wait::{self, now_ms};
use cairn_core::keys::vault::password_strength;
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Element, HtmlInputElement};

/// The shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 8;

/// "Password" and "Confirm password" fields with a live strength hint.
pub struct NewPassword {
    /// The fields and the hint, to put on the screen.
    pub group: Element,
    /// The password.
    pub password: HtmlInputElement,
    /// Its confirmation.
    pub confirm: HtmlInputElement,
}

impl NewPassword {
    /// Builds the fields; the hint follows typing.
    pub fn new(app: &Rc<App>) -> NewPassword {
        let (pw_field, password) = field("password", "Password", "password", "new-password");
        let (confirm_field, confirm) = field(
            "confirm-password",
            "Confirm password",
            "password",
            "new-password",
        );
        let hint = el("p")
            .attr("role", "status")
            .attr("id", "password-strength")
            .class("status hint")
            .text("Use at least 8 characters; a few unrelated words work well.")
            .done();
        let _ = password.set_attribute("aria-describedby", "password-strength");
        let (input, hint_el) = (password.clone(), hint.clone());
        app.on(&password, "input", move |_| {
            let (score, advice) = password_strength(&input.value());
            let _ = hint_el.set_attribute("data-score", &score.to_string());
            say(&hint_el, advice);
        });
        let group = el("div")
            .class("new-password")
            .child(pw_field)
            .child(hint)
            .child(confirm_field)
            .done();
        NewPassword {
            group,
            password,
            confirm,
        }
    }

    /// The password when both fields agree and it is long enough; else what is wrong.
    pub fn check(&self) -> Result<String, PasswordProblem> {
        let pw = self.password.value();
        if pw.chars().count() < MIN_PASSWORD_LEN {
            return Err(PasswordProblem::TooShort);
        }
        if pw != self.confirm.value() {
            return Err(PasswordProblem::Mismatch);
        }
        Ok(pw)
    }
}

/// Why a new password is refused (the text is the alert the user reads).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PasswordProblem {
    /// Shorter than 8 characters.
    TooShort,
    /// The confirmation differs.
    Mismatch,
}

impl std::fmt::Display for PasswordProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PasswordProblem::TooShort => "The password is too short: use at least 8 characters.",
            PasswordProblem::Mismatch => "The passwords do not match.",
        })
    }
}

impl std::error::Error for PasswordProblem {}

/// Seals `phrase` with `password` in the worker, stores the vault and unlocks.
/// Progress and errors are shown in `status` and `alert`.
pub async fn save_vault(
    app: &Rc<App>,
    phrase: &str,
    password: &str,
    status: &Element,
    alert: &Element,
) -> bool {
    dom::clear(status);
    let _ = status.append_child(&progress("Encrypting your Secret Key"));
    let record = match kdf::seal(phrase, password).await {
        Ok(r) => r,
        Err(e) => {
            dom::clear(status);
            say(alert, &format!("Could not encrypt the Secret Key: {e}"));
            return false;
        }
    };
    if let Err(e) = idb::put(idb::VAULT, idb::VAULT, &record.into()).await {
        dom::clear(status);
        say(
            alert,
            &format!("Could not save the vault in this browser: {e}"),
        );
        return false;
    }
    {
        let mut s = app.state.borrow_mut();
        s.prefs = super::Prefs {
            hub_url: s.prefs.hub_url.clone(),
            ..super::Prefs::default()
        };
    }
    app.save_prefs().await;
    if let Err(e) = app.unlocked(phrase).await {
        dom::clear(status);
        say(alert, &e.to_string());
        return false;
    }
    true
}

/// A dialog with `action` and "Cancel"; resolves to whether `action` was chosen.
pub async fn confirm(app: &Rc<App>, title: &str, text: &str, action: &str) -> bool {
    let doc = dom::document();
    let opener = doc.active_element();
    let ok = button(action, true);
    let cancel = button("Cancel", false);
    let id = format!("dialog-{}", (now_ms() as u64) % 1_000_000);
    let dialog = el("div")
        .attr("role", "dialog")
        .attr("aria-modal", "true")
        .attr("aria-labelledby", &id)
        .class("dialog")
        .child(el("h3").attr("id", &id).text(title))
        .child(para(text))
        .child(dom::actions([&ok, &cancel]))
        .done();
    let backdrop = el("div").class("dialog-backdrop").child(&dialog).done();
    if let Some(b) = doc.body() {
        let _ = b.append_child(&backdrop);
    }
    let (promise, resolve, _) = wait::pending();
    let r = resolve.clone();
    app.on(&ok, "click", move |_| {
        let _ = r.call1(&JsValue::NULL, &JsValue::TRUE);
    });
    let r = resolve.clone();
    app.on(&cancel, "click", move |_| {
        let _ = r.call1(&JsValue::NULL, &JsValue::FALSE);
    });
    let r = resolve;
    let (first, last) = (ok.clone(), cancel.clone());
    app.on(&dialog, "keydown", move |e| {
        let key = js_sys::Reflect::get(&e, &"key".into())
            .ok()
            .and_then(|k| k.as_string())
            .unwrap_or_default();
        let shift = js_sys::Reflect::get(&e, &"shiftKey".into())
            .ok()
            .and_then(|k| k.as_bool())
            .unwrap_or(false);
        let active = dom::document().active_element();
        if key == "Escape" {
            let _ = r.call1(&JsValue::NULL, &JsValue::FALSE);
        } else if key == "Tab" {
            // Keep focus inside the dialog.
            let on_last = active.as_ref().is_some_and(|a| a == last.unchecked_ref());
            let on_first = active.as_ref().is_some_and(|a| a == first.unchecked_ref());
            if !shift && on_last {
                e.prevent_default();
                dom::focus(&first);
            } else if shift && on_first {
                e.prevent_default();
                dom::focus(&last);
            }
        }
    });
    dom::focus(&cancel);
    let chosen = JsFuture::from(promise)
        .await
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    backdrop.remove();
    if let Some(o) = opener {
        dom::focus(&o);
    }
    chosen
}
