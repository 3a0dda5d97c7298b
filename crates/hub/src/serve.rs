//! The connection layer: accepts TCP connections and serves them with hyper, adding what
//! `axum::serve` lacks:
//!
//! - a cap on open connections ([`Limits::max_connections`]); connections over it get a
//!   503 JSON answer and are closed, so idle sockets cannot starve the hub;
//! - a header read timeout (which also bounds idle keep-alive connections) and a body
//!   read timeout (the longest pause between two pieces of a body, [`BodyTimeout`]);
//! - refused requests are answered *readably*: a body the handler did not read is
//!   drained (read and discarded) up to [`Limits::drain_limit`] before the response goes
//!   out, and when it is larger the response carries `Connection: close` and the socket
//!   is closed gracefully (write side shut down after the response, then a short
//!   "lingering" read) instead of being reset. Without this, Node's `fetch` and browsers
//!   still sending the body see a connection reset (EPIPE) instead of the 401/409/413.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Request, Response, header};
use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::service::Service as _;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};

/// How long a connection closed with unread request data keeps reading (and discarding)
/// after its response, so that the client gets the response before any reset.
pub const LINGER: Duration = Duration::from_secs(2);

/// How many over-the-cap connections are answered 503 at once; beyond that they are
/// closed without an answer (each answer holds a socket for up to a second).
const MAX_REFUSALS: usize = 64;

/// How long open connections get to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Connection limits.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Most connections served at once.
    pub max_connections: usize,
    /// Time allowed to send a request's headers (and to stay idle between requests).
    pub header_timeout: Duration,
    /// Longest pause between two pieces of a request body.
    pub body_timeout: Duration,
    /// Most unread body bytes read and discarded before a response is sent; larger
    /// bodies get the response and a graceful close instead.
    pub drain_limit: u64,
}

/// The error a request body reports when the client paused longer than
/// [`Limits::body_timeout`].
#[derive(Debug, Clone, Copy)]
pub struct BodyTimeout(pub Duration);

impl fmt::Display for BodyTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "no request data received for {:.1} s",
            self.0.as_secs_f64()
        )
    }
}

impl std::error::Error for BodyTimeout {}

/// Whether `e` (an error from reading a request body) is a [`BodyTimeout`].
pub fn is_body_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if err.is::<BodyTimeout>() {
            return true;
        }
        cur = err.source();
    }
    false
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A request body that fails with [`BodyTimeout`] when the client pauses too long.
struct TimedBody {
    inner: Incoming,
    timeout: Duration,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl HttpBody for TimedBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(r) => {
                // Progress: the pause clock starts again with the next wait.
                this.sleep = None;
                Poll::Ready(r.map(|f| f.map_err(BoxError::from)))
            }
            Poll::Pending => {
                let timeout = this.timeout;
                let sleep = this
                    .sleep
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                match sleep.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTimeout(timeout))))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// What is left of a request body the handler did not read to the end.
struct Leftover {
    body: TimedBody,
    /// Whether the handler read from it at all (if not, hyper has not sent
    /// `100 Continue`, and a client that waits for it has not sent the body).
    polled: bool,
}

/// The body handed to the router: on drop, an unfinished body goes back to the
/// connection layer (through `slot`) so that it can be drained.
struct ReturningBody {
    inner: Option<TimedBody>,
    polled: bool,
    finished: bool,
    slot: Arc<Mutex<Option<Leftover>>>,
}

impl HttpBody for ReturningBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        this.polled = true;
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        let r = Pin::new(inner).poll_frame(cx);
        // An error (timeout, broken connection) ends the body too: nothing to drain.
        if matches!(r, Poll::Ready(None | Some(Err(_)))) {
            this.finished = true;
        }
        r
    }

    fn is_end_stream(&self) -> bool {
        self.finished || self.inner.as_ref().is_none_or(HttpBody::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), HttpBody::size_hint)
    }
}

impl Drop for ReturningBody {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        if let Some(body) = self.inner.take()
            && !body.is_end_stream()
        {
            *self.slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(Leftover {
                body,
                polled: self.polled,
            });
        }
    }
}

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

fn expects_continue(headers: &HeaderMap) -> bool {
    headers
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"))
}

/// Reads and discards `body` up to `limit` bytes; `true` if it ended within them.
async fn drain(mut body: TimedBody, limit: u64) -> bool {
    let mut seen = 0u64;
    loop {
        match body.frame().await {
            None => return true,
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    seen = seen.saturating_add(data.len() as u64);
                    if seen > limit {
                        return false;
                    }
                }
            }
            Some(Err(_)) => return false,
        }
    }
}

/// Runs one request through the router, then deals with any body it left unread.
/// `linger` is set when the connection must be closed gracefully after the response.
async fn handle(
    router: Router,
    mut req: Request<Incoming>,
    limits: Arc<Limits>,
    linger: Arc<AtomicBool>,
    peer: Option<std::net::SocketAddr>,
) -> Result<Response<Body>, Infallible> {
    if let Some(peer) = peer {
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(peer));
    }
    let declared = declared_length(req.headers());
    let wants_continue = expects_continue(req.headers());
    let slot = Arc::new(Mutex::new(None));
    let req = req.map(|inner| {
        Body::new(ReturningBody {
            inner: Some(TimedBody {
                inner,
                timeout: limits.body_timeout,
                sleep: None,
            }),
            polled: false,
            finished: false,
            slot: slot.clone(),
        })
    });
    let mut res = TowerToHyperService::new(router).call(req).await?;
    let leftover = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
    if let Some(Leftover { body, polled }) = leftover {
        let close = if !polled && wants_continue {
            // The client waits for `100 Continue` before sending: it sends nothing
            // and reads the answer; the connection just cannot be reused.
            true
        } else if declared.is_some_and(|n| n > limits.drain_limit) {
            // Too big to drain: answer, then close gracefully.
            linger.store(true, Ordering::Relaxed);
            true
        } else if drain(body, limits.drain_limit).await {
            false
        } else {
            linger.store(true, Ordering::Relaxed);
            true
        };
        if close {
            res.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
    }
    Ok(res)
}

/// Shuts down the write side (the client sees the end of the response), then reads and
/// discards for up to `time` so that the close does not turn into a reset that could
/// destroy the response before the client has read it.
async fn linger_close(mut stream: TcpStream, time: Duration) {
    let _ = stream.shutdown().await;
    let mut buf = vec![0u8; 64 * 1024];
    let _ = tokio::time::timeout(time, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
}

async fn serve_connection(
    stream: TcpStream,
    router: Router,
    limits: Arc<Limits>,
    mut stop: watch::Receiver<bool>,
) {
    let linger = Arc::new(AtomicBool::new(false));
    let peer = stream.peer_addr().ok();
    let service = {
        let linger = linger.clone();
        let limits = limits.clone();
        hyper::service::service_fn(move |req: Request<Incoming>| {
            Box::pin(handle(
                router.clone(),
                req,
                limits.clone(),
                linger.clone(),
                peer,
            ))
        })
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let mut conn = builder.serve_connection(TokioIo::new(stream), service);
    let mut stop_signal = Box::pin(async move {
        let _ = stop.wait_for(|s| *s).await;
    });
    let mut stopping = false;
    let result = std::future::poll_fn(|cx| {
        if !stopping && stop_signal.as_mut().poll(cx).is_ready() {
            stopping = true;
            // Finish the request in progress, then close.
            Pin::new(&mut conn).graceful_shutdown();
        }
        conn.poll_without_shutdown(cx)
    })
    .await;
    match result {
        Ok(()) => {
            let mut stream = conn.into_parts().io.into_inner();
            if linger.load(Ordering::Relaxed) {
                linger_close(stream, LINGER).await;
            } else {
                let _ = stream.shutdown().await;
            }
        }
        // Header timeouts, clients that vanish, malformed requests: nothing to answer.
        Err(e) => tracing::debug!(error = %e, "connection ended"),
    }
}

/// Answers a connection over the cap with a 503 and closes it.
async fn refuse_busy(mut stream: TcpStream) {
    let body = r#"{"message":"The hub has too many open connections; try again shortly.","error":"ServiceUnavailableError"}"#;
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\nretry-after: 1\r\n\
         access-control-allow-origin: *\r\n\r\n",
        body.len()
    );
    let answer = async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body.as_bytes()).await?;
        stream.flush().await
    };
    if tokio::time::timeout(Duration::from_millis(500), answer)
        .await
        .is_ok_and(|r| r.is_ok())
    {
        linger_close(stream, Duration::from_millis(500)).await;
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then lets open connections
/// finish (for up to 30 s).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let limits = Arc::new(limits);
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let refusals = Arc::new(Semaphore::new(MAX_REFUSALS));
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            () = &mut shutdown => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors and the like: wait a little rather than spin.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        match permits.clone().try_acquire_owned() {
            Ok(permit) => {
                let router = router.clone();
                let limits = limits.clone();
                let stop = stop_rx.clone();
                tokio::spawn(async move {
                    serve_connection(stream, router, limits, stop).await;
                    drop(permit);
                });
            }
            Err(_) => {
                tracing::warn!(
                    max_connections = limits.max_connections,
                    "connection refused: too many open connections"
                );
                if let Ok(permit) = refusals.clone().try_acquire_owned() {
                    tokio::spawn(async move {
                        refuse_busy(stream).await;
                        drop(permit);
                    });
                }
            }
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, permits.acquire_many(all)).await;
    Ok(())
}
