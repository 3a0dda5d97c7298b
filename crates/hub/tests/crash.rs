//! Crash test: SIGKILL the hub during a stream of writes, restart it on the same
//! storage, and check that every file reads back whole with matching metadata.

#![allow(clippy::unwrap_used)] // a test that unwraps fails, which is what it should do

mod common;

use common::{App, HubProc, client, md5_hex};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[path = "../../core/tests/support/rng.rs"]
mod rng;
use rng::Rng;

/// Self-describing content: seed and length up front, then a stream derived from the seed.
fn content(seed: u64, len: usize) -> Vec<u8> {
    let len = len.max(16);
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(&seed.to_le_bytes());
    out.extend_from_slice(&(len as u64).to_le_bytes());
    let mut r = Rng(seed | 1);
    while out.len() < len {
        out.extend_from_slice(&r.next().to_le_bytes());
    }
    out.truncate(len);
    out
}

fn check_content(body: &[u8]) -> Option<u64> {
    if body.len() < 16 {
        return None;
    }
    let seed = u64::from_le_bytes(body[..8].try_into().ok()?);
    let len = u64::from_le_bytes(body[8..16].try_into().ok()?) as usize;
    (len == body.len() && content(seed, len) == body).then_some(seed)
}

/// Per archived file (`w6/fN`): its history as (history number, content seed), and the
/// seed of its current version (if any).
type Histories = HashMap<String, (Vec<(u64, u64)>, Option<u64>)>;

/// Reads back every file; returns how many there are and the archived files' histories.
async fn verify(hub: &HubProc, app: &App) -> (usize, Histories) {
    let c = client();
    let t = app.token();
    let a = &app.address;
    let mut page = Value::Null;
    let mut entries = Vec::new();
    let mut plain_count = 0;
    let mut histories = Histories::new();
    loop {
        let r = c
            .post(format!("{}/list-files/{a}", hub.url))
            .header("Authorization", &t)
            .json(&json!({"page": page, "stat": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 202);
        let j: Value = r.json().await.unwrap();
        entries.extend(j["entries"].as_array().unwrap().clone());
        page = j["page"].clone();
        if page.is_null() {
            break;
        }
    }
    page = Value::Null;
    loop {
        let r = c
            .post(format!("{}/list-files/{a}", hub.url))
            .header("Authorization", &t)
            .json(&json!({"page": page}))
            .send()
            .await
            .unwrap();
        let j: Value = r.json().await.unwrap();
        plain_count += j["entries"].as_array().unwrap().len();
        page = j["page"].clone();
        if page.is_null() {
            break;
        }
    }
    // Every listed object has readable metadata (stat skips unreadable ones).
    assert_eq!(
        entries.len(),
        plain_count,
        "some files have unreadable metadata"
    );
    for e in &entries {
        let name = e["name"].as_str().unwrap();
        let url = format!("{}{a}/{name}", hub.read_prefix());
        let r = c.get(&url).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "{name}");
        let etag = r.headers()["etag"].to_str().unwrap().to_string();
        let ct = r.headers()["content-type"].to_str().unwrap().to_string();
        let body = r.bytes().await.unwrap();
        let seed = check_content(&body).unwrap_or_else(|| panic!("{name}: torn or mixed content"));
        assert_eq!(etag, md5_hex(&body), "{name}: ETag does not match content");
        assert_eq!(e["etag"], etag.as_str(), "{name}");
        assert_eq!(e["contentLength"], body.len(), "{name}");
        assert_eq!(
            ct,
            format!("application/x-seed-{seed}"),
            "{name}: metadata from another version"
        );
        assert_eq!(e["contentType"], ct.as_str());
        // History: per archived file, (history number, content seed).
        let (dir, file) = name.rsplit_once('/').unwrap_or(("", name));
        if let Some(rest) = file.strip_prefix(".history.") {
            let mut parts = rest.splitn(3, '.');
            let n: u64 = parts.next().unwrap().parse().unwrap();
            let _id = parts.next().unwrap();
            let base = parts.next().unwrap();
            histories
                .entry(format!("{dir}/{base}"))
                .or_default()
                .0
                .push((n, seed));
        } else if dir == "w6" {
            histories.entry(name.to_string()).or_default().1 = Some(seed);
        }
    }
    // No version archived twice, no history number used twice, across kills.
    for (file, (v, _)) in &histories {
        let mut v = v.clone();
        let n = v.len();
        v.sort();
        let mut numbers: Vec<u64> = v.iter().map(|x| x.0).collect();
        numbers.dedup();
        assert_eq!(numbers.len(), n, "{file}: history numbers reused: {v:?}");
        let mut seeds: Vec<u64> = v.iter().map(|x| x.1).collect();
        seeds.sort_unstable();
        seeds.dedup();
        assert_eq!(seeds.len(), n, "{file}: a version archived twice: {v:?}");
    }
    (entries.len(), histories)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_during_writes_leaves_whole_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let app = Arc::new(App::new());
    let mut total_ok = 0usize;
    // Writer 6's stores, in the order sent (one writer, one request at a time).
    let sent: Arc<Mutex<HashMap<String, Vec<u64>>>> = Arc::default();
    for round in 0..3u64 {
        let mut hub = HubProc::spawn_in(&dir, &["--page-size", "7"]);
        if round > 0 {
            verify(&hub, &app).await;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let ok = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for w in 0..7u64 {
            let (stop, ok, app, url, sent) = (
                stop.clone(),
                ok.clone(),
                app.clone(),
                hub.url.clone(),
                sent.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let c = client();
                // Writer 6 writes with an archival token: every overwrite archives.
                let archival = w == 6;
                let t = if archival {
                    app.token_with(cairn_core::protocol::gaia::V1TokenOptions {
                        scopes: vec![cairn_core::protocol::gaia::Scope::new(
                            "putFileArchivalPrefix",
                            "w6/",
                        )],
                        ..Default::default()
                    })
                } else {
                    app.token()
                };
                let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (round * 1000 + w + 1));
                while !stop.load(Ordering::Relaxed) {
                    let n = rng.next();
                    let path = format!("w{w}/f{}", n % if archival { 3 } else { 12 });
                    let seed = rng.next();
                    let len = match n % 20 {
                        0 => 9 * 1024 * 1024 + (seed % 1000) as usize, // multipart upload path
                        1..=5 => 100_000 + (seed % 200_000) as usize,
                        _ => 16 + (seed % 4000) as usize,
                    };
                    let r = if n.is_multiple_of(13) {
                        c.delete(format!("{url}/delete/{}/{path}", app.address))
                            .header("Authorization", &t)
                            .send()
                            .await
                    } else {
                        if archival {
                            sent.lock()
                                .unwrap()
                                .entry(path.clone())
                                .or_default()
                                .push(seed);
                        }
                        c.post(format!("{url}/store/{}/{path}", app.address))
                            .header("Authorization", &t)
                            .header("Content-Type", format!("application/x-seed-{seed}"))
                            .body(content(seed, len))
                            .send()
                            .await
                    };
                    match r {
                        Ok(r) if r.status().as_u16() == 202 => {
                            ok.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(_) => {}
                        Err(_) => return,
                    }
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(1200 + round * 300)).await;
        hub.kill();
        stop.store(true, Ordering::Relaxed);
        for t in tasks {
            let _ = t.await;
        }
        total_ok += ok.load(Ordering::Relaxed);
    }
    eprintln!("crash test: {total_ok} writes/deletes acknowledged over 3 kill rounds");
    assert!(total_ok > 20, "too few writes happened ({total_ok})");
    let hub = HubProc::spawn_in(&dir, &[]);
    let (n, _) = verify(&hub, &app).await;
    eprintln!("crash test: {n} files verified after the last restart");
    assert!(n > 0);

    // One more archival write to each archived file: a version whose archival a kill
    // interrupted (copied to history, new version never published) is archived under
    // the name it was given then, not a second time.
    let c = client();
    let t = app.token_with(cairn_core::protocol::gaia::V1TokenOptions {
        scopes: vec![cairn_core::protocol::gaia::Scope::new(
            "putFileArchivalPrefix",
            "w6/",
        )],
        ..Default::default()
    });
    for f in 0..3u64 {
        let path = format!("w6/f{f}");
        let seed = 0xF1A1_0000 + f;
        sent.lock()
            .unwrap()
            .entry(path.clone())
            .or_default()
            .push(seed);
        let r = c
            .post(format!("{}/store/{}/{path}", hub.url, app.address))
            .header("Authorization", &t)
            .header("Content-Type", format!("application/x-seed-{seed}"))
            .body(content(seed, 100))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 202);
    }
    let (_, histories) = verify(&hub, &app).await;
    let sent = sent.lock().unwrap().clone();
    let mut archived = 0;
    for (file, (mut hist, current)) in histories {
        // No orphan: the current version is not also in history.
        let current = current.unwrap_or_else(|| panic!("{file}: missing"));
        assert!(
            hist.iter().all(|(_, s)| *s != current),
            "{file}: the current version is also in history: {hist:?}"
        );
        // History numbers (archival times) follow the order the versions were written.
        hist.sort_unstable();
        let order = &sent[&file];
        let pos: Vec<usize> = hist
            .iter()
            .map(|(_, s)| {
                order
                    .iter()
                    .position(|x| x == s)
                    .unwrap_or_else(|| panic!("{file}: history holds a version never sent"))
            })
            .collect();
        assert!(
            pos.windows(2).all(|w| w[0] < w[1]),
            "{file}: history numbers out of write order: {hist:?}"
        );
        archived += hist.len();
    }
    eprintln!("crash test: {archived} archived versions checked");
    assert!(archived > 3, "too few archival writes ({archived})");
}
