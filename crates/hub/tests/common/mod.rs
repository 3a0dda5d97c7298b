//! Helpers shared by the integration tests: spawn the built `cairn-hub` binary on an
//! ephemeral port with a temporary storage directory, make tokens, talk HTTP.
#![allow(dead_code)]

use cairn_core::keys::PrivateKey;
use cairn_core::protocol::gaia::{V1TokenOptions, challenge_text, make_v1_token};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub(crate) const SERVER_NAME: &str = "localhost";

/// A running hub process; killed on drop.
pub(crate) struct HubProc {
    pub child: Child,
    pub url: String,
    pub dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
}

pub(crate) fn hub_bin() -> &'static str {
    env!("CARGO_BIN_EXE_cairn-hub")
}

impl HubProc {
    /// Spawns a hub on a fresh temp dir.
    pub(crate) fn spawn(extra: &[&str]) -> HubProc {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("data");
        let mut h = HubProc::spawn_in(&dir, extra);
        h._tmp = Some(tmp);
        h
    }

    /// Spawns a hub storing into `dir` (kept after the hub stops).
    pub(crate) fn spawn_in(dir: &Path, extra: &[&str]) -> HubProc {
        let mut args = vec!["--storage", dir.to_str().expect("utf-8 path")];
        args.extend_from_slice(extra);
        let mut h = HubProc::spawn_with_env(&args, &[]);
        h.dir = dir.to_path_buf();
        h
    }

    /// Spawns a hub with these arguments (after `--bind 127.0.0.1:0`) and environment.
    pub(crate) fn spawn_with_env(args: &[&str], env: &[(&str, &str)]) -> HubProc {
        let mut cmd = Command::new(hub_bin());
        cmd.arg("--bind")
            .arg("127.0.0.1:0")
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped());
        if std::env::var_os("CAIRN_HUB_TEST_LOG").is_some() {
            cmd.stderr(Stdio::inherit());
        } else {
            cmd.stderr(Stdio::null());
        }
        let mut child = cmd.spawn().expect("spawn cairn-hub");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            loop {
                line.clear();
                match reader.read_line(&mut line) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {
                        if let Some(url) = line.trim().strip_prefix("cairn-hub listening on ") {
                            let _ = tx.send(url.to_string());
                        }
                    }
                }
            }
        });
        let url = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(u) => u,
            Err(_) => {
                let _ = child.kill();
                panic!("cairn-hub did not start");
            }
        };
        HubProc {
            child,
            url,
            dir: PathBuf::new(),
            _tmp: None,
        }
    }

    /// SIGKILL (no chance to clean up).
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub(crate) fn read_prefix(&self) -> String {
        format!("{}/read/", self.url)
    }
}

impl Drop for HubProc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A fresh app key with its bucket address.
pub(crate) struct App {
    pub key: PrivateKey,
    pub address: String,
}

impl App {
    pub(crate) fn new() -> App {
        let key = PrivateKey::random().expect("rng");
        let address = key.public_key().address();
        App { key, address }
    }

    pub(crate) fn token_with(&self, opts: V1TokenOptions) -> String {
        format!(
            "bearer {}",
            make_v1_token(&self.key, &challenge_text(SERVER_NAME), &opts)
        )
    }

    pub(crate) fn token(&self) -> String {
        self.token_with(V1TokenOptions::default())
    }
}

pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .expect("client")
}

pub(crate) fn md5_hex(data: &[u8]) -> String {
    cairn_hub::storage::md5_hex(data)
}

pub(crate) fn now_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}
