//! Create: show a new Secret Key, confirm three random words, set a password.

use super::{NewPassword, save_vault};
use crate::App;
use crate::dom::{actions, alert_region, button, el, field, heading, para, say};
use cairn_core::keys::mnemonic::SecretKey;
use std::rc::Rc;
use web_sys::{Element, HtmlInputElement};

/// Words in a new Secret Key (the Stacks wallets' choice).
pub const WORDS: u32 = 24;

/// Step 1: generates a Secret Key and shows it.
pub fn show(app: &Rc<App>) {
    match SecretKey::generate(WORDS) {
        Ok(secret) => show_words(app, Rc::new(secret)),
        Err(e) => {
            let alert = alert_region();
            say(&alert, &format!("Could not generate a Secret Key: {e}"));
            app.show(&[el("section")
                .class("card")
                .child(heading(2, "Your Secret Key"))
                .child(alert)
                .done()]);
        }
    }
}

/// The words as an ordered list named "Secret Key words".
pub fn word_list(phrase: &str) -> Element {
    el("ol")
        .class("words")
        .attr("aria-label", "Secret Key words")
        .children(phrase.split(' ').map(|w| el("li").text(w)))
        .done()
}

fn show_words(app: &Rc<App>, secret: Rc<SecretKey>) {
    let next = button("I have written it down", true);
    let section = el("section")
        .class("card")
        .child(heading(2, "Your Secret Key"))
        .child(para(
            "These 24 words are the only way to recover your identities. Write them down in order \
             and keep them somewhere safe and offline. Anyone who has them controls your identities.",
        ))
        .child(word_list(secret.phrase()))
        .child(actions([&next]))
        .done();
    app.show(&[section]);
    app.on_click(&next, move |app| {
        let secret = secret.clone();
        async move { show_confirm(&app, secret) }
    });
}

/// Three distinct random positions (0-based), in increasing order.
fn pick_positions(n: usize) -> Vec<usize> {
    let mut picked: Vec<usize> = Vec::new();
    let mut bytes = [0u8; 64];
    let _ = getrandom::fill(&mut bytes);
    for b in bytes {
        let i = usize::from(b) % n;
        if !picked.contains(&i) {
            picked.push(i);
        }
        if picked.len() == 3 {
            break;
        }
    }
    // A broken RNG gives zeros: fall back to fixed positions rather than fewer words.
    for i in [2, n / 2, n - 1] {
        if picked.len() < 3 && !picked.contains(&i) {
            picked.push(i);
        }
    }
    cairn_core::support::sorting::sort_by(&mut picked, |a, b| a.cmp(b));
    picked
}

fn show_confirm(app: &Rc<App>, secret: Rc<SecretKey>) {
    let words: Vec<String> = secret.phrase().split(' ').map(str::to_string).collect();
    let positions = pick_positions(words.len());
    let alert = alert_region();
    let mut inputs: Vec<(usize, HtmlInputElement)> = Vec::new();
    let mut fields = el("div").class("confirm-words");
    for &p in &positions {
        let (f, input) = field(
            &format!("word-{}", p + 1),
            &format!("Word {}", p + 1),
            "text",
            "off",
        );
        fields = fields.child(f);
        inputs.push((p, input));
    }
    let next = button("Continue", true);
    let back = button("Show the words again", false);
    let section = el("section")
        .class("card")
        .child(heading(2, "Confirm your Secret Key"))
        .child(para("Type these words from your written copy."))
        .child(fields)
        .child(alert.clone())
        .child(actions([&next, &back]))
        .done();
    app.show(&[section]);
    let targets: Vec<web_sys::EventTarget> = inputs.iter().map(|(_, i)| i.clone().into()).collect();
    let target_refs: Vec<&web_sys::EventTarget> = targets.iter().collect();
    let s2 = secret.clone();
    app.on_click(&back, move |app| {
        let s = s2.clone();
        async move { show_words(&app, s) }
    });
    let inputs = Rc::new(inputs);
    app.on_submit(&next, &target_refs, move |app| {
        let (inputs, words, alert, secret) =
            (inputs.clone(), words.clone(), alert.clone(), secret.clone());
        async move {
            for (p, input) in inputs.iter() {
                if input.value().trim().to_ascii_lowercase() != words[*p] {
                    say(
                        &alert,
                        &format!("Word {} is not right. Check your written copy.", p + 1),
                    );
                    let _ = input.focus();
                    return;
                }
            }
            show_password(&app, secret);
        }
    });
}

fn show_password(app: &Rc<App>, secret: Rc<SecretKey>) {
    let pw = NewPassword::new(app);
    let alert = alert_region();
    let status = el("div").class("busy").done();
    let create = button("Create", true);
    let section = el("section")
        .class("card")
        .child(heading(2, "Set a password"))
        .child(para(
            "The password unlocks Cairn in this browser. It encrypts your Secret Key here; \
             it cannot recover your identities elsewhere — your Secret Key does.",
        ))
        .child(pw.group.clone())
        .child(alert.clone())
        .child(status.clone())
        .child(actions([&create]))
        .done();
    app.show(&[section]);
    let pw = Rc::new(pw);
    let (f1, f2) = (pw.password.clone(), pw.confirm.clone());
    let fields: [&web_sys::EventTarget; 2] = [&f1, &f2];
    let btn = create.clone();
    app.on_submit(&create, &fields, move |app| {
        let (pw, alert, status, secret, btn) = (
            pw.clone(),
            alert.clone(),
            status.clone(),
            secret.clone(),
            btn.clone(),
        );
        async move {
            say(&alert, "");
            let password = match pw.check() {
                Ok(p) => zeroize::Zeroizing::new(p),
                Err(m) => return say(&alert, &m.to_string()),
            };
            btn.set_disabled(true);
            if !save_vault(&app, secret.phrase(), &password, &status, &alert).await {
                btn.set_disabled(false);
            }
        }
    });
}
