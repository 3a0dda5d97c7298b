//! The vault's password KDF (Argon2id), run in the module Web Worker
//! `www/kdf-worker.js` so that the page never freezes. Each call starts a worker,
//! posts one message, awaits the answer and terminates the worker (which frees the
//! KDF's memory at once).

use cairn_browser::wait::{message, pending};
use cairn_core::keys::vault::KdfParams;
use js_sys::{Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{MessageEvent, Worker, WorkerOptions, WorkerType};
use zeroize::Zeroizing;

/// The Argon2id cost of new vaults (see `KdfParams::DEFAULT` for the measured times);
/// `KdfParams::MINIMUM` (19 MiB, 2 passes) is the floor the core accepts.
pub const PARAMS: KdfParams = KdfParams::DEFAULT;

/// The worker script, served beside the page.
pub const WORKER_URL: &str = "/kdf-worker.js";

/// Why opening or sealing the vault failed. The texts are whole sentences: the unlock
/// and backup screens show them as they are.
#[derive(Debug)]
#[non_exhaustive]
pub enum KdfError {
    /// The password does not open the vault.
    WrongPassword,
    /// No password was entered.
    EmptyPassword,
    /// The vault record could not be read from IndexedDB (or there is none).
    NoVault(Option<cairn_browser::Error>),
    /// The worker failed, or reported another error (its message, for the user).
    Other(String),
}

impl std::fmt::Display for KdfError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KdfError::WrongPassword => f.write_str("Wrong password. Try again."),
            KdfError::EmptyPassword => f.write_str("Enter your password."),
            KdfError::NoVault(_) => {
                f.write_str("The vault could not be read from this browser's storage.")
            }
            KdfError::Other(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for KdfError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            KdfError::NoVault(Some(e)) => Some(e),
            _ => None,
        }
    }
}

/// Sends `request` to a fresh worker, transferring the buffers of `secrets` (so the
/// page keeps no copy), and returns its `result` text. A result given as bytes is
/// zeroed in JS once copied.
async fn call(request: &Object, secrets: &[&Uint8Array]) -> Result<Zeroizing<String>, KdfError> {
    let other = |e: JsValue| KdfError::Other(message(&e));
    let opts = WorkerOptions::new();
    opts.set_type(WorkerType::Module);
    // The worker loads the same module as the page (kdf-worker.js reads the name).
    #[cfg(feature = "wallet")]
    opts.set_name("rpc");
    let worker = Worker::new_with_options(WORKER_URL, &opts).map_err(other)?;
    let (promise, resolve, reject) = pending();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        let _ = resolve.call1(&JsValue::NULL, &e.data());
    });
    let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
        let _ = reject.call1(
            &JsValue::NULL,
            &"the key-derivation worker failed to start".into(),
        );
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    let transfer = js_sys::Array::new();
    for b in secrets {
        transfer.push(&b.buffer());
    }
    let reply = match worker.post_message_with_transfer(request, &transfer) {
        Ok(()) => JsFuture::from(promise).await,
        Err(e) => Err(e),
    };
    worker.terminate();
    let reply = reply.map_err(other)?;
    let get = |k: &str| Reflect::get(&reply, &k.into()).unwrap_or(JsValue::UNDEFINED);
    if get("ok").as_bool() == Some(true) {
        let result = get("result");
        if let Some(bytes) = result.dyn_ref::<Uint8Array>() {
            let raw = Zeroizing::new(bytes.to_vec());
            bytes.fill(0, 0, bytes.length());
            return std::str::from_utf8(&raw)
                .map(|s| Zeroizing::new(s.to_owned()))
                .map_err(|_| KdfError::Other("the key-derivation worker gave no result".into()));
        }
        return result
            .as_string()
            .map(Zeroizing::new)
            .ok_or_else(|| KdfError::Other("the key-derivation worker gave no result".into()));
    }
    if get("code").as_string().as_deref() == Some("wrong_password") {
        return Err(KdfError::WrongPassword);
    }
    Err(KdfError::Other(
        get("error")
            .as_string()
            .unwrap_or_else(|| "key derivation failed".into()),
    ))
}

fn request(fields: &[(&str, &str)]) -> Object {
    let o = Object::new();
    for (k, v) in fields {
        let _ = Reflect::set(&o, &(*k).into(), &(*v).into());
    }
    o
}

/// UTF-8 bytes of a secret for the worker, set as `field` of `req`.
fn secret_field(req: &Object, field: &str, text: &str) -> Uint8Array {
    let bytes = Uint8Array::from(text.as_bytes());
    let _ = Reflect::set(req, &field.into(), &bytes);
    bytes
}

/// Seals `phrase` with `password`; returns the vault record's JSON text.
pub async fn seal(phrase: &str, password: &str) -> Result<String, KdfError> {
    let req = request(&[("op", "seal")]);
    let p = secret_field(&req, "phrase", phrase);
    let w = secret_field(&req, "password", password);
    let params = Object::new();
    for (k, v) in [
        ("m", PARAMS.memory_kib),
        ("t", PARAMS.iterations),
        ("p", PARAMS.parallelism),
    ] {
        let _ = Reflect::set(&params, &k.into(), &v.into());
    }
    let _ = Reflect::set(&req, &"params".into(), &params);
    let out = call(&req, &[&p, &w]).await?;
    Ok(out.to_string())
}

/// Opens the vault record `record` (JSON text) with `password`; returns the Secret Key.
pub async fn open(record: &str, password: &str) -> Result<Zeroizing<String>, KdfError> {
    let req = request(&[("op", "open"), ("record", record)]);
    let w = secret_field(&req, "password", password);
    call(&req, &[&w]).await
}

/// Opens the vault stored in this browser with `password`, showing a progress bar named
/// `label` in `status` and disabling `button` while the KDF runs. The errors' texts are
/// for the user (empty password, unreadable storage, wrong password).
pub async fn open_stored(
    password: &str,
    label: &str,
    status: &web_sys::Element,
    button: &web_sys::HtmlButtonElement,
) -> Result<Zeroizing<String>, KdfError> {
    if password.is_empty() {
        return Err(KdfError::EmptyPassword);
    }
    let record = cairn_browser::idb::get_text(cairn_browser::idb::VAULT, cairn_browser::idb::VAULT)
        .await
        .map_err(|e| KdfError::NoVault(Some(e)))?
        .ok_or(KdfError::NoVault(None))?;
    button.set_disabled(true);
    let _ = status.append_child(&super::dom::progress(label));
    let opened = open(&record, password).await;
    super::dom::clear(status);
    button.set_disabled(false);
    opened
}
