//! The hub calls every job is made of, over the one transport ([`Hub`]): reading a file,
//! storing one (conditionally), listing a bucket, revoke-all, and the one read → change
//! → conditional-write loop ([`update_file`]). What each status means is decided here,
//! once; the transport only moves bytes.

use super::hub_io::{Condition, Hub, HubRequest, HubResponse, JobError, Method};
use crate::protocol::gaia::{
    HubInfo, ListFilesPage, ListFilesRequest, ListedFile, RevokeAllRequest, parse_revocation_time,
};
use crate::protocol::hub_urls::{delete_url, list_files_url, revoke_all_url};
use crate::support::json;

/// Pages of a listing followed at most: a hub that keeps handing out cursors must not
/// keep a job busy for ever (at the real hub's 100 names a page, 100,000 files).
pub const MAX_LIST_PAGES: usize = 1000;

/// How long to wait before retrying a file another write holds (409).
const BUSY_WAIT_MS: u32 = 200;

/// `GET <hub>/hub_info`: the hub's challenge text, read URL prefix and size limit.
pub async fn hub_info<H: Hub>(hub: &H, hub_url: &str) -> Result<HubInfo, H::Error> {
    let url = format!("{}/hub_info", hub_url.trim_end_matches('/'));
    let answer = hub.send(HubRequest::get(url)).await?;
    if answer.status != 200 {
        return Err(JobError::Refused {
            doing: "the request for its hub_info".to_string(),
            status: answer.status,
        }
        .into());
    }
    json::from_str(&answer.body)
        .ok()
        .and_then(|v| HubInfo::from_value(&v).ok())
        .ok_or_else(|| {
            JobError::Unreadable {
                what: "the hub's hub_info".to_string(),
            }
            .into()
        })
}

/// A bucket's revocation time (`oldestValidTimestamp` of its last revoke-all, in
/// seconds), read where Gaia hubs publish it: `<read_url_prefix><address>-auth/authTimestamp`.
/// 0 when the bucket was never revoked. A value that is not a number is an error: taking
/// it for "never revoked" would mint tokens that may already be dead.
pub async fn revoked_before<H: Hub>(
    hub: &H,
    read_url_prefix: &str,
    address: &str,
) -> Result<i64, H::Error> {
    let url = format!("{read_url_prefix}{address}-auth/authTimestamp");
    match read(hub, &url, "the bucket's revocation time").await? {
        None => Ok(0),
        Some(a) => parse_revocation_time(&a.body).ok_or_else(|| {
            JobError::Unreadable {
                what: "the hub's revocation time of this bucket".to_string(),
            }
            .into()
        }),
    }
}

/// Characters of a hub's own explanation kept for the user.
#[cfg(feature = "migration")]
const SAID_CHARS: usize = 300;

/// What a hub said in a refusal: the `message` of its JSON error body (Gaia hubs answer
/// `{"message": …, "error": …}`), else a short plain-text body; at most [`SAID_CHARS`]
/// characters.
#[cfg(feature = "migration")]
pub fn hub_said(body: &str) -> Option<String> {
    let text = match json::from_str(body) {
        Ok(v) => v
            .get("message")
            .and_then(|m| m.as_str())
            .map(str::to_string),
        Err(_) => Some(body.to_string()),
    }?;
    let text = text.trim();
    if text.is_empty() || text.starts_with('<') {
        return None; // nothing, or an HTML error page
    }
    let mut out: String = text.chars().take(SAID_CHARS).collect();
    if text.chars().nth(SAID_CHARS).is_some() {
        out.push('\u{2026}');
    }
    Some(out)
}

/// Reads a file from its read URL: `None` when it does not exist (404, or the 410 some
/// hubs give). `what` names it in an error.
pub async fn read<H: Hub>(hub: &H, url: &str, what: &str) -> Result<Option<HubResponse>, H::Error> {
    let answer = hub.send(HubRequest::get(url.to_string())).await?;
    match answer.status {
        200..=299 => Ok(Some(answer)),
        404 | 410 => Ok(None),
        status => Err(JobError::Refused {
            doing: format!("reading {what}"),
            status,
        }
        .into()),
    }
}

/// What a store did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// Written.
    Done,
    /// 412: the condition failed (the file changed meanwhile, or already exists).
    Changed,
    /// 409: another write of the same file is in flight.
    Busy,
}

/// One file write: where, with which token, what, and on which condition.
#[derive(Debug, Clone)]
pub struct FileWrite<'a> {
    /// `<hub>/store/<address>/<path>`.
    pub url: &'a str,
    /// The bucket's token.
    pub token: &'a str,
    /// The `Content-Type`.
    pub content_type: &'a str,
    /// The file, in words, for errors.
    pub what: &'a str,
}

/// Stores `body` at `write.url` on `condition`; a status other than 2xx, 409 and 412 is
/// an error naming the file.
pub async fn store<H: Hub>(
    hub: &H,
    write: &FileWrite<'_>,
    body: String,
    condition: Option<Condition>,
) -> Result<Stored, H::Error> {
    let answer = hub
        .send(HubRequest {
            method: Method::Post,
            url: write.url.to_string(),
            bearer: Some(write.token.to_string()),
            content_type: Some(write.content_type.to_string()),
            condition,
            body: Some(body),
        })
        .await?;
    match answer.status {
        200..=299 => Ok(Stored::Done),
        412 => Ok(Stored::Changed),
        409 => Ok(Stored::Busy),
        status => Err(JobError::Refused {
            doing: format!("the write of {}", write.what),
            status,
        }
        .into()),
    }
}

/// `DELETE <hub>/delete/<address>/<path>`; a file already gone counts as deleted.
pub async fn delete<H: Hub>(
    hub: &H,
    hub_url: &str,
    address: &str,
    path: &str,
    token: &str,
) -> Result<(), H::Error> {
    let answer = hub
        .send(HubRequest {
            method: Method::Delete,
            url: delete_url(hub_url, address, path),
            bearer: Some(token.to_string()),
            content_type: None,
            condition: None,
            body: None,
        })
        .await?;
    match answer.status {
        200..=299 | 404 => Ok(()),
        status => Err(JobError::Refused {
            doing: format!("the deletion of {path}"),
            status,
        }
        .into()),
    }
}

/// `POST`s a JSON body to a hub endpoint with the bucket's token.
pub async fn post_json<H: Hub>(
    hub: &H,
    url: String,
    token: &str,
    body: String,
) -> Result<HubResponse, H::Error> {
    hub.send(HubRequest {
        method: Method::Post,
        url,
        bearer: Some(token.to_string()),
        content_type: Some("application/json".to_string()),
        condition: None,
        body: Some(body),
    })
    .await
}

/// The names of every file in bucket `address`, following the listing's pages (at most
/// [`MAX_LIST_PAGES`]). Listing first is also how a job learns whether a file exists
/// without a `GET` that would answer 404 (which browsers log as an error).
pub async fn list_names<H: Hub>(
    hub: &H,
    hub_url: &str,
    address: &str,
    token: &str,
) -> Result<Vec<String>, H::Error> {
    let entries = list_entries(hub, hub_url, address, token, false).await?;
    Ok(entries.into_iter().map(|e| e.name).collect())
}

/// Every entry of bucket `address`, following the listing's pages (at most
/// [`MAX_LIST_PAGES`]); with `stat`, each with its size, type, ETag and time.
pub async fn list_entries<H: Hub>(
    hub: &H,
    hub_url: &str,
    address: &str,
    token: &str,
    stat: bool,
) -> Result<Vec<ListedFile>, H::Error> {
    let url = list_files_url(hub_url, address);
    let mut entries = Vec::new();
    let mut request = ListFilesRequest { page: None, stat };
    for _ in 0..MAX_LIST_PAGES {
        let answer = post_json(hub, url.clone(), token, request.to_value().to_string()).await?;
        if !(200..300).contains(&answer.status) {
            return Err(JobError::Refused {
                doing: format!("listing the files of {address}"),
                status: answer.status,
            }
            .into());
        }
        let page = ListFilesPage::from_json(&answer.body).map_err(|_| JobError::Unreadable {
            what: format!("the hub's listing of {address}"),
        })?;
        entries.extend(page.entries);
        match page.next {
            Some(next) => request.page = Some(next),
            None => break,
        }
    }
    Ok(entries)
}

/// `POST <hub>/revoke-all/<address>`: every token of the bucket issued before
/// `oldest_valid` (seconds) stops working.
pub async fn revoke_all<H: Hub>(
    hub: &H,
    hub_url: &str,
    address: &str,
    token: &str,
    oldest_valid: u64,
) -> Result<(), H::Error> {
    let body = RevokeAllRequest {
        oldest_valid_timestamp: oldest_valid,
    }
    .to_value()
    .to_string();
    let answer = post_json(hub, revoke_all_url(hub_url, address), token, body).await?;
    if (200..300).contains(&answer.status) {
        Ok(())
    } else {
        Err(JobError::Refused {
            doing: "stopping the collection's old tokens (revoke-all)".to_string(),
            status: answer.status,
        }
        .into())
    }
}

/// What a change of a file decided, given its current text.
#[derive(Debug)]
pub enum Rewrite<T> {
    /// Store this body, then return `out`.
    Write {
        /// The new body.
        body: String,
        /// What [`update_file`] returns once the body is stored.
        out: T,
    },
    /// Write nothing; return `out`.
    Keep(T),
}

/// Where a file read and rewritten by [`update_file`] lives.
#[derive(Debug, Clone)]
pub struct FileSpot<'a> {
    /// Its read URL.
    pub read_url: &'a str,
    /// How it is stored (the condition is added per attempt).
    pub write: FileWrite<'a>,
}

/// The one read → change → conditional-write loop (settings file, key files,
/// re-encryption): reads the file (not when `may_exist` is false: a missing file would
/// be a 404 in the browser's console), hands the answer (`None`: no file) to `change`,
/// and stores what it decided with `If-Match` of the version read (`If-None-Match: *`
/// when there was none, nothing when the hub gave no ETag). On 412 it starts again from
/// a fresh read, on 409 after a short wait; after `attempts` tries the file is reported
/// as changing ([`JobError::Changed`]).
pub async fn update_file<H: Hub, T>(
    hub: &H,
    spot: &FileSpot<'_>,
    mut may_exist: bool,
    attempts: u32,
    mut change: impl AsyncFnMut(Option<&HubResponse>) -> Result<Rewrite<T>, H::Error>,
) -> Result<T, H::Error> {
    for _ in 0..attempts {
        let existing = if may_exist {
            read(hub, spot.read_url, spot.write.what).await?
        } else {
            None
        };
        may_exist = true;
        let (body, out) = match change(existing.as_ref()).await? {
            Rewrite::Keep(out) => return Ok(out),
            Rewrite::Write { body, out } => (body, out),
        };
        let condition = Condition::on_version(
            existing.is_some(),
            existing.as_ref().and_then(|a| a.etag.as_deref()),
        );
        match store(hub, &spot.write, body, condition).await? {
            Stored::Done => return Ok(out),
            Stored::Changed => {}
            Stored::Busy => hub.wait(BUSY_WAIT_MS).await,
        }
    }
    Err(JobError::Changed {
        file: spot.write.what.to_string(),
    }
    .into())
}
