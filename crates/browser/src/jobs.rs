//! The one runner of the core's jobs ([`cairn_core::jobs`]): [`BrowserHub`], the
//! transport every job's hub requests go through, with `fetch` (each request with the
//! hub timeout) and the page's timer. The jobs themselves — which request, what its
//! answer means, when to retry, when to journal — are the core's.

use crate::Error;
use crate::http::{self, HUB_TIMEOUT_MS};
use crate::transfer;
use crate::wait::sleep;
use cairn_core::jobs::hub_io::{Copied, Digested};
use cairn_core::jobs::{Copier, Hub, HubRequest, HubResponse};

/// The browser's [`Hub`]: `fetch`, and `setTimeout` for waits.
#[derive(Debug, Clone, Copy, Default)]
pub struct BrowserHub;

impl Hub for BrowserHub {
    type Error = Error;

    async fn send(&self, request: HubRequest) -> Result<HubResponse, Error> {
        let headers = request.headers();
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let answer = http::fetch(
            &request.url,
            request.method.as_str(),
            &headers,
            request.body.as_deref(),
            HUB_TIMEOUT_MS,
        )
        .await?;
        Ok(HubResponse {
            status: answer.status,
            etag: answer.etag,
            body: answer.body,
        })
    }

    async fn wait(&self, ms: u32) {
        sleep(ms.min(i32::MAX as u32) as i32).await
    }
}

impl Copier for BrowserHub {
    async fn copy(&self, from: &str, to: HubRequest) -> Result<Copied, Error> {
        let headers = to.headers();
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let t = transfer::copy(from, &to.url, to.method.as_str(), &headers).await?;
        Ok(Copied {
            read_status: t.read_status,
            write_status: t.write_status,
            len: t.len,
            sha256: t.sha256,
        })
    }

    async fn digest(&self, url: &str) -> Result<Digested, Error> {
        let (status, len, sha256) = transfer::digest(url).await?;
        Ok(Digested {
            status,
            len,
            sha256,
        })
    }
}

/// How a job driven in the page ended.
pub type RunEnd = cairn_core::jobs::RunEnd<Error>;
