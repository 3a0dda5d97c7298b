//! Permissions (the permission manager, docs/COLLECTIONS_UI.md): one section per
//! collection with the apps that can use it, "Connected apps" with their scopes and
//! the collections they could be granted; Revoke / Make read-only with a confirmation
//! dialog; the running operation's progress with Cancel (and Resume when it stopped).

use crate::collections::{self, Ctx, Job};
use crate::dom::{self, alert_region, button, el, heading, para, say, status_line};
use crate::{App, spawn};
use cairn_core::collections::settings::{AccessMode, Settings};
use cairn_core::collections::{AppView, CollectionView, Revocation, permission_view};
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Element, HtmlButtonElement, HtmlInputElement};

fn date(ms: i64) -> String {
    String::from(js_sys::Date::new(&(ms as f64).into()).to_locale_string("en", &JsValue::UNDEFINED))
}

/// Fills the Permissions section (loads asynchronously; `screen` guards stale renders).
pub fn fill(app: &Rc<App>, body: &Element, screen: u32) {
    let Some(keychain) = app.keychain() else {
        return;
    };
    let selected = app.state.borrow().prefs.selected;
    let _ = body.append_child(&heading(2, "Permissions"));
    let _ = body.append_child(&para(&format!(
        "Which apps can use your collections with Identity {}. Revoking gives the collection a new key and stops every old token; the apps that keep access get the new key.",
        selected + 1
    )));
    let job_area = el("div").class("job").done();
    let _ = body.append_child(&job_area);
    let alert = alert_region();
    let _ = body.append_child(&alert);
    let status = status_line("Loading permissions…");
    let _ = body.append_child(&status);
    let content = el("div").class("permissions").done();
    let _ = body.append_child(&content);

    if let Some(job) = collections::current_job()
        && job.identity == selected
    {
        show_job(app, &job_area, &job, screen);
    }

    let hub_url = app.hub_url();
    let app = app.clone();
    spawn(async move {
        let loaded: Result<(Ctx, Settings), cairn_browser::Error> = async {
            let ctx = Ctx::new(&keychain, selected, &hub_url).await?;
            let s = ctx.load_settings().await?;
            Ok((ctx, s))
        }
        .await;
        if !app.is_current(screen) {
            return;
        }
        let (ctx, settings) = match loaded {
            Ok(x) => x,
            Err(e) => return say(&status, &format!("Could not load the permissions: {e}")),
        };
        let ctx = Rc::new(ctx);
        dom::clear(&status);
        render(&app, &ctx, &settings, &content, &alert, screen);
        // An unfinished operation in the journal and nothing running: resume it.
        if collections::current_job().is_none()
            && let Some(r) = Revocation::pending(&settings).into_iter().next()
        {
            let name = name_of(&settings, &r.app);
            if let Some(job) = collections::run(&app, ctx.clone(), r, name, true) {
                show_job(&app, &job_area, &job, screen);
            }
        }
    });
}

fn name_of(settings: &Settings, origin: &str) -> String {
    settings
        .app(origin)
        .map(|a| a.display_name().to_string())
        .unwrap_or_else(|| origin.to_string())
}

fn render(
    app: &Rc<App>,
    ctx: &Rc<Ctx>,
    settings: &Settings,
    content: &Element,
    alert: &Element,
    screen: u32,
) {
    let (cols, apps) = permission_view(settings);
    if cols.is_empty() {
        let _ = content.append_child(&para(
            "No app uses a collection yet. Apps ask for one when you sign in (for example the contact collection).",
        ));
    }
    for c in &cols {
        let _ = content.append_child(&collection_section(app, ctx, c, alert, screen));
    }
    let _ = content.append_child(&apps_section(app, ctx, &apps, alert, screen));
}

fn collection_section(
    app: &Rc<App>,
    ctx: &Rc<Ctx>,
    c: &CollectionView,
    alert: &Element,
    screen: u32,
) -> Element {
    let id = format!("collection-{}", c.name);
    let list = el("ul").class("grants").done();
    for row in &c.rows {
        let revoke = button(&format!("Revoke {}", row.name), false);
        let mut buttons: Vec<HtmlButtonElement> = vec![revoke.clone()];
        let make_ro = (row.mode == AccessMode::ReadWrite)
            .then(|| button(&format!("Make read-only {}", row.name), false));
        if let Some(b) = &make_ro {
            buttons.push(b.clone());
        }
        let mut li = el("li")
            .class("grant")
            .child(el("span").class("app-name").text(&row.name))
            .child(el("span").class("origin").text(&row.origin))
            .child(el("span").class("mode").text(row.mode.label()))
            .child(
                el("span")
                    .class("when")
                    .text(&format!("Granted {}", date(row.granted_at))),
            );
        if let Some(last) = row.last_sign_in {
            li = li.child(
                el("span")
                    .class("when")
                    .text(&format!("Last sign-in {}", date(last))),
            );
        }
        let _ = list.append_child(&li.child(dom::actions(&buttons)).done());
        for (b, downgrade) in [(Some(revoke), false), (make_ro, true)] {
            let Some(b) = b else { continue };
            let (ctx, alert) = (ctx.clone(), alert.clone());
            let (collection, origin, name) = (c.name.clone(), row.origin.clone(), row.name.clone());
            let opener = b.clone();
            app.on_click(&b, move |app| {
                confirm(
                    &app,
                    ctx.clone(),
                    &collection,
                    &origin,
                    &name,
                    downgrade,
                    &alert,
                    &opener,
                    screen,
                );
                async {}
            });
        }
    }
    let mut section = el("section")
        .class("collection")
        .attr("aria-labelledby", &id)
        .child(el("h3").attr("id", &id).text(&c.name))
        .child(el("p").class("hint").text(&format!(
            "Key generation {}. {} app(s) with access.",
            c.generation,
            c.rows.len()
        )));
    if c.rows.is_empty() {
        section = section.child(para("No app can use this collection now."));
    }
    section.child(list).done()
}

fn apps_section(
    app: &Rc<App>,
    ctx: &Rc<Ctx>,
    apps: &[AppView],
    alert: &Element,
    screen: u32,
) -> Element {
    let list = el("ul").class("perm-apps").done();
    for a in apps {
        let cols = if a.collections.is_empty() {
            "Collections: none".to_string()
        } else {
            format!(
                "Collections: {}",
                a.collections
                    .iter()
                    .map(|(n, m)| format!("{n} ({})", m.label()))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let grants: Vec<HtmlButtonElement> = a
            .grantable
            .iter()
            .map(|c| button(&format!("Grant {c} to {}", a.name), false))
            .collect();
        for (b, c) in grants.iter().zip(&a.grantable) {
            let (ctx, alert) = (ctx.clone(), alert.clone());
            let (collection, origin) = (c.clone(), a.origin.clone());
            let btn = b.clone();
            app.on_click(b, move |app| {
                let (ctx, alert, collection, origin, btn) = (
                    ctx.clone(),
                    alert.clone(),
                    collection.clone(),
                    origin.clone(),
                    btn.clone(),
                );
                async move {
                    let Some(keychain) = app.keychain() else {
                        return;
                    };
                    btn.set_disabled(true);
                    say(&alert, "");
                    let r = collections::grant_existing(
                        &keychain,
                        &ctx,
                        &origin,
                        &collection,
                        AccessMode::ReadWrite,
                    )
                    .await;
                    if !app.is_current(screen) {
                        return;
                    }
                    match r {
                        Ok(()) => super::home::show(&app),
                        Err(e) => {
                            btn.set_disabled(false);
                            say(&alert, &format!("Could not grant {collection}: {e}"));
                        }
                    }
                }
            });
        }
        let li = el("li")
            .class("perm-app")
            .child(el("span").class("app-name").text(&a.name))
            .child(el("span").class("origin").text(&a.origin))
            .child(
                el("span")
                    .class("scopes")
                    .text(&format!("Permissions: {}", a.scopes.join(", "))),
            )
            .child(el("span").class("scopes").text(&cols));
        let li = if grants.is_empty() {
            li
        } else {
            li.child(dom::actions(&grants))
        };
        let _ = list.append_child(&li.done());
    }
    let mut section = el("section")
        .class("connected")
        .attr("aria-labelledby", "connected-apps")
        .child(el("h3").attr("id", "connected-apps").text("Connected apps"));
    if apps.is_empty() {
        section = section.child(para("No connected apps yet."));
    }
    section.child(list).done()
}

fn checkbox(id: &str, label: &str, checked: bool) -> (Element, HtmlInputElement) {
    let input: HtmlInputElement = el("input").attr("type", "checkbox").attr("id", id).cast();
    input.set_checked(checked);
    let wrap = el("div")
        .class("perm-check")
        .child(&input)
        .child(el("label").attr("for", id).text(label))
        .done();
    (wrap, input)
}

/// The confirmation dialog of a revocation or downgrade (a modal `<dialog>`: focus
/// stays inside, Escape cancels, focus returns to the button that opened it).
#[allow(clippy::too_many_arguments)]
fn confirm(
    app: &Rc<App>,
    ctx: Rc<Ctx>,
    collection: &str,
    origin: &str,
    name: &str,
    downgrade: bool,
    alert: &Element,
    opener: &HtmlButtonElement,
    screen: u32,
) {
    let title = if downgrade {
        format!("Make {name} read-only on {collection}?")
    } else {
        format!("Revoke the access of {name} to {collection}?")
    };
    let confirm_label = if downgrade {
        "Make read-only"
    } else {
        "Revoke"
    };
    let what = if downgrade {
        format!(
            "{name} keeps reading your {collection} collection but can no longer change it. Cairn gives the collection a new key, stops every old token and gives new ones to the apps that keep write access."
        )
    } else {
        format!(
            "{name} can no longer read or change your {collection} collection. Cairn gives the collection a new key, stops every old token and gives new ones to the apps that keep access."
        )
    };
    let cannot = format!(
        "{name} may have kept copies of what it already read; revoking cannot take those back."
    );
    let (cur_wrap, cur) = checkbox("reencrypt-current", "Re-encrypt current files", true);
    let (hist_wrap, hist) = checkbox("reencrypt-history", "Re-encrypt history", false);
    let ok = button(confirm_label, true);
    let cancel = button("Cancel", false);
    let dialog = el("dialog")
        .class("card perm-dialog")
        .attr("aria-labelledby", "confirm-title")
        .attr("aria-describedby", "confirm-cannot")
        .child(el("h3").attr("id", "confirm-title").text(&title))
        .child(para(&what))
        .child(
            el("p")
                .attr("id", "confirm-cannot")
                .class("warning")
                .text(&cannot),
        )
        .child(el("p").class("hint").text(
            "Re-encrypting moves every file to the new key, so the old key opens none of them. It can be cancelled and resumed.",
        ))
        .child(cur_wrap)
        .child(hist_wrap)
        .child(dom::actions([&ok, &cancel]))
        .done();
    let _ = dom::document().body().map(|b| b.append_child(&dialog));
    let show_modal = js_sys::Reflect::get(&dialog, &"showModal".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    match show_modal {
        Some(f) => {
            let _ = f.call0(&dialog);
        }
        None => {
            let _ = dialog.set_attribute("open", "");
            let _ = dialog.set_attribute("role", "dialog");
            let _ = dialog.set_attribute("aria-modal", "true");
        }
    }
    dom::focus(&cancel);
    let close = {
        let (dialog, opener) = (dialog.clone(), opener.clone());
        move |refocus: bool| {
            if let Ok(f) = js_sys::Reflect::get(&dialog, &"close".into())
                .and_then(|f| f.dyn_into::<js_sys::Function>())
            {
                let _ = f.call0(&dialog);
            }
            dialog.remove();
            if refocus {
                dom::focus(&opener);
            }
        }
    };
    {
        let close = close.clone();
        app.on(&cancel, "click", move |_| close(true));
    }
    {
        // Escape: the browser fires "cancel" on a modal dialog.
        let close = close.clone();
        app.on(&dialog, "cancel", move |e| {
            e.prevent_default();
            close(true)
        });
    }
    {
        let close = close.clone();
        app.on(&dialog, "keydown", move |e| {
            let key = js_sys::Reflect::get(&e, &"key".into())
                .ok()
                .and_then(|k| k.as_string());
            if key.as_deref() == Some("Escape") {
                e.prevent_default();
                close(true);
            }
        });
    }
    let (collection, origin, name, alert) = (
        collection.to_string(),
        origin.to_string(),
        name.to_string(),
        alert.clone(),
    );
    app.on_click(&ok, move |app| {
        let (ctx, collection, origin, name, alert) = (
            ctx.clone(),
            collection.clone(),
            origin.clone(),
            name.clone(),
            alert.clone(),
        );
        let (current, history) = (cur.checked(), hist.checked());
        let close = close.clone();
        async move {
            close(false);
            say(&alert, "");
            let r = collections::start_revocation(
                &app,
                ctx,
                &collection,
                &origin,
                &name,
                downgrade,
                current,
                history,
            )
            .await;
            if !app.is_current(screen) {
                return;
            }
            match r {
                Ok(_) => super::home::show(&app),
                Err(e) => say(&alert, &format!("Could not start: {e}")),
            }
        }
    });
}

/// The running (or last) operation: status, progress bar with Cancel; when it
/// stopped unfinished, why, with Resume.
fn show_job(app: &Rc<App>, area: &Element, job: &Rc<Job>, screen: u32) {
    let status = el("p").attr("role", "status").class("status").done();
    let detail = el("p").class("hint").done();
    let label = if job.kind == "Revocation" {
        "Revocation progress"
    } else {
        "Re-encryption progress"
    };
    let bar = el("progress").attr("aria-label", label).done();
    let count = el("span").class("count").done();
    let cancel = button("Cancel", false);
    let progress = el("div")
        .class("progress determinate")
        .child(&bar)
        .child(&count)
        .child(&cancel)
        .done();
    let problem = alert_region();
    let resume = button("Resume", true);
    resume.set_hidden(true);
    let _ = area.append_child(&status);
    let _ = area.append_child(&detail);
    let _ = area.append_child(&progress);
    let _ = area.append_child(&problem);
    let _ = area.append_child(&resume);
    {
        let job = job.clone();
        let cancel_btn = cancel.clone();
        app.on(&cancel, "click", move |_| {
            job.cancel.set(true);
            cancel_btn.set_disabled(true);
            job.detail
                .replace("Cancelling after the current file…".to_string());
            job.changed();
        });
    }
    {
        let resume_btn = resume.clone();
        app.on_click(&resume, move |app| {
            let btn = resume_btn.clone();
            async move {
                btn.set_disabled(true);
                resume_now(&app, screen).await;
            }
        });
    }
    let render: Rc<dyn Fn()> = {
        let (app, job) = (app.clone(), Rc::downgrade(job));
        let detail = detail.clone();
        let (status, bar, count, progress, problem, resume) = (
            status.clone(),
            bar.clone(),
            count.clone(),
            progress.clone(),
            problem.clone(),
            resume.clone(),
        );
        Rc::new(move || {
            let Some(job) = job.upgrade() else { return };
            if !app.is_current(screen) {
                return;
            }
            say(&status, &job.status.borrow());
            say(&detail, &job.detail.borrow());
            let (done, total) = (job.done.get(), job.total.get());
            if total > 0 {
                let _ = bar.set_attribute("max", &total.to_string());
                let _ = bar.set_attribute("value", &done.min(total).to_string());
                say(&count, &format!("{done} of {total} files"));
            } else {
                let _ = bar.remove_attribute("value");
                say(&count, "");
            }
            if job.ended.get() {
                progress.remove();
                match &*job.error.borrow() {
                    Some(e) => {
                        say(&problem, e);
                        resume.set_hidden(false);
                        resume.set_disabled(false);
                    }
                    None => {
                        say(&problem, "");
                        resume.set_hidden(true);
                    }
                }
            }
        })
    };
    let ended_already = job.ended.get();
    if !ended_already {
        // When it finishes, the screen reloads to show the new state.
        let (app2, job2, inner) = (app.clone(), Rc::downgrade(job), render.clone());
        let done_once = std::cell::Cell::new(false);
        *job.on_change.borrow_mut() = Some(Rc::new(move || {
            inner();
            if let Some(j) = job2.upgrade()
                && j.ended.get()
                && j.error.borrow().is_none()
                && !done_once.replace(true)
                && app2.is_current(screen)
            {
                super::home::show(&app2);
            }
        }));
    }
    render();
}

async fn resume_now(app: &Rc<App>, screen: u32) {
    let Some(keychain) = app.keychain() else {
        return;
    };
    let selected = app.state.borrow().prefs.selected;
    let hub_url = app.hub_url();
    let found = async {
        let ctx = Ctx::new(&keychain, selected, &hub_url).await?;
        let s = ctx.load_settings().await?;
        Ok::<_, cairn_browser::Error>((ctx, s))
    }
    .await;
    if !app.is_current(screen) {
        return;
    }
    match found {
        Ok((ctx, s)) => {
            if let Some(r) = Revocation::pending(&s).into_iter().next() {
                let name = name_of(&s, &r.app);
                collections::run(app, Rc::new(ctx), r, name, true);
            }
            super::home::show(app);
        }
        Err(e) => {
            if let Some(job) = collections::current_job() {
                *job.error.borrow_mut() = Some(format!("Still cannot resume: {e}"));
                job.changed();
            }
        }
    }
}
