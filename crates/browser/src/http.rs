//! HTTP with `fetch`: the Gaia hub (hub_info, reads with ETag, conditional stores),
//! the app's manifest and `config.json`. Every call has a timeout.

use crate::wait::message;
use crate::{Api, Call, Error, ErrorKind};
use cairn_core::protocol::gaia::{HubInfo, ListFilesPage, ListFilesRequest};
use cairn_core::support::json;
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
    let api = |e: JsValue| Error::js(Api::Fetch, &e);
    let too_large = |len: usize, limit: usize| -> Error {
        ErrorKind::TooLarge {
            url: url.to_string(),
            len,
            limit,
        }
        .into()
    };
    // A rejected `fetch` or body read: our timer's abort, else the network.
    let failed = |e: JsValue| -> Error {
        let aborted = Reflect::get(&e, &"name".into())
            .ok()
            .and_then(|n| n.as_string())
            .is_some_and(|n| n == "AbortError");
        if aborted {
            ErrorKind::Timeout {
                url: url.to_string(),
            }
            .into()
        } else {
            ErrorKind::Network {
                url: url.to_string(),
                message: message(&e),
            }
            .into()
        }
    };
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
        init.set_body(&JsValue::from_str(b));
    }
    let request = Request::new_with_str_and_init(url, &init).map_err(api)?;
    let abort = Closure::once(move || controller.abort());
    let timer = window
        .set_timeout_with_callback_and_timeout_and_arguments_0(
            abort.as_ref().unchecked_ref(),
            timeout_ms,
        )
        .ok();
    let result = async {
        let resp: Response = JsFuture::from(window.fetch_with_request(&request))
            .await
            .map_err(failed)?
            .dyn_into()
            .map_err(api)?;
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
            .map_err(failed)?
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
    .await;
    if let Some(t) = timer {
        window.clear_timeout_with_handle(t);
    }
    result
}

/// The [`ErrorKind::Status`] of `call` to `url`.
fn refused(call: Call, status: u16, url: &str) -> Error {
    ErrorKind::Status {
        call,
        status,
        url: url.to_string(),
    }
    .into()
}

/// An [`ErrorKind::Unreadable`] answer from `url`.
fn unreadable(url: &str, reason: &str, cause: Option<json::Error>) -> Error {
    ErrorKind::Unreadable {
        url: url.to_string(),
        reason: reason.to_string(),
        cause,
    }
    .into()
}

/// `GET <hub>/hub_info`.
pub async fn hub_info(hub_url: &str) -> Result<HubInfo, Error> {
    let url = format!("{}/hub_info", hub_url.trim_end_matches('/'));
    let a = fetch(&url, "GET", &[], None, HUB_TIMEOUT_MS).await?;
    if a.status != 200 {
        return Err(refused(Call::HubInfo, a.status, &url));
    }
    let not_hub_info = |cause| unreadable(&url, "the hub's answer is not a hub_info", cause);
    let v = json::from_str(&a.body).map_err(|e| not_hub_info(Some(e)))?;
    HubInfo::from_value(&v).map_err(|_| not_hub_info(None))
}

/// Reads a file: `Ok(None)` when it does not exist (404, or 403/410 some hubs give).
pub async fn read(url: &str) -> Result<Option<Answer>, Error> {
    let a = fetch(url, "GET", &[], None, HUB_TIMEOUT_MS).await?;
    match a.status {
        200 => Ok(Some(a)),
        404 | 410 => Ok(None),
        s => Err(refused(Call::Read, s, url)),
    }
}

/// The bucket's revocation time (`oldestValidTimestamp` of its last revoke-all, in
/// seconds), read where Gaia hubs publish it: `<read_url_prefix><address>-auth/authTimestamp`.
/// 0 when the bucket was never revoked. A value that is not a number is an error: taking
/// it for "never revoked" would mint tokens that may already be dead.
pub async fn revoked_before(read_url_prefix: &str, address: &str) -> Result<i64, Error> {
    let url = format!("{read_url_prefix}{address}-auth/authTimestamp");
    match read(&url).await? {
        None => Ok(0),
        Some(a) => cairn_core::protocol::gaia::parse_revocation_time(&a.body).ok_or_else(|| {
            unreadable(
                &url,
                "the hub's revocation time of this bucket is not a number",
                None,
            )
        }),
    }
}

/// What a store did.
pub enum Stored {
    /// Written.
    Done,
    /// 412: the file changed meanwhile (or already exists).
    Conflict,
}

/// `POST` a file to the hub with a bearer token and an optional conditional header.
pub async fn store(
    url: &str,
    token: &str,
    body: &str,
    content_type: &str,
    condition: Option<(&str, &str)>,
) -> Result<Stored, Error> {
    let auth = format!("bearer {token}");
    let mut headers = vec![
        ("Content-Type", content_type),
        ("Authorization", auth.as_str()),
    ];
    if let Some(c) = condition {
        headers.push(c);
    }
    let a = fetch(url, "POST", &headers, Some(body), HUB_TIMEOUT_MS).await?;
    match a.status {
        200..=299 => Ok(Stored::Done),
        412 => Ok(Stored::Conflict),
        s => Err(refused(Call::Store, s, url)),
    }
}

/// `POST`s a JSON body to a hub endpoint (`list-files`, `revoke-all`) with a bearer token.
pub async fn post_json(url: &str, token: &str, body: &json::Value) -> Result<Answer, Error> {
    let auth = format!("bearer {token}");
    let headers = [
        ("Content-Type", "application/json"),
        ("Authorization", auth.as_str()),
    ];
    fetch(
        url,
        "POST",
        &headers,
        Some(&body.to_string()),
        HUB_TIMEOUT_MS,
    )
    .await
}

/// `GET`s a JSON-ish text file (manifest, config) within `timeout_ms`.
pub async fn get_text(url: &str, timeout_ms: i32) -> Result<String, Error> {
    let a = fetch(url, "GET", &[], None, timeout_ms).await?;
    if a.status != 200 {
        return Err(refused(Call::Get, a.status, url));
    }
    Ok(a.body)
}

/// Like [`get_text`], refusing a body over `max_len` bytes: at once when the server
/// announces it (`Content-Length`), else once read.
pub async fn get_text_limited(url: &str, timeout_ms: i32, max_len: usize) -> Result<String, Error> {
    let a = fetch_limited(url, timeout_ms, max_len).await?;
    if a.status != 200 {
        return Err(refused(Call::Get, a.status, url));
    }
    Ok(a.body)
}

/// The names of the files in a bucket (`POST <hub>/list-files/<address>`, following
/// pages; at most 20 pages). Used to learn whether a file exists without a `GET`
/// that would answer 404 (which browsers log as an error).
pub async fn list_files(hub_url: &str, address: &str, token: &str) -> Result<Vec<String>, Error> {
    let url = format!("{}/list-files/{address}", hub_url.trim_end_matches('/'));
    let mut names = Vec::new();
    let mut request = ListFilesRequest::default();
    for _ in 0..20 {
        let a = post_json(&url, token, &request.to_value()).await?;
        if !(200..300).contains(&a.status) {
            return Err(refused(Call::List, a.status, &url));
        }
        let page = ListFilesPage::from_json(&a.body)
            .map_err(|_| unreadable(&url, "the hub's listing is unreadable", None))?;
        names.extend(page.entries.into_iter().map(|e| e.name));
        match page.next {
            Some(next) => request.page = Some(next),
            None => break,
        }
    }
    Ok(names)
}
