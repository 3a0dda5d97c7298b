//! Moving a file's body from one URL to another, and hashing one, without the body
//! entering wasm memory: it stays a JS `Blob` from the read to the write, and SHA-256
//! is WebCrypto's. Used to move data between hubs (`cairn_core::jobs::migration`).

use crate::http::{HUB_TIMEOUT_MS, api, send};
use crate::{Api, Error};
use js_sys::{ArrayBuffer, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::Blob;

/// The time allowed for each half of one file's transfer (the read, the write): two
/// minutes more than a hub call, for large files over slow links.
pub const TRANSFER_TIMEOUT_MS: i32 = HUB_TIMEOUT_MS + 120_000;

/// A body read: its status, and the body as a `Blob` when the status is 2xx.
async fn read_blob(url: &str) -> Result<(u16, Option<Blob>), Error> {
    let (resp, deadline) = send(url, "GET", &[], None, TRANSFER_TIMEOUT_MS).await?;
    let status = resp.status();
    if !(200..300).contains(&status) {
        return Ok((status, None));
    }
    let blob: Blob = JsFuture::from(resp.blob().map_err(api)?)
        .await
        .map_err(|e| deadline.failed(e))?
        .dyn_into()
        .map_err(api)?;
    Ok((status, Some(blob)))
}

/// SHA-256 of a blob, by WebCrypto.
async fn sha256(blob: &Blob) -> Result<[u8; 32], Error> {
    let webcrypto = |e: JsValue| Error::js(Api::WebCrypto, &e);
    let buffer: ArrayBuffer = JsFuture::from(blob.array_buffer())
        .await
        .map_err(webcrypto)?
        .dyn_into()
        .map_err(webcrypto)?;
    let crypto = js_sys::Reflect::get(&js_sys::global(), &"crypto".into()).map_err(webcrypto)?;
    let subtle: web_sys::SubtleCrypto = js_sys::Reflect::get(&crypto, &"subtle".into())
        .map_err(webcrypto)?
        .dyn_into()
        .map_err(webcrypto)?;
    let digest = JsFuture::from(
        subtle
            .digest_with_str_and_buffer_source("SHA-256", &Uint8Array::new(&buffer))
            .map_err(webcrypto)?,
    )
    .await
    .map_err(webcrypto)?;
    let mut out = [0u8; 32];
    let bytes = Uint8Array::new(&digest);
    if bytes.length() != 32 {
        return Err(Error::js(
            Api::WebCrypto,
            &"SHA-256 gave no 32 bytes".into(),
        ));
    }
    bytes.copy_to(&mut out);
    Ok(out)
}

/// What [`copy`] did: the read's status, the write's (none when the read failed), the
/// length and SHA-256 of what was written.
pub struct Transferred {
    /// The read's status.
    pub read_status: u16,
    /// The write's status, when something was written.
    pub write_status: Option<u16>,
    /// Bytes written.
    pub len: u64,
    /// Their SHA-256.
    pub sha256: [u8; 32],
}

/// `GET`s `from`; when that answered 2xx, sends the body unchanged to `to_url` with
/// `method` and `headers`.
pub async fn copy(
    from: &str,
    to_url: &str,
    method: &str,
    headers: &[(&str, &str)],
) -> Result<Transferred, Error> {
    // No answer from the old hub is status 0: the move waits for it to come back.
    let (read_status, blob) = read_blob(from).await.unwrap_or((0, None));
    let Some(blob) = blob else {
        return Ok(Transferred {
            read_status,
            write_status: None,
            len: 0,
            sha256: [0; 32],
        });
    };
    let sha256 = sha256(&blob).await?;
    let body: JsValue = blob.clone().into();
    let (resp, _deadline) = send(to_url, method, headers, Some(&body), TRANSFER_TIMEOUT_MS).await?;
    let write_status = resp.status();
    Ok(Transferred {
        read_status,
        write_status: Some(write_status),
        len: blob.size() as u64,
        sha256,
    })
}

/// `GET`s `url` and returns its status, length and SHA-256 (zeros unless 2xx).
pub async fn digest(url: &str) -> Result<(u16, u64, [u8; 32]), Error> {
    let (status, blob) = read_blob(url).await?;
    match blob {
        Some(b) => Ok((status, b.size() as u64, sha256(&b).await?)),
        None => Ok((status, 0, [0; 32])),
    }
}

/// `GET`s `url` into wasm memory: `None` when it does not exist (404, 410); another
/// status is an error.
pub async fn read_bytes(url: &str) -> Result<Option<Vec<u8>>, Error> {
    let (status, blob) = read_blob(url).await?;
    match (status, blob) {
        (_, Some(b)) => {
            let webcrypto = |e: JsValue| Error::js(Api::Fetch, &e);
            let buffer: ArrayBuffer = JsFuture::from(b.array_buffer())
                .await
                .map_err(webcrypto)?
                .dyn_into()
                .map_err(webcrypto)?;
            Ok(Some(Uint8Array::new(&buffer).to_vec()))
        }
        (404 | 410, None) => Ok(None),
        (status, None) => Err(crate::ErrorKind::Status {
            status,
            url: url.to_string(),
        }
        .into()),
    }
}
