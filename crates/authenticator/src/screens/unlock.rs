//! Unlock: the password opens the vault in the KDF worker. No network I/O.

use crate::dom::{actions, alert_region, button, el, field, heading, say};
use crate::{App, kdf};
use std::rc::Rc;
use zeroize::Zeroizing;

/// Shows the unlock form.
pub fn show(app: &Rc<App>) {
    let (pw_field, password) = field("password", "Password", "password", "current-password");
    let alert = alert_region();
    let status = el("div").class("busy").done();
    let unlock = button("Unlock", true);
    let signing_in = app.state.borrow().request.is_some();
    let section = el("section")
        .class("card narrow")
        .child(heading(2, "Unlock Cairn"));
    let section = if signing_in {
        section.child(el("p").text("Unlock to continue signing in."))
    } else {
        section
    };
    let section = section
        .child(pw_field)
        .child(alert.clone())
        .child(status.clone())
        .child(actions([&unlock]))
        .done();
    app.show(&[section]);
    let _ = password.focus();
    let btn = unlock.clone();
    let input = password.clone();
    app.on_submit(&unlock, &[&password], move |app| {
        let (alert, status, btn, input) =
            (alert.clone(), status.clone(), btn.clone(), input.clone());
        async move {
            say(&alert, "");
            let pw = Zeroizing::new(input.value());
            match kdf::open_stored(&pw, "Unlocking", &status, &btn).await {
                Ok(phrase) => {
                    input.set_value("");
                    if let Err(e) = app.unlocked(&phrase).await {
                        say(&alert, &e.to_string());
                    }
                }
                Err(e) => {
                    say(&alert, &e.to_string());
                    input.select();
                    let _ = input.focus();
                }
            }
        }
    });
}
