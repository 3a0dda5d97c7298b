//! The settings file's signature check, as the user sees it (docs/SECURITY.md, "The
//! settings file").
//!
//! A settings file that is not signed by the identity is never believed: every read of
//! it fails (so nothing is written from it and no journal entry resumes), and the home
//! screen says why in plain words. A file an earlier Cairn wrote before signing looks
//! exactly like a forgery, so the user decides: "Sign settings file" adopts it (and
//! signs it), "Start with empty settings" replaces it.

use super::collections::{Ctx, resume_pending};
use super::dom::{actions, button, el, para, say};
use super::{App, spawn};
use cairn_browser::Error;
use cairn_browser::webcrypto::WebCrypto;
use cairn_core::collections::settings::{Settings, SettingsError};
use std::rc::Rc;
use web_sys::Element;

/// Id of the notice's container on the home screen.
const NOTICE_ID: &str = "settings-notice";

/// What is wrong with an identity's settings file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Alarm {
    /// Encrypted but not signed (an earlier Cairn, or a forgery).
    Unsigned,
    /// Signed, but not by the identity: changed by someone else. The reason.
    Forged(String),
}

/// The state of identity `index`'s settings file: `Some` when it must not be believed.
pub async fn examine(ctx: &Ctx) -> Result<Option<Alarm>, Error> {
    let Some(file) = ctx.read_settings_file().await? else {
        return Ok(None);
    };
    Ok(
        match Settings::open_async(&WebCrypto, &file.body, &ctx.identity.key).await {
            Ok(_) => None,
            Err(SettingsError::Unsigned) => Some(Alarm::Unsigned),
            Err(e) => Some(Alarm::Forged(e.to_string())),
        },
    )
}

/// An empty container for the notice, filled by [`check`] (placed on the home screen).
pub fn container() -> Element {
    el("div")
        .attr("id", NOTICE_ID)
        .class("settings-notice")
        .done()
}

/// Checks the selected identity's settings file and shows a notice in the home
/// screen's container when it must not be believed.
pub fn check(app: &Rc<App>) {
    let Some(keychain) = app.keychain() else {
        return;
    };
    let index = app.state.borrow().prefs.selected;
    if app.state.borrow().settings_trusted == Some(index) {
        return;
    }
    let hub_url = app.hub_url();
    let app = app.clone();
    spawn(async move {
        let Ok(ctx) = Ctx::new(&keychain, index, &hub_url).await else {
            return;
        };
        let Ok(alarm) = examine(&ctx).await else {
            return;
        };
        let Some(target) = super::dom::document().get_element_by_id(NOTICE_ID) else {
            return;
        };
        if app.state.borrow().prefs.selected != index {
            return;
        }
        super::dom::clear(&target);
        match alarm {
            Some(alarm) => show_notice(&app, &target, Rc::new(ctx), &alarm),
            None => app.state.borrow_mut().settings_trusted = Some(index),
        }
    });
}

fn show_notice(app: &Rc<App>, target: &Element, ctx: Rc<Ctx>, alarm: &Alarm) {
    let text = match alarm {
        Alarm::Forged(why) => format!(
            "Your settings file on the hub can't be trusted: {why}. Cairn ignores it, \
             so your connected apps and collection permissions are not shown, and \
             Cairn changes nothing based on it. Your Secret Key and data keys are safe. \
             If you did not expect this, tell whoever runs your Gaia hub."
        ),
        Alarm::Unsigned => "Your settings file on the hub isn't signed. Versions of Cairn \
             before signed settings wrote it this way, but anyone who can write to your \
             hub could also have made it. Until you decide, Cairn ignores it. If you used \
             Cairn with this identity before, sign it to keep your connected apps and \
             permissions; otherwise start with empty settings."
            .to_string(),
    };
    let box_ = el("div")
        .attr("role", "alert")
        .class("alarm")
        .child(para(&text))
        .done();
    let status = super::dom::status_line("");
    let adopt = button("Sign settings file", false);
    let fresh = button("Start with empty settings", false);
    let mut buttons = vec![fresh.clone()];
    if *alarm == Alarm::Unsigned {
        buttons.insert(0, adopt.clone());
    }
    let _ = box_.append_child(&actions(buttons));
    let _ = box_.append_child(&status);
    let _ = target.append_child(&box_);
    for (button, keep) in [(adopt, true), (fresh, false)] {
        let (c, s, t) = (ctx.clone(), status.clone(), target.clone());
        app.on_click(&button, move |app| {
            let (ctx, status, target) = (c.clone(), s.clone(), t.clone());
            async move { decide(&app, &ctx, &status, &target, keep).await }
        });
    }
}

/// Adopts the unsigned file (`keep`) or replaces it with empty settings, then resumes
/// what its journal holds.
async fn decide(app: &Rc<App>, ctx: &Ctx, status: &Element, target: &Element, keep: bool) {
    say(status, "Saving…");
    let result: Result<(), Error> = async {
        let file = ctx.read_settings_file().await?;
        let settings = match (&file, keep) {
            (Some(f), true) => {
                Settings::open_unsigned_async(&WebCrypto, &f.body, &ctx.identity.key).await?
            }
            _ => Settings::default(),
        };
        let etag = file.as_ref().and_then(|f| f.etag.as_deref());
        ctx.replace_settings(&settings, etag).await
    }
    .await;
    match result {
        Ok(()) => {
            super::dom::clear(target);
            resume_pending(app);
            super::screens::home::show(app);
        }
        Err(e) => say(status, &format!("Could not save your settings: {e}")),
    }
}
