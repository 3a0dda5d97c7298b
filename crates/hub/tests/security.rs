//! Tests for the hub's security properties (the "Trust" issue): who may revoke, readable
//! refusals, slow and idle clients, read headers, durable writes, and revocation that
//! holds across processes and never fails open.

#![allow(clippy::unwrap_used)] // a test that unwraps fails, which is what it should do

mod common;

use cairn_core::keys::PrivateKey;
use cairn_core::protocol::gaia::{Scope, V1TokenOptions, make_association_token};
use common::{App, HubProc, client, now_s};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// A response read off a raw socket.
#[derive(Debug)]
struct RawResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl RawResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

fn host_port(url: &str) -> &str {
    url.trim_start_matches("http://")
}

/// Reads one HTTP/1.1 response (with a Content-Length body) from `s`.
fn read_response(s: &mut TcpStream) -> std::io::Result<RawResponse> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("connection closed before a response ({} bytes)", buf.len()),
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < len {
        let n = s.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(len);
    Ok(RawResponse {
        status,
        headers,
        body,
    })
}

fn request_head(hub: &HubProc, path: &str, token: &str, len: u64, extra: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: {token}\r\n\
         Content-Type: application/octet-stream\r\nContent-Length: {len}\r\n{extra}\r\n",
        host_port(&hub.url)
    )
}

/// Sends a whole upload the way a simple client does (all of the body, in 64 KiB
/// writes, before reading anything), then reads the response. A hub that closes the
/// connection on an unread body makes the writes or the read fail (EPIPE / reset).
fn upload_then_read(
    hub: &HubProc,
    path: &str,
    token: &str,
    len: u64,
    extra: &str,
) -> std::io::Result<(RawResponse, TcpStream)> {
    let mut s = TcpStream::connect(host_port(&hub.url))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    s.write_all(request_head(hub, path, token, len, extra).as_bytes())?;
    let chunk = vec![b'x'; 64 * 1024];
    let mut left = len;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        s.write_all(&chunk[..n])?;
        left -= n as u64;
    }
    let r = read_response(&mut s)?;
    Ok((r, s))
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.expect("blocking task")
}

async fn read_status(c: &reqwest::Client, url: &str) -> u16 {
    c.get(url).send().await.expect("read").status().as_u16()
}

// ---------------------------------------------------------------------------------
// Item 3: revoke-all.

#[tokio::test]
async fn revoke_all_needs_the_bucket_keys_own_unscoped_fresh_token() {
    let hub = HubProc::spawn(&[]);
    let c = client();
    let app = App::new();
    let a = app.address.clone();
    let revoke = |token: String, ts: Value| {
        let c = c.clone();
        let url = format!("{}/revoke-all/{a}", hub.url);
        async move {
            let r = c
                .post(url)
                .header("Authorization", token)
                .json(&json!({ "oldestValidTimestamp": ts }))
                .send()
                .await
                .expect("revoke-all");
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let ts_url = format!("{}{a}-auth/authTimestamp", hub.read_prefix());
    let now = now_s();

    // An app's archival collection token (signed by the bucket key, but scoped).
    let scoped = app.token_with(V1TokenOptions {
        scopes: vec![Scope::new("putFileArchivalPrefix", "collection")],
        iat: Some(now),
        ..Default::default()
    });
    let (status, body) = revoke(scoped.clone(), json!(now)).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"], "ValidationError");
    assert!(
        body["message"].as_str().unwrap().contains("unscoped"),
        "{body}"
    );
    // A delegated token (carrying an association token from an identity key).
    let identity = PrivateKey::random().unwrap();
    let assoc = make_association_token(&identity, &app.key.public_key(), now * 1000, None);
    let delegated = app.token_with(V1TokenOptions {
        association_token: Some(assoc),
        iat: Some(now),
        ..Default::default()
    });
    let (status, body) = revoke(delegated, json!(now)).await;
    assert_eq!(status, 401, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("association token"),
        "{body}"
    );
    // Nothing was revoked by either.
    assert_eq!(read_status(&c, &ts_url).await, 404);

    // Far in the future: 400, with a message; as a string too.
    let owner = app.token_with(V1TokenOptions {
        iat: Some(now),
        ..Default::default()
    });
    for far in [
        json!(now + 3600),
        json!((now + 400).to_string()),
        json!(4_102_444_800u64),
    ] {
        let (status, body) = revoke(owner.clone(), far.clone()).await;
        assert_eq!(status, 400, "{far}: {body}");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("ahead of the hub's clock"),
            "{body}"
        );
    }
    assert_eq!(read_status(&c, &ts_url).await, 404);

    // The owner revokes (slightly ahead is fine: within 5 minutes).
    let ts = now + 60;
    let (status, body) = revoke(owner.clone(), json!(ts)).await;
    assert_eq!(status, 202, "{body}");
    // A revoked token can no longer call revoke-all (nor move the bar).
    let (status, body) = revoke(owner.clone(), json!(ts + 100)).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"], "AuthTokenTimestampValidationError");

    // The authenticator's path: read the bucket's revocation time where Gaia clients
    // look for it, mint a token at or after it, and keep writing.
    let r = c.get(&ts_url).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let current: u64 = r.text().await.unwrap().trim().parse().unwrap();
    assert_eq!(current, ts);
    let fresh = app.token_with(V1TokenOptions {
        iat: Some(current),
        ..Default::default()
    });
    let r = c
        .post(format!("{}/store/{a}/after.txt", hub.url))
        .header("Authorization", &fresh)
        .body("still mine")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
}

// ---------------------------------------------------------------------------------
// Item 4: refused uploads are answered, not reset.

#[tokio::test]
async fn refused_uploads_are_answered_not_reset() {
    const MIB: u64 = 1024 * 1024;
    // Limit 4 MiB; bodies up to 4 + 4 MiB (the drain margin) are read and discarded.
    let hub = HubProc::spawn(&["--max-upload-mb", "4"]);
    let c = client();
    let app = App::new();
    let a = app.address.clone();
    let token = app.token();
    let url = hub.url.clone();

    // Something to conflict with: a file with a known ETag.
    let r = c
        .post(format!("{url}/store/{a}/held.bin"))
        .header("Authorization", &token)
        .body("v1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);

    let hub = std::sync::Arc::new(hub);
    let cases: Vec<(&str, String, u64, &str, u16, &str)> = vec![
        // 401: a token for another bucket, 7.5 MiB body.
        (
            "unauthorized.bin",
            App::new().token(),
            7 * MIB + MIB / 2,
            "",
            401,
            "ValidationError",
        ),
        // 413: over the limit by Content-Length, within the drain margin.
        (
            "big.bin",
            token.clone(),
            7 * MIB + MIB / 2,
            "",
            413,
            "PayloadTooLargeError",
        ),
        // 412: If-Match that does not match.
        (
            "held.bin",
            token.clone(),
            3 * MIB,
            "If-Match: 0123456789abcdef0123456789abcdef\r\n",
            412,
            "PreconditionFailedError",
        ),
    ];
    for (path, tok, len, extra, want, name) in cases {
        let h = hub.clone();
        let p = format!("/store/{a}/{path}");
        let (r, mut s) = blocking(move || upload_then_read(&h, &p, &tok, len, extra))
            .await
            .unwrap_or_else(|e| panic!("{path}: the client could not read the answer: {e}"));
        assert_eq!(r.status, want, "{path}: {r:?}");
        assert_eq!(r.json()["error"], name, "{path}");
        assert!(r.json()["message"].is_string());
        if r.header("connection") != Some("close") {
            // Fully drained: the connection is still good for the next request.
            let hp = host_port(&hub.url).to_string();
            let r2 = blocking(move || {
                s.write_all(format!("GET /hub_info HTTP/1.1\r\nHost: {hp}\r\n\r\n").as_bytes())
                    .unwrap();
                read_response(&mut s).unwrap()
            })
            .await;
            assert_eq!(r2.status, 200);
        }
    }

    // 409: another upload of the same path is in progress (held open, half sent).
    let start_holder = || {
        let h = hub.clone();
        let p = format!("/store/{a}/held.bin");
        let tok = token.clone();
        blocking(move || {
            let mut s = TcpStream::connect(host_port(&h.url)).unwrap();
            s.write_all(request_head(&h, &p, &tok, 10, "").as_bytes())
                .unwrap();
            s.write_all(b"12345").unwrap();
            s
        })
    };
    // Whether the hub already answered the holder (it lost the lock to a probe below).
    let answered = |s: &TcpStream| {
        s.set_nonblocking(true).unwrap();
        let r = matches!(s.peek(&mut [0u8; 1]), Ok(n) if n > 0);
        s.set_nonblocking(false).unwrap();
        r
    };
    let mut holder = start_holder().await;
    // Wait until the holder has the path's lock: the lock is taken before authentication,
    // so a tiny request with a bad token gets 409 once it is held (401 before). Probes
    // take the lock for a moment too; a holder that ran into one is started again.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if answered(&holder) {
            holder = start_holder().await;
            continue;
        }
        let r = c
            .post(format!("{url}/store/{a}/held.bin"))
            .header("Authorization", "bearer v1:nope")
            .body("z")
            .send()
            .await
            .unwrap();
        if r.status().as_u16() == 409 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the first upload never took the lock"
        );
    }
    let h = hub.clone();
    let p = format!("/store/{a}/held.bin");
    let tok = token.clone();
    let (r, _) = blocking(move || upload_then_read(&h, &p, &tok, 3 * MIB, ""))
        .await
        .unwrap_or_else(|e| panic!("409: the client could not read the answer: {e}"));
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(r.json()["error"], "ConflictError");
    let held = blocking(move || {
        holder.write_all(b"67890").unwrap();
        read_response(&mut holder).unwrap()
    })
    .await;
    assert_eq!(held.status, 202);

    // Far over the drain limit (64 MiB announced): the hub answers 413 and closes
    // gracefully; a client that reads while it sends (as browsers do) gets the answer.
    let h = hub.clone();
    let p = format!("/store/{a}/huge.bin");
    let tok = token.clone();
    let r = blocking(move || {
        let mut s = TcpStream::connect(host_port(&h.url)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        s.write_all(request_head(&h, &p, &tok, 64 * MIB, "").as_bytes())
            .unwrap();
        let mut w = s.try_clone().unwrap();
        let writer = std::thread::spawn(move || {
            let chunk = vec![b'y'; 64 * 1024];
            for _ in 0..1024 {
                if w.write_all(&chunk).is_err() {
                    break;
                }
            }
        });
        let r = read_response(&mut s);
        let _ = s.shutdown(std::net::Shutdown::Both);
        let _ = writer.join();
        r
    })
    .await
    .expect("the 413 is readable");
    assert_eq!(r.status, 413, "{r:?}");
    assert_eq!(r.json()["error"], "PayloadTooLargeError");
    assert_eq!(r.header("connection"), Some("close"));

    // Nothing of a refused upload was stored; the held file has the 409 winner's body.
    for path in ["unauthorized.bin", "big.bin", "huge.bin"] {
        let u = format!("{}{a}/{path}", hub.read_prefix());
        assert_eq!(read_status(&c, &u).await, 404, "{path}");
    }
    let body = c
        .get(format!("{}{a}/held.bin", hub.read_prefix()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, "1234567890");
}

// ---------------------------------------------------------------------------------
// Item 5: hardening.

#[tokio::test]
async fn read_responses_cannot_run_script() {
    let hub = HubProc::spawn(&[]);
    let c = client();
    let app = App::new();
    let a = &app.address;
    for (path, ct, body) in [
        (
            "x.html",
            "text/html",
            "<script>alert(document.cookie)</script>",
        ),
        (
            "x.svg",
            "image/svg+xml",
            "<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
        ),
    ] {
        let r = c
            .post(format!("{}/store/{a}/{path}", hub.url))
            .header("Authorization", app.token())
            .header("Content-Type", ct)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 202);
    }
    for path in ["x.html", "x.svg", "missing.html"] {
        for head in [false, true] {
            let url = format!("{}{a}/{path}", hub.read_prefix());
            let r = if head { c.head(&url) } else { c.get(&url) }
                .send()
                .await
                .unwrap();
            let h = r.headers();
            assert_eq!(
                h.get("x-content-type-options")
                    .and_then(|v| v.to_str().ok()),
                Some("nosniff"),
                "{path}"
            );
            assert_eq!(
                h.get("content-security-policy")
                    .and_then(|v| v.to_str().ok()),
                Some("sandbox"),
                "{path}"
            );
        }
    }
}

#[tokio::test]
async fn idle_connections_cannot_starve_the_hub() {
    let hub = HubProc::spawn(&["--max-connections", "8", "--header-timeout", "1"]);
    let addr = host_port(&hub.url).to_string();
    // Fill the cap with sockets that never send a byte.
    let idle: Vec<TcpStream> = (0..8).map(|_| TcpStream::connect(&addr).unwrap()).collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Over the cap: a clean, readable 503, not a hang.
    let a2 = addr.clone();
    let r = blocking(move || {
        let mut s = TcpStream::connect(&a2).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(format!("GET /hub_info HTTP/1.1\r\nHost: {a2}\r\n\r\n").as_bytes())
            .unwrap();
        read_response(&mut s)
    })
    .await
    .expect("a busy hub answers");
    assert_eq!(r.status, 503, "{r:?}");
    assert_eq!(r.json()["error"], "ServiceUnavailableError");

    // The header timeout closes the idle sockets …
    let start = Instant::now();
    let closed = blocking(move || {
        idle.into_iter().all(|mut s| {
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut b = [0u8; 1];
            // Closed by the hub: end of stream (or a reset); a read timeout is not.
            match s.read(&mut b) {
                Ok(0) => true,
                Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
                Ok(_) => false,
            }
        })
    })
    .await;
    assert!(closed, "idle connections were not closed");
    assert!(start.elapsed() < Duration::from_secs(4));
    // … and a legitimate client is served again.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let r = client()
        .get(format!("{}/hub_info", hub.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
}

#[tokio::test]
async fn a_stalled_body_times_out() {
    let hub = HubProc::spawn(&["--body-timeout", "0.5"]);
    let app = App::new();
    let a = app.address.clone();
    let token = app.token();
    let hub = std::sync::Arc::new(hub);
    let h = hub.clone();
    let started = Instant::now();
    let r = blocking(move || {
        let mut s = TcpStream::connect(host_port(&h.url)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let head = request_head(&h, &format!("/store/{a}/slow.bin"), &token, 100, "");
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(b"0123456789").unwrap();
        // … and nothing more.
        read_response(&mut s)
    })
    .await
    .expect("the hub answers a stalled upload");
    assert_eq!(r.status, 408, "{r:?}");
    assert_eq!(r.json()["error"], "RequestTimeoutError");
    assert!(started.elapsed() < Duration::from_secs(5));
    let c = client();
    let u = format!("{}{}/slow.bin", hub.read_prefix(), app.address);
    assert_eq!(read_status(&c, &u).await, 404);
}

/// Writes `content` as the bucket's stored revocation timestamp, behind the hub's back.
fn write_auth_timestamp(dir: &std::path::Path, address: &str, object: &[u8]) {
    let d = dir.join(format!("{address}-auth"));
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("authTimestamp"), object).unwrap();
}

#[tokio::test]
async fn an_unreadable_revocation_timestamp_fails_closed() {
    let c = client();
    let app = App::new();
    let a = app.address.clone();
    for (what, object) in [
        (
            "not a number",
            cairn_hub::envelope::encode(b"soon", "text/plain", &common::md5_hex(b"soon")),
        ),
        ("not a hub object", b"1700000000".to_vec()),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        write_auth_timestamp(&dir, &a, &object);
        let hub = HubProc::spawn_in(&dir, &[]);
        let r = c
            .post(format!("{}/store/{a}/f.txt", hub.url))
            .header("Authorization", app.token())
            .body("x")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 401, "{what}");
        let j: Value = r.json().await.unwrap();
        assert!(
            j["message"]
                .as_str()
                .unwrap()
                .starts_with("Error trying to fetch bucket authentication revocation timestamp"),
            "{what}: {j}"
        );
        let r = c
            .post(format!("{}/revoke-all/{a}", hub.url))
            .header("Authorization", app.token())
            .json(&json!({"oldestValidTimestamp": now_s()}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 401, "{what}");
    }
}

#[tokio::test]
async fn revocation_holds_at_once_across_hub_processes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let hub_a = HubProc::spawn_in(&dir, &[]);
    let hub_b = HubProc::spawn_in(&dir, &[]);
    let c = client();
    let app = App::new();
    let a = &app.address;
    let now = now_s();
    let old = app.token_with(V1TokenOptions {
        iat: Some(now - 100),
        ..Default::default()
    });
    let store = |hub: &HubProc, token: &str| {
        c.post(format!("{}/store/{a}/f.txt", hub.url))
            .header("Authorization", token.to_string())
            .body("x")
            .send()
    };
    // B has seen the bucket (and would have cached "never revoked").
    assert_eq!(store(&hub_b, &old).await.unwrap().status().as_u16(), 202);
    let owner = app.token_with(V1TokenOptions {
        iat: Some(now),
        ..Default::default()
    });
    let r = c
        .post(format!("{}/revoke-all/{a}", hub_a.url))
        .header("Authorization", &owner)
        .json(&json!({"oldestValidTimestamp": now - 10}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    let r = store(&hub_b, &old).await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let j: Value = r.json().await.unwrap();
    assert_eq!(j["error"], "AuthTokenTimestampValidationError");
    assert_eq!(store(&hub_b, &owner).await.unwrap().status().as_u16(), 202);
}

/// Counts fsync-family calls the hub makes while storing one file (needs `strace`;
/// skipped when it is missing or not permitted).
fn fsyncs_for_one_store(extra: &[&str]) -> Option<usize> {
    use std::process::{Command, Stdio};
    let ok = Command::new("strace")
        .args(["-o", "/dev/null", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("strace unavailable: skipping the fsync check");
        return None;
    }
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("strace.log");
    let dir = tmp.path().join("data");
    let mut child = Command::new("strace")
        .arg("-f")
        // execve: its line names the hub's pid, to stop it at the end.
        .args(["-e", "trace=fsync,fdatasync,syncfs,execve"])
        .arg("-o")
        .arg(&log)
        .arg(common::hub_bin())
        .args(["--bind", "127.0.0.1:0", "--storage"])
        .arg(&dir)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut out, &mut line).unwrap();
    let url = line
        .trim()
        .strip_prefix("cairn-hub listening on ")
        .unwrap()
        .to_string();
    let app = App::new();
    let count = || {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        ["fsync(", "fdatasync(", "syncfs("]
            .iter()
            .map(|call| text.matches(call).count())
            .sum::<usize>()
    };
    let before = count();
    let mut s = TcpStream::connect(host_port(&url)).unwrap();
    s.write_all(
        format!(
            "POST /store/{}/d.txt HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\nContent-Length: 4\r\n\r\ndata",
            app.address,
            app.token()
        )
        .as_bytes(),
    )
    .unwrap();
    let r = read_response(&mut s).unwrap();
    assert_eq!(r.status, 202);
    // strace writes a line as each call returns; the 202 came after them.
    std::thread::sleep(Duration::from_millis(200));
    let after = count();
    // Stop the hub itself (strace then exits): the hub's pid is the log's first field.
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    if let Some(pid) = text.split_whitespace().next() {
        let _ = Command::new("kill").args(["-9", pid]).status();
    }
    let _ = child.kill();
    let _ = child.wait();
    Some(after - before)
}

#[test]
fn local_writes_are_fsynced_before_the_answer() {
    let Some(synced) = fsyncs_for_one_store(&[]) else {
        return;
    };
    // The staged file and its directory at least.
    assert!(synced >= 2, "{synced} fsync calls");
    let Some(unsynced) = fsyncs_for_one_store(&["--fsync", "false"]) else {
        return;
    };
    assert_eq!(unsynced, 0);
}
