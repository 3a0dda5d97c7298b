//! HTTP with `fetch`, with a timeout on every call: the transport of the hub jobs
//! (`crate::jobs::BrowserHub`; what hub answers mean is the core's, `cairn_core::jobs::calls`),
//! the app's manifest and `config.json`.

use crate::wait::message;
use crate::{Api, Error, ErrorKind};
use js_sys::Reflect;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Headers, Request, RequestCache, RequestInit, Response};

/// Timeout of hub calls.
pub const HUB_TIMEOUT_MS: i32 = 10_000;
/// Timeout of the manifest fetch.
pub const MANIFEST_TIMEOUT_MS: i32 = 5_000;

/// An HTTP answer: status, ETag, body.
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The `ETag` header, if exposed.
    pub etag: Option<String>,
    /// The body text.
    pub body: String,
}

/// Fetches `url` with `method`, `headers` and `body`, aborting after `timeout_ms`.
pub async fn fetch(
    url: &str,
    method: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
    timeout_ms: i32,
) -> Result<Answer, Error> {
    fetch_with_limit(url, method, headers, body, timeout_ms, None).await
}

/// `GET`s `url` within `timeout_ms`, refusing a body over `max_len` bytes.
async fn fetch_limited(url: &str, timeout_ms: i32, max_len: usize) -> Result<Answer, Error> {
    fetch_with_limit(url, "GET", &[], None, timeout_ms, Some(max_len)).await
}

async fn fetch_with_limit(
    url: &str,
    method: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
    timeout_ms: i32,
    max_len: Option<usize>,
) -> Result<Answer, Error> {
    let too_large = |len: usize, limit: usize| -> Error {
        ErrorKind::TooLarge {
            url: url.to_string(),
            len,
            limit,
        }
        .into()
    };
    let body = body.map(JsValue::from_str);
    let (resp, deadline) = send(url, method, headers, body.as_ref(), timeout_ms).await?;
    let etag = resp.headers().get("ETag").ok().flatten();
    if let Some(max) = max_len {
        let announced = resp
            .headers()
            .get("Content-Length")
            .ok()
            .flatten()
            .and_then(|l| l.trim().parse::<usize>().ok());
        if let Some(len) = announced.filter(|l| *l > max) {
            return Err(too_large(len, max));
        }
    }
    let body = JsFuture::from(resp.text().map_err(api)?)
        .await
        .map_err(|e| deadline.failed(e))?
        .as_string()
        .unwrap_or_default();
    if let Some(max) = max_len
        && body.len() > max
    {
        return Err(too_large(body.len(), max));
    }
    Ok(Answer {
        status: resp.status(),
        etag,
        body,
    })
}

/// A JS exception of `fetch` (building a request, reading headers).
pub(crate) fn api(e: JsValue) -> Error {
    Error::js(Api::Fetch, &e)
}

/// A request in flight under its deadline: past it, the timer aborts the request (or
/// the body being read). Dropping it disarms the timer.
pub(crate) struct Deadline {
    window: web_sys::Window,
    timer: Option<i32>,
    url: String,
    _abort: Closure<dyn FnMut()>,
}

impl Deadline {
    /// A rejected `fetch` or body read: the deadline's abort (a timeout), else the
    /// network.
    pub(crate) fn failed(&self, e: JsValue) -> Error {
        let aborted = Reflect::get(&e, &"name".into())
            .ok()
            .and_then(|n| n.as_string())
            .is_some_and(|n| n == "AbortError");
        let url = self.url.clone();
        if aborted {
            ErrorKind::Timeout { url }.into()
        } else {
            ErrorKind::Network {
                url,
                message: message(&e),
            }
            .into()
        }
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        if let Some(t) = self.timer {
            self.window.clear_timeout_with_handle(t);
        }
    }
}

/// Sends a request that must be answered, its body included, within `timeout_ms`: the
/// response, and the [`Deadline`] to keep while the body is read.
pub(crate) async fn send(
    url: &str,
    method: &str,
    headers: &[(&str, &str)],
    body: Option<&JsValue>,
    timeout_ms: i32,
) -> Result<(Response, Deadline), Error> {
    let window = web_sys::window().ok_or_else(|| {
        Error::from(ErrorKind::Browser {
            api: Api::Fetch,
            message: "no window".into(),
        })
    })?;
    let controller = AbortController::new().map_err(api)?;
    let init = RequestInit::new();
    init.set_method(method);
    init.set_cache(RequestCache::NoStore);
    init.set_signal(Some(&controller.signal()));
    let h = Headers::new().map_err(api)?;
    for (k, v) in headers {
        h.set(k, v).map_err(api)?;
    }
    init.set_headers(&h);
    if let Some(b) = body {
        init.set_body(b);
    }
    let request = Request::new_with_str_and_init(url, &init).map_err(api)?;
    let abort: Closure<dyn FnMut()> = Closure::once(move || controller.abort());
    let timer = window
        .set_timeout_with_callback_and_timeout_and_arguments_0(
            abort.as_ref().unchecked_ref(),
            timeout_ms,
        )
        .ok();
    let deadline = Deadline {
        window: window.clone(),
        timer,
        url: url.to_string(),
        _abort: abort,
    };
    let resp: Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(|e| deadline.failed(e))?
        .dyn_into()
        .map_err(api)?;
    Ok((resp, deadline))
}

/// The [`ErrorKind::Status`] of a `GET` of `url`.
fn refused(status: u16, url: &str) -> Error {
    ErrorKind::Status {
        status,
        url: url.to_string(),
    }
    .into()
}

/// `GET`s a JSON-ish text file (manifest, config) within `timeout_ms`.
pub async fn get_text(url: &str, timeout_ms: i32) -> Result<String, Error> {
    let a = fetch(url, "GET", &[], None, timeout_ms).await?;
    if a.status != 200 {
        return Err(refused(a.status, url));
    }
    Ok(a.body)
}

/// Like [`get_text`], refusing a body over `max_len` bytes: at once when the server
/// announces it (`Content-Length`), else once read.
pub async fn get_text_limited(url: &str, timeout_ms: i32, max_len: usize) -> Result<String, Error> {
    let a = fetch_limited(url, timeout_ms, max_len).await?;
    if a.status != 200 {
        return Err(refused(a.status, url));
    }
    Ok(a.body)
}
