//! Restore: paste a Secret Key, set a password.

use super::{NewPassword, save_vault};
use crate::App;
use crate::dom::{actions, alert_region, button, el, heading, para, say, text_area};
use cairn_core::keys::mnemonic::SecretKey;
use std::rc::Rc;
use zeroize::Zeroizing;

/// Shows the restore form.
pub fn show(app: &Rc<App>) {
    let (key_field, key) = text_area("secret-key", "Secret Key");
    let pw = NewPassword::new(app);
    let alert = alert_region();
    let status = el("div").class("busy").done();
    let restore = button("Restore", true);
    let back = button("Back", false);
    let has_vault = app.state.borrow().has_vault;
    let section = el("section")
        .class("card")
        .child(heading(2, "Restore from Secret Key"))
        .child(para("Enter your 12 or 24 words, separated by spaces."))
        .child(key_field);
    let section = if has_vault {
        section.child(para("This replaces the Secret Key stored in this browser."))
    } else {
        section
    };
    let section = section
        .child(pw.group.clone())
        .child(alert.clone())
        .child(status.clone())
        .child(actions([&restore, &back]))
        .done();
    app.show(&[section]);
    app.on_click(&back, |app| async move { app.route() });
    let pw = Rc::new(pw);
    let (f1, f2) = (pw.password.clone(), pw.confirm.clone());
    let fields: [&web_sys::EventTarget; 2] = [&f1, &f2];
    let btn = restore.clone();
    app.on_submit(&restore, &fields, move |app| {
        let (pw, alert, status, key, btn) = (
            pw.clone(),
            alert.clone(),
            status.clone(),
            key.clone(),
            btn.clone(),
        );
        async move {
            say(&alert, "");
            let typed = Zeroizing::new(key.value());
            let secret = match SecretKey::parse(&typed) {
                Ok(s) => s,
                Err(e) => {
                    say(&alert, &e.to_string());
                    let _ = key.focus();
                    return;
                }
            };
            let password = match pw.check() {
                Ok(p) => Zeroizing::new(p),
                Err(m) => return say(&alert, &m.to_string()),
            };
            btn.set_disabled(true);
            if save_vault(&app, secret.phrase(), &password, &status, &alert).await {
                key.set_value("");
            } else {
                btn.set_disabled(false);
            }
        }
    });
}
