//! Bad request: the authRequest failed verification. Nothing is sent to anyone.

use crate::App;
use crate::dom::{el, heading, para};
use std::rc::Rc;

/// Shows why the sign-in request can't be used (`reason`: the verifier's message, verbatim).
pub fn show(app: &Rc<App>, reason: &str) {
    let section = el("section")
        .class("card")
        .child(heading(2, "This sign-in request can't be used"))
        .child(el("div").attr("role", "alert").class("alert").text(reason))
        .child(para(
            "Nothing was shared and you will not be sent anywhere. Go back to the app and start the sign-in again.",
        ))
        .done();
    app.show(&[section]);
}
