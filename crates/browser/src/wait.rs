//! Small async helpers: a promise with its resolve/reject functions, sleeping, the clock.

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// A new pending promise with the functions that settle it.
pub fn pending() -> (Promise, Function, Function) {
    let mut settle: Option<(Function, Function)> = None;
    let promise = Promise::new(&mut |resolve, reject| settle = Some((resolve, reject)));
    // The executor runs synchronously inside `new Promise`, so `settle` is set; the
    // fallback functions only guard against an engine that does not.
    let (resolve, reject) =
        settle.unwrap_or_else(|| (Function::new_no_args(""), Function::new_no_args("")));
    (promise, resolve, reject)
}

/// Resolves after `ms` milliseconds.
pub async fn sleep(ms: i32) {
    let (promise, resolve, _) = pending();
    if let Some(w) = web_sys::window() {
        let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
    }
    let _ = JsFuture::from(promise).await;
}

/// Milliseconds since the epoch.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// A readable message from a thrown JS value.
pub fn message(e: &JsValue) -> String {
    if let Some(err) = e.dyn_ref::<js_sys::Error>() {
        return String::from(err.message());
    }
    e.as_string().unwrap_or_else(|| "unexpected error".into())
}
