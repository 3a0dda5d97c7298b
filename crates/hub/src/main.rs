//! `cairn-hub`: a Gaia-compatible storage hub. See `hub/README.md`.

use cairn_hub::config::{self, Settings};
use clap::Parser;
use std::io::Write;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

fn init_logging(filter: Option<&str>) {
    let filter = match filter {
        Some(f) => EnvFilter::try_new(f).unwrap_or_else(|e| {
            eprintln!("cairn-hub: invalid --log filter `{f}` ({e}); using `info`");
            EnvFilter::new("info")
        }),
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

fn main() -> ExitCode {
    let flags = Settings::parse();
    let config = match config::load(flags) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cairn-hub: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(config.log.as_deref());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cairn-hub: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let running = match cairn_hub::server::start(config).await {
            Ok(r) => r,
            Err(e) => {
                eprintln!("cairn-hub: startup error: {e}");
                return ExitCode::from(2);
            }
        };
        tracing::info!(
            storage = %running.hub_storage(),
            atomicity = %running.hub.storage_atomicity(),
            read_url_prefix = %running.hub.read_url_prefix(),
            "started"
        );
        let mut out = std::io::stdout();
        let _ = writeln!(out, "cairn-hub listening on http://{}", running.addr);
        let _ = out.flush();
        match running.task.await {
            Ok(Ok(())) => ExitCode::SUCCESS,
            Ok(Err(e)) => {
                eprintln!("cairn-hub: server error: {e}");
                ExitCode::FAILURE
            }
            Err(e) => {
                eprintln!("cairn-hub: server task failed: {e}");
                ExitCode::FAILURE
            }
        }
    })
}
