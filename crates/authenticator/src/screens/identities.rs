//! Identities: one row per identity (address, STX address), the default one for
//! sign-in, "Add identity", and the way to the Secret Key backup.

use crate::dom::{actions, button, el, heading};
use crate::{App, spawn};
use cairn_core::keys::keychain::Keychain;
use std::rc::Rc;
use web_sys::{Element, HtmlInputElement};

/// One identity's row content: "Identity N", address, STX address (mainnet).
pub fn describe(keychain: &Keychain, i: u32) -> (String, String) {
    let address = keychain
        .identity(i)
        .map(|id| id.address)
        .unwrap_or_default();
    let stx = keychain.stx_address(i, true).unwrap_or_default();
    (address, stx)
}

/// Radio buttons named "Identity N" in a radio group "Identity", one list item each.
/// `on_pick` is called with the chosen index.
pub fn picker(
    app: &Rc<App>,
    keychain: &Keychain,
    count: u32,
    selected: u32,
    on_pick: impl Fn(u32) + 'static,
) -> Element {
    let on_pick = Rc::new(on_pick);
    let mut list = el("ul").class("identities");
    for i in 0..count {
        let (address, stx) = describe(keychain, i);
        let id = format!("identity-{i}");
        let radio: HtmlInputElement = el("input")
            .attr("type", "radio")
            .attr("name", "identity")
            .attr("id", &id)
            .attr("value", &i.to_string())
            .cast();
        radio.set_checked(i == selected);
        let f = on_pick.clone();
        app.on(&radio, "change", move |_| f(i));
        let row = el("li").class("identity").child(&radio).child(
            el("label")
                .attr("for", &id)
                .child(
                    el("span")
                        .class("identity-name")
                        .text(&format!("Identity {}", i + 1)),
                )
                .child(el("span").class("address").text(&address))
                .child(el("span").class("address stx").text(&format!("STX {stx}"))),
        );
        list = list.child(row);
    }
    el("fieldset")
        .attr("role", "radiogroup")
        .attr("aria-labelledby", "identity-legend")
        .class("identity-picker")
        .child(el("legend").attr("id", "identity-legend").text("Identity"))
        .child(list)
        .done()
}

/// Fills the Identities section.
pub fn fill(app: &Rc<App>, body: &Element) {
    let Some(keychain) = app.keychain() else {
        return;
    };
    let (count, selected) = {
        let p = &app.state.borrow().prefs;
        (p.identity_count.max(1), p.selected)
    };
    let a = app.clone();
    let pick = picker(app, &keychain, count, selected, move |i| {
        a.state.borrow_mut().prefs.selected = i;
        let a = a.clone();
        spawn(async move { a.save_prefs().await });
    });
    let add = button("Add identity", false);
    let _ = body.append_child(&heading(2, "Identities"));
    let _ = body.append_child(
        &el("p")
            .text("The selected identity is the one apps sign you in with, unless you choose another at sign-in.")
            .done(),
    );
    let _ = body.append_child(&pick);
    let backup = button("Back up Secret Key", false);
    let _ = body.append_child(&actions([&add, &backup]));
    app.on_click(&backup, |_| async move {
        if let Some(w) = web_sys::window() {
            let _ = w.location().set_hash("#/backup");
        }
    });
    app.on_click(&add, |app| async move {
        {
            let mut s = app.state.borrow_mut();
            s.prefs.identity_count = s.prefs.identity_count.max(1).saturating_add(1);
        }
        app.save_prefs().await;
        super::home::show(&app);
    });
}
