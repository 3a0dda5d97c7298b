//! Settings: the Gaia hub URL, with a reachability check.

use crate::App;
use crate::dom::{actions, button, field, heading, link, para, say, status_line};
use cairn_browser::jobs::BrowserHub;
use cairn_core::jobs::calls;
use std::rc::Rc;
use web_sys::Element;

/// Fills the Settings section.
pub fn fill(app: &Rc<App>, body: &Element) {
    let (url_field, url) = field("hub-url", "Gaia hub URL", "url", "url");
    url.set_value(&app.hub_url());
    let save = button("Save", true);
    let status = status_line("");
    let _ = body.append_child(&heading(2, "Settings"));
    let _ = body.append_child(&para(
        "Your Gaia hub stores your profile, your apps' data and Cairn's own settings.",
    ));
    for n in [&url_field, &actions([&save]), &status] {
        let _ = body.append_child(n);
    }
    let _ = body.append_child(&heading(3, "Your data"));
    let _ = body.append_child(&para(
        "Move everything Cairn holds the keys of to another Gaia hub, with every file checked.",
    ));
    let _ = body.append_child(&link("Move my data to another hub", "/data.html"));
    let field_target = url.clone();
    app.on_submit(&save, &[&field_target], move |app| {
        let (url, status) = (url.clone(), status.clone());
        async move {
            let typed = url.value().trim().trim_end_matches('/').to_string();
            let ok = cairn_core::support::http_url::HttpUrl::parse(&typed).is_ok();
            if !ok {
                return say(&status, "Hub not reachable: not an http(s) URL");
            }
            {
                let mut s = app.state.borrow_mut();
                s.prefs.hub_url = (typed != s.config_hub).then(|| typed.clone());
            }
            app.save_prefs().await;
            say(&status, "Saved. Checking the hub…");
            match calls::hub_info(&BrowserHub, &typed).await {
                Ok(_) => say(&status, "Hub reachable"),
                Err(e) => say(&status, &format!("Hub not reachable: {e}")),
            }
        }
    });
}
