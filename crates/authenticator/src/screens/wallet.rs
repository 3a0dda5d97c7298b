//! The wallet interface's screens in the `/rpc.html` popup: "<app> wants to connect"
//! (getAddresses, stx_getAddresses, stx_getAccounts), "Sign a message"
//! (stx_signMessage), "Sign structured data" (stx_signStructuredMessage, SIP-018) and
//! "Update your public profile" (stx_updateProfile), with the same identity picker,
//! Approve/Deny and Approve delay as the sign-in consent. An origin connected before gets
//! its addresses without a screen.

use super::consent::arm;
use super::identities::picker;
use crate::collections::Ctx;
use crate::dom::{actions, alert_region, button, el, field, heading, para, progress, say};
use crate::{App, rpc};
use cairn_browser::ErrorKind;
use cairn_browser::http::{self, Stored};
use cairn_browser::wait;
use cairn_core::keys::keychain::Keychain;
use cairn_core::protocol::auth::random_uuid;
use cairn_core::protocol::clarity::{self, StructuredData};
use cairn_core::protocol::hub_urls::store_url;
use cairn_core::protocol::profile::{
    claim_from_profile_file, default_profile, profile_changes, profile_file_body,
    sign_profile_token, updated_profile,
};
use cairn_core::protocol::sign_in_with_stacks::{
    CHAIN_ID_MAINNET, CHAIN_ID_TESTNET, SignInFields, parse_sign_in_message,
};
use cairn_core::protocol::signin::{PROFILE_PATH, read_url};
use cairn_core::protocol::wallet_rpc::{
    Method, Request, RpcError, WALLET_SCOPE, WALLET_STORAGE_SCOPE, accounts_result,
    addresses_result, code, sign_in_problems, sign_message_result, sign_structured_message_result,
    update_profile_result, visible_message,
};
use cairn_core::support::json::Value;
use std::cell::Cell;
use std::rc::Rc;
use web_sys::Element;

/// The result for `req` with account `i`.
fn result(
    app: &App,
    keychain: &Keychain,
    i: u32,
    origin: &str,
    req: &Request,
) -> Result<cairn_core::support::json::Value, RpcError> {
    let internal =
        |e: String| RpcError::new(cairn_core::protocol::wallet_rpc::code::INTERNAL_ERROR, e);
    match &req.method {
        Method::GetAddresses => addresses_result(keychain, i, req.mainnet).map_err(internal),
        Method::GetAccounts => {
            accounts_result(keychain, i, req.mainnet, origin, &app.hub_url()).map_err(internal)
        }
        Method::SignMessage { message } => {
            sign_message_result(keychain, i, message).map_err(internal)
        }
        Method::SignStructuredMessage { data } => {
            sign_structured_message_result(keychain, i, data).map_err(internal)
        }
        // Written by `save_profile` before the answer.
        Method::UpdateProfile { profile } => Ok(update_profile_result(profile)),
    }
}

/// Identity `i`'s stored public profile (its `profile.json` claim; the default Person
/// when there is none).
async fn stored_profile(ctx: &Ctx) -> Result<Value, cairn_browser::Error> {
    let url = read_url(&ctx.info, &ctx.identity.address, PROFILE_PATH);
    Ok(http::read(&url)
        .await?
        .and_then(|a| claim_from_profile_file(&a.body))
        .unwrap_or_else(default_profile))
}

/// Signs identity `i`'s new profile with its STX key (as @stacks/wallet-sdk) and writes
/// `profile.json` to its bucket; the stored profile is read again first, so the apps'
/// entries written meanwhile are kept. Returns the profile as written.
async fn save_profile(
    app: &App,
    keychain: &Keychain,
    i: u32,
    update: &Value,
) -> Result<Value, cairn_browser::Error> {
    let ctx = Ctx::new(keychain, i, &app.hub_url()).await?;
    let stored = stored_profile(&ctx).await?;
    let profile = updated_profile(Some(&stored), update);
    let stx = keychain.stx_key(i)?;
    let jti = random_uuid()?;
    let token = sign_profile_token(&profile, &stx, wait::now_ms() as i64, &jti);
    let url = store_url(&ctx.hub_url, &ctx.identity.address, PROFILE_PATH);
    match http::store(
        &url,
        &ctx.token,
        &profile_file_body(&token),
        "application/json",
        None,
    )
    .await?
    {
        Stored::Done => Ok(profile),
        Stored::Conflict => Err(cairn_browser::Error::from(ErrorKind::Changed {
            file: "your profile".into(),
            retried: false,
        })),
    }
}

/// The identity whose settings record `origin` as connected through the wallet
/// interface, and whether it also got its storage key. Unreadable settings count as
/// not connected (the user is asked).
async fn connection(app: &App, keychain: &Keychain, origin: &str) -> Option<(u32, bool)> {
    let count = app.state.borrow().prefs.identity_count.max(1);
    let hub = app.hub_url();
    for i in 0..count {
        let Ok(ctx) = Ctx::new(keychain, i, &hub).await else {
            return None;
        };
        if let Ok(s) = ctx.load_settings().await
            && let Some(a) = s.app(origin)
            && a.scopes.iter().any(|s| s == WALLET_SCOPE)
        {
            return Some((i, a.scopes.iter().any(|s| s == WALLET_STORAGE_SCOPE)));
        }
    }
    None
}

/// Records the connection in identity `i`'s settings file.
async fn remember(
    app: &App,
    keychain: &Keychain,
    i: u32,
    origin: &str,
    storage: bool,
) -> Result<(), cairn_browser::Error> {
    let ctx = Ctx::new(keychain, i, &app.hub_url()).await?;
    let now = wait::now_ms() as i64;
    ctx.update_settings(&mut |s| {
        let mut scopes = s.app(origin).map(|a| a.scopes.clone()).unwrap_or_default();
        for (want, scope) in [(true, WALLET_SCOPE), (storage, WALLET_STORAGE_SCOPE)] {
            if want && !scopes.iter().any(|x| x == scope) {
                scopes.push(scope.to_string());
            }
        }
        s.record_sign_in(origin, None, None, &scopes, now);
        Ok(())
    })
    .await
    .map(|_| ())
}

/// Shows the screen for the request on screen (or answers it at once for a connected
/// app that only reads its addresses).
pub fn show(app: &Rc<App>, origin: String, req: Request) {
    let Some(keychain) = app.keychain() else {
        return app.route();
    };
    let checking = el("section")
        .class("card")
        .child(heading(2, &format!("Request from {origin}")))
        .child(progress("Checking"))
        .done();
    let screen = app.show(&[checking]);
    let app = app.clone();
    crate::spawn(async move {
        let connected = connection(&app, &keychain, &origin).await;
        if !app.is_current(screen) {
            return;
        }
        if let Some((i, storage)) = connected {
            let silent = match req.method {
                Method::GetAddresses => true,
                Method::GetAccounts => storage,
                Method::SignMessage { .. }
                | Method::SignStructuredMessage { .. }
                | Method::UpdateProfile { .. } => false,
            };
            if silent {
                let out = result(&app, &keychain, i, &origin, &req);
                return rpc::finish(&app, out);
            }
        }
        let default = connected
            .map(|c| c.0)
            .unwrap_or_else(|| app.state.borrow().prefs.selected);
        consent(&app, &keychain, origin, req, default);
    });
}

/// The problems of a Sign-In with Stacks message signed with identity `i`.
fn problems(keychain: &Keychain, i: u32, origin: &str, f: &SignInFields) -> Vec<String> {
    let address = keychain
        .stx_address(i, f.chain_id == CHAIN_ID_MAINNET)
        .unwrap_or_default();
    sign_in_problems(f, origin, &address)
}

/// A Sign-In with Stacks message's fields, one row each.
fn sign_in_fields(f: &SignInFields) -> Element {
    let rows = [
        ("Domain", Some(&f.domain)),
        ("Address", Some(&f.address)),
        ("Statement", f.statement.as_ref()),
        ("URI", Some(&f.uri)),
        ("Nonce", Some(&f.nonce)),
        ("Issued at", Some(&f.issued_at)),
        ("Expires", f.expiration_time.as_ref()),
        ("Not before", f.not_before.as_ref()),
    ];
    let mut dl = el("dl").class("sign-in-fields");
    for (k, v) in rows {
        if let Some(v) = v {
            dl = dl.child(el("dt").text(k)).child(el("dd").text(v));
        }
    }
    el("div")
        .child(para("This is a sign-in message:"))
        .child(dl)
        .done()
}

fn consent(app: &Rc<App>, keychain: &Rc<Keychain>, origin: String, req: Request, default: u32) {
    let count = app.state.borrow().prefs.identity_count.max(1);
    let chosen = Rc::new(Cell::new(default.min(count - 1)));
    let siws = Rc::new(match &req.method {
        Method::SignMessage { message } => parse_sign_in_message(message).ok(),
        _ => None,
    });
    let warning = el("div")
        .class("unconfirmed hidden")
        .attr("role", "alert")
        .done();
    let (confirm_row, confirm) = field(
        "sign-anyway",
        "Sign anyway: I know why this message does not match",
        "checkbox",
        "off",
    );
    let net = if req.mainnet { "mainnet" } else { "testnet" };
    let changes_box = el("div").class("profile-changes").done();
    let mut section = el("section").class("card consent");
    match &req.method {
        Method::SignMessage { message } => {
            section = section
                .child(heading(2, &format!("Sign a message for {origin}")))
                .child(para(&format!(
                    "{origin} asks you to sign this message with the Stacks key of the identity \
                     you choose. Signing shows that you hold that address; it sends nothing and \
                     moves no funds."
                )))
                .child(
                    el("pre")
                        .class("message")
                        .attr("tabindex", "0")
                        .attr("aria-label", "Message to sign")
                        .text(&visible_message(message)),
                );
            if let Some(f) = siws.as_ref() {
                section = section
                    .child(sign_in_fields(f))
                    .child(warning.clone())
                    .child(confirm_row.clone());
            }
        }
        Method::SignStructuredMessage { data } => {
            section = section
                .child(heading(2, &format!("Sign structured data for {origin}")))
                .child(para(&format!(
                    "{origin} asks you to sign this structured data (SIP-018) with the Stacks key \
                     of the identity you choose. A contract may accept the signature as your \
                     approval of exactly this message in this domain; signing sends nothing by \
                     itself."
                )))
                .child(domain_fields(data))
                .child(
                    el("pre")
                        .class("message")
                        .attr("tabindex", "0")
                        .attr("aria-label", "Structured message to sign")
                        .text(&tree_text(&data.message)),
                );
        }
        Method::UpdateProfile { .. } => {
            section = section
                .child(heading(
                    2,
                    &format!("Update your public profile for {origin}"),
                ))
                .child(para(&format!(
                    "{origin} asks to change the public profile of the identity you choose. \
                     Anyone can read this profile. Cairn signs it and saves it to your Gaia hub; \
                     the list of your apps' storage stays as it is."
                )))
                .child(changes_box.clone());
        }
        m => {
            let storage = *m == Method::GetAccounts;
            let mut list = el("ul").class("scopes").child(el("li").text(&format!(
                "See the Stacks address ({net}) and public key of the identity you choose"
            )));
            if storage {
                list = list.child(el("li").text(
                    "Get its own storage key for your Gaia hub, and the hub's address — the same \
                     key it gets when you sign in with Cairn, so it can keep its data there",
                ));
            }
            section = section
                .child(heading(2, &format!("{origin} wants to connect")))
                .child(para(&format!("{origin} wants to:")))
                .child(list)
                .child(para(
                    "Cairn will remember this app: later it can read your address again without \
                     asking. It is listed in Apps as connected via wallet interface.",
                ));
        }
    }
    // The warning follows the identity chosen (the message names one address).
    let update = {
        let (keychain, origin, siws) = (keychain.clone(), origin.clone(), siws.clone());
        let (warning, confirm_row) = (warning.clone(), confirm_row.clone());
        move |i: u32| {
            let Some(f) = siws.as_ref() else { return };
            let found = problems(&keychain, i, &origin, f);
            crate::dom::clear(&warning);
            for p in &found {
                let _ = warning.append_child(&para(p));
            }
            let class = if found.is_empty() { " hidden" } else { "" };
            warning.set_class_name(&format!("unconfirmed{class}"));
            confirm_row.set_class_name(&format!("field{class}"));
        }
    };
    update(chosen.get());
    // A profile update shows the change against the chosen identity's stored profile.
    let reload = {
        let (app, keychain, changes_box) = (app.clone(), keychain.clone(), changes_box.clone());
        let update = match &req.method {
            Method::UpdateProfile { profile } => Some(Rc::new(profile.clone())),
            _ => None,
        };
        let generation = Rc::new(Cell::new(0u32));
        move |i: u32| {
            let Some(update) = update.clone() else { return };
            let g = generation.get().wrapping_add(1);
            generation.set(g);
            let (app, keychain, changes_box, generation) = (
                app.clone(),
                keychain.clone(),
                changes_box.clone(),
                generation.clone(),
            );
            crate::dom::clear(&changes_box);
            let _ = changes_box.append_child(&progress("Reading your profile"));
            crate::spawn(async move {
                let stored = match Ctx::new(&keychain, i, &app.hub_url()).await {
                    Ok(ctx) => stored_profile(&ctx).await,
                    Err(e) => Err(e),
                };
                if generation.get() != g {
                    return;
                }
                crate::dom::clear(&changes_box);
                let node = match stored {
                    Ok(stored) => changes_table(&stored, &updated_profile(Some(&stored), &update)),
                    Err(e) => el("p")
                        .attr("role", "status")
                        .text(&format!(
                            "Your current profile could not be read ({e}); the change is shown \
                             against an empty profile."
                        ))
                        .child(changes_table(
                            &default_profile(),
                            &updated_profile(None, &update),
                        ))
                        .done(),
                };
                let _ = changes_box.append_child(&node);
            });
        }
    };
    reload(chosen.get());
    let c = chosen.clone();
    let pick = picker(app, keychain, count, chosen.get(), move |i| {
        c.set(i);
        update(i);
        reload(i);
    });
    let approve_btn = button("Approve", true);
    let deny_btn = button("Deny", false);
    let alert = alert_region();
    let status = el("div").class("busy").done();
    let section = section
        .child(pick)
        .child(alert.clone())
        .child(status.clone())
        .child(actions([&approve_btn, &deny_btn]))
        .done();
    let screen = app.show(&[section]);
    let gate = arm(app, screen, &approve_btn);
    app.on_click(&deny_btn, |app| async move {
        rpc::finish(&app, Err(RpcError::rejected()));
    });
    let req = Rc::new(req);
    let buttons = [approve_btn.clone(), deny_btn.clone()];
    app.on_click(&approve_btn, move |app| {
        let (req, origin, chosen, gate) =
            (req.clone(), origin.clone(), chosen.clone(), gate.clone());
        let (siws, confirm) = (siws.clone(), confirm.clone());
        let (status, alert, buttons) = (status.clone(), alert.clone(), buttons.clone());
        async move {
            if !gate.open() {
                return;
            }
            let Some(keychain) = app.keychain() else {
                return app.route();
            };
            if let Some(f) = siws.as_ref()
                && !problems(&keychain, chosen.get(), &origin, f).is_empty()
                && !confirm.checked()
            {
                return say(
                    &alert,
                    "This sign-in message does not match (see above). Tick \"Sign anyway\" to sign it.",
                );
            }
            gate.busy.set(true);
            for b in &buttons {
                b.set_disabled(true);
            }
            say(&alert, "");
            let i = chosen.get();
            if let Method::UpdateProfile { profile } = &req.method {
                let _ = status.append_child(&progress("Saving your profile"));
                let out = match save_profile(&app, &keychain, i, profile).await {
                    Ok(written) => Ok(update_profile_result(&written)),
                    Err(e) => {
                        crate::dom::clear(&status);
                        let text = format!("Cairn could not save your profile: {e}");
                        let _ = status.append_child(&el("p").attr("role", "status").text(&text).done());
                        wait::sleep(2500).await;
                        Err(RpcError::new(code::INTERNAL_ERROR, text))
                    }
                };
                return rpc::finish(&app, out);
            }
            if matches!(req.method, Method::GetAddresses | Method::GetAccounts) {
                let _ = status.append_child(&progress("Connecting"));
                let storage = req.method == Method::GetAccounts;
                if let Err(e) = remember(&app, &keychain, i, &origin, storage).await {
                    // The answer is still given; only the memory of it is missing.
                    crate::dom::clear(&status);
                    let _ = status.append_child(
                        &el("p")
                            .attr("role", "status")
                            .text(&format!("Cairn could not remember this app: {e}"))
                            .done(),
                    );
                    wait::sleep(2500).await;
                }
            }
            let out = result(&app, &keychain, i, &origin, &req);
            rpc::finish(&app, out);
        }
    });
}

/// A SIP-018 domain's fields: name, version, chain id (with the network it names).
fn domain_fields(data: &StructuredData) -> Element {
    let d = &data.domain;
    let chain = match u64::try_from(d.chain_id) {
        Ok(CHAIN_ID_MAINNET) => format!("{} (mainnet)", d.chain_id),
        Ok(CHAIN_ID_TESTNET) => format!("{} (testnet)", d.chain_id),
        _ => format!("{} (not mainnet or testnet)", d.chain_id),
    };
    let rows = [
        ("Domain name", clarity::visible_quoted(&d.name)),
        ("Version", clarity::visible_quoted(&d.version)),
        ("Chain ID", chain),
    ];
    let mut dl = el("dl")
        .class("sign-in-fields")
        .attr("aria-label", "Domain");
    for (k, v) in rows {
        dl = dl.child(el("dt").text(k)).child(el("dd").text(&v));
    }
    el("div")
        .child(para("Domain (who the signature is for):"))
        .child(dl)
        .child(para("Message:"))
        .done()
}

/// A Clarity value as an indented tree, one line per value (`name: value`).
fn tree_text(value: &cairn_core::protocol::clarity::ClarityValue) -> String {
    let mut out = String::new();
    for line in clarity::render(value) {
        if !out.is_empty() {
            out.push('\n');
        }
        for _ in 0..line.depth {
            out.push_str("  ");
        }
        if !line.label.is_empty() {
            out.push_str(&line.label);
            out.push_str(": ");
        }
        out.push_str(&line.value);
    }
    out
}

/// The fields a profile update changes: a table of field, now, after.
fn changes_table(before: &Value, after: &Value) -> Element {
    let changes = profile_changes(before, after);
    if changes.is_empty() {
        return para("This update changes nothing in your profile.");
    }
    let head = el("tr")
        .child(el("th").attr("scope", "col").text("Field"))
        .child(el("th").attr("scope", "col").text("Now"))
        .child(el("th").attr("scope", "col").text("After"));
    let mut body = el("tbody");
    for c in &changes {
        body = body.child(
            el("tr")
                .child(el("th").attr("scope", "row").text(&c.field))
                .child(el("td").text(c.before.as_deref().unwrap_or("(not set)")))
                .child(el("td").text(c.after.as_deref().unwrap_or("(removed)"))),
        );
    }
    el("table")
        .class("profile-changes")
        .attr("aria-label", "Profile changes")
        .child(el("thead").child(head))
        .child(body)
        .done()
}

/// Waiting for the app's request (or between requests).
pub fn show_waiting(app: &Rc<App>) {
    let section = el("section")
        .class("card")
        .child(heading(2, "Waiting for the app"))
        .child(para(
            "This window answers requests from the app that opened it.",
        ))
        .done();
    app.show(&[section]);
}

/// After the answer: the popup closes itself.
pub fn show_done(app: &Rc<App>) {
    let section = el("section")
        .class("card")
        .child(heading(2, "Done"))
        .child(para(
            "Cairn answered the app. This window closes by itself.",
        ))
        .done();
    app.show(&[section]);
}
