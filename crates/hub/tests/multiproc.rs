//! Many hub processes on one store: three hubs share a storage and 64 concurrent
//! clients go through random hubs. Checked: no lost update under `If-Match`, every
//! archival write's previous version in history exactly once, history numbers unique
//! and increasing, and a revoke-all through one hub refused by every hub's next write.
//!
//! Run on local disk (three spawned `cairn-hub` processes: flock stripes), on Azure Blob
//! storage through Azurite and on S3 through moto (three spawned processes each: the
//! store's conditional writes, `If-None-Match: *` / `If-Match`), and on an in-process
//! conditional store (three hubs in this process on one shared `InMemory` store, each
//! with its own in-process locks).

#![allow(clippy::unwrap_used)] // a test that unwraps fails, which is what it should do

mod common;

use cairn_core::protocol::gaia::{Scope, V1TokenOptions};
use common::{App, HubProc, client, now_s};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

#[path = "../../core/tests/support/rng.rs"]
mod rng;
use rng::Rng;

const CLIENTS: usize = 64;
const FILES: usize = 8;
const ROUNDS: usize = 12;
/// The hubs' list-files page size (small, so listings span pages).
const PAGE: usize = 16;
const PAGE_FLAG: [&str; 2] = ["--page-size", "16"];

/// `k:writer` — the k-th version of a counter file.
fn parse(body: &[u8]) -> (u64, String) {
    let s = std::str::from_utf8(body).expect("utf-8");
    let (k, w) = s.split_once(':').expect("k:writer");
    (k.parse().expect("k"), w.to_string())
}

async fn read(c: &reqwest::Client, url: &str) -> Option<(String, Vec<u8>)> {
    let r = c.get(url).send().await.ok()?;
    if r.status().as_u16() != 200 {
        return None;
    }
    let etag = r.headers().get("etag")?.to_str().ok()?.to_string();
    Some((etag, r.bytes().await.ok()?.to_vec()))
}

/// Every name in the bucket, page after page, page i through `urls[i % len]`.
async fn list_all(c: &reqwest::Client, urls: &[String], token: &str, address: &str) -> Vec<String> {
    let mut page = Value::Null;
    let mut out = Vec::new();
    for i in 0..1000 {
        let url = &urls[i % urls.len()];
        let r = c
            .post(format!("{url}/list-files/{address}"))
            .header("Authorization", token)
            .json(&json!({ "page": page }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 202);
        let j: Value = r.json().await.unwrap();
        for e in j["entries"].as_array().unwrap() {
            out.push(e.as_str().unwrap().to_string());
        }
        page = j["page"].clone();
        if page.is_null() {
            return out;
        }
    }
    panic!("listing never ended");
}

async fn workload(urls: Vec<String>) {
    let app = Arc::new(App::new());
    let a = app.address.clone();
    let old_iat = now_s() - 100;
    let archival = app.token_with(V1TokenOptions {
        scopes: vec![Scope::new("putFileArchivalPrefix", "c/")],
        iat: Some(old_iat),
        ..Default::default()
    });
    let c = client();

    // Every hub tries to create each file with If-None-Match: exactly one wins.
    for f in 0..FILES {
        let mut created = 0;
        for (i, url) in urls.iter().enumerate() {
            let r = c
                .post(format!("{url}/store/{a}/c/f{f}"))
                .header("Authorization", &archival)
                .header("If-None-Match", "*")
                .body(format!("0:init{i}"))
                .send()
                .await
                .unwrap();
            match r.status().as_u16() {
                202 => created += 1,
                412 => {}
                s => panic!("create: {s}"),
            }
        }
        assert_eq!(created, 1, "If-None-Match: * let {created} creates through");
    }

    // 64 clients: read a counter through one hub, write k+1 with If-Match through another.
    let acks = Arc::new(AtomicUsize::new(0));
    let acked: Arc<std::sync::Mutex<Vec<(usize, u64, String)>>> = Default::default();
    let mut tasks = Vec::new();
    for client_id in 0..CLIENTS {
        let (urls, a, token, acks, acked) = (
            urls.clone(),
            a.clone(),
            archival.clone(),
            acks.clone(),
            acked.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let c = client();
            let mut rng = Rng(0x5EED ^ ((client_id as u64 + 1) * 0x9E37_79B9));
            let f = client_id % FILES;
            for round in 0..ROUNDS {
                let r_url = &urls[(rng.next() % urls.len() as u64) as usize];
                let w_url = &urls[(rng.next() % urls.len() as u64) as usize];
                let Some((etag, body)) = read(&c, &format!("{r_url}/read/{a}/c/f{f}")).await else {
                    continue;
                };
                let (k, _) = parse(&body);
                let me = format!("w{client_id}r{round}");
                let r = c
                    .post(format!("{w_url}/store/{a}/c/f{f}"))
                    .header("Authorization", &token)
                    .header("If-Match", &etag)
                    .body(format!("{}:{me}", k + 1))
                    .send()
                    .await
                    .unwrap();
                match r.status().as_u16() {
                    202 => {
                        acks.fetch_add(1, Ordering::Relaxed);
                        acked.lock().unwrap().push((f, k + 1, me));
                    }
                    // Someone else won the race (412), or this hub has the path busy (409).
                    412 | 409 => {}
                    s => panic!("store: {s} {}", r.text().await.unwrap_or_default()),
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    eprintln!(
        "multi-process: {} acknowledged If-Match writes by {CLIENTS} clients over {} hubs",
        acked.len(),
        urls.len()
    );
    assert!(acked.len() >= FILES * 4, "too few writes went through");

    let plain = app.token_with(V1TokenOptions {
        iat: Some(old_iat),
        ..Default::default()
    });
    let names = list_all(&c, &urls[..1], &plain, &a).await;
    assert!(names.len() > 3 * PAGE, "the listing should span pages");
    // A cursor from one hub works on the others: the same names, each once.
    let mut rotated = list_all(&c, &urls, &plain, &a).await;
    let mut sorted = names.clone();
    sorted.sort();
    rotated.sort();
    assert_eq!(rotated, sorted, "paging through several hubs");
    for f in 0..FILES {
        let mine: BTreeMap<u64, String> = acked
            .iter()
            .filter(|(ff, _, _)| *ff == f)
            .map(|(_, k, w)| (*k, w.clone()))
            .collect();
        let n_acked = acked.iter().filter(|(ff, _, _)| *ff == f).count();
        // No lost update: each acknowledged write made exactly one new version.
        assert_eq!(
            mine.len(),
            n_acked,
            "f{f}: two writes acknowledged for one version"
        );
        let (_, cur) = read(&c, &format!("{}/read/{a}/c/f{f}", urls[1]))
            .await
            .unwrap();
        let (k_final, w_final) = parse(&cur);
        assert_eq!(k_final as usize, n_acked, "f{f}: lost update");
        if k_final > 0 {
            assert_eq!(mine[&k_final], w_final);
        }
        // History: versions 0..k_final-1, each exactly once, numbers unique and in the
        // order the versions were written.
        let prefix = ".history.";
        let suffix = format!(".f{f}");
        let mut hist: Vec<(u64, String)> = names
            .iter()
            .filter_map(|n| n.strip_prefix("c/"))
            .filter(|n| n.starts_with(prefix) && n.ends_with(&suffix))
            .map(|n| {
                let num = n[prefix.len()..].split('.').next().unwrap();
                (num.parse::<u64>().unwrap(), n.to_string())
            })
            .collect();
        let nums: HashSet<u64> = hist.iter().map(|(n, _)| *n).collect();
        assert_eq!(nums.len(), hist.len(), "f{f}: history numbers not unique");
        hist.sort();
        let mut ks = Vec::new();
        for (_, name) in &hist {
            let (_, body) = read(&c, &format!("{}/read/{a}/c/{name}", urls[2]))
                .await
                .unwrap();
            let (k, w) = parse(&body);
            if k > 0 {
                assert_eq!(
                    mine[&k], w,
                    "f{f}: history holds a version never acknowledged"
                );
            }
            ks.push(k);
        }
        assert_eq!(
            ks,
            (0..k_final).collect::<Vec<_>>(),
            "f{f}: history is not every replaced version exactly once, in number order"
        );
    }

    // revoke-all through the first hub: the old token is refused by every hub's next write.
    let fresh = app.token_with(V1TokenOptions {
        iat: Some(now_s()),
        ..Default::default()
    });
    let r = c
        .post(format!("{}/revoke-all/{a}", urls[0]))
        .header("Authorization", &fresh)
        .json(&json!({ "oldestValidTimestamp": old_iat + 50 }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    for url in &urls {
        let r = c
            .post(format!("{url}/store/{a}/c/after"))
            .header("Authorization", &archival)
            .body("x")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 401, "{url} accepted a revoked token");
        let r = c
            .post(format!("{url}/store/{a}/c/after"))
            .header("Authorization", &fresh)
            .body("x")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 202, "{url} refused a fresh token");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_processes_on_one_disk_store() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let hubs: Vec<HubProc> = (0..3)
        .map(|_| {
            HubProc::spawn_in(
                &dir,
                &[
                    "--multi-process",
                    "--fsync",
                    "false",
                    PAGE_FLAG[0],
                    PAGE_FLAG[1],
                ],
            )
        })
        .collect();
    workload(hubs.iter().map(|h| h.url.clone()).collect()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_hubs_on_one_conditional_store() {
    use cairn_hub::config::{Settings, merge};
    use cairn_hub::storage::Storage;
    let shared: Arc<dyn object_store::ObjectStore> =
        Arc::new(object_store::memory::InMemory::new());
    let mut urls = Vec::new();
    let mut running = Vec::new();
    for _ in 0..3 {
        let flags = Settings {
            bind: Some("127.0.0.1:0".into()),
            storage: Some("memory://".into()),
            multi_process: Some(true),
            page_size: Some(PAGE),
            ..Default::default()
        };
        let cfg = merge(flags, Settings::default()).unwrap();
        // Each hub its own Storage (own caches) on the one store.
        let storage = Storage::from_store(shared.clone(), "memory://shared");
        let r = cairn_hub::server::start_with_storage(cfg, storage)
            .await
            .unwrap();
        urls.push(format!("http://{}", r.addr));
        running.push(r);
    }
    workload(urls).await;
    for r in running {
        r.task.abort();
    }
}

/// Azurite (npm `azurite`, installed by scripts/install.sh into hub/tests/azurite) on a
/// loopback port, in memory, no telemetry; killed on drop.
struct Azurite {
    child: std::process::Child,
    url: String,
}

impl Drop for Azurite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Azurite {
    fn start() -> Option<Azurite> {
        use std::io::{BufRead, BufReader};
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/azurite");
        let bin = dir.join("node_modules/.bin/azurite-blob");
        if !bin.exists() {
            if std::env::var_os("CAIRN_HUB_SKIP_AZURITE").is_some() {
                eprintln!("Azurite not installed; skipped (CAIRN_HUB_SKIP_AZURITE)");
                return None;
            }
            panic!(
                "{} is missing: run scripts/install.sh (or set CAIRN_HUB_SKIP_AZURITE=1)",
                bin.display()
            );
        }
        let mut child = std::process::Command::new(bin)
            .args([
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                "0",
                "--inMemoryPersistence",
                "--disableTelemetry",
                "--silent",
            ])
            .current_dir(&dir)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start azurite-blob");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.split("listens on ").nth(1) {
                    let _ = tx.send(url.trim().to_string());
                }
            }
        });
        let url = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("azurite did not start");
        let port = url.rsplit(':').next().unwrap().to_string();
        let ok = std::process::Command::new("node")
            .arg(dir.join("create-container.js"))
            .args([port.as_str(), "hubtest"])
            .status()
            .expect("node");
        assert!(ok.success(), "cannot create the Azurite container");
        Some(Azurite { child, url })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_processes_on_azurite() {
    let Some(az) = Azurite::start() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("hub.toml");
    std::fs::write(
        &cfg,
        "storage = \"az://hubtest\"\nmulti_process = true\n\
         [storage_options]\nazure_storage_use_emulator = \"true\"\n",
    )
    .unwrap();
    let cfg = cfg.to_str().unwrap().to_string();
    let hubs: Vec<HubProc> = (0..3)
        .map(|_| {
            HubProc::spawn_with_env(
                &["--config", &cfg, PAGE_FLAG[0], PAGE_FLAG[1]],
                &[("AZURITE_BLOB_STORAGE_URL", az.url.as_str())],
            )
        })
        .collect();
    workload(hubs.iter().map(|h| h.url.clone()).collect()).await;
}

/// moto (PyPI `moto[server]` 5.2.5, an S3-compatible server with conditional writes:
/// `If-None-Match: *` and `If-Match` on PutObject), installed by scripts/install.sh into
/// `crates/hub/tests/s3/.venv`, on a loopback port, in memory; killed on drop.
pub(crate) struct Moto {
    child: std::process::Child,
    url: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    fn start() -> Option<Moto> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/s3");
        let bin = dir.join(".venv/bin/moto_server");
        if !bin.exists() {
            if std::env::var_os("CAIRN_HUB_SKIP_S3").is_some() {
                eprintln!("moto not installed; skipped (CAIRN_HUB_SKIP_S3)");
                return None;
            }
            panic!(
                "{} is missing: run scripts/install.sh (or set CAIRN_HUB_SKIP_S3=1)",
                bin.display()
            );
        }
        // A free loopback port (moto cannot report one it picked itself).
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = std::process::Command::new(bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .current_dir(&dir)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start moto_server");
        let moto = Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        // Up when it answers; then create the bucket (moto takes unsigned requests).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "moto did not start");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        Some(moto)
    }

    async fn create_bucket(&self, bucket: &str) {
        let r = client()
            .put(format!("{}/{bucket}", self.url))
            .send()
            .await
            .expect("moto answers");
        assert!(r.status().is_success(), "create bucket: {}", r.status());
    }
}

/// Three hub processes on S3 (moto on loopback), after checking that multi_process
/// refuses the store when conditional puts are turned off.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_processes_on_s3() {
    let Some(moto) = Moto::start() else {
        return;
    };
    let bucket = "hubtest";
    moto.create_bucket(bucket).await;
    let endpoint = moto.url.clone();
    let tmp = tempfile::tempdir().unwrap();
    let prefix = format!("run{}", std::process::id());
    let write_cfg = |name: &str, conditional: &str| {
        let p = tmp.path().join(name);
        std::fs::write(
            &p,
            format!(
                "storage = \"s3://{bucket}/{prefix}\"\nmulti_process = true\n\
                 [storage_options]\naws_endpoint = \"{endpoint}\"\naws_allow_http = \"true\"\n\
                 aws_access_key_id = \"test\"\naws_secret_access_key = \"test\"\n\
                 aws_region = \"us-east-1\"\naws_conditional_put = \"{conditional}\"\n"
            ),
        )
        .unwrap();
        p.to_str().unwrap().to_string()
    };
    // With conditional puts turned off, multi_process refuses to start and says why.
    let off = write_cfg("off.toml", "disabled");
    let out = std::process::Command::new(common::hub_bin())
        .args(["--bind", "127.0.0.1:0", "--config", &off])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("multi_process") && err.contains("aws_conditional_put"),
        "{err}"
    );

    let on = write_cfg("on.toml", "etag");
    let hubs: Vec<HubProc> = (0..3)
        .map(|_| HubProc::spawn_with_env(&["--config", &on, PAGE_FLAG[0], PAGE_FLAG[1]], &[]))
        .collect();
    workload(hubs.iter().map(|h| h.url.clone()).collect()).await;
}
