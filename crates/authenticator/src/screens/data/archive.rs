//! Where "Download my data" writes its zip: a file the user picks (the File System Access
//! API, where the browser has it), written as the archive is made, or else chunks gathered
//! into one `Blob` that the browser downloads. Either way the archive never sits whole in
//! wasm memory: it leaves in chunks of at most [`CHUNK`] bytes.

use crate::dom;
use cairn_browser::{Api, Error, ErrorKind};
use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Bytes gathered before a chunk goes to JS.
const CHUNK: usize = 1 << 20;

/// The zip writer's output: full chunks are handed to JS and queued for the target.
pub(super) struct Sink {
    queued: Rc<RefCell<Vec<Uint8Array>>>,
    buf: Vec<u8>,
}

impl Sink {
    /// An empty sink, and the queue its chunks go to.
    pub(super) fn new() -> (Sink, Rc<RefCell<Vec<Uint8Array>>>) {
        let queued = Rc::new(RefCell::new(Vec::new()));
        let sink = Sink {
            queued: queued.clone(),
            buf: Vec::with_capacity(CHUNK),
        };
        (sink, queued)
    }

    /// Queues what is gathered, however little (at the end of the archive).
    pub(super) fn flush_part(&mut self) {
        if !self.buf.is_empty() {
            self.queued
                .borrow_mut()
                .push(Uint8Array::from(&self.buf[..]));
            self.buf.clear();
        }
    }
}

impl std::io::Write for Sink {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.flush_part();
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// An error of the archive's target, in the user's words.
fn target_error(doing: &str, e: &JsValue) -> Error {
    Error::from(ErrorKind::Browser {
        api: Api::Page,
        message: format!("{doing}: {}", cairn_browser::wait::message(e)),
    })
}

/// Calls `object.name(args…)` and awaits the promise it returns.
async fn call_async(object: &JsValue, name: &str, args: &Array) -> Result<JsValue, JsValue> {
    let f: Function = Reflect::get(object, &name.into())?.dyn_into()?;
    let promise: Promise = f.apply(object, args)?.dyn_into()?;
    JsFuture::from(promise).await
}

/// Where the archive goes.
pub(super) enum Target {
    /// A file the user picked, open for writing (`FileSystemWritableFileStream`), and the
    /// name the user gave it.
    File {
        /// The open stream.
        writable: JsValue,
        /// The file's name.
        name: String,
    },
    /// The chunks so far, made into one `Blob` and downloaded at the end.
    Download {
        /// Every chunk, in order.
        parts: Array,
    },
}

/// What the save picker gave.
pub(super) enum Picked {
    /// A target to write to.
    Target(Target),
    /// The user closed the picker: nothing is to be written.
    Cancelled,
}

impl Target {
    /// Asks where to save `suggested` (a zip) where the browser can ask: the picker must be
    /// opened right after the click that asked for it, before anything slow. Elsewhere, or
    /// when the browser refuses to show it, the archive is downloaded as a `Blob`.
    pub(super) async fn pick(suggested: &str) -> Result<Picked, Error> {
        let download = || {
            Ok(Picked::Target(Target::Download {
                parts: Array::new(),
            }))
        };
        let global = js_sys::global();
        let has_picker =
            Reflect::get(&global, &"showSaveFilePicker".into()).is_ok_and(|f| f.is_function());
        if !has_picker {
            return download();
        }
        let options = Object::new();
        let accept = Object::new();
        let set = |o: &Object, k: &str, v: &JsValue| Reflect::set(o, &k.into(), v).is_ok();
        let zip = Object::new();
        set(&zip, "description", &"Zip archive".into());
        set(
            &accept,
            "application/zip",
            &Array::of1(&".zip".into()).into(),
        );
        set(&zip, "accept", &accept.into());
        set(&options, "suggestedName", &suggested.into());
        set(&options, "types", &Array::of1(&zip.into()).into());
        let handle = match call_async(&global, "showSaveFilePicker", &Array::of1(&options)).await {
            Ok(h) => h,
            Err(e) => {
                let name = Reflect::get(&e, &"name".into())
                    .ok()
                    .and_then(|n| n.as_string());
                return match name.as_deref() {
                    Some("AbortError") => Ok(Picked::Cancelled),
                    // Not allowed here (no user gesture left, a sandboxed frame …): the
                    // download still works.
                    _ => download(),
                };
            }
        };
        let name = Reflect::get(&handle, &"name".into())
            .ok()
            .and_then(|n| n.as_string())
            .unwrap_or_else(|| suggested.to_string());
        let writable = call_async(&handle, "createWritable", &Array::new())
            .await
            .map_err(|e| target_error(&format!("{name} could not be opened for writing"), &e))?;
        Ok(Picked::Target(Target::File { writable, name }))
    }

    /// Takes the chunks queued so far: a file writes them now, in order; a download keeps
    /// them for the end.
    pub(super) async fn take(&mut self, queued: &RefCell<Vec<Uint8Array>>) -> Result<(), Error> {
        let chunks = std::mem::take(&mut *queued.borrow_mut());
        match self {
            Target::Download { parts } => {
                for c in chunks {
                    parts.push(&c);
                }
            }
            Target::File { writable, name } => {
                for c in chunks {
                    call_async(writable, "write", &Array::of1(&c))
                        .await
                        .map_err(|e| target_error(&format!("{name} could not be written"), &e))?;
                }
            }
        }
        Ok(())
    }

    /// Ends the archive: the file is closed (only then does it appear under its name), or
    /// the `Blob` is downloaded as `name`. Gives the picked file's name, `None` for a
    /// download.
    pub(super) async fn finish(self, name: &str) -> Result<Option<String>, Error> {
        match self {
            Target::File { writable, name } => call_async(&writable, "close", &Array::new())
                .await
                .map(|_| Some(name.clone()))
                .map_err(|e| target_error(&format!("{name} could not be saved"), &e)),
            Target::Download { parts } => {
                let options = web_sys::BlobPropertyBag::new();
                options.set_type("application/zip");
                let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options)
                    .map_err(|e| Error::js(Api::Page, &e))?;
                save_blob(&blob, name).map(|()| None)
            }
        }
    }

    /// Drops a file half written (the browser discards it); nothing to do for a download.
    pub(super) async fn abandon(self) {
        if let Target::File { writable, .. } = self {
            let _ = call_async(&writable, "abort", &Array::new()).await;
        }
    }
}

/// Hands `blob` to the browser's download under `name`.
fn save_blob(blob: &web_sys::Blob, name: &str) -> Result<(), Error> {
    let page = |e: JsValue| Error::js(Api::Page, &e);
    let url = web_sys::Url::create_object_url_with_blob(blob).map_err(page)?;
    let a: web_sys::HtmlAnchorElement = dom::el("a")
        .attr("href", &url)
        .attr("download", name)
        .cast();
    a.click();
    // The download has started from the URL; it goes a minute later.
    let revoke = wasm_bindgen::closure::Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    if let Some(w) = web_sys::window() {
        let _ =
            w.set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 60_000);
    }
    Ok(())
}
