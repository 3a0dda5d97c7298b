//! End-to-end tests of every endpoint against a spawned `cairn-hub` process.

#![allow(clippy::unwrap_used)] // a test that unwraps fails, which is what it should do

mod common;

use cairn_core::keys::PrivateKey;
use cairn_core::protocol::gaia::{
    Scope, V1TokenOptions, challenge_text, make_association_token, make_v1_token,
};
use common::{App, HubProc, client, md5_hex, now_s};

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

struct Resp {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap_or_default().to_string())
    }
}

async fn send(rb: reqwest::RequestBuilder) -> Resp {
    let r = rb.send().await.expect("request");
    let status = r.status();
    let headers = r.headers().clone();
    let body = r.bytes().await.expect("body").to_vec();
    Resp {
        status,
        headers,
        body,
    }
}

async fn store(
    c: &Client,
    hub: &HubProc,
    token: &str,
    address: &str,
    path: &str,
    body: impl Into<reqwest::Body>,
    headers: &[(&str, &str)],
) -> Resp {
    let mut rb = c
        .post(format!("{}/store/{address}/{path}", hub.url))
        .header("Authorization", token)
        .body(body);
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    send(rb).await
}

async fn delete(c: &Client, hub: &HubProc, token: &str, address: &str, path: &str) -> Resp {
    send(
        c.delete(format!("{}/delete/{address}/{path}", hub.url))
            .header("Authorization", token),
    )
    .await
}

async fn list(c: &Client, hub: &HubProc, token: &str, address: &str, body: Value) -> Resp {
    send(
        c.post(format!("{}/list-files/{address}", hub.url))
            .header("Authorization", token)
            .json(&body),
    )
    .await
}

async fn list_all(
    c: &Client,
    hub: &HubProc,
    token: &str,
    address: &str,
    stat: bool,
) -> (Vec<Value>, usize) {
    let mut page = Value::Null;
    let mut entries = Vec::new();
    let mut pages = 0;
    loop {
        let r = list(c, hub, token, address, json!({"page": page, "stat": stat})).await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
        let j = r.json();
        let es = j["entries"].as_array().unwrap().clone();
        pages += 1;
        assert!(es.iter().all(|e| !e.is_null()), "null entry in {j}");
        entries.extend(es);
        page = j["page"].clone();
        if page.is_null() {
            break;
        }
        assert!(pages < 1000, "listing does not end");
    }
    (entries, pages)
}

async fn get(c: &Client, url: &str) -> Resp {
    send(c.get(url)).await
}

fn assert_error(r: &Resp, status: u16, name: &str) {
    assert_eq!(r.status.as_u16(), status, "{}", r.text());
    let j = r.json();
    assert_eq!(j["error"], name, "{j}");
    assert!(j["message"].is_string());
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some("*")
    );
}

#[tokio::test]
async fn hub_info_and_cors() {
    let hub = HubProc::spawn(&[]);
    let c = client();
    for p in ["/hub_info", "/hub_info/"] {
        let r = get(&c, &format!("{}{p}", hub.url)).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(
            r.header("content-type").as_deref(),
            Some("application/json")
        );
        assert_eq!(
            r.header("access-control-allow-origin").as_deref(),
            Some("*")
        );
        let j = r.json();
        assert_eq!(
            j["challenge_text"],
            r#"["gaiahub","0","localhost","blockstack_storage_please_sign"]"#
        );
        assert_eq!(j["latest_auth_version"], "v1");
        assert_eq!(j["max_file_upload_size_megabytes"], 20);
        assert_eq!(j["read_url_prefix"], hub.read_prefix());
    }
    // Preflight on any path.
    let r = send(
        c.request(
            reqwest::Method::OPTIONS,
            format!("{}/store/abc/x.txt", hub.url),
        )
        .header("Origin", "https://app.example")
        .header("Access-Control-Request-Method", "POST"),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some("*")
    );
    assert_eq!(
        r.header("access-control-allow-methods").as_deref(),
        Some("DELETE,POST,GET,OPTIONS,HEAD")
    );
    assert_eq!(
        r.header("access-control-allow-headers").as_deref(),
        Some("Authorization,Content-Type,If-Match,If-None-Match")
    );
    assert_eq!(r.header("access-control-max-age").as_deref(), Some("86400"));
    // Unknown route: 404, still with CORS.
    let r = get(&c, &format!("{}/nope", hub.url)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some("*")
    );
    // Wrong method on a known route is a 404 too (as express).
    let r = get(&c, &format!("{}/store/abc/x", hub.url)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // Bad address characters: no route.
    let app = App::new();
    let r = store(&c, &hub, &app.token(), "abc-def", "x", "x", &[]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn store_and_read_back() {
    let hub = HubProc::spawn(&[]);
    let c = client();
    let app = App::new();
    let t = app.token();
    let a = &app.address;

    let r = store(
        &c,
        &hub,
        &t,
        a,
        "hello.txt",
        "hello world",
        &[("Content-Type", "text/plain")],
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some("*")
    );
    let j = r.json();
    let etag = md5_hex(b"hello world");
    assert_eq!(j["etag"], etag.as_str());
    let url = format!("{}{a}/hello.txt", hub.read_prefix());
    assert_eq!(j["publicURL"], url.as_str());

    let r = get(&c, &url).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, b"hello world");
    assert_eq!(r.header("content-type").as_deref(), Some("text/plain"));
    assert_eq!(r.header("etag").as_deref(), Some(etag.as_str()));
    assert_eq!(r.header("content-length").as_deref(), Some("11"));
    assert_eq!(r.header("cache-control").as_deref(), Some("no-cache"));
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some("*")
    );
    assert_eq!(
        r.header("access-control-expose-headers").as_deref(),
        Some("Content-Type,ETag")
    );
    assert!(r.header("last-modified").is_some());

    let h = send(c.head(&url)).await;
    assert_eq!(h.status, StatusCode::OK);
    assert!(h.body.is_empty());
    assert_eq!(h.header("etag").as_deref(), Some(etag.as_str()));
    assert_eq!(h.header("content-length").as_deref(), Some("11"));

    // Same content again: same ETag.
    let r = store(
        &c,
        &hub,
        &t,
        a,
        "hello.txt",
        "hello world",
        &[("Content-Type", "text/plain")],
    )
    .await;
    assert_eq!(r.json()["etag"], etag.as_str());

    // Empty body, no content type.
    let r = store(&c, &hub, &t, a, "empty", Vec::<u8>::new(), &[]).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    assert_eq!(r.json()["etag"], "d41d8cd98f00b204e9800998ecf8427e");
    let r = get(&c, &format!("{}{a}/empty", hub.read_prefix())).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.is_empty());
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/octet-stream")
    );

    // URL-decoded names, %2F becomes a directory, one trailing slash is stripped.
    let r = store(&c, &hub, &t, a, "my%20file.txt", "1", &[]).await;
    assert_eq!(
        r.json()["publicURL"],
        format!("{}{a}/my file.txt", hub.read_prefix())
    );
    let r = store(&c, &hub, &t, a, "enc%2Fslash.txt", "2", &[]).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let r = store(&c, &hub, &t, a, "notes/b.txt/", "3", &[]).await;
    assert_eq!(
        r.json()["publicURL"],
        format!("{}{a}/notes/b.txt", hub.read_prefix())
    );
    // Characters object stores dislike are kept verbatim.
    let r = store(&c, &hub, &t, a, "odd%23name%25%5B1%5D.json", "4", &[]).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let r = get(
        &c,
        &format!("{}{a}/odd%23name%25%5B1%5D.json", hub.read_prefix()),
    )
    .await;
    assert_eq!(r.body, b"4");
    let (names, _) = list_all(&c, &hub, &t, a, false).await;
    let names: Vec<&str> = names.iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "empty",
            "enc/slash.txt",
            "hello.txt",
            "my file.txt",
            "notes/b.txt",
            "odd#name%[1].json"
        ]
    );

    // Binary content, larger than one read.
    let big: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let r = store(
        &c,
        &hub,
        &t,
        a,
        "dir/big.bin",
        big.clone(),
        &[("Content-Type", "application/x-big")],
    )
    .await;
    assert_eq!(r.json()["etag"], md5_hex(&big).as_str());
    let r = get(&c, &format!("{}{a}/dir/big.bin", hub.read_prefix())).await;
    assert_eq!(r.body, big);
    assert_eq!(r.header("content-length"), Some(big.len().to_string()));

    // Content-Type over 1024 characters.
    let long_ct = format!("text/{}", "x".repeat(1100));
    let r = store(
        &c,
        &hub,
        &t,
        a,
        "ct.txt",
        "x",
        &[("Content-Type", &long_ct)],
    )
    .await;
    assert_eq!(r.status.as_u16(), 400);

    // Missing files.
    let r = get(&c, &format!("{}{a}/nope.txt", hub.read_prefix())).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.text(), "File not found");
    let r = get(&c, &format!("{}{a}/dir", hub.read_prefix())).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn authentication_failures() {
    let hub = HubProc::spawn(&[]);
    let c = client();
    let app = App::new();
    let a = &app.address;

    let r = send(c.post(format!("{}/store/{a}/x", hub.url)).body("x")).await;
    assert_error(&r, 401, "ValidationError");
    assert_eq!(
        r.json()["message"],
        "Failed to parse authentication header."
    );

    let v2 = app.token().replacen("v1:", "v2:", 1);
    assert_error(
        &store(&c, &hub, &v2, a, "x", "x", &[]).await,
        401,
        "ValidationError",
    );

    // Capital-B Bearer works.
    let cap = app.token().replacen("bearer", "Bearer", 1);
    assert_eq!(
        store(&c, &hub, &cap, a, "x", "x", &[]).await.status,
        StatusCode::ACCEPTED
    );

    // Someone else's bucket.
    let other = App::new();
    let r = store(&c, &hub, &app.token(), &other.address, "x", "x", &[]).await;
    assert_error(&r, 401, "ValidationError");
    assert_eq!(
        r.json()["message"],
        "Address not allowed to write on this path"
    );

    // Wrong challenge (other server name).
    let wrong = format!(
        "bearer {}",
        make_v1_token(
            &app.key,
            &challenge_text("gaia-0"),
            &V1TokenOptions::default()
        )
    );
    let r = store(&c, &hub, &wrong, a, "x", "x", &[]).await;
    assert_error(&r, 401, "ValidationError");
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("Invalid gaiaChallenge text")
    );

    // Expired.
    let exp = app.token_with(V1TokenOptions {
        exp: Some(1000),
        ..Default::default()
    });
    let r = store(&c, &hub, &exp, a, "x", "x", &[]).await;
    assert_eq!(
        r.json()["message"],
        "Expired authentication token: expire time of 1000 (secs since epoch)"
    );

    // Signature by another key.
    let mut tok = app.token();
    let last = tok.pop().unwrap();
    tok.push(if last == 'A' { 'B' } else { 'A' });
    let r = store(&c, &hub, &tok, a, "x", "x", &[]).await;
    assert_error(&r, 401, "ValidationError");

    // Too many scopes / unknown scope.
    let nine = app.token_with(V1TokenOptions {
        scopes: vec![Scope::new("putFile", "x"); 9],
        ..Default::default()
    });
    assert_error(
        &store(&c, &hub, &nine, a, "x", "x", &[]).await,
        401,
        "ValidationError",
    );
    let unknown = app.token_with(V1TokenOptions {
        scopes: vec![Scope::new("readFile", "x")],
        ..Default::default()
    });
    assert_error(
        &store(&c, &hub, &unknown, a, "x", "x", &[]).await,
        401,
        "ValidationError",
    );

    // list-files and delete need auth too.
    assert_error(
        &list(&c, &hub, "bearer junk", a, json!({})).await,
        401,
        "ValidationError",
    );
    assert_error(&delete(&c, &hub, "", a, "x").await, 401, "ValidationError");
}

#[tokio::test]
async fn path_traversal_is_rejected() {
    let hub = HubProc::spawn(&[]);
    let c = client();
    let app = App::new();
    let t = app.token();
    let a = &app.address;
    for p in [
        "..%2F..%2Fescape.txt",
        "x%2F..%2F..%2Fescape.txt",
        "a..b.txt",
        "%2Flead.txt",
        "a%2F%2Fb",
        ".%2Fa",
        "a%00b",
        "a%0Ab",
    ] {
        let r = store(&c, &hub, &t, a, p, "x", &[]).await;
        assert_eq!(r.status.as_u16(), 403, "{p}: {}", r.text());
        assert_eq!(
            r.json(),
            json!({"message": "Invalid Path", "error": "BadPathError"}),
            "{p}"
        );
        let r = delete(&c, &hub, &t, a, p).await;
        assert_eq!(r.status.as_u16(), 403, "{p}");
    }
    let long = "a".repeat(5000);
    assert_eq!(
        store(&c, &hub, &t, a, &long, "x", &[])
            .await
            .status
            .as_u16(),
        403
    );
    // Nothing was written anywhere.
    assert!(!hub.dir.parent().unwrap().join("escape.txt").exists());
    let (entries, _) = list_all(&c, &hub, &t, a, false).await;
    assert!(entries.is_empty(), "{entries:?}");
    // Reads with `..` are refused too.
    let r = get(
        &c,
        &format!("{}{a}/..%2F..%2Fetc%2Fpasswd", hub.read_prefix()),
    )
    .await;
    assert_eq!(r.status.as_u16(), 400);
}

#[tokio::test]
async fn scopes() {
    let hub = HubProc::spawn(&[]);
    let c = client();
    let app = App::new();
    let a = &app.address;
    let scoped = |scopes: Vec<Scope>| {
        app.token_with(V1TokenOptions {
            scopes,
            ..Default::default()
        })
    };

    let t = scoped(vec![
        Scope::new("putFilePrefix", "collection"),
        Scope::new("putFile", "only.txt"),
    ]);
    assert_eq!(
        store(&c, &hub, &t, a, "collectionsX.txt", "x", &[])
            .await
            .status
            .as_u16(),
        202
    );
    assert_eq!(
        store(&c, &hub, &t, a, "only.txt", "x", &[])
            .await
            .status
            .as_u16(),
        202
    );
    let r = store(&c, &hub, &t, a, "only.txt.bak", "x", &[]).await;
    assert_error(&r, 401, "ValidationError");
    assert_eq!(
        r.json()["message"],
        format!("Address {a} not authorized to write to only.txt.bak by scopes")
    );
    // No delete scopes: deletes are unrestricted.
    assert_eq!(
        delete(&c, &hub, &t, a, "only.txt").await.status.as_u16(),
        202
    );

    let d = scoped(vec![
        Scope::new("deleteFile", "collectionsX.txt"),
        Scope::new("deleteFilePrefix", "tmp/"),
    ]);
    store(&c, &hub, &app.token(), a, "tmp/1", "x", &[]).await;
    store(&c, &hub, &app.token(), a, "keep", "x", &[]).await;
    assert_eq!(
        delete(&c, &hub, &d, a, "collectionsX.txt")
            .await
            .status
            .as_u16(),
        202
    );
    assert_eq!(delete(&c, &hub, &d, a, "tmp/1").await.status.as_u16(), 202);
    let r = delete(&c, &hub, &d, a, "keep").await;
    assert_eq!(
        r.json()["message"],
        format!("Address {a} not authorized to delete from keep by scopes")
    );
    // Delete scopes don't restrict writes.
    assert_eq!(
        store(&c, &hub, &d, a, "anything", "x", &[])
            .await
            .status
            .as_u16(),
        202
    );

    // Mixed archival and put scopes: both checks apply.
    let m = scoped(vec![
        Scope::new("putFileArchivalPrefix", "collection"),
        Scope::new("putFilePrefix", "public/"),
    ]);
    let r = store(&c, &hub, &m, a, "public/a.txt", "x", &[]).await;
    assert_eq!(
        r.json()["message"],
        format!("Address {a} not authorized to modify public/a.txt by scopes")
    );
    let r = store(&c, &hub, &m, a, "collection/m.txt", "x", &[]).await;
    assert_eq!(
        r.json()["message"],
        format!("Address {a} not authorized to write to collection/m.txt by scopes")
    );
    // Listing is never restricted by scopes.
    assert_eq!(list(&c, &hub, &t, a, json!({})).await.status.as_u16(), 202);
}

#[tokio::test]
async fn archival_history() {
    let hub = HubProc::spawn(&["--page-size", "3"]);
    let c = client();
    let app = App::new();
    let a = &app.address;
    let arch = app.token_with(V1TokenOptions {
        scopes: vec![
            Scope::new("putFileArchivalPrefix", "collection/"),
            Scope::new("putFileArchival", "single.json"),
        ],
        ..Default::default()
    });
    let plain = app.token();

    let r = store(
        &c,
        &hub,
        &arch,
        a,
        "collection/contacts.json",
        "v1",
        &[("Content-Type", "application/json")],
    )
    .await;
    assert_eq!(r.status.as_u16(), 202, "{}", r.text());
    let etag1 = md5_hex(b"v1");
    // If-Match still applies to archival writes.
    let r = store(
        &c,
        &hub,
        &arch,
        a,
        "collection/contacts.json",
        "vX",
        &[("If-Match", "wrong")],
    )
    .await;
    assert_error(&r, 412, "PreconditionFailedError");
    // v1 is archived when v2 replaces it: its history name carries that time (as on
    // the real hub: Date.now() at the archival), not the time v1 was written.
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    let before_v2 = now_ms();
    let r = store(
        &c,
        &hub,
        &arch,
        a,
        "collection/contacts.json",
        "v2",
        &[("If-Match", &etag1)],
    )
    .await;
    assert_eq!(r.status.as_u16(), 202);
    let after_v2 = now_ms();
    for i in 3..=6 {
        let r = store(
            &c,
            &hub,
            &arch,
            a,
            "collection/contacts.json",
            format!("v{i}"),
            &[],
        )
        .await;
        assert_eq!(r.status.as_u16(), 202);
    }
    // Unscoped listing sees history files, with the old content and ETags.
    let (all, _) = list_all(&c, &hub, &plain, a, true).await;
    let history: Vec<&Value> = all
        .iter()
        .filter(|e| {
            e["name"]
                .as_str()
                .unwrap()
                .starts_with("collection/.history.")
        })
        .collect();
    assert_eq!(history.len(), 5, "{all:?}");
    let first = history
        .iter()
        .find(|e| e["etag"] == etag1.as_str())
        .expect("v1 archived");
    let name = first["name"].as_str().unwrap();
    let parts: Vec<&str> = name["collection/.history.".len()..]
        .splitn(3, '.')
        .collect();
    assert_eq!(parts[0].len(), 13, "{name}");
    assert!(parts[0].bytes().all(|b| b.is_ascii_digit()));
    let archived_at: u64 = parts[0].parse().unwrap();
    assert!(
        (before_v2..=after_v2).contains(&archived_at),
        "{name}: archived at {archived_at}, v2 written in {before_v2}..={after_v2}"
    );
    assert_eq!(parts[1].len(), 10);
    assert!(parts[1].bytes().all(|b| b.is_ascii_alphanumeric()));
    assert_eq!(parts[2], "contacts.json");
    assert_eq!(first["contentType"], "application/json");
    let r = get(&c, &format!("{}{a}/{name}", hub.read_prefix())).await;
    assert_eq!(r.body, b"v1");
    let r = get(
        &c,
        &format!("{}{a}/collection/contacts.json", hub.read_prefix()),
    )
    .await;
    assert_eq!(r.body, b"v6");

    // Archival listing hides history, never returns [null], ends with page null.
    let (visible, pages) = list_all(&c, &hub, &arch, a, false).await;
    assert_eq!(visible, vec![json!("collection/contacts.json")]);
    assert_eq!(pages, 1);
    let (visible, _) = list_all(&c, &hub, &arch, a, true).await;
    assert_eq!(visible.len(), 1);

    // History is protected from archival writes and deletes.
    let r = store(&c, &hub, &arch, a, name, "evil", &[]).await;
    assert_error(&r, 403, "BadPathError");
    let r = delete(&c, &hub, &arch, a, name).await;
    assert_error(&r, 403, "BadPathError");
    // ...and so is any dot-file, even the first time (as on the real hub).
    let r = store(&c, &hub, &arch, a, "collection/.hidden", "x", &[]).await;
    assert_error(&r, 403, "BadPathError");
    assert_eq!(
        store(&c, &hub, &plain, a, "collection/.hidden", "x", &[])
            .await
            .status
            .as_u16(),
        202
    );

    // Archival delete renames to history; the canonical path then 404s.
    let r = delete(&c, &hub, &arch, a, "collection/contacts.json").await;
    assert_eq!(r.status.as_u16(), 202);
    assert!(r.body.is_empty());
    let r = get(
        &c,
        &format!("{}{a}/collection/contacts.json", hub.read_prefix()),
    )
    .await;
    assert_eq!(r.status.as_u16(), 404);
    let (all, _) = list_all(&c, &hub, &plain, a, false).await;
    assert_eq!(
        all.iter()
            .filter(|e| e.as_str().unwrap().starts_with("collection/.history."))
            .count(),
        6
    );
    let r = delete(&c, &hub, &arch, a, "collection/contacts.json").await;
    assert_error(&r, 404, "DoesNotExist");
    // Only the `single.json` exact archival path is covered besides the prefix.
    assert_eq!(
        store(&c, &hub, &arch, a, "single.json", "s", &[])
            .await
            .status
            .as_u16(),
        202
    );
    assert_error(
        &store(&c, &hub, &arch, a, "single.json.x", "s", &[]).await,
        401,
        "ValidationError",
    );
    // An unscoped token can delete history files.
    assert_eq!(delete(&c, &hub, &plain, a, name).await.status.as_u16(), 202);
}

#[tokio::test]
async fn list_files_paging() {
    let hub = HubProc::spawn(&["--page-size", "3"]);
    let c = client();
    let app = App::new();
    let t = app.token();
    let a = &app.address;

    let r = list(&c, &hub, &t, a, json!({})).await;
    assert_eq!(r.status.as_u16(), 202);
    assert_eq!(r.json(), json!({"entries": [], "page": null}));
    // No body at all.
    let r = send(
        c.post(format!("{}/list-files/{a}", hub.url))
            .header("Authorization", &t),
    )
    .await;
    assert_eq!(r.json(), json!({"entries": [], "page": null}));

    let names = ["a", "b", "c", "d/e", "f", "g", "settings.json"];
    for n in names {
        store(
            &c,
            &hub,
            &t,
            a,
            n,
            n.to_string(),
            &[("Content-Type", "text/plain")],
        )
        .await;
    }
    let r = list(&c, &hub, &t, a, json!({"page": null})).await;
    let j = r.json();
    assert_eq!(j["entries"], json!(["a", "b", "c"]));
    assert!(j["page"].is_string());
    let (all, pages) = list_all(&c, &hub, &t, a, false).await;
    assert_eq!(all, names.iter().map(|n| json!(n)).collect::<Vec<_>>());
    assert_eq!(pages, 3);
    // Exactly a multiple of the page size: no empty trailing page.
    store(&c, &hub, &t, a, "z1", "x", &[]).await;
    store(&c, &hub, &t, a, "z2", "x", &[]).await;
    let (all, pages) = list_all(&c, &hub, &t, a, false).await;
    assert_eq!((all.len(), pages), (9, 3));

    let (stat, _) = list_all(&c, &hub, &t, a, true).await;
    let e = stat.iter().find(|e| e["name"] == "d/e").unwrap();
    assert_eq!(e["exists"], true);
    assert_eq!(e["etag"], md5_hex(b"d/e").as_str());
    assert_eq!(e["contentLength"], 3);
    assert_eq!(e["contentType"], "text/plain");
    let lm = e["lastModifiedDate"].as_u64().unwrap();
    assert!(lm.abs_diff(now_s()) < 600, "{lm}");

    // Bad cursors are a 400 with only a message.
    let r = list(&c, &hub, &t, a, json!({"page": "3"})).await;
    assert_eq!(r.status.as_u16(), 400);
    assert!(r.json()["error"].is_null());
    // Oversized body.
    let r = list(&c, &hub, &t, a, json!({"page": "x".repeat(5000)})).await;
    assert_eq!(r.status.as_u16(), 413);
    // Trailing slash route.
    let r = send(
        c.post(format!("{}/list-files/{a}/", hub.url))
            .header("Authorization", &t)
            .json(&json!({})),
    )
    .await;
    assert_eq!(r.status.as_u16(), 202);
}

#[tokio::test]
async fn delete_rules() {
    let hub = HubProc::spawn(&[]);
    let c = client();
    let app = App::new();
    let t = app.token();
    let a = &app.address;
    store(&c, &hub, &t, a, "dir/f.txt", "x", &[]).await;
    let r = delete(&c, &hub, &t, a, "dir/f.txt").await;
    assert_eq!(r.status.as_u16(), 202);
    assert!(r.body.is_empty());
    let r = delete(&c, &hub, &t, a, "dir/f.txt").await;
    assert_error(&r, 404, "DoesNotExist");
    assert_eq!(r.json()["message"], "File does not exist");
    store(&c, &hub, &t, a, "dir2/sub/f.txt", "x", &[]).await;
    let r = delete(&c, &hub, &t, a, "dir2/sub").await;
    assert_error(&r, 404, "DoesNotExist");
    assert_eq!(r.json()["message"], "Path is not a file");
    assert_eq!(
        get(&c, &format!("{}{a}/dir2/sub/f.txt", hub.read_prefix()))
            .await
            .status
            .as_u16(),
        200
    );
}

#[tokio::test]
async fn revocation() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let c = client();
    let app = App::new();
    let a = app.address.clone();
    let ts = now_s() - 100;
    {
        let hub = HubProc::spawn_in(&dir, &[]);
        let no_iat = app.token();
        assert_eq!(
            store(&c, &hub, &no_iat, &a, "f", "x", &[])
                .await
                .status
                .as_u16(),
            202
        );

        let revoke = |tok: String, body: Value| {
            let c = c.clone();
            let url = format!("{}/revoke-all/{a}", hub.url);
            async move { send(c.post(url).header("Authorization", tok).json(&body)).await }
        };
        let r = revoke(no_iat.clone(), json!({})).await;
        assert_eq!(r.status.as_u16(), 400);
        assert_eq!(
            r.json(),
            json!({"message": "Invalid JSON: missing oldestValidTimestamp"})
        );
        let r = revoke(no_iat.clone(), json!({"oldestValidTimestamp": "soon"})).await;
        assert_eq!(
            r.json(),
            json!({"message": "Invalid JSON: oldestValidTimestamp is not a valid integer"})
        );
        let other = App::new();
        let r = revoke(other.token(), json!({"oldestValidTimestamp": ts})).await;
        assert_error(&r, 401, "ValidationError");

        let r = revoke(
            no_iat.clone(),
            json!({"oldestValidTimestamp": ts.to_string()}),
        )
        .await;
        assert_eq!(r.status.as_u16(), 202);
        assert_eq!(r.json(), json!({"status": "success"}));

        let r = store(&c, &hub, &no_iat, &a, "f", "y", &[]).await;
        assert_error(&r, 401, "AuthTokenTimestampValidationError");
        assert!(
            r.json()["message"]
                .as_str()
                .unwrap()
                .contains("no creation timestamp")
        );
        let old = app.token_with(V1TokenOptions {
            iat: Some(ts - 1),
            ..Default::default()
        });
        let r = store(&c, &hub, &old, &a, "f", "y", &[]).await;
        assert_error(&r, 401, "AuthTokenTimestampValidationError");
        assert_error(
            &delete(&c, &hub, &old, &a, "f").await,
            401,
            "AuthTokenTimestampValidationError",
        );
        assert_error(
            &list(&c, &hub, &old, &a, json!({})).await,
            401,
            "AuthTokenTimestampValidationError",
        );
        let equal = app.token_with(V1TokenOptions {
            iat: Some(ts),
            ..Default::default()
        });
        assert_eq!(
            store(&c, &hub, &equal, &a, "f", "y", &[])
                .await
                .status
                .as_u16(),
            202
        );

        // A lower timestamp never lowers the bar.
        let r = revoke(equal.clone(), json!({"oldestValidTimestamp": 1000})).await;
        assert_eq!(r.status.as_u16(), 202);
        assert_error(
            &store(&c, &hub, &old, &a, "f", "z", &[]).await,
            401,
            "AuthTokenTimestampValidationError",
        );
        // The timestamp is readable like on the real hub.
        let r = get(&c, &format!("{}{a}-auth/authTimestamp", hub.read_prefix())).await;
        assert_eq!(r.status.as_u16(), 200);
        assert_eq!(r.text(), ts.to_string());
        assert_eq!(
            r.header("content-type").as_deref(),
            Some("text/plain; charset=UTF-8")
        );
        // Other buckets are unaffected.
        let other_store = store(&c, &hub, &other.token(), &other.address, "f", "x", &[]).await;
        assert_eq!(other_store.status.as_u16(), 202);
    }
    // After a restart the timestamp is read back from storage.
    let hub = HubProc::spawn_in(&dir, &[]);
    let old = app.token_with(V1TokenOptions {
        iat: Some(ts - 1),
        ..Default::default()
    });
    assert_error(
        &store(&c, &hub, &old, &a, "f", "z", &[]).await,
        401,
        "AuthTokenTimestampValidationError",
    );
    let fresh = app.token_with(V1TokenOptions {
        iat: Some(now_s()),
        ..Default::default()
    });
    assert_eq!(
        store(&c, &hub, &fresh, &a, "f", "z", &[])
            .await
            .status
            .as_u16(),
        202
    );
}

#[tokio::test]
async fn association_tokens_whitelist_and_hub_url() {
    let identity = PrivateKey::random().unwrap();
    let id_addr = identity.public_key().address();
    let hub = HubProc::spawn(&[
        "--whitelist",
        &id_addr,
        "--require-correct-hub-url",
        "--valid-hub-url",
        "http://hub.test/",
    ]);
    let c = client();
    let app = App::new();
    let a = &app.address;
    let now_ms = now_s() * 1000;
    let assoc = make_association_token(&identity, &app.key.public_key(), now_ms, None);
    let with = |assoc: Option<String>, hub_url: Option<&str>| {
        app.token_with(V1TokenOptions {
            association_token: assoc,
            hub_url: hub_url.map(str::to_string),
            ..Default::default()
        })
    };

    // Whitelisted through the association token, with a valid hubUrl.
    let r = store(
        &c,
        &hub,
        &with(Some(assoc.clone()), Some("http://hub.test")),
        a,
        "f",
        "x",
        &[],
    )
    .await;
    assert_eq!(r.status.as_u16(), 202, "{}", r.text());
    let r = store(
        &c,
        &hub,
        &with(Some(assoc.clone()), Some("https://localhost/")),
        a,
        "f",
        "x",
        &[],
    )
    .await;
    assert_eq!(r.status.as_u16(), 202, "{}", r.text());
    // Missing / wrong hubUrl.
    let r = store(&c, &hub, &with(Some(assoc.clone()), None), a, "f", "x", &[]).await;
    assert_eq!(
        r.json()["message"],
        "Authentication must provide a claimed hub. You may need to update stacks.js."
    );
    let r = store(
        &c,
        &hub,
        &with(Some(assoc.clone()), Some("https://evil.example")),
        a,
        "f",
        "x",
        &[],
    )
    .await;
    assert_error(&r, 401, "ValidationError");
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("not found in this hubs set")
    );
    // Without the association token the app key is not whitelisted.
    let r = store(
        &c,
        &hub,
        &with(None, Some("http://hub.test")),
        a,
        "f",
        "x",
        &[],
    )
    .await;
    assert_eq!(
        r.json()["message"],
        format!("Address {a} not authorized for writes")
    );
    // An association token from a non-whitelisted identity.
    let stranger = PrivateKey::random().unwrap();
    let bad = make_association_token(&stranger, &app.key.public_key(), now_ms, None);
    let r = store(
        &c,
        &hub,
        &with(Some(bad), Some("http://hub.test")),
        a,
        "f",
        "x",
        &[],
    )
    .await;
    assert_eq!(
        r.json()["message"],
        format!(
            "Address {} not authorized for writes",
            stranger.public_key().address()
        )
    );
    // Expired association token.
    let expired = make_association_token(
        &identity,
        &app.key.public_key(),
        now_ms - 400 * 86400 * 1000,
        None,
    );
    let r = store(
        &c,
        &hub,
        &with(Some(expired), Some("http://hub.test")),
        a,
        "f",
        "x",
        &[],
    )
    .await;
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("Expired association token")
    );
    // Association token for another child key.
    let other = App::new();
    let wrong_child = make_association_token(&identity, &other.key.public_key(), now_ms, None);
    let r = store(
        &c,
        &hub,
        &with(Some(wrong_child), Some("http://hub.test")),
        a,
        "f",
        "x",
        &[],
    )
    .await;
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("Association token child key")
    );
    // Listing uses the same checks.
    let r = list(
        &c,
        &hub,
        &with(Some(assoc), Some("http://hub.test")),
        a,
        json!({}),
    )
    .await;
    assert_eq!(r.status.as_u16(), 202);
}

#[tokio::test]
async fn etag_rules() {
    let hub = HubProc::spawn(&[]);
    let c = client();
    let app = App::new();
    let t = app.token();
    let a = &app.address;

    let r = store(&c, &hub, &t, a, "e.txt", "one", &[("If-None-Match", "*")]).await;
    assert_eq!(r.status.as_u16(), 202);
    let e1 = md5_hex(b"one");
    let r = store(&c, &hub, &t, a, "e.txt", "two", &[("If-None-Match", "*")]).await;
    assert_error(&r, 412, "PreconditionFailedError");
    assert_eq!(
        r.json()["message"],
        "The entity you are trying to create already exists"
    );
    let r = store(&c, &hub, &t, a, "e.txt", "two", &[("If-None-Match", &e1)]).await;
    assert_eq!(
        r.json()["message"],
        "Misuse of the if-none-match header. Expected to be * on write requests."
    );
    let r = store(
        &c,
        &hub,
        &t,
        a,
        "e.txt",
        "two",
        &[("If-None-Match", "*"), ("If-Match", &e1)],
    )
    .await;
    assert_eq!(
        r.json()["message"],
        "Request should not contain both if-match and if-none-match headers"
    );
    let quoted = format!("\"{e1}\"");
    let r = store(&c, &hub, &t, a, "e.txt", "two", &[("If-Match", &quoted)]).await;
    assert_eq!(
        r.json()["message"],
        "The provided ETag does not match that of the resource on the server"
    );
    let r = store(&c, &hub, &t, a, "missing.txt", "two", &[("If-Match", &e1)]).await;
    assert_error(&r, 412, "PreconditionFailedError");
    let r = store(&c, &hub, &t, a, "e.txt", "two", &[("If-Match", &e1)]).await;
    assert_eq!(r.status.as_u16(), 202);
    // Stale ETag now.
    let r = store(&c, &hub, &t, a, "e.txt", "three", &[("If-Match", &e1)]).await;
    assert_error(&r, 412, "PreconditionFailedError");
    let r = store(&c, &hub, &t, a, "e.txt", "three", &[("If-Match", "*")]).await;
    assert_eq!(r.status.as_u16(), 202);
    // Reader's ETag header equals the store's etag.
    let r = get(&c, &format!("{}{a}/e.txt", hub.read_prefix())).await;
    assert_eq!(r.header("etag"), Some(md5_hex(b"three")));
    // DELETE ignores the headers.
    let r = send(
        c.delete(format!("{}/delete/{a}/e.txt", hub.url))
            .header("Authorization", &t)
            .header("If-Match", "nonsense"),
    )
    .await;
    assert_eq!(r.status.as_u16(), 202);
    // Nothing failed left a partial or changed file behind.
    let (all, _) = list_all(&c, &hub, &t, a, false).await;
    assert!(all.is_empty(), "{all:?}");
}

#[tokio::test]
async fn oversize_uploads() {
    let hub = HubProc::spawn(&["--max-upload-mb", "1"]);
    let c = client();
    let app = App::new();
    let t = app.token();
    let a = &app.address;
    let mib = 1024 * 1024;

    let r = get(&c, &format!("{}/hub_info", hub.url)).await;
    assert_eq!(r.json()["max_file_upload_size_megabytes"], 1);

    // Exactly the limit is accepted.
    let exact = vec![7u8; mib];
    let r = store(&c, &hub, &t, a, "exact.bin", exact.clone(), &[]).await;
    assert_eq!(r.status.as_u16(), 202);

    // Content-Length over the limit: 413 before reading the body.
    let big = vec![1u8; mib + 1];
    let r = store(&c, &hub, &t, a, "big.bin", big.clone(), &[]).await;
    assert_error(&r, 413, "PayloadTooLargeError");
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("Max file upload size is 1 megabytes.")
    );

    // Chunked upload over the limit: 413 and no partial file, old content untouched.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..40).map(|_| Ok(vec![9u8; 64 * 1024])).collect();
    let body = reqwest::Body::wrap_stream(futures::stream::iter(chunks));
    let r = store(&c, &hub, &t, a, "exact.bin", body, &[]).await;
    assert_error(&r, 413, "PayloadTooLargeError");
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..40).map(|_| Ok(vec![9u8; 64 * 1024])).collect();
    let body = reqwest::Body::wrap_stream(futures::stream::iter(chunks));
    let r = store(&c, &hub, &t, a, "chunked.bin", body, &[]).await;
    assert_error(&r, 413, "PayloadTooLargeError");
    let r = get(&c, &format!("{}{a}/chunked.bin", hub.read_prefix())).await;
    assert_eq!(r.status.as_u16(), 404);
    let r = get(&c, &format!("{}{a}/exact.bin", hub.read_prefix())).await;
    assert_eq!(r.body, exact);
    let (all, _) = list_all(&c, &hub, &t, a, false).await;
    assert_eq!(all, vec![json!("exact.bin")]);
    // No stray staging files on disk either (the lock stripes are not files of a bucket).
    let mut files = Vec::new();
    let mut stack = vec![hub.dir.clone()];
    let locks = hub.dir.join(cairn_hub::storage::LOCK_DIR);
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                if e.path() != locks {
                    stack.push(e.path());
                }
            } else {
                files.push(e.path());
            }
        }
    }
    assert_eq!(files.len(), 1, "{files:?}");
    // A chunked upload under the limit works.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..4).map(|i| Ok(vec![i as u8; 1000])).collect();
    let body = reqwest::Body::wrap_stream(futures::stream::iter(chunks));
    let r = store(&c, &hub, &t, a, "small-chunked.bin", body, &[]).await;
    assert_eq!(r.status.as_u16(), 202);
}

#[tokio::test]
async fn concurrent_writers_never_lose_updates() {
    let hub = HubProc::spawn(&[]);
    let c = client();
    let app = App::new();
    let t = app.token();
    let a = app.address.clone();

    // Many unconditional writers on one path: each gets 202 or 409, and the file is
    // always one of the 202 bodies, whole.
    let mut tasks = Vec::new();
    for i in 0..24 {
        let (c, t, a, url) = (c.clone(), t.clone(), a.clone(), hub.url.clone());
        tasks.push(tokio::spawn(async move {
            let body: Vec<u8> = format!("writer {i} ").repeat(20_000).into_bytes();
            let r = c
                .post(format!("{url}/store/{a}/shared.txt"))
                .header("Authorization", t)
                .body(body.clone())
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), body)
        }));
    }
    let mut ok_bodies = Vec::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        assert!(status == 202 || status == 409, "{status}");
        if status == 202 {
            ok_bodies.push(body);
        }
    }
    assert!(!ok_bodies.is_empty());
    let r = get(&c, &format!("{}{a}/shared.txt", hub.read_prefix())).await;
    assert!(ok_bodies.contains(&r.body), "torn or lost file");
    assert_eq!(r.header("etag"), Some(md5_hex(&r.body)));

    // Optimistic concurrency: writers that all read the same ETag and retry on 409.
    // Exactly one wins; every other one learns (412) that it lost.
    let base = md5_hex(&r.body);
    let mut tasks = Vec::new();
    for i in 0..16 {
        let (c, t, a, url, base) = (
            c.clone(),
            t.clone(),
            a.clone(),
            hub.url.clone(),
            base.clone(),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                let r = c
                    .post(format!("{url}/store/{a}/shared.txt"))
                    .header("Authorization", &t)
                    .header("If-Match", &base)
                    .body(format!("update {i}"))
                    .send()
                    .await
                    .unwrap();
                match r.status().as_u16() {
                    409 => tokio::time::sleep(std::time::Duration::from_millis(2)).await,
                    s => return (s, i),
                }
            }
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        let (status, i) = task.await.unwrap();
        assert!(status == 202 || status == 412, "{status}");
        if status == 202 {
            winners.push(i);
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let r = get(&c, &format!("{}{a}/shared.txt", hub.read_prefix())).await;
    assert_eq!(r.text(), format!("update {}", winners[0]));

    // A delete racing a store on the same path gets 409 or works; never a torn file.
    let mut tasks = Vec::new();
    for i in 0..10 {
        let (c, t, a, url) = (c.clone(), t.clone(), a.clone(), hub.url.clone());
        tasks.push(tokio::spawn(async move {
            let r = if i % 2 == 0 {
                c.delete(format!("{url}/delete/{a}/shared.txt"))
                    .header("Authorization", &t)
                    .send()
                    .await
            } else {
                c.post(format!("{url}/store/{a}/shared.txt"))
                    .header("Authorization", &t)
                    .body(format!("again {i}"))
                    .send()
                    .await
            };
            r.unwrap().status().as_u16()
        }));
    }
    for task in tasks {
        let s = task.await.unwrap();
        assert!([202, 404, 409].contains(&s), "{s}");
    }
    let r = get(&c, &format!("{}{a}/shared.txt", hub.read_prefix())).await;
    if r.status.as_u16() == 200 {
        assert!(r.text().starts_with("again ") || r.text().starts_with("update "));
        assert_eq!(r.header("etag"), Some(md5_hex(&r.body)));
    }
}

#[test]
fn bad_configuration_fails_clearly() {
    let run = |args: &[&str]| {
        let out = std::process::Command::new(common::hub_bin())
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = run(&["--bind", "nonsense"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("invalid `bind`"), "{err}");
    let (code, err) = run(&["--storage", "ftp://host/x"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("unsupported scheme"), "{err}");
    let (code, err) = run(&["--page-size", "0"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("page_size"), "{err}");
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("hub.toml");
    std::fs::write(&cfg, "bind = \"127.0.0.1:0\"\nstorag = \"x\"\n").unwrap();
    let (code, err) = run(&["--config", cfg.to_str().unwrap()]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("invalid configuration file") && err.contains("storag"),
        "{err}"
    );
    let (code, err) = run(&["--config", "/nonexistent/hub.toml"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("cannot read the configuration file"), "{err}");
    // Cloud storage without credentials fails at startup, naming the storage.
    let (code, err) = run(&[
        "--bind",
        "127.0.0.1:0",
        "--storage",
        "az://container/prefix",
    ]);
    assert_eq!(code, Some(2));
    assert!(err.contains("az://container"), "{err}");
}

#[tokio::test]
async fn toml_configuration() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("hub.toml");
    std::fs::write(
        &cfg,
        format!(
            "bind = \"127.0.0.1:1\"\nstorage = \"{}\"\nserver_name = \"hub.example\"\nread_url = \"https://cdn.example/r\"\nmax_upload_mb = 3\n",
            tmp.path().join("d").display()
        ),
    )
    .unwrap();
    // The flag overrides the file's bind address.
    let hub = HubProc::spawn_in(&tmp.path().join("d"), &["--config", cfg.to_str().unwrap()]);
    let c = client();
    let j = get(&c, &format!("{}/hub_info", hub.url)).await.json();
    assert_eq!(
        j["challenge_text"],
        r#"["gaiahub","0","hub.example","blockstack_storage_please_sign"]"#
    );
    assert_eq!(j["read_url_prefix"], "https://cdn.example/r/");
    assert_eq!(j["max_file_upload_size_megabytes"], 3);
}

/// Cairn's addition: each version records the salt of the token that wrote it, so the
/// owner can tell which app (one collection token per app) made which change, also for
/// versions kept as history.
#[tokio::test]
async fn versions_record_their_writer() {
    let hub = HubProc::spawn(&[]);
    let c = client();
    let bucket = App::new();
    let a = &bucket.address;
    let token_for = |salt: [u8; 16]| {
        bucket.token_with(V1TokenOptions {
            scopes: vec![Scope::new("putFileArchivalPrefix", "collection")],
            salt: Some(salt),
            ..Default::default()
        })
    };
    let first = token_for([1; 16]);
    let second = token_for([2; 16]);
    let r = store(&c, &hub, &first, a, "collection/item", "one", &[]).await;
    assert_eq!(r.status.as_u16(), 202, "{}", r.text());
    let r = store(&c, &hub, &second, a, "collection/item", "two", &[]).await;
    assert_eq!(r.status.as_u16(), 202, "{}", r.text());
    let (all, _) = list_all(&c, &hub, &bucket.token(), a, true).await;
    let writer_of = |pred: &dyn Fn(&str) -> bool| {
        all.iter()
            .find(|e| pred(e["name"].as_str().unwrap()))
            .map(|e| e["writer"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(writer_of(&|n| n == "collection/item"), "02".repeat(16));
    assert_eq!(
        writer_of(&|n| n.starts_with("collection/.history.")),
        "01".repeat(16)
    );
}
