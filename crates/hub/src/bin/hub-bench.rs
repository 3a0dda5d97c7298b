//! Benchmark (not a test): starts a hub on an ephemeral port with a temporary storage
//! directory, runs N concurrent clients (default 64) doing writes for a fixed time,
//! then reads for a fixed time, and prints writes/s and reads/s.
//!
//! `cargo run --release -p cairn-hub --bin hub-bench -- [--clients 64] [--seconds 10] [--size 1024] [--fsync 0]`
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
    let make = Arc::new(make);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (stop, ok, failed, make) = (stop.clone(), ok.clone(), failed.clone(), make.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                match make(c, n).send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
                n += 1;
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
    println!(
        "{name}: {n} ok, {} failed in {secs:.1} s = {rate:.0} {name}/s",
        failed.load(Ordering::Relaxed)
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

    let dir = std::env::temp_dir().join(format!("cairn-hub-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let flags = Settings {
        bind: Some("127.0.0.1:0".into()),
        storage: Some(dir.display().to_string()),
        log: Some("warn".into()),
        fsync: Some(fsync),
        ..Default::default()
    };
    let cfg = config::merge(flags, Settings::default())?;
    revocation_read_cost(&cfg).await?;
    let running = cairn_hub::server::start(cfg).await?;
    let url = format!("http://{}", running.addr);
    let read_prefix = running.hub.read_url_prefix().to_string();
    println!(
        "hub at {url}, storage {}, {clients} clients, {seconds} s per phase, {size}-byte files",
        dir.display()
    );

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

    let (c, a, t, u) = (client.clone(), address.clone(), token.clone(), url.clone());
    let writes = phase("writes", clients, seconds, move |cl, n| {
        c.post(format!("{u}/store/{a}/c{cl}/f{}", n % FILES_PER_CLIENT))
            .header("Authorization", &t)
            .header("Content-Type", "application/octet-stream")
            .body(body.clone())
    })
    .await;

    let (c, a) = (client.clone(), address.clone());
    let reads = phase("reads", clients, seconds, move |cl, n| {
        c.get(format!("{read_prefix}{a}/c{cl}/f{}", n % FILES_PER_CLIENT))
    })
    .await;

    println!(
        "RESULT clients={clients} size={size} fsync={fsync} writes/s={writes:.0} reads/s={reads:.0}"
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
