//! Replication across stores: a hub on a `[[storage]]` list of two backends, Azure Blob
//! through Azurite (optional, listed first, so reads try it first) and a local directory
//! (required, the primary). Azurite is stopped while clients write and read, then
//! restarted on the same port and data. Checked: every write acknowledged while Azurite
//! is down; a read after a write through the same hub sees that write; no reader ever
//! sees a file's version go backwards; the repair queue drains and afterwards every
//! object on disk is on Azurite byte for byte (and nothing else is); `/metrics` shows the
//! queue and the backend errors.

#![allow(clippy::unwrap_used)] // a test that unwraps fails, which is what it should do

mod common;

use common::{App, HubProc, client};
use object_store::{ObjectStore, ObjectStoreExt};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const FILES: usize = 6;
const READERS: usize = 4;

/// Azurite's blob service on a fixed loopback port, data kept in `dir` (so a restart
/// keeps it); killed on drop.
struct Azurite {
    child: std::process::Child,
}

impl Drop for Azurite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn azurite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/azurite")
}

impl Azurite {
    /// Stops it the way a service is stopped (SIGTERM: Azurite saves its metadata), and
    /// waits for it to exit.
    fn stop(mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn start(port: u16, data: &Path) -> Option<Azurite> {
        let bin = azurite_dir().join("node_modules/.bin/azurite-blob");
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
        let child = std::process::Command::new(bin)
            .args([
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                &port.to_string(),
                "--location",
                data.to_str().unwrap(),
                "--disableTelemetry",
                "--silent",
            ])
            .current_dir(azurite_dir())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start azurite-blob");
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "azurite did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(Azurite { child })
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port()
}

/// Every object of a store (outside the hub's `.cairn-*` housekeeping) with its bytes.
async fn contents(store: &dyn ObjectStore) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut list = store.list(None);
    use futures::StreamExt;
    while let Some(m) = list.next().await {
        let m = m.unwrap();
        let name = m.location.to_string();
        if name.starts_with(".cairn-") {
            continue;
        }
        let bytes = store.get(&m.location).await.unwrap().bytes().await.unwrap();
        out.insert(name, bytes.to_vec());
    }
    out
}

async fn metric(c: &reqwest::Client, hub: &HubProc, name: &str, backend: &str) -> f64 {
    let text = c
        .get(format!("{}/metrics", hub.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find(|l| l.starts_with(&format!("{name}{{backend=\"{backend}\"")))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{name} for {backend} not in /metrics:\n{text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn optional_backend_down_then_repaired() {
    let tmp = tempfile::tempdir().unwrap();
    let az_data = tmp.path().join("azurite");
    std::fs::create_dir_all(&az_data).unwrap();
    let port = free_port();
    let Some(az) = Azurite::start(port, &az_data) else {
        return;
    };
    let ok = std::process::Command::new("node")
        .arg(azurite_dir().join("create-container.js"))
        .args([port.to_string().as_str(), "hubtest"])
        .status()
        .expect("node");
    assert!(ok.success(), "cannot create the Azurite container");
    let az_url = format!("http://127.0.0.1:{port}");

    let disk = tmp.path().join("disk");
    let cfg = tmp.path().join("hub.toml");
    std::fs::write(
        &cfg,
        format!(
            "fsync = false\n\
             [[storage]]\nname = \"azure\"\nurl = \"az://hubtest\"\n\
             [storage.options]\nazure_storage_use_emulator = \"true\"\n\
             [[storage]]\nname = \"disk\"\nurl = \"{}\"\nrequired = true\n",
            disk.display()
        ),
    )
    .unwrap();
    let hub = HubProc::spawn_with_env(
        &["--config", cfg.to_str().unwrap()],
        &[("AZURITE_BLOB_STORAGE_URL", az_url.as_str())],
    );
    let app = Arc::new(App::new());
    let c = client();

    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(AtomicUsize::new(0));
    let reads = Arc::new(AtomicUsize::new(0));
    // The newest version acknowledged per file.
    let newest: Arc<Mutex<Vec<u64>>> = Arc::new(Mutex::new(vec![0; FILES]));
    let mut tasks = Vec::new();
    // One sequential writer per file: version k+1 after k; reads its own write back.
    for f in 0..FILES {
        let (stop, acked, newest, app, url) = (
            stop.clone(),
            acked.clone(),
            newest.clone(),
            app.clone(),
            hub.url.clone(),
        );
        let read = hub.read_prefix();
        tasks.push(tokio::spawn(async move {
            let c = client();
            let t = app.token();
            let mut k = 0u64;
            while !stop.load(Ordering::Relaxed) && k < 400 {
                k += 1;
                let r = c
                    .post(format!("{url}/store/{}/r/f{f}", app.address))
                    .header("Authorization", &t)
                    .body(format!("{k}"))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status().as_u16(), 202, "write {k} of f{f}");
                newest.lock().unwrap()[f] = k;
                acked.fetch_add(1, Ordering::Relaxed);
                let got = c
                    .get(format!("{read}{}/r/f{f}", app.address))
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap();
                assert_eq!(got, k.to_string(), "f{f}: a read after a write missed it");
            }
        }));
    }
    // Readers: a file's version never goes backwards for one reader.
    for r in 0..READERS {
        let (stop, reads, app) = (stop.clone(), reads.clone(), app.clone());
        let read = hub.read_prefix();
        tasks.push(tokio::spawn(async move {
            let c = client();
            let mut seen = [0u64; FILES];
            let mut i = r;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let f = i % FILES;
                let resp = c
                    .get(format!("{read}{}/r/f{f}", app.address))
                    .send()
                    .await
                    .unwrap();
                if resp.status().as_u16() == 404 {
                    assert_eq!(seen[f], 0, "f{f} vanished after version {}", seen[f]);
                    continue;
                }
                assert_eq!(resp.status().as_u16(), 200);
                let k: u64 = resp.text().await.unwrap().parse().unwrap();
                assert!(
                    k >= seen[f],
                    "f{f}: read version {k} after version {}",
                    seen[f]
                );
                seen[f] = k;
                reads.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }

    // Azurite up, then down (writes and reads go on), then back on the same data.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before_down = acked.load(Ordering::Relaxed);
    tokio::task::spawn_blocking(move || az.stop())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let while_down = acked.load(Ordering::Relaxed) - before_down;
    let queued = metric(&c, &hub, "cairn_hub_repair_queue_length", "azure").await;
    let errors = metric(&c, &hub, "cairn_hub_replica_errors_total", "azure").await;
    let az = Azurite::start(port, &az_data).unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    eprintln!(
        "replication: {} writes acknowledged ({while_down} with Azurite down), {} reads; \
         repair queue {queued} and {errors} Azure errors while down",
        acked.load(Ordering::Relaxed),
        reads.load(Ordering::Relaxed)
    );
    assert!(
        while_down > 0,
        "no write was acknowledged while Azurite was down"
    );
    assert!(queued > 0.0, "nothing was queued for the missing backend");
    assert!(errors > 0.0, "the backend errors are not counted");

    // The repair queue drains.
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let q = metric(&c, &hub, "cairn_hub_repair_queue_length", "azure").await;
        if q == 0.0 {
            break;
        }
        assert!(Instant::now() < deadline, "repair queue stuck at {q}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(metric(&c, &hub, "cairn_hub_repairs_total", "azure").await > 0.0);

    // Every object identical on both backends.
    let local = object_store::local::LocalFileSystem::new_with_prefix(&disk).unwrap();
    // Azurite's well-known development account, path-style on its port.
    let azure = object_store::azure::MicrosoftAzureBuilder::new()
        .with_account("devstoreaccount1")
        .with_access_key(
            "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
        )
        .with_endpoint(format!("{az_url}/devstoreaccount1"))
        .with_allow_http(true)
        .with_container_name("hubtest")
        .build()
        .unwrap();
    let on_disk = contents(&local).await;
    let on_azure = contents(&azure).await;
    assert!(on_disk.len() >= FILES, "{:?}", on_disk.keys());
    for (name, bytes) in &on_disk {
        assert_eq!(
            on_azure.get(name),
            Some(bytes),
            "{name} differs on Azurite after the repair"
        );
    }
    assert_eq!(
        on_azure.keys().collect::<Vec<_>>(),
        on_disk.keys().collect::<Vec<_>>()
    );
    // And the files hold the last acknowledged versions.
    let newest = newest.lock().unwrap().clone();
    for (f, k) in newest.iter().enumerate() {
        let got = c
            .get(format!("{}{}/r/f{f}", hub.read_prefix(), app.address))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(got, k.to_string());
    }
    drop(az);
}
