//! Apps: the apps connected to the selected identity, read from its settings file on
//! the hub.

use crate::App;
use crate::collections::Ctx;
use crate::dom::{button, el, heading, para, say, status_line};
use cairn_core::collections::settings::Settings;
use cairn_core::protocol::wallet_rpc::{WALLET_SCOPE, WALLET_STORAGE_SCOPE};
use std::rc::Rc;
use web_sys::Element;

/// Fills the Apps section (loads asynchronously; `screen` guards against a stale render).
pub fn fill(app: &Rc<App>, body: &Element, screen: u32) {
    let Some(keychain) = app.keychain() else {
        return;
    };
    let selected = app.state.borrow().prefs.selected;
    let _ = body.append_child(&heading(2, "Apps"));
    let _ = body.append_child(&para(&format!(
        "Apps you signed in to with Identity {}.",
        selected + 1
    )));
    let status = status_line("Loading connected apps…");
    let _ = body.append_child(&status);
    let list = el("ul").class("apps").done();
    let _ = body.append_child(&list);
    let hub_url = app.hub_url();
    let app = app.clone();
    crate::spawn(async move {
        // Ctx lists the bucket first: a missing file would otherwise be a 404 in the
        // console.
        let result: Result<Settings, cairn_browser::Error> = async {
            Ctx::new(&keychain, selected, &hub_url)
                .await?
                .load_settings()
                .await
        }
        .await;
        if !app.is_current(screen) {
            return;
        }
        match result {
            Err(e) => say(&status, &format!("Could not load the connected apps: {e}")),
            Ok(s) if s.apps.is_empty() => say(&status, "No connected apps yet."),
            Ok(s) => {
                say(&status, &format!("{} connected app(s).", s.apps.len()));
                // After a move to another hub, an app learns the new hub at its next
                // sign-in; until then it keeps using the old one.
                let moved_at = s.log.iter().rev().find(|l| l.event == "move").map(|l| l.at);
                for a in &s.apps {
                    let when = js_sys::Date::new(&(a.last_sign_in as f64).into())
                        .to_locale_string("en", &wasm_bindgen::JsValue::UNDEFINED);
                    let mut row = el("li").class("app");
                    if let Some(icon) = &a.icon {
                        row = row.child(
                            el("img")
                                .attr("src", icon)
                                .attr("alt", "")
                                .class("app-icon"),
                        );
                    }
                    row = row
                        .child(el("span").class("app-name").text(a.display_name()))
                        .child(el("span").class("origin").text(&a.origin))
                        .child(el("span").class("scopes").text(&format!(
                            "Permissions: {}",
                            a.scopes
                                .iter()
                                .map(|s| scope_label(s))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )))
                        .child(
                            el("span")
                                .class("when")
                                .text(&format!("Last sign-in: {}", String::from(when))),
                        );
                    if moved_at.is_some_and(|t| a.last_sign_in < t) {
                        row = row.child(el("span").class("warning").text(
                            "Not signed in since your data moved: this app still uses the old hub until you sign in to it again.",
                        ));
                    }
                    if a.scopes.iter().any(|s| s == WALLET_SCOPE) {
                        let b = button(&format!("Disconnect {}", a.display_name()), false);
                        let origin = a.origin.clone();
                        app.on_click(&b, move |app| {
                            let origin = origin.clone();
                            async move { disconnect(&app, selected, &origin).await }
                        });
                        row = row.child(b);
                    }
                    let _ = list.append_child(&row.done());
                }
            }
        }
    });
}

/// A recorded scope in plain words (the wallet interface's markers).
fn scope_label(scope: &str) -> &str {
    match scope {
        WALLET_SCOPE => "connected via wallet interface",
        WALLET_STORAGE_SCOPE => "storage key via wallet interface",
        s => s,
    }
}

/// Forgets that `origin` connected through the wallet interface (it will be asked
/// again); an app left with no other permission is removed.
async fn disconnect(app: &Rc<App>, identity: u32, origin: &str) {
    let Some(keychain) = app.keychain() else {
        return;
    };
    let done = async {
        let ctx = Ctx::new(&keychain, identity, &app.hub_url()).await?;
        ctx.update_settings(&mut |s| {
            for a in s.apps.iter_mut().filter(|a| a.origin == origin) {
                a.scopes
                    .retain(|x| x != WALLET_SCOPE && x != WALLET_STORAGE_SCOPE);
            }
            s.apps
                .retain(|a| a.origin != origin || !a.scopes.is_empty());
            Ok(())
        })
        .await
    }
    .await;
    if done.is_ok() {
        super::home::show(app);
    }
}
