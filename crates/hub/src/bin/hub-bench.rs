//! Benchmark (not a test): starts a hub on an ephemeral port with a temporary storage
//! directory, runs N concurrent clients (default 64) doing writes for a fixed time,
//! then reads for a fixed time, and prints writes/s and reads/s.
//!
//! `cargo run --release -p cairn-hub --bin hub-bench -- [--clients 64] [--seconds 10] [--size 1024] [--fsync 0] [--hubs 3]`
//!
//! `--hubs N` (N > 1) runs N `cairn-hub` processes (the binary next to this one) with
//! `--multi-process` on the one storage directory, and the clients go round-robin
//! through them. Latency percentiles (p50/p99) are printed per phase.
//!
//! `--replicated 1` stores on a `[[storage]]` list of two local directories (the
//! primary required, the second optional, written in the background); `--replicated 2`
//! makes both required (every write waits for both).
//!
//! `--fsync 0` turns off the durable-write fsyncs (to measure what they cost). Before the
//! phases it times the per-request revocation-timestamp read (absent and present).

use cairn_core::keys::PrivateKey;
use cairn_core::protocol::gaia::{V1TokenOptions, challenge_text, make_v1_token};
use cairn_hub::config::{self, Settings};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn arg(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn phase(
    name: &str,
    clients: u64,
    seconds: u64,
    make: impl Fn(u64, u64) -> reqwest::RequestBuilder + Send + Sync + 'static,
) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let latencies: Arc<std::sync::Mutex<Vec<u32>>> = Arc::default();
    let make = Arc::new(make);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (stop, ok, failed, make) = (stop.clone(), ok.clone(), failed.clone(), make.clone());
        let latencies = latencies.clone();
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            let mut mine = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let t0 = Instant::now();
                match make(c, n).send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        mine.push(u32::try_from(t0.elapsed().as_micros()).unwrap_or(u32::MAX));
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
                n += 1;
            }
            if let Ok(mut l) = latencies.lock() {
                l.extend(mine);
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let secs = start.elapsed().as_secs_f64();
    let n = ok.load(Ordering::Relaxed);
    let rate = n as f64 / secs;
    let mut l = latencies.lock().map(|l| l.clone()).unwrap_or_default();
    l.sort_unstable();
    let pct = |p: f64| {
        l.get(((l.len() as f64 * p) as usize).min(l.len().saturating_sub(1)))
            .map_or(0.0, |us| f64::from(*us) / 1000.0)
    };
    println!(
        "{name}: {n} ok, {} failed in {secs:.1} s = {rate:.0} {name}/s, p50 {:.2} ms, p99 {:.2} ms",
        failed.load(Ordering::Relaxed),
        pct(0.5),
        pct(0.99)
    );
    rate
}

/// Times the read every authenticated request makes of its bucket's revocation
/// timestamp (`<address>-auth/authTimestamp`), for a bucket never revoked and one revoked.
async fn revocation_read_cost(
    cfg: &config::Config,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let storage = cairn_hub::storage::Storage::open(cfg).await?;
    let key = "1BenchRevocation-auth/authTimestamp";
    const N: u32 = 2000;
    for present in [false, true] {
        if present {
            storage
                .put_small(key, b"1700000000", "text/plain; charset=UTF-8")
                .await?;
        }
        let start = Instant::now();
        for _ in 0..N {
            storage.read(key).await?;
        }
        let us = start.elapsed().as_secs_f64() * 1e6 / f64::from(N);
        println!(
            "revocation timestamp read ({}): {us:.1} µs",
            if present {
                "revoked bucket"
            } else {
                "never revoked"
            }
        );
    }
    storage.delete(key).await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let args: Vec<String> = std::env::args().collect();
    let clients = arg(&args, "--clients", 64);
    let seconds = arg(&args, "--seconds", 10);
    let size = arg(&args, "--size", 1024) as usize;
    let fsync = arg(&args, "--fsync", 1) != 0;
    let hubs = arg(&args, "--hubs", 1).max(1);
    let replicated = arg(&args, "--replicated", 0);

    let dir = std::env::temp_dir().join(format!("cairn-hub-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    // The config file the hub processes (and the in-process hub) read.
    let toml_path = dir.with_extension("toml");
    let storage_toml = if replicated == 0 {
        format!("storage = {:?}\n", dir.join("a").display().to_string())
    } else {
        format!(
            "[[storage]]\nname = \"a\"\nurl = {:?}\nrequired = true\n\
             [[storage]]\nname = \"b\"\nurl = {:?}\nrequired = {}\n",
            dir.join("a").display().to_string(),
            dir.join("b").display().to_string(),
            replicated > 1
        )
    };
    std::fs::write(&toml_path, &storage_toml)?;
    let flags = Settings {
        bind: Some("127.0.0.1:0".into()),
        log: Some("warn".into()),
        fsync: Some(fsync),
        ..Default::default()
    };
    let cfg = config::merge(flags, config::parse_toml(&storage_toml)?)?;
    revocation_read_cost(&cfg).await?;
    let mut _running = None;
    let mut children = Vec::new();
    let urls: Vec<String> = if hubs == 1 {
        let running = cairn_hub::server::start(cfg.clone()).await?;
        let url = format!("http://{}", running.addr);
        _running = Some(running);
        vec![url]
    } else {
        let bin = std::env::current_exe()?.with_file_name("cairn-hub");
        let mut urls = Vec::new();
        for _ in 0..hubs {
            let mut child = std::process::Command::new(&bin)
                .args(["--bind", "127.0.0.1:0", "--multi-process", "--log", "warn"])
                .args(["--fsync", if fsync { "true" } else { "false" }])
                .arg("--config")
                .arg(&toml_path)
                .stdout(std::process::Stdio::piped())
                .spawn()
                .map_err(|e| format!("{}: {e}", bin.display()))?;
            let mut line = String::new();
            std::io::BufRead::read_line(
                &mut std::io::BufReader::new(child.stdout.take().ok_or("no stdout")?),
                &mut line,
            )?;
            let url = line
                .trim()
                .strip_prefix("cairn-hub listening on ")
                .ok_or("cairn-hub did not start")?
                .to_string();
            urls.push(url);
            children.push(child);
        }
        urls
    };
    let url = urls[0].clone();
    println!(
        "{hubs} hub(s) at {}, storage {}, {clients} clients, {seconds} s per phase, {size}-byte files",
        urls.join(" "),
        dir.display()
    );
    let urls = Arc::new(urls);

    let key = PrivateKey::random()?;
    let address = key.public_key().address();
    let token = format!(
        "bearer {}",
        make_v1_token(
            &key,
            &challenge_text("localhost"),
            &V1TokenOptions::default()
        )
    );
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients as usize)
        .build()?;
    let body = bytes::Bytes::from(vec![b'x'; size]);
    const FILES_PER_CLIENT: u64 = 50;

    let _ = url;
    let (c, a, t, us) = (client.clone(), address.clone(), token.clone(), urls.clone());
    let writes = phase("writes", clients, seconds, move |cl, n| {
        let u = &us[((cl + n) % us.len() as u64) as usize];
        c.post(format!("{u}/store/{a}/c{cl}/f{}", n % FILES_PER_CLIENT))
            .header("Authorization", &t)
            .header("Content-Type", "application/octet-stream")
            .body(body.clone())
    })
    .await;

    let (c, a, us) = (client.clone(), address.clone(), urls.clone());
    let reads = phase("reads", clients, seconds, move |cl, n| {
        let u = &us[((cl + n) % us.len() as u64) as usize];
        c.get(format!("{u}/read/{a}/c{cl}/f{}", n % FILES_PER_CLIENT))
    })
    .await;

    println!(
        "RESULT hubs={hubs} replicated={replicated} clients={clients} size={size} fsync={fsync} writes/s={writes:.0} reads/s={reads:.0}"
    );
    for mut c in children {
        let _ = c.kill();
        let _ = c.wait();
    }
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_file(&toml_path);
    Ok(())
}
