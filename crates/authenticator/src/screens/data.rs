//! "Your data" (`/data.html`, its own module: feature `data`): moving every identity's
//! data to another hub (docs/AUTHENTICATOR_UI.md, "Your data"). The core plans and runs
//! the move ([`cairn_core::jobs::migration`]); this screen asks, shows the plan and the
//! progress, and points the vault's config at the new hub when everything is verified.

use crate::App;
use crate::dom::{self, actions, button, el, field, heading, para, say, status_line};
use crate::screens::confirm;
use cairn_browser::jobs::BrowserHub;
use cairn_browser::wait::now_ms;
use cairn_browser::webcrypto::WebCrypto;
use cairn_browser::{Error, ErrorKind};
use cairn_core::collections::HubContext;
use cairn_core::collections::settings::Settings;
use cairn_core::jobs::export;
use cairn_core::jobs::migration::{
    Bucket, BucketKind, HubCheck, MoveJob, MoveRun, MoveSurvey, buckets, check_hub, survey,
};
use cairn_core::jobs::settings_file::SettingsFile;
use cairn_core::jobs::{Env, Job, Monitor, calls};
use cairn_core::keys::keychain::Keychain;
use cairn_core::protocol::gaia::HubInfo;
use cairn_core::protocol::hub_urls::read_url;
use cairn_core::protocol::profile::claim_from_profile_file;
use cairn_core::protocol::signin::PROFILE_PATH;
use cairn_core::support::encoding::to_hex;
use cairn_core::support::http_url::HttpUrl;
use cairn_core::support::json::Value;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use web_sys::{Element, HtmlButtonElement, HtmlInputElement};

mod archive;

/// One identity's part of a move: its settings file on the old hub and what it holds.
struct Part {
    index: u32,
    settings: SettingsFile,
    survey: MoveSurvey,
    job: MoveJob,
}

/// A checked hub (its context and size limit) and the planned parts.
type Ready = (HubContext, Option<u64>, Vec<Part>);

/// The screen's parts that change.
struct Ui {
    app: Rc<App>,
    screen: u32,
    url: HtmlInputElement,
    check: HtmlButtonElement,
    status: Element,
    plan: Element,
    start: HtmlButtonElement,
    bar: Element,
    count: Element,
    cancel: HtmlButtonElement,
    resume: HtmlButtonElement,
    delete: HtmlButtonElement,
    delete_status: Element,
    download: HtmlButtonElement,
    download_status: Element,
    /// "Your data is on …" and what the old hub still holds.
    where_now: Element,
    old_hub: Element,
    cancelled: Cell<bool>,
    /// The checked hub and the planned parts, once "Check hub" succeeded.
    ready: RefCell<Option<Ready>>,
    /// Files and bytes of the parts already copied, done in all, and the totals.
    base: Cell<(u64, u64)>,
    done: Cell<(u64, u64)>,
    totals: Cell<(u64, u64)>,
}

impl Ui {
    /// Shows the progress: the parts before this one plus `done` of this one.
    fn render_progress(&self) {
        let (files, bytes) = self.done.get();
        let (all_files, all_bytes) = self.totals.get();
        let _ = self.bar.set_attribute("max", &all_files.max(1).to_string());
        let _ = self
            .bar
            .set_attribute("value", &files.min(all_files).to_string());
        let text = format!(
            "{files} of {all_files} files, {} of {}",
            size(bytes),
            size(all_bytes)
        );
        let _ = self.bar.set_attribute("aria-valuetext", &text);
        say(&self.count, &text);
    }
}

impl Monitor for Ui {
    fn say(&self, text: &str) {
        say(&self.status, text);
    }

    fn files(&self, done: u64, _total: u64) {
        let (files, _) = self.base.get();
        let (_, bytes) = self.done.get();
        self.done.set((files + done, bytes));
        self.render_progress();
    }

    fn bytes(&self, done: u64, _total: u64) {
        let (_, bytes) = self.base.get();
        let (files, _) = self.done.get();
        self.done.set((files, bytes + done));
        self.render_progress();
    }

    fn cancelled(&self) -> bool {
        self.cancelled.get()
    }

    fn now_ms(&self) -> i64 {
        now_ms() as i64
    }
}

/// The deletion's progress, in its own status line.
struct DeleteWatch {
    status: Element,
}

impl Monitor for DeleteWatch {
    fn say(&self, _text: &str) {}

    fn files(&self, done: u64, total: u64) {
        say(&self.status, &format!("Deleting: {done} of {total} files…"));
    }

    fn cancelled(&self) -> bool {
        false
    }

    fn now_ms(&self) -> i64 {
        now_ms() as i64
    }
}

/// A byte count in plain units (integers only: no float printer in the module).
fn size(bytes: u64) -> String {
    match bytes {
        b if b < 10 * 1024 => format!("{b} bytes"),
        b if b < 10 * 1024 * 1024 => format!("{} KB", b / 1024),
        b => format!("{} MB", b / (1024 * 1024)),
    }
}

/// Shows "Your data".
pub fn show(app: &Rc<App>) {
    let (url_field, url) = field("new-hub-url", "New hub URL", "url", "url");
    let check = button("Check hub", false);
    let start = button("Move data", true);
    start.set_disabled(true);
    let cancel = button("Cancel", false);
    let resume = button("Resume", true);
    resume.set_hidden(true);
    let delete = button("Delete data on the old hub", false);
    let bar = el("progress").attr("aria-label", "Move progress").done();
    let count = el("span").class("count").done();
    let progress = el("div")
        .class("progress determinate")
        .child(&bar)
        .child(&count)
        .child(&cancel)
        .done();
    let status = status_line("");
    let plan = el("div").class("move-plan").done();
    let delete_status = status_line("");
    let download = button("Download my data", false);
    let download_status = status_line("");
    let old = app.state.borrow().prefs.old_hub_url.clone();
    delete.set_hidden(old.is_none());
    let current = app.hub_url();
    let where_now = para(&format!("Your data is on the Gaia hub {current}."));
    let old_hub = para(&old_hub_text(old.as_deref()));
    let nodes = [
        heading(1, "Your data"),
        where_now.clone(),
        heading(2, "Move my data to another hub"),
        para(
            "Cairn copies every file it holds the keys of — your profile and settings, each app's data, each collection with its history — to the new hub, checks each copy, then switches to the new hub. Nothing is deleted from the old hub until you ask.",
        ),
        url_field,
        actions([&check, &start, &resume]),
        progress.clone(),
        status.clone(),
        plan.clone(),
        heading(2, "Download my data"),
        para(
            "One zip file with every file of yours as it is stored, the decrypted content beside each file Cairn can open, and manifest.json listing them all. No key is put in it.",
        ),
        actions([&download]),
        download_status.clone(),
        heading(2, "The old hub"),
        para(
            match &old {
                Some(o) => {
                    format!("After a move, your data is still on {o} until you delete it there.")
                }
                None => "No move has been made from this browser.".to_string(),
            }
            .as_str(),
        ),
        actions([&delete]),
        delete_status.clone(),
        dom::link("Back to Cairn", "/"),
    ];
    progress.set_attribute("hidden", "").ok();
    let screen = app.show(&nodes);
    let ui = Rc::new(Ui {
        app: app.clone(),
        screen,
        url,
        check,
        status,
        plan,
        start,
        bar,
        count,
        cancel,
        resume,
        delete,
        delete_status,
        download,
        download_status,
        where_now,
        old_hub,
        cancelled: Cell::new(false),
        ready: RefCell::new(None),
        base: Cell::new((0, 0)),
        done: Cell::new((0, 0)),
        totals: Cell::new((0, 0)),
    });
    let progress = Rc::new(progress);
    {
        let ui = ui.clone();
        app.on_submit(&ui.check.clone(), &[&ui.url.clone()], move |_| {
            let ui = ui.clone();
            async move { check_and_plan(&ui).await }
        });
    }
    {
        let (ui, progress) = (ui.clone(), progress.clone());
        app.on_click(&ui.start.clone(), move |_| {
            let (ui, progress) = (ui.clone(), progress.clone());
            async move { run(&ui, &progress).await }
        });
    }
    {
        let (ui, progress) = (ui.clone(), progress.clone());
        app.on_click(&ui.resume.clone(), move |_| {
            let (ui, progress) = (ui.clone(), progress.clone());
            async move {
                check_and_plan(&ui).await;
                if ui.ready.borrow().is_some() {
                    run(&ui, &progress).await;
                }
            }
        });
    }
    {
        let ui2 = ui.clone();
        app.on(&ui.cancel.clone(), "click", move |_| {
            ui2.cancelled.set(true);
            ui2.cancel.set_disabled(true);
            say(&ui2.status, "Cancelling after the current file…");
        });
    }
    {
        let ui = ui.clone();
        app.on_click(&ui.download.clone(), move |_| {
            let ui = ui.clone();
            async move { download_data(&ui).await }
        });
    }
    {
        let ui = ui.clone();
        app.on_click(&ui.delete.clone(), move |_| {
            let ui = ui.clone();
            async move { delete_old(&ui).await }
        });
    }
    let ui = ui.clone();
    crate::spawn(async move { find_unfinished(&ui, &progress).await });
}

/// What the old hub still holds, in words.
fn old_hub_text(old: Option<&str>) -> String {
    match old {
        Some(o) => format!("After a move, your data is still on {o} until you delete it there."),
        None => "No move has been made from this browser.".to_string(),
    }
}

/// A move left unfinished (tab closed, hub down): offers Resume with its target.
async fn find_unfinished(ui: &Rc<Ui>, progress: &Rc<Element>) {
    let Some(keychain) = ui.app.keychain() else {
        return;
    };
    let hub_url = ui.app.hub_url();
    let Ok(info) = calls::hub_info(&BrowserHub, &hub_url).await else {
        return;
    };
    let Ok(identity) = keychain.identity(0) else {
        return;
    };
    let file = SettingsFile::probe(&BrowserHub, &identity, &hub_url, &info).await;
    let Ok((settings, _)) = file.load(&BrowserHub, &WebCrypto).await else {
        return;
    };
    let unfinished = settings.journal.jobs().iter().find_map(|j| match j {
        Job::Move(m) if !m.switched => Some(m.clone()),
        _ => None,
    });
    if let Some(m) = unfinished
        && ui.app.is_current(ui.screen)
    {
        ui.url.set_value(&m.new_hub_url);
        ui.resume.set_hidden(false);
        say(
            &ui.status,
            &format!(
                "A move to {} is unfinished: {} file(s) are already copied. Resume goes on from there.",
                m.new_hub_url,
                m.done.len()
            ),
        );
        // Sent here by the unlock that found it: go on at once.
        let resuming = web_sys::window()
            .and_then(|w| w.location().hash().ok())
            .is_some_and(|h| h == "#resume");
        if resuming {
            check_and_plan(ui).await;
            if ui.ready.borrow().is_some() {
                run(ui, progress).await;
            }
        }
    }
}

/// "Check hub": the hub answers, takes a probe file, and every identity's data is
/// surveyed on the current hub; shows the plan.
async fn check_and_plan(ui: &Rc<Ui>) {
    let Some(keychain) = ui.app.keychain() else {
        return;
    };
    *ui.ready.borrow_mut() = None;
    ui.start.set_disabled(true);
    dom::clear(&ui.plan);
    let typed = ui.url.value().trim().trim_end_matches('/').to_string();
    if HttpUrl::parse(&typed).is_err() {
        return say(
            &ui.status,
            "Check failed: the new hub URL is not an http(s) URL.",
        );
    }
    let old_url = ui.app.hub_url();
    if typed == old_url.trim_end_matches('/') {
        return say(&ui.status, "That is the hub your data is on already.");
    }
    ui.check.set_disabled(true);
    say(&ui.status, "Checking the hub…");
    let result = plan(&keychain, &ui.app, &typed, &old_url).await;
    ui.check.set_disabled(false);
    if !ui.app.is_current(ui.screen) {
        return;
    }
    match result {
        Err(e) => say(&ui.status, &format!("Check failed: {e}")),
        Ok((checked, new, parts)) => {
            let limit = checked.limit_bytes();
            let (files, bytes) = render_plan(ui, &parts);
            ui.totals.set((files, bytes));
            let too_large = parts.iter().find_map(|p| {
                let run = mover(
                    &keychain,
                    p.index,
                    &p.settings,
                    &new,
                    &new,
                    limit,
                    ui.as_ref(),
                );
                run.check(&p.survey).err()
            });
            let limit_text = match limit {
                Some(l) => format!("files up to {}", size(l)),
                None => "no stated size limit".to_string(),
            };
            let ready = format!(
                "Hub ready: its files are read at {}; {limit_text}.",
                checked.info.read_url_prefix
            );
            match too_large {
                Some(e) => say(
                    &ui.status,
                    &format!("{ready} But it cannot take everything: {e}."),
                ),
                None => {
                    say(
                        &ui.status,
                        &format!("{ready} Nothing is written before you choose Move data."),
                    );
                    ui.start.set_disabled(false);
                }
            }
            *ui.ready.borrow_mut() = Some((new, limit, parts));
        }
    }
}

/// The hub check and every identity's survey.
async fn plan(
    keychain: &Keychain,
    app: &App,
    new_url: &str,
    old_url: &str,
) -> Result<(HubCheck, HubContext, Vec<Part>), Error> {
    let identity = keychain.identity(0)?;
    // A probe name unlikely to exist (a failing RNG leaves zeros: still a fine name).
    let mut probe = [0u8; 8];
    let _ = getrandom::fill(&mut probe);
    let checked = check_hub(
        &BrowserHub,
        &identity.key,
        new_url,
        &format!("cairn-probe-{}.txt", to_hex(&probe)),
    )
    .await?;
    let new = HubContext {
        hub_url: new_url.to_string(),
        read_url_prefix: checked.info.read_url_prefix.clone(),
        challenge_text: checked.info.challenge_text.clone(),
    };
    let info = calls::hub_info(&BrowserHub, old_url).await?;
    let count = app.state.borrow().prefs.identity_count.max(1);
    let mut parts = Vec::new();
    for index in 0..count {
        let (settings, s, survey) = survey_identity(keychain, index, old_url, &info).await?;
        let job = s
            .journal
            .jobs()
            .iter()
            .find_map(|j| match j {
                Job::Move(m) if m.new_hub_url == new_url && !m.switched => Some(m.clone()),
                _ => None,
            })
            .unwrap_or_else(|| MoveJob::new(new_url, now_ms() as i64));
        parts.push(Part {
            index,
            settings,
            survey,
            job,
        });
    }
    Ok((checked, new, parts))
}

/// Identity `index`'s settings file on the hub at `hub_url`, the settings, and every
/// bucket it holds with its files (apps from the settings and the profile's `apps`).
async fn survey_identity(
    keychain: &Keychain,
    index: u32,
    hub_url: &str,
    info: &HubInfo,
) -> Result<(SettingsFile, Settings, MoveSurvey), Error> {
    let identity = keychain.identity(index)?;
    let settings = SettingsFile::probe(&BrowserHub, &identity, hub_url, info).await;
    let (s, _) = settings.load(&BrowserHub, &WebCrypto).await?;
    let profile = calls::read(
        &BrowserHub,
        &read_url(&info.read_url_prefix, &identity.address, PROFILE_PATH),
        "your profile",
    )
    .await?;
    let apps: Vec<(String, String)> = profile
        .and_then(|p| claim_from_profile_file(&p.body))
        .and_then(|c| c.get("apps").and_then(Value::as_object).cloned())
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|u| (k.clone(), u.to_string())))
                .collect()
        })
        .unwrap_or_default();
    let (found, not_moved) = buckets(keychain, index, &s, &apps)?;
    let surveyed = survey(&BrowserHub, hub_url, &info.challenge_text, found, not_moved).await?;
    Ok((settings, s, surveyed))
}

/// The plan, as a list per identity; returns the totals (files, bytes).
fn render_plan(ui: &Ui, parts: &[Part]) -> (u64, u64) {
    dom::clear(&ui.plan);
    let (mut files, mut bytes, mut history) = (0, 0, 0);
    for p in parts {
        let list = el("ul").done();
        for b in &p.survey.buckets {
            let n = b.files.len();
            let size_of: u64 = b.files.iter().map(|f| f.content_length).sum();
            let versions = b
                .files
                .iter()
                .filter(|f| cairn_core::collections::history::is_history_file(&f.name))
                .count();
            let mut text = format!(
                "{}: {n} file(s), {}",
                capital(&b.bucket.kind.describe()),
                size(size_of)
            );
            if versions > 0 {
                text.push_str(&format!(", of them {versions} earlier version(s)"));
            }
            let _ = list.append_child(&el("li").text(&text).done());
        }
        for n in &p.survey.not_moved {
            let _ = list.append_child(
                &el("li")
                    .class("warning")
                    .text(&format!("Not moved: {} — {}.", n.what, n.reason))
                    .done(),
            );
        }
        files += p.survey.files();
        bytes += p.survey.bytes();
        history += p.survey.history_files();
        let _ = ui
            .plan
            .append_child(&heading(3, &format!("Identity {}", p.index + 1)));
        let _ = ui.plan.append_child(&list);
    }
    let _ = ui.plan.append_child(&para(&format!(
        "In all: {files} file(s), {} ({history} earlier version(s) among them).",
        size(bytes)
    )));
    (files, bytes)
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The core's move job for one identity.
#[allow(clippy::too_many_arguments)]
fn mover<'a>(
    keychain: &'a Keychain,
    index: u32,
    settings: &'a SettingsFile,
    old: &'a HubContext,
    new: &'a HubContext,
    limit: Option<u64>,
    monitor: &'a dyn Monitor,
) -> MoveRun<'a, BrowserHub, WebCrypto> {
    MoveRun {
        env: Env {
            hub: &BrowserHub,
            bulk: &WebCrypto,
            keychain,
            index,
        },
        old,
        new,
        new_limit: limit,
        settings,
        monitor,
    }
}

/// "Move data" (or Resume): copies every identity's files, then switches each, then
/// points the vault's config at the new hub.
async fn run(ui: &Rc<Ui>, progress: &Element) {
    let Some(keychain) = ui.app.keychain() else {
        return;
    };
    let Some((new, limit, mut parts)) = ui.ready.borrow_mut().take() else {
        return;
    };
    let old_url = ui.app.hub_url();
    let result: Result<(), Error> = async {
        let info = calls::hub_info(&BrowserHub, &old_url).await?;
        let old = HubContext {
            hub_url: old_url.clone(),
            read_url_prefix: info.read_url_prefix.clone(),
            challenge_text: info.challenge_text.clone(),
        };
        ui.start.set_disabled(true);
        ui.check.set_disabled(true);
        ui.resume.set_hidden(true);
        ui.cancelled.set(false);
        ui.cancel.set_disabled(false);
        let _ = progress.remove_attribute("hidden");
        ui.base.set((0, 0));
        ui.done.set((0, 0));
        for p in parts.iter_mut() {
            let mut job = p.job.clone();
            let run = mover(
                &keychain,
                p.index,
                &p.settings,
                &old,
                &new,
                limit,
                ui.as_ref(),
            );
            let result = run.copy(&p.survey, &mut job).await;
            p.job = job;
            result?;
            let (f, b) = ui.base.get();
            ui.base
                .set((f + p.job.done.len() as u64, b + p.job.bytes_done));
        }
        say(
            &ui.status,
            "Every file is copied and checked. Switching to the new hub…",
        );
        for p in parts.iter_mut() {
            let mut job = p.job.clone();
            let run = mover(
                &keychain,
                p.index,
                &p.settings,
                &old,
                &new,
                limit,
                ui.as_ref(),
            );
            run.switch(&p.survey, &mut job).await?;
            p.job = job;
        }
        {
            let mut s = ui.app.state.borrow_mut();
            s.prefs.old_hub_url = Some(old_url.clone());
            s.prefs.hub_url = (new.hub_url != s.config_hub).then(|| new.hub_url.clone());
        }
        ui.app.save_prefs().await;
        Ok(())
    }
    .await;
    let _ = progress.set_attribute("hidden", "");
    ui.check.set_disabled(false);
    match result {
        Ok(()) => {
            let files: usize = parts.iter().map(|p| p.job.done.len()).sum();
            say(
                &ui.status,
                &format!(
                    "Done: {files} file(s) moved to {}. Cairn now uses that hub. Apps that have not signed in since still use the old hub until they sign in again (Apps says which).",
                    new.hub_url
                ),
            );
            say(
                &ui.where_now,
                &format!("Your data is on the Gaia hub {}.", new.hub_url),
            );
            say(&ui.old_hub, &old_hub_text(Some(&old_url)));
            ui.delete.set_hidden(false);
        }
        Err(e) => {
            let why = if matches!(e.kind(), ErrorKind::Cancelled) {
                "Cancelled.".to_string()
            } else if e.is_unreachable() {
                format!("Stopped: a hub did not answer ({e}).")
            } else {
                format!("Stopped: {e}.")
            };
            say(
                &ui.status,
                &format!(
                    "{why} Nothing is switched; what is copied is kept, and Resume goes on from there."
                ),
            );
            ui.resume.set_hidden(false);
            *ui.ready.borrow_mut() = None;
        }
    }
}

/// "Delete data on the old hub": confirms with the count, deletes file by file, then
/// lists the old hub's buckets to show them empty.
async fn delete_old(ui: &Rc<Ui>) {
    let Some(keychain) = ui.app.keychain() else {
        return;
    };
    let Some(old_url) = ui.app.state.borrow().prefs.old_hub_url.clone() else {
        return;
    };
    let result: Result<(), Error> = async {
        let info = calls::hub_info(&BrowserHub, &old_url).await?;
        let old = HubContext {
            hub_url: old_url.clone(),
            read_url_prefix: info.read_url_prefix.clone(),
            challenge_text: info.challenge_text.clone(),
        };
        let count = ui.app.state.borrow().prefs.identity_count.max(1);
        let mut all: Vec<(u32, SettingsFile, Vec<Bucket>)> = Vec::new();
        let mut total = 0;
        for index in 0..count {
            let (settings, _, surveyed) =
                survey_identity(&keychain, index, &old_url, &info).await?;
            total += surveyed.files();
            let found = surveyed.buckets.into_iter().map(|b| b.bucket).collect();
            all.push((index, settings, found));
        }
        let text = format!(
            "Cairn deletes {total} file(s) of yours on {old_url}, one by one. Your data on the new hub is not touched. This cannot be undone."
        );
        if !confirm(&ui.app, "Delete your data on the old hub?", &text, "Delete").await {
            say(&ui.delete_status, "Nothing was deleted.");
            return Ok(());
        }
        ui.delete.set_disabled(true);
        let mut left = 0;
        let watch = DeleteWatch {
            status: ui.delete_status.clone(),
        };
        for (index, settings, found) in &all {
            let run = mover(&keychain, *index, settings, &old, &old, None, &watch);
            left += run.delete_old(found).await?.iter().sum::<usize>();
        }
        if left == 0 {
            say(&ui.delete_status, &format!("Deleted. Every bucket of yours on {old_url} is empty now."));
            ui.app.state.borrow_mut().prefs.old_hub_url = None;
            ui.app.save_prefs().await;
            say(&ui.old_hub, &old_hub_text(None));
            ui.delete.set_hidden(true);
        } else {
            say(&ui.delete_status, &format!("{left} file(s) are still on the old hub; try again."));
            ui.delete.set_disabled(false);
        }
        Ok(())
    }
    .await;
    if let Err(e) = result {
        say(&ui.delete_status, &format!("Could not delete: {e}"));
        ui.delete.set_disabled(false);
    }
}

fn zip_error(e: impl std::fmt::Display) -> Error {
    Error::from(ErrorKind::Browser {
        api: cairn_browser::Api::Page,
        message: format!("the archive could not be written: {e}"),
    })
}

/// Adds one stored entry.
fn add_entry(
    archive: &mut rawzip::ZipArchiveWriter<&mut archive::Sink>,
    path: &str,
    data: &[u8],
) -> Result<(), Error> {
    use std::io::Write;
    let (mut entry, config) = archive.new_file(path).start().map_err(zip_error)?;
    let mut writer = config.wrap(&mut entry);
    writer.write_all(data).map_err(zip_error)?;
    let (_, output) = writer.finish().map_err(zip_error)?;
    entry.finish(output).map_err(zip_error)?;
    Ok(())
}

/// "Download my data": every file of every bucket as stored, its decrypted content
/// beside it where Cairn can open it, and `manifest.json`, in one zip.
async fn download_data(ui: &Rc<Ui>) {
    let Some(keychain) = ui.app.keychain() else {
        return;
    };
    ui.download.set_disabled(true);
    let file_name = format!("cairn-data-{}.zip", today());
    // The save picker first: it needs the click's user activation, which slow work ends.
    let mut target = match archive::Target::pick(&file_name).await {
        Ok(archive::Picked::Target(t)) => t,
        Ok(archive::Picked::Cancelled) => {
            ui.download.set_disabled(false);
            say(
                &ui.download_status,
                "Download cancelled: nothing was written.",
            );
            return;
        }
        Err(e) => {
            ui.download.set_disabled(false);
            say(
                &ui.download_status,
                &format!("Could not download your data: {e}"),
            );
            return;
        }
    };
    let hub_url = ui.app.hub_url();
    let (mut sink, queued) = archive::Sink::new();
    let result: Result<u64, Error> = async {
        let info = calls::hub_info(&BrowserHub, &hub_url).await?;
        let count = ui.app.state.borrow().prefs.identity_count.max(1);
        let mut exported = Vec::new();
        let mut files_done = 0u64;
        {
            let mut archive = rawzip::ZipArchiveWriter::new(&mut sink);
            for index in 0..count {
                let (_, settings, surveyed) =
                    survey_identity(&keychain, index, &hub_url, &info).await?;
                let total: u64 = surveyed.files();
                for b in surveyed.buckets {
                    let folder = export::bucket_folder(index, &b.bucket);
                    let mut files = Vec::new();
                    for f in &b.files {
                        say(
                            &ui.download_status,
                            &format!(
                                "Downloading: {files_done} of {total} files of identity {}…",
                                index + 1
                            ),
                        );
                        let url = read_url(&info.read_url_prefix, &b.bucket.address, &f.name);
                        let Some(body) = cairn_browser::transfer::read_bytes(&url).await? else {
                            continue; // deleted meanwhile
                        };
                        let stored = export::entry_path(&[&folder, "files", &f.name]);
                        add_entry(&mut archive, &stored, &body)?;
                        let opened = export::decrypted(
                            &keychain, index, &settings, &b.bucket, &f.name, &body,
                        );
                        let decrypted = match opened {
                            Some(plain) => {
                                let path = export::entry_path(&[&folder, "decrypted", &f.name]);
                                add_entry(&mut archive, &path, &plain)?;
                                Some(path)
                            }
                            None => None,
                        };
                        files.push(export::ExportedFile {
                            name: f.name.clone(),
                            size: body.len() as u64,
                            sha256: cairn_core::support::encoding::sha256(&body),
                            content_type: f.content_type.clone(),
                            stored,
                            decrypted,
                        });
                        files_done += 1;
                        // A picked file is written as the archive grows.
                        target.take(&queued).await?;
                    }
                    let key_generation = match &b.bucket.kind {
                        BucketKind::Collection { name } => {
                            settings.collections.get(name).map(|c| c.generation)
                        }
                        _ => None,
                    };
                    exported.push(export::ExportedBucket {
                        index,
                        kind: b.bucket.kind.clone(),
                        address: b.bucket.address.clone(),
                        key_generation,
                        files,
                    });
                }
            }
            let when = js_sys::Date::new_0()
                .to_iso_string()
                .as_string()
                .unwrap_or_default();
            let manifest = export::manifest(&hub_url, &when, &exported);
            add_entry(
                &mut archive,
                "manifest.json",
                cairn_core::support::json::to_string_pretty(&manifest).as_bytes(),
            )?;
            archive.finish().map_err(zip_error)?;
        }
        sink.flush_part();
        target.take(&queued).await?;
        Ok(files_done)
    }
    .await;
    let result = match result {
        Ok(files) => target
            .finish(&file_name)
            .await
            .map(|saved_as| (files, saved_as)),
        Err(e) => {
            target.abandon().await;
            Err(e)
        }
    };
    ui.download.set_disabled(false);
    let what = "with their decrypted content where Cairn can open them, and manifest.json. No key is in the archive.";
    let text = match result {
        Err(e) => format!("Could not download your data: {e}"),
        Ok((files, saved_as)) => match saved_as {
            Some(name) => format!("Saved to {name}: {files} file(s), {what}"),
            None => format!("Downloaded: {files} file(s), {what}"),
        },
    };
    say(&ui.download_status, &text);
}

/// Today as `YYYY-MM-DD`.
fn today() -> String {
    let iso = js_sys::Date::new_0()
        .to_iso_string()
        .as_string()
        .unwrap_or_default();
    iso.get(..10).unwrap_or("export").to_string()
}
