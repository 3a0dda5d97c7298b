//! Home (unlocked): the "Main" navigation, Lock, and the section named by the URL hash
//! (`#/identities` by default, `#/apps`, `#/permissions`, `#/files`, `#/settings`,
//! `#/backup`).

use crate::App;
use crate::dom::{button, el};
use std::rc::Rc;
use web_sys::Element;

/// The navigation entries: (link text, hash route).
pub const NAV: [(&str, &str); 5] = [
    ("Identities", "#/identities"),
    ("Apps", "#/apps"),
    ("Permissions", "#/permissions"),
    ("Files", "#/files"),
    ("Settings", "#/settings"),
];

fn current_route() -> String {
    web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .filter(|h| !h.is_empty() && h != "#" && h != "#/")
        .unwrap_or_else(|| "#/identities".into())
}

/// The navigation bar with Lock.
fn nav(app: &Rc<App>, route: &str) -> Element {
    let lock = button("Lock", false);
    let list = el("ul").children(NAV.iter().map(|(name, href)| {
        let a = el("a").attr("href", href).text(name);
        let a = if *href == route || (route == "#/backup" && *href == "#/identities") {
            a.attr("aria-current", "page")
        } else {
            a
        };
        el("li").child(a)
    }));
    let bar = el("nav")
        .attr("aria-label", "Main")
        .class("main-nav")
        .child(list)
        .child(&lock)
        .done();
    app.on_click(&lock, |app| async move { app.lock().await });
    bar
}

/// Shows home with the section the hash names.
pub fn show(app: &Rc<App>) {
    let route = current_route();
    let nav = nav(app, &route);
    let body = el("section").class("card").done();
    let notice = crate::settings_guard::container();
    let screen = app.show(&[nav, notice, body.clone()]);
    crate::settings_guard::check(app);
    match route.as_str() {
        "#/apps" => super::apps::fill(app, &body, screen),
        "#/settings" => super::settings::fill(app, &body),
        "#/backup" => super::backup::fill(app, &body),
        "#/permissions" => super::permissions::fill(app, &body, screen),
        "#/files" => super::files::fill(app, &body, screen),
        _ => super::identities::fill(app, &body),
    }
    if let Ok(Some(h)) = body.query_selector(".screen-heading") {
        crate::dom::focus(&h);
    }
}
