//! Welcome (no vault yet): create or restore.

use crate::App;
use crate::dom::{actions, button, el, heading, para};
use std::rc::Rc;

/// Shows the welcome screen.
pub fn show(app: &Rc<App>) {
    let create = button("Create new Secret Key", true);
    let restore = button("Restore from Secret Key", false);
    let signing_in = app.state.borrow().request.is_some();
    let section = el("section")
        .class("card")
        .child(heading(2, "Welcome to Cairn"))
        .child(para(
            "Cairn keeps your Secret Key encrypted in this browser and signs you in to Stacks apps. \
             Your Secret Key never leaves this page.",
        ));
    let section = if signing_in {
        section.child(para(
            "An app asked you to sign in. Set up Cairn first; the sign-in continues afterwards.",
        ))
    } else {
        section
    };
    let section = section.child(actions([&create, &restore])).done();
    app.show(&[section]);
    app.on_click(&create, |app| async move { super::create::show(&app) });
    app.on_click(&restore, |app| async move { super::restore::show(&app) });
}
