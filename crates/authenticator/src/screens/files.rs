//! Files (docs/FILES_UI.md): browse each collection of the selected identity and,
//! read-only, each connected app's own bucket; preview files; a file's versions with
//! diffs, rollback and restore; "Undo changes since…" with preview, confirmation,
//! progress and a journal; "Delete old versions".
//!
//! The list is virtualised: rows are rendered only for the visible window of a
//! scrolling box, and re-rendered as pages of the listing arrive.

use super::confirm;
use crate::dom::{self, button, el, heading, para, say, status_line};
use crate::file_browser::{CollectionBucket, Session, collection_prefix};
use crate::{App, spawn};
use cairn_browser::jobs::RunEnd;
use cairn_browser::wait::now_ms;
use cairn_browser::webcrypto::WebCrypto;
use cairn_core::collections::files::{
    Preview, UndoJob, change_target, classify, diff_text, display_name, format_size,
    old_version_paths, open_body_async, visible_rows, window,
};
use cairn_core::collections::history::{
    Change, DiffLine, FileHistory, ListedFile, Version, build_histories, diff_lines,
    paths_changed_by, plan_rollback, plan_undo_since,
};
use cairn_core::collections::settings::Settings;
use cairn_core::jobs::undo::UndoRun;
use cairn_core::keys::PrivateKey;
use cairn_core::keys::keychain::Keychain;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Element, HtmlButtonElement, HtmlInputElement};

/// Height of one row of the file list, px (`.file-row` in style.css).
/// Height of one row in CSS pixels (an integer, so styles are formatted without floats).
const ROW_PX: usize = 40;
const ROW_HEIGHT: f64 = ROW_PX as f64;
/// Rows rendered above and below the visible ones.
const OVERSCAN: usize = 10;
/// The collection offered when the settings file lists none (the alpha's only one).
const KNOWN_COLLECTIONS: [&str; 1] = ["contact"];
/// Journal the undo's progress every this many changes.
const JOURNAL_EVERY: usize = 10;

/// The Files section.
pub fn fill(app: &Rc<App>, body: &Element, screen: u32) {
    let Some(keychain) = app.keychain() else {
        return;
    };
    let selected = app.state.borrow().prefs.selected;
    let _ = body.append_child(&heading(2, "Files"));
    let _ = body.append_child(&para(&format!(
        "Files of Identity {}: its collections and, read-only, the data of connected apps.",
        selected + 1
    )));
    let status = status_line("Loading your collections…");
    let chooser = el("div").class("file-chooser").done();
    let view = el("div").class("file-view").done();
    let _ = body.append_child(&status);
    let _ = body.append_child(&chooser);
    let _ = body.append_child(&view);
    let hub_url = app.hub_url();
    let app = app.clone();
    spawn(async move {
        let opened = async {
            let session = Session::open(&keychain, selected, &hub_url).await?;
            let (settings, _) = session.settings().await?;
            Ok::<_, cairn_browser::Error>((session, settings))
        }
        .await;
        if !app.is_current(screen) {
            return;
        }
        match opened {
            Err(e) => say(&status, &format!("Could not load your collections: {e}")),
            Ok((session, settings)) => {
                say(&status, "");
                let b = Rc::new(Browser {
                    app: app.clone(),
                    screen,
                    session,
                    keychain,
                    settings: RefCell::new(settings),
                    chooser,
                    view,
                    current: RefCell::new(None),
                });
                b.render_chooser();
            }
        }
    });
}

/// The Files section once the hub and settings are known.
struct Browser {
    app: Rc<App>,
    screen: u32,
    session: Session,
    keychain: Rc<Keychain>,
    settings: RefCell<Settings>,
    chooser: Element,
    view: Element,
    current: RefCell<Option<Rc<View>>>,
}

enum Kind {
    Collection {
        name: String,
        bucket: Box<CollectionBucket>,
    },
    App {
        origin: String,
    },
}

#[derive(Default)]
struct Data {
    listed: Vec<ListedFile>,
    histories: Vec<FileHistory>,
    rows: Vec<usize>,
    complete: bool,
    show_deleted: bool,
    filter: String,
    /// Bumped whenever `rows` changes (the rendered window is then stale).
    version: u32,
    selected: Option<String>,
}

/// One bucket being browsed.
struct View {
    b: Rc<Browser>,
    kind: Kind,
    prefix: String,
    address: String,
    list_token: String,
    /// Decryption keys, oldest generation first.
    keys: Vec<PrivateKey>,
    data: RefCell<Data>,
    rendered: Cell<(usize, usize, u32)>,
    status: Element,
    scroll: Element,
    list: Element,
    detail: Element,
    tools: Element,
}

fn when(ms: i64) -> String {
    let d = js_sys::Date::new(&(ms as f64).into());
    String::from(d.to_locale_string("en", &JsValue::UNDEFINED))
}

fn time_el(ms: i64) -> Element {
    let iso = String::from(js_sys::Date::new(&(ms as f64).into()).to_iso_string());
    el("time").attr("datetime", &iso).text(&when(ms)).done()
}

fn set_style(e: &Element, prop: &str, value: &str) {
    if let Ok(s) = js_sys::Reflect::get(e, &"style".into()) {
        let _ = js_sys::Reflect::set(&s, &prop.into(), &value.into());
    }
}

impl Browser {
    fn live(&self) -> bool {
        self.app.is_current(self.screen)
    }

    fn render_chooser(self: &Rc<Self>) {
        dom::clear(&self.chooser);
        let settings = self.settings.borrow().clone();
        let mut names: Vec<String> = settings.collections.keys().cloned().collect();
        let nav = el("nav").attr("aria-label", "Collections").class("choice");
        let _ = self
            .chooser
            .append_child(&el("h3").text("Collections").done());
        if names.is_empty() {
            let _ = self.chooser.append_child(&para(
                "No app has been given a collection yet. Known collections:",
            ));
            names = KNOWN_COLLECTIONS.iter().map(|s| s.to_string()).collect();
        }
        let nav = nav.done();
        for name in names {
            let generation = settings
                .collections
                .get(&name)
                .map(|c| c.generation)
                .unwrap_or(0);
            let btn = button(&name, false);
            let _ = nav.append_child(&btn);
            let b = self.clone();
            self.app.on_click(&btn, move |_| {
                let b = b.clone();
                let name = name.clone();
                async move {
                    b.open_collection(&name, generation);
                }
            });
        }
        let _ = self.chooser.append_child(&nav);
        let _ = self.chooser.append_child(&el("h3").text("App data").done());
        let apps = el("nav")
            .attr("aria-label", "App data")
            .class("choice")
            .done();
        if settings.apps.is_empty() {
            let _ = apps.append_child(&para("No connected apps yet."));
        }
        for a in &settings.apps {
            let btn = button(a.display_name(), false);
            let _ = btn.set_attribute("title", &a.origin);
            let _ = apps.append_child(&btn);
            let b = self.clone();
            let origin = a.origin.clone();
            let title = a.display_name().to_string();
            self.app.on_click(&btn, move |_| {
                let (b, origin, title) = (b.clone(), origin.clone(), title.clone());
                async move { b.open_app(&origin, &title) }
            });
        }
        let _ = self.chooser.append_child(&apps);
        // An undo that did not finish (closed tab, cancel): offer to resume it.
        for job in UndoJob::pending(&settings) {
            let resume = button("Resume undo", true);
            let discard = button("Discard", false);
            let note = el("div")
                .attr("role", "region")
                .attr("aria-label", "Interrupted undo")
                .class("notice")
                .child(para(&format!(
                    "An undo of changes to {} since {} stopped after {} of {} changes.",
                    job.collection,
                    when(job.since_ms),
                    job.done,
                    job.plan.len()
                )))
                .child(dom::actions([&resume, &discard]))
                .done();
            let _ = self.chooser.append_child(&note);
            let (b, j) = (self.clone(), job.clone());
            self.app.on_click(&resume, move |_| {
                let (b, j) = (b.clone(), j.clone());
                async move { b.resume(j).await }
            });
            let (b, j, n) = (self.clone(), job, note.clone());
            self.app.on_click(&discard, move |_| {
                let (b, j, n) = (b.clone(), j.clone(), n.clone());
                async move {
                    let r = b
                        .session
                        .update_settings(&|s| j.finish(s, now_ms() as i64, false))
                        .await;
                    if let Ok(s) = r {
                        *b.settings.borrow_mut() = s;
                        n.remove();
                    }
                }
            });
        }
    }

    async fn resume(self: &Rc<Self>, job: UndoJob) {
        let generation = self
            .settings
            .borrow()
            .collections
            .get(&job.collection)
            .map(|c| c.generation)
            .unwrap_or(0);
        let Some(view) = self.open_collection(&job.collection, generation) else {
            return;
        };
        view.run_undo(job, true).await;
    }

    fn open_collection(self: &Rc<Self>, name: &str, generation: u32) -> Option<Rc<View>> {
        match CollectionBucket::open(&self.keychain, &self.session, name, generation) {
            Ok(bucket) => {
                let address = bucket.keys.address.clone();
                let token = bucket.owner.clone();
                let keys = bucket.keys.generations.clone();
                Some(self.open_view(
                    Kind::Collection {
                        name: name.to_string(),
                        bucket: Box::new(bucket),
                    },
                    &format!("Collection {name}"),
                    collection_prefix(),
                    address,
                    token,
                    keys,
                ))
            }
            Err(e) => {
                dom::clear(&self.view);
                let _ = self
                    .view
                    .append_child(&status_line(&format!("Cannot open {name}: {e}")));
                None
            }
        }
    }

    fn open_app(self: &Rc<Self>, origin: &str, title: &str) {
        match self.keychain.app_private_key(self.session.identity, origin) {
            Ok(key) => {
                let address = key.public_key().address();
                let token = self.session.token(&key);
                self.open_view(
                    Kind::App {
                        origin: origin.to_string(),
                    },
                    &format!("App data: {title}"),
                    String::new(),
                    address,
                    token,
                    vec![key],
                );
            }
            Err(e) => {
                dom::clear(&self.view);
                let _ = self
                    .view
                    .append_child(&status_line(&format!("Cannot open {origin}: {e}")));
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn open_view(
        self: &Rc<Self>,
        kind: Kind,
        title: &str,
        prefix: String,
        address: String,
        list_token: String,
        keys: Vec<PrivateKey>,
    ) -> Rc<View> {
        dom::clear(&self.view);
        let status = status_line("Listing files…");
        let list = el("ul")
            .attr("aria-label", "Files")
            .class("file-list")
            .done();
        let scroll = el("div")
            .class("file-scroll")
            .attr("tabindex", "0")
            .attr("aria-label", "File list")
            .attr("role", "group")
            .child(&list)
            .done();
        let tools = el("div").class("file-tools").done();
        let detail = el("section")
            .attr("aria-label", "File")
            .class("file-detail")
            .done();
        let head = el("h3").attr("tabindex", "-1").text(title).done();
        let _ = self.view.append_child(&head);
        let _ = self.view.append_child(
            &el("p")
                .class("hint")
                .text(&format!("Bucket {address}"))
                .done(),
        );
        let _ = self.view.append_child(&tools);
        let _ = self.view.append_child(&status);
        let _ = self.view.append_child(&scroll);
        let _ = self.view.append_child(&detail);
        let view = Rc::new(View {
            b: self.clone(),
            kind,
            prefix,
            address,
            list_token,
            keys,
            data: RefCell::new(Data::default()),
            rendered: Cell::new((0, 0, u32::MAX)),
            status,
            scroll,
            list,
            detail,
            tools,
        });
        *self.current.borrow_mut() = Some(view.clone());
        view.build_tools();
        view.wire_list();
        dom::focus(&head);
        let v = view.clone();
        spawn(async move { v.list_all().await });
        view
    }
}

impl View {
    fn live(self: &Rc<Self>) -> bool {
        self.b.live()
            && self
                .b
                .current
                .borrow()
                .as_ref()
                .is_some_and(|c| Rc::ptr_eq(c, self))
    }

    fn is_collection(&self) -> bool {
        matches!(self.kind, Kind::Collection { .. })
    }

    fn build_tools(self: &Rc<Self>) {
        let app = &self.b.app;
        let deleted: HtmlInputElement = el("input")
            .attr("type", "checkbox")
            .attr("id", "show-deleted")
            .cast();
        let check = el("label")
            .class("check")
            .child(&deleted)
            .child(el("span").text("Show deleted files"))
            .done();
        let (filter_field, filter) = dom::field("file-filter", "Filter", "search", "off");
        let row = el("div")
            .class("file-toolbar")
            .child(filter_field)
            .child(check)
            .done();
        let _ = self.tools.append_child(&row);
        let v = self.clone();
        let d = deleted.clone();
        app.on(&deleted, "change", move |_| {
            v.data.borrow_mut().show_deleted = d.checked();
            v.refresh_rows();
        });
        let v = self.clone();
        let f = filter.clone();
        app.on(&filter, "input", move |_| {
            v.data.borrow_mut().filter = f.value();
            v.refresh_rows();
        });
        if self.is_collection() {
            let undo = button("Undo changes since…", false);
            let _ = undo.set_attribute("aria-expanded", "false");
            let panel = el("div")
                .attr("role", "region")
                .attr("aria-label", "Undo changes")
                .class("undo-panel")
                .attr("hidden", "")
                .done();
            let _ = self.tools.append_child(&dom::actions([&undo]));
            let _ = self.tools.append_child(&panel);
            let v = self.clone();
            let (u, p) = (undo.clone(), panel.clone());
            app.on(&undo, "click", move |_| {
                let open = p.has_attribute("hidden");
                if open {
                    let _ = p.remove_attribute("hidden");
                    if p.first_child().is_none() {
                        v.build_undo(&p);
                    }
                    if let Ok(Some(f)) = p.query_selector("input") {
                        dom::focus(&f);
                    }
                } else {
                    let _ = p.set_attribute("hidden", "");
                }
                let _ = u.set_attribute("aria-expanded", if open { "true" } else { "false" });
            });
        } else {
            let _ = self.tools.append_child(&para(
                "Read-only: files of the app's own bucket, decrypted with the app's key.",
            ));
        }
    }

    fn wire_list(self: &Rc<Self>) {
        let v = self.clone();
        self.b
            .app
            .on(&self.scroll, "scroll", move |_| v.render_window(false));
        let v = self.clone();
        self.b.app.on(&self.list, "click", move |e| {
            let Some(t) = e.target().and_then(|t| t.dyn_into::<Element>().ok()) else {
                return;
            };
            if let Ok(Some(btn)) = t.closest("button[data-path]")
                && let Some(path) = btn.get_attribute("data-path")
            {
                let v = v.clone();
                spawn(async move { v.open_file(&path).await });
            }
        });
    }

    /// Lists every page, showing rows as soon as the first page is in.
    async fn list_all(self: Rc<Self>) {
        let mut page: Option<String> = None;
        let mut last_rebuild = 0.0;
        let started = now_ms();
        loop {
            let p = match self
                .b
                .session
                .list_page(&self.address, &self.list_token, page.as_deref())
                .await
            {
                Ok(p) => p,
                Err(e) => {
                    if self.live() {
                        say(&self.status, &format!("Listing stopped: {e}"));
                    }
                    return;
                }
            };
            if !self.live() {
                return;
            }
            let n = {
                let mut d = self.data.borrow_mut();
                d.listed.extend(p.entries);
                d.listed.len()
            };
            page = p.next;
            let now = now_ms();
            if page.is_none() {
                break;
            }
            // Rebuild at once for the first pages, then a few times a second.
            if last_rebuild == 0.0 || now - last_rebuild > 250.0 {
                self.rebuild();
                last_rebuild = now_ms();
                say(&self.status, &format!("Listing… {n} entries so far"));
            }
        }
        self.data.borrow_mut().complete = true;
        self.rebuild();
        let (files, deleted) = {
            let d = self.data.borrow();
            let deleted = d.histories.iter().filter(|h| h.is_deleted()).count();
            (d.histories.len() - deleted, deleted)
        };
        let _ = self.status.set_attribute(
            "data-listed-ms",
            &format!("{}", (now_ms() - started) as u64),
        );
        say(
            &self.status,
            &format!("{files} files listed ({deleted} deleted)."),
        );
    }

    fn rebuild(self: &Rc<Self>) {
        {
            let mut d = self.data.borrow_mut();
            d.histories = build_histories(&d.listed);
        }
        self.refresh_rows();
    }

    fn refresh_rows(self: &Rc<Self>) {
        {
            let mut d = self.data.borrow_mut();
            d.rows = visible_rows(&d.histories, d.show_deleted, &d.filter, &|s| {
                String::from(js_sys::JsString::from(s).to_lower_case())
            });
            d.version = d.version.wrapping_add(1);
        }
        self.render_window(true);
    }

    /// Renders the rows of the visible window (only when it changed).
    fn render_window(self: &Rc<Self>, force: bool) {
        let d = self.data.borrow();
        let total = d.rows.len();
        let height = f64::from(self.scroll.client_height()).max(ROW_HEIGHT * 12.0);
        let (start, end) = window(
            f64::from(self.scroll.scroll_top()),
            height,
            ROW_HEIGHT,
            total,
            OVERSCAN,
        );
        if !force && self.rendered.get() == (start, end, d.version) {
            return;
        }
        self.rendered.set((start, end, d.version));
        // Keep focus on a row that stays rendered.
        let focused = dom::document()
            .active_element()
            .and_then(|a| a.get_attribute("data-path"));
        dom::clear(&self.list);
        set_style(&self.list, "height", &format!("{}px", total * ROW_PX));
        let _ = self.list.set_attribute("aria-rowcount", &total.to_string());
        for (pos, &i) in d.rows[start..end].iter().enumerate() {
            let h = &d.histories[i];
            let pos = start + pos;
            let name = display_name(&h.path, &self.prefix);
            let btn = el("button")
                .attr("type", "button")
                .attr("data-path", &h.path)
                .class("file-name")
                .text(&name)
                .done();
            if d.selected.as_deref() == Some(h.path.as_str()) {
                let _ = btn.set_attribute("aria-current", "true");
            }
            let meta = match h.current().or(h.versions.last()) {
                Some(v) => format!(
                    "{} · {}",
                    format_size(v.size),
                    when(v.replaced_at_ms.unwrap_or(v.written_at_ms))
                ),
                None => String::new(),
            };
            let mut row = el("li")
                .class(if h.is_deleted() {
                    "file-row deleted"
                } else {
                    "file-row"
                })
                .attr("aria-setsize", &total.to_string())
                .attr("aria-posinset", &(pos + 1).to_string())
                .child(&btn)
                .child(el("span").class("file-meta").text(&meta));
            if h.is_deleted() {
                row = row.child(el("span").class("badge").text("deleted"));
            }
            if h.versions.len() > 1 {
                row = row.child(
                    el("span")
                        .class("file-meta")
                        .text(&format!("{} versions", h.versions.len())),
                );
            }
            let row = row.done();
            set_style(&row, "top", &format!("{}px", pos * ROW_PX));
            let _ = self.list.append_child(&row);
            if focused.as_deref() == Some(h.path.as_str()) {
                dom::focus(&btn);
            }
        }
    }

    fn history(&self, path: &str) -> Option<FileHistory> {
        let d = self.data.borrow();
        d.histories.iter().find(|h| h.path == path).cloned()
    }

    fn content_type(&self, version_path: &str) -> String {
        let d = self.data.borrow();
        d.listed
            .iter()
            .find(|f| f.name == version_path)
            .map(|f| f.content_type.clone())
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| "application/json".into())
    }

    /// Reads and opens one version: (preview, key generation or None when clear).
    async fn load(
        &self,
        version: &Version,
    ) -> Result<(Preview, Option<usize>), cairn_browser::Error> {
        let body = self
            .b
            .session
            .read(&self.address, &version.path)
            .await?
            .ok_or_else(|| {
                cairn_browser::Error::from(cairn_browser::ErrorKind::Gone {
                    what: "the file".into(),
                })
            })?;
        let opened = open_body_async(&WebCrypto, &body, &self.keys).await?;
        Ok((
            classify(&self.content_type(&version.path), &opened.plain),
            opened.key_index,
        ))
    }

    fn app_of_writer(&self, writer: Option<&str>) -> Option<String> {
        let (Kind::Collection { name, .. }, Some(w)) = (&self.kind, writer) else {
            return None;
        };
        let s = self.b.settings.borrow();
        // Current grants and every salt an app had before (re-grants, revocations).
        let origin = s.collections.get(name)?.writer_app(w)?;
        Some(
            s.app(origin)
                .map(|a| a.display_name().to_string())
                .unwrap_or_else(|| origin.to_string()),
        )
    }

    async fn open_file(self: &Rc<Self>, path: &str) {
        let Some(h) = self.history(path) else {
            return;
        };
        self.data.borrow_mut().selected = Some(path.to_string());
        self.render_window(true);
        dom::clear(&self.detail);
        let name = display_name(path, &self.prefix);
        let head = el("h3").attr("tabindex", "-1").text(&name).done();
        let _ = self.detail.append_child(&head);
        let shown = h.current().or(h.versions.last()).cloned();
        let mut facts = el("p").class("file-facts");
        if let Some(v) = &shown {
            facts = facts
                .child(el("span").text(&format!("{} · ", format_size(v.size))))
                .child(time_el(v.replaced_at_ms.unwrap_or(v.written_at_ms)));
            if h.is_deleted() {
                facts = facts.child(el("span").text(" · deleted (the last version is kept)"));
            }
            if let Some(app) = self.app_of_writer(v.writer.as_deref()) {
                facts = facts.child(el("span").text(&format!(" · changed by {app}")));
            }
        }
        let _ = self.detail.append_child(&facts.done());
        let actions = el("div").class("actions").done();
        let _ = self.detail.append_child(&actions);
        let preview = el("div")
            .attr("role", "region")
            .attr("aria-label", "Preview")
            .class("preview")
            .text("Loading…")
            .done();
        let _ = self.detail.append_child(&preview);
        let versions_box = el("div").class("versions").done();
        let _ = self.detail.append_child(&versions_box);
        let diff_box = el("div").class("diff-box").done();
        let _ = self.detail.append_child(&diff_box);
        dom::focus(&head);
        if self.is_collection() {
            let history_btn = button("History", false);
            let _ = history_btn.set_attribute("aria-expanded", "false");
            let _ = actions.append_child(&history_btn);
            let v = self.clone();
            let (hh, vb, db, hb) = (
                h.clone(),
                versions_box.clone(),
                diff_box.clone(),
                history_btn.clone(),
            );
            self.b.app.on(&history_btn, "click", move |_| {
                if vb.first_child().is_some() {
                    dom::clear(&vb);
                    let _ = hb.set_attribute("aria-expanded", "false");
                } else {
                    v.render_versions(&hh, &vb, &db);
                    let _ = hb.set_attribute("aria-expanded", "true");
                }
            });
            if h.is_deleted()
                && let Some(last) = h.versions.last()
            {
                let restore = button("Restore", true);
                let _ = actions.append_child(&restore);
                let v = self.clone();
                let (hh, from) = (h.clone(), last.clone());
                self.b.app.on_click(&restore, move |_| {
                    let (v, hh, from) = (v.clone(), hh.clone(), from.clone());
                    async move { v.roll_back(&hh, &from, "Restore").await }
                });
            }
            if !old_version_paths(&h).is_empty() {
                let del = button("Delete old versions", false);
                let _ = del.set_attribute("class", "btn danger");
                let _ = actions.append_child(&del);
                let v = self.clone();
                let hh = h.clone();
                self.b.app.on_click(&del, move |_| {
                    let (v, hh) = (v.clone(), hh.clone());
                    async move { v.delete_old_versions(&hh).await }
                });
            }
        }
        let Some(v) = shown else {
            say(&preview, "No content.");
            return;
        };
        let loaded = self.load(&v).await;
        if !self.live() || self.data.borrow().selected.as_deref() != Some(path) {
            return;
        }
        dom::clear(&preview);
        match loaded {
            Err(e) => say(&preview, &format!("Cannot show this file: {e}")),
            Ok((p, key)) => {
                let note = match (key, self.is_collection()) {
                    (None, _) => "Not encrypted.".to_string(),
                    (Some(g), true) => format!("Decrypted with key generation {g}."),
                    (Some(_), false) => "Decrypted with the app's key.".to_string(),
                };
                let _ = preview.append_child(&el("p").class("hint").text(&note).done());
                let _ = preview.append_child(&render_preview(&p));
            }
        }
    }

    fn render_versions(self: &Rc<Self>, h: &FileHistory, into: &Element, diff_box: &Element) {
        dom::clear(into);
        let _ = into.append_child(&el("h4").text("Versions").done());
        let list = el("ol")
            .attr("aria-label", "Versions")
            .class("version-list")
            .attr("reversed", "")
            .done();
        let current = h.current().cloned();
        for (n, v) in h.versions.iter().enumerate().rev() {
            let label = if v.current {
                format!("Version {} (current)", n + 1)
            } else {
                format!("Version {}", n + 1)
            };
            let mut item = el("li")
                .class("version")
                .child(el("span").class("version-name").text(&label))
                .child(el("span").text(" · written "))
                .child(time_el(v.written_at_ms));
            if let Some(r) = v.replaced_at_ms {
                item = item
                    .child(el("span").text(" · replaced "))
                    .child(time_el(r));
            }
            item = item.child(el("span").text(&format!(" · {}", format_size(v.size))));
            if let Some(app) = self.app_of_writer(v.writer.as_deref()) {
                item = item.child(el("span").text(&format!(" · by {app}")));
            }
            let item = item.done();
            if !v.current {
                let mut btns = Vec::new();
                if let Some(cur) = &current {
                    let cmp = button("Compare with current", false);
                    let vv = self.clone();
                    let (old, new, db) = (v.clone(), cur.clone(), diff_box.clone());
                    self.b.app.on_click(&cmp, move |_| {
                        let (vv, old, new, db) = (vv.clone(), old.clone(), new.clone(), db.clone());
                        async move { vv.show_diff(&old, &new, &db).await }
                    });
                    btns.push(cmp);
                }
                let rb = button("Roll back to this version", false);
                let vv = self.clone();
                let (hh, from) = (h.clone(), v.clone());
                let action = if h.is_deleted() {
                    "Restore"
                } else {
                    "Roll back"
                };
                self.b.app.on_click(&rb, move |_| {
                    let (vv, hh, from) = (vv.clone(), hh.clone(), from.clone());
                    async move { vv.roll_back(&hh, &from, action).await }
                });
                btns.push(rb);
                let _ = item.append_child(&dom::actions(btns.iter()));
            }
            let _ = list.append_child(&item);
        }
        let _ = into.append_child(&list);
    }

    async fn show_diff(self: &Rc<Self>, old: &Version, new: &Version, into: &Element) {
        dom::clear(into);
        let _ = into.append_child(&status_line("Comparing…"));
        let (a, b) = (self.load(old).await, self.load(new).await);
        if !self.live() {
            return;
        }
        dom::clear(into);
        let region = el("div")
            .attr("role", "region")
            .attr("aria-label", "Diff")
            .class("diff")
            .done();
        let _ = region.append_child(
            &el("h4")
                .text(&format!(
                    "Changes from the version of {} to the current one",
                    when(old.written_at_ms)
                ))
                .done(),
        );
        match (a, b) {
            (Ok((pa, _)), Ok((pb, _))) => {
                let lines = diff_lines(&diff_text(&pa), &diff_text(&pb));
                let changed = lines
                    .iter()
                    .filter(|l| !matches!(l, DiffLine::Same(_)))
                    .count();
                let _ = region.append_child(&para(&if changed == 0 {
                    "No differences.".to_string()
                } else {
                    format!("{changed} line(s) differ.")
                }));
                let pre = el("pre").class("diff-lines").done();
                for l in &lines {
                    let (tag, sign, text) = match l {
                        DiffLine::Same(t) => ("span", "  ", t),
                        DiffLine::Removed(t) => ("del", "- ", t),
                        DiffLine::Added(t) => ("ins", "+ ", t),
                    };
                    let _ = pre.append_child(
                        &el(tag)
                            .class("diff-line")
                            .text(&format!("{sign}{text}\n"))
                            .done(),
                    );
                }
                let _ = region.append_child(&pre);
            }
            (Err(e), _) | (_, Err(e)) => {
                let _ = region.append_child(&para(&format!("Cannot compare: {e}")));
            }
        }
        let _ = into.append_child(&region);
    }

    async fn roll_back(self: &Rc<Self>, h: &FileHistory, from: &Version, action: &str) {
        let Kind::Collection { bucket, .. } = &self.kind else {
            return;
        };
        let Some(change) = plan_rollback(h, &from.path) else {
            return;
        };
        let name = display_name(&h.path, &self.prefix);
        let text = if h.is_deleted() {
            format!(
                "Restore {name} with its version of {}? Its history is kept.",
                when(from.written_at_ms)
            )
        } else {
            format!(
                "Roll back {name} to its version of {}? The current version is kept in its history.",
                when(from.written_at_ms)
            )
        };
        if !confirm(&self.b.app, &format!("{action} {name}"), &text, action).await {
            return;
        }
        say(&self.status, &format!("{action}: {name}…"));
        // Inserted, not built from an array: `BTreeMap::from` sorts, a second sort in the module.
        let mut types = BTreeMap::new();
        types.insert(from.path.clone(), self.content_type(&from.path));
        let now = now_ms() as i64;
        let job = UndoJob::new(
            self.collection_name().as_deref().unwrap_or_default(),
            now,
            None,
            vec![change],
            now,
        );
        // One change, not journaled: it is done or not, and safe to repeat.
        let mut run = UndoRun::new(job, bucket.access(&self.b.session), types, None);
        let (end, _) = bucket
            .run(&self.b.session, &mut run, |_, _| {}, || false)
            .await;
        if !self.live() {
            return;
        }
        match end {
            RunEnd::Done => {
                let _ = self
                    .b
                    .session
                    .update_settings(&|s| {
                        s.log.push(cairn_core::collections::settings::LogEntry {
                            at: now_ms() as i64,
                            event: "rollback".into(),
                            collection: self.collection_name(),
                            app: None,
                            detail: Some(format!("{} ← {}", h.path, from.path)),
                        })
                    })
                    .await;
                self.reload(Some(h.path.clone()), &format!("{name}: done."))
                    .await;
            }
            RunEnd::Failed(e) => say(&self.status, &format!("{action} failed: {e}")),
            RunEnd::Cancelled => say(&self.status, &format!("{action} cancelled.")),
        }
    }

    fn collection_name(&self) -> Option<String> {
        match &self.kind {
            Kind::Collection { name, .. } => Some(name.clone()),
            Kind::App { origin } => Some(origin.clone()),
        }
    }

    async fn delete_old_versions(self: &Rc<Self>, h: &FileHistory) {
        let Kind::Collection { bucket, .. } = &self.kind else {
            return;
        };
        let paths = old_version_paths(h);
        let name = display_name(&h.path, &self.prefix);
        let text = format!(
            "Permanently delete {} old version(s) of {name}? This cannot be undone.",
            paths.len()
        );
        if !confirm(
            &self.b.app,
            "Delete old versions",
            &text,
            "Delete old versions",
        )
        .await
        {
            return;
        }
        for (i, p) in paths.iter().enumerate() {
            say(
                &self.status,
                &format!(
                    "Deleting old versions of {name}: {} of {}…",
                    i + 1,
                    paths.len()
                ),
            );
            if let Err(e) = self.b.session.delete(&self.address, p, &bucket.owner).await {
                say(&self.status, &format!("Deleting old versions failed: {e}"));
                return;
            }
        }
        self.reload(
            Some(h.path.clone()),
            &format!("Old versions of {name} deleted."),
        )
        .await;
    }

    /// Lists again, then reopens `path`.
    async fn reload(self: &Rc<Self>, path: Option<String>, message: &str) {
        {
            let mut d = self.data.borrow_mut();
            d.listed.clear();
            d.complete = false;
        }
        self.clone().list_all().await;
        if !self.live() {
            return;
        }
        let status = self.status.text_content().unwrap_or_default();
        say(&self.status, &format!("{message} {status}"));
        if let Some(p) = path {
            self.open_file(&p).await;
        }
    }

    fn build_undo(self: &Rc<Self>, panel: &Element) {
        let Kind::Collection { name, .. } = &self.kind else {
            return;
        };
        let (since_field, since) = dom::field("undo-since", "Since", "datetime-local", "off");
        let _ = since.set_attribute("step", "1");
        let select = el("select").attr("id", "undo-app").done();
        let _ = select.append_child(&el("option").attr("value", "").text("Any app").done());
        {
            let s = self.b.settings.borrow();
            if let Some(c) = s.collections.get(name) {
                for origin in c.writer_apps() {
                    let label = s
                        .app(&origin)
                        .map(|a| a.display_name().to_string())
                        .unwrap_or_else(|| origin.clone());
                    let _ = select
                        .append_child(&el("option").attr("value", &origin).text(&label).done());
                }
            }
        }
        let app_field = el("div")
            .class("field")
            .child(el("label").attr("for", "undo-app").text("Changed by"))
            .child(&select)
            .done();
        let preview_btn = button("Preview", false);
        let run_btn = button("Undo changes", true);
        run_btn.set_disabled(true);
        let out = el("div").class("undo-out").done();
        let _ = panel.append_child(&para(
            "Puts every file back as it was at the chosen time. Nothing is destroyed: the versions replaced now stay in each file's history.",
        ));
        let _ = panel.append_child(&since_field);
        let _ = panel.append_child(&app_field);
        let _ = panel.append_child(&dom::actions([&preview_btn, &run_btn]));
        let _ = panel.append_child(&out);
        let plan: Rc<RefCell<Option<UndoJob>>> = Rc::new(RefCell::new(None));
        let v = self.clone();
        let (s_in, sel, o, p, rb) = (
            since.clone(),
            select.clone(),
            out.clone(),
            plan.clone(),
            run_btn.clone(),
        );
        let collection = name.clone();
        self.b.app.on_submit(&preview_btn, &[&since], move |_| {
            let (v, s_in, sel, o, p, rb, collection) = (
                v.clone(),
                s_in.clone(),
                sel.clone(),
                o.clone(),
                p.clone(),
                rb.clone(),
                collection.clone(),
            );
            async move {
                let app = js_sys::Reflect::get(&sel, &"value".into())
                    .ok()
                    .and_then(|x| x.as_string())
                    .filter(|x| !x.is_empty());
                v.preview_undo(&collection, &s_in, app, &o, &p, &rb);
            }
        });
        let v = self.clone();
        self.b.app.on_click(&run_btn, move |_| {
            let (v, p) = (v.clone(), plan.clone());
            async move {
                let Some(job) = p.borrow().clone() else {
                    return;
                };
                let n = job.plan.len();
                let text = format!(
                    "Undo the changes to {n} file(s) since {}? The versions replaced now are kept in history.",
                    when(job.since_ms)
                );
                if confirm(&v.b.app, "Undo changes", &text, "Undo changes").await {
                    v.run_undo(job, false).await;
                }
            }
        });
    }

    fn preview_undo(
        self: &Rc<Self>,
        collection: &str,
        since: &HtmlInputElement,
        app: Option<String>,
        out: &Element,
        plan: &Rc<RefCell<Option<UndoJob>>>,
        run: &HtmlButtonElement,
    ) {
        dom::clear(out);
        *plan.borrow_mut() = None;
        run.set_disabled(true);
        let value = since.value();
        let t = js_sys::Date::new(&JsValue::from_str(&value)).get_time();
        if value.is_empty() || !t.is_finite() {
            let _ = out.append_child(
                &el("p")
                    .attr("role", "alert")
                    .class("alert")
                    .text("Choose the time to go back to.")
                    .done(),
            );
            return;
        }
        if !self.data.borrow().complete {
            let _ = out.append_child(&status_line(
                "Wait until the listing is complete, then preview again.",
            ));
            return;
        }
        let t = t as i64;
        let d = self.data.borrow();
        let only = app.as_ref().map(|origin| {
            let s = self.b.settings.borrow();
            let salts: Vec<String> = s
                .collections
                .get(collection)
                .map(|c| c.salts_of(origin))
                .unwrap_or_default();
            paths_changed_by(&d.histories, t, &salts)
        });
        let changes = plan_undo_since(&d.histories, t, only.as_deref());
        let _ = out.append_child(&el("h4").text("Undo preview").done());
        if changes.is_empty() {
            let _ = out.append_child(&status_line("Nothing changed since then."));
            return;
        }
        let _ = out.append_child(&status_line(&format!(
            "{} file(s) will change.",
            changes.len()
        )));
        let list = el("ul")
            .attr("aria-label", "Undo preview")
            .class("undo-preview")
            .done();
        for c in changes.iter().take(2000) {
            let name = display_name(c.path(), &self.prefix);
            let what = match (c, change_target(c, &d.histories)) {
                (Change::Restore { was_deleted, .. }, Some(v)) => format!(
                    "{} to the version of {}",
                    if *was_deleted {
                        "restored"
                    } else {
                        "rolled back"
                    },
                    when(v.written_at_ms)
                ),
                (Change::Restore { .. }, None) => "restored".into(),
                (Change::Remove { .. }, _) => "removed (kept in history)".into(),
            };
            let _ = list.append_child(
                &el("li")
                    .child(el("span").class("file-name-text").text(&name))
                    .child(el("span").text(&format!(": {what}")))
                    .done(),
            );
        }
        if changes.len() > 2000 {
            let _ = list.append_child(
                &el("li")
                    .text(&format!("… and {} more", changes.len() - 2000))
                    .done(),
            );
        }
        let _ = out.append_child(&list);
        *plan.borrow_mut() = Some(UndoJob::new(
            collection,
            t,
            app.as_deref(),
            changes,
            now_ms() as i64,
        ));
        run.set_disabled(false);
    }

    /// Runs (or resumes) an undo: journal, then each change with progress; Cancel
    /// stops after the change in flight and leaves the job in the journal.
    async fn run_undo(self: &Rc<Self>, job: UndoJob, resumed: bool) {
        let Kind::Collection { bucket, .. } = &self.kind else {
            return;
        };
        let total = job.plan.len();
        let bar = el("progress")
            .attr("aria-label", "Undo progress")
            .attr("max", &total.max(1).to_string())
            .attr("value", &job.done.to_string())
            .done();
        let label = el("span").done();
        let cancel = button("Cancel", false);
        let box_ = el("div")
            .class("progress undo-progress")
            .child(&bar)
            .child(&label)
            .child(&cancel)
            .done();
        let _ = self.tools.append_child(&box_);
        if resumed {
            say(
                &label,
                &format!("Resuming the undo: {} of {total} done…", job.done),
            );
        }
        let stop = Rc::new(Cell::new(false));
        let st = stop.clone();
        self.b.app.on(&cancel, "click", move |_| st.set(true));
        let mut types: BTreeMap<String, String> = BTreeMap::new();
        for f in &self.data.borrow().listed {
            types.insert(f.name.clone(), f.content_type.clone());
        }
        let started_done = job.done;
        let mut run = UndoRun::new(
            job,
            bucket.access(&self.b.session),
            types,
            Some(JOURNAL_EVERY),
        );
        let (end, latest) = bucket
            .run(
                &self.b.session,
                &mut run,
                |done, _| {
                    let _ = bar.set_attribute("value", &done.to_string());
                    say(
                        &label,
                        &format!(
                            "{}Undoing changes: {done} of {total}",
                            if resumed { "Resumed. " } else { "" },
                        ),
                    );
                },
                // Lock stops the undo too: it holds the identity's keys.
                || stop.get() || self.b.app.keychain().is_none(),
            )
            .await;
        cancel.remove();
        let job = run.job().clone();
        // Nothing journaled and nothing done: the first journal write failed.
        if let RunEnd::Failed(e) = &end
            && latest.is_none()
            && job.done == started_done
        {
            say(&label, &format!("Could not journal the undo: {e}"));
            return;
        }
        let finished = matches!(end, RunEnd::Done);
        let saved = if finished {
            let j = job.clone();
            self.b
                .session
                .update_settings(&|s| j.finish(s, now_ms() as i64, true))
                .await
                .ok()
        } else {
            latest
        };
        if let Some(s) = saved {
            *self.b.settings.borrow_mut() = s;
        }
        let error = match end {
            RunEnd::Failed(e) => Some(e),
            _ => None,
        };
        let message = match (&error, finished) {
            (Some(e), _) => format!(
                "The undo stopped after {} of {total} changes: {e}. It can be resumed.",
                job.done
            ),
            (None, true) => format!("Undo complete: {total} file(s) changed."),
            (None, false) => format!(
                "Undo cancelled after {} of {total} changes. It can be resumed.",
                job.done
            ),
        };
        say(&label, &message);
        if self.live() {
            self.b.render_chooser();
            self.reload(None, &message).await;
        }
    }
}

/// The preview of a file.
fn render_preview(p: &Preview) -> Element {
    match p {
        Preview::Json { value, .. } => el("div")
            .class("json-tree")
            .child(json_node(None, value, 0))
            .done(),
        Preview::Text(t) => el("pre").class("text-preview").text(t).done(),
        Preview::Image { mime, base64 } => el("img")
            .attr("src", &format!("data:{mime};base64,{base64}"))
            .attr("alt", "Image preview")
            .class("image-preview")
            .done(),
        Preview::Binary { size, head } => para(&format!(
            "Binary data, {}: {head}…",
            format_size(*size as u64)
        )),
    }
}

/// A collapsible JSON tree (`<details>`, keyboard-operable as is).
fn json_node(key: Option<&str>, v: &cairn_core::support::json::Value, depth: usize) -> Element {
    use cairn_core::support::json::Value;
    let prefix = key.map(|k| format!("{k}: ")).unwrap_or_default();
    let children: Vec<(String, &Value)> = match v {
        Value::Object(m) => m.iter().map(|(k, v)| (format!("\"{k}\""), v)).collect(),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v))
            .collect(),
        leaf => {
            return el("div")
                .class("json-leaf")
                .text(&format!("{prefix}{leaf}"))
                .done();
        }
    };
    let (open, close) = if v.is_object() {
        ("{", "}")
    } else {
        ("[", "]")
    };
    let details = el("details");
    let details = if depth < 3 {
        details.attr("open", "")
    } else {
        details
    };
    let summary = el("summary")
        .text(&format!(
            "{prefix}{open}{}{close}",
            if children.is_empty() {
                String::new()
            } else {
                format!(" {} ", children.len())
            }
        ))
        .done();
    let body = el("div").class("json-children").done();
    for (k, c) in children.iter().take(1000) {
        let _ = body.append_child(&json_node(Some(k), c, depth + 1));
    }
    if children.len() > 1000 {
        let _ = body.append_child(&para(&format!("… {} more", children.len() - 1000)));
    }
    details.child(summary).child(body).done()
}
