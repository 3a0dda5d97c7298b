//! Backup: re-enter the password to see the Secret Key again.

use super::create::word_list;
use crate::dom::{actions, alert_region, button, el, field, heading, para, say};
use crate::{App, kdf};
use std::rc::Rc;
use web_sys::Element;
use zeroize::Zeroizing;

/// Fills the Backup section.
pub fn fill(app: &Rc<App>, body: &Element) {
    let (pw_field, password) = field(
        "backup-password",
        "Password",
        "password",
        "current-password",
    );
    let alert = alert_region();
    let status = el("div").class("busy").done();
    let out = el("div").class("backup-words").done();
    let show = button("Show Secret Key", true);
    let _ = body.append_child(&heading(2, "Back up Secret Key"));
    let _ = body.append_child(&para(
        "Enter your password to see your Secret Key. Make sure nobody can see your screen.",
    ));
    for n in [&pw_field, &alert, &status, &actions([&show]), &out] {
        let _ = body.append_child(n);
    }
    let btn = show.clone();
    let field_target = password.clone();
    app.on_submit(&show, &[&field_target], move |_app| {
        let (alert, status, out, btn, input) = (
            alert.clone(),
            status.clone(),
            out.clone(),
            btn.clone(),
            password.clone(),
        );
        async move {
            say(&alert, "");
            crate::dom::clear(&out);
            let pw = Zeroizing::new(input.value());
            match kdf::open_stored(&pw, "Decrypting", &status, &btn).await {
                Ok(phrase) => {
                    input.set_value("");
                    let _ = out.append_child(&word_list(&phrase));
                }
                Err(e) => say(&alert, &e.to_string()),
            }
        }
    });
}
