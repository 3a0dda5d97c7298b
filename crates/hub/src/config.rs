//! Configuration: command-line flags over an optional TOML file over defaults.
//!
//! [`Settings`] is what both sources can say (every field optional); [`Config`] is the
//! validated result. Merging and validation are pure; only [`load`] reads the file.

use crate::listing::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use crate::paths::is_valid_address;
use clap::Parser;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Default bind address.
pub const DEFAULT_BIND: &str = "127.0.0.1:4000";
/// Default storage location (a folder relative to the working directory).
pub const DEFAULT_STORAGE: &str = "data";
/// Default server name (goes into the challenge text, so keep it stable).
pub const DEFAULT_SERVER_NAME: &str = "localhost";
/// Default upload limit in MiB.
pub const DEFAULT_MAX_UPLOAD_MB: u64 = 20;
/// Default cap on open client connections.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;
/// Default time (seconds) a client has to send a request's headers; also how long an
/// idle keep-alive connection is kept.
pub const DEFAULT_HEADER_TIMEOUT_S: f64 = 30.0;
/// Default longest pause (seconds) between two pieces of a request body.
pub const DEFAULT_BODY_TIMEOUT_S: f64 = 30.0;
/// Longest timeout accepted for the two settings above (one hour).
pub const MAX_TIMEOUT_S: f64 = 3600.0;

/// Settings from either the command line or the TOML file.
#[derive(Debug, Clone, Default, Deserialize, Parser)]
#[serde(deny_unknown_fields)]
#[command(
    name = "cairn-hub",
    version,
    about = "A Gaia-compatible storage hub",
    long_about = "A Gaia-compatible storage hub. Flags override values from --config."
)]
pub struct Settings {
    /// TOML configuration file (flags override its values).
    #[arg(long, value_name = "FILE")]
    #[serde(skip)]
    pub config: Option<PathBuf>,

    /// Address to listen on [default: 127.0.0.1:4000]; port 0 picks a free port.
    #[arg(long, value_name = "HOST:PORT")]
    pub bind: Option<String>,

    /// Storage: a directory path, file://, s3://, az:// (azure://), gs:// or memory:// URL
    /// [default: data].
    #[arg(long, value_name = "PATH|URL")]
    #[serde(skip)]
    pub storage: Option<String>,

    /// The TOML `storage` key: one location, or a `[[storage]]` list of backends.
    #[arg(skip)]
    #[serde(rename = "storage", default)]
    pub storage_file: Option<StorageSetting>,

    /// Server name used in the challenge text [default: localhost].
    #[arg(long, value_name = "NAME")]
    pub server_name: Option<String>,

    /// Public read URL prefix announced in hub_info [default: http://<bind>/read/].
    #[arg(long, value_name = "URL")]
    pub read_url: Option<String>,

    /// Maximum upload size in MiB [default: 20].
    #[arg(long, value_name = "MB")]
    pub max_upload_mb: Option<u64>,

    /// list-files page size, 1..=4096 [default: 100].
    #[arg(long, value_name = "N")]
    pub page_size: Option<usize>,

    /// Signing address allowed to write (repeatable); no whitelist means an open hub.
    #[arg(long = "whitelist", value_name = "ADDRESS")]
    #[serde(default)]
    pub whitelist: Option<Vec<String>>,

    /// Require tokens to claim this hub's URL (`hubUrl`).
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub require_correct_hub_url: Option<bool>,

    /// Accepted `hubUrl` value besides https://<server-name> (repeatable).
    #[arg(long = "valid-hub-url", value_name = "URL")]
    pub valid_hub_urls: Option<Vec<String>>,

    /// Log filter (e.g. info, debug, cairn_hub=debug); RUST_LOG is used when absent.
    #[arg(long, value_name = "FILTER")]
    pub log: Option<String>,

    /// Most client connections open at once; more are answered 503 and closed
    /// [default: 512].
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,

    /// Seconds a client has to send a request's headers (also the keep-alive idle time)
    /// [default: 30].
    #[arg(long, value_name = "SECONDS")]
    pub header_timeout: Option<f64>,

    /// Longest pause in seconds between two pieces of a request body [default: 30].
    #[arg(long, value_name = "SECONDS")]
    pub body_timeout: Option<f64>,

    /// fsync files and directories before a write is acknowledged (local storage only)
    /// [default: true].
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub fsync: Option<bool>,

    /// Several hub processes share this storage: refuse to start unless the storage can
    /// make conditional writes atomic across processes [default: false].
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub multi_process: Option<bool>,

    /// Seconds a bucket listing read for a list-files session is reused for its later
    /// pages (writes through this process drop it at once), 0..=60 [default: 2].
    #[arg(long, value_name = "SECONDS")]
    pub listing_cache_ttl: Option<f64>,

    /// Per-bucket storage quota in MiB; a write that would go over it is refused with
    /// 507 [default: none].
    #[arg(long, value_name = "MB")]
    pub quota_mb: Option<u64>,

    /// Writes (stores and deletes) per second allowed per bucket, per hub process; more
    /// are refused with 429 and Retry-After [default: unlimited].
    #[arg(long, value_name = "PER_SECOND")]
    pub write_rate: Option<f64>,

    /// Writes a bucket may make at once before `write_rate` applies [default: 10, at
    /// least 1].
    #[arg(long, value_name = "N")]
    pub write_burst: Option<u64>,

    /// Who may read GET /metrics: `loopback` (clients on 127.0.0.1/::1 only), `any`,
    /// or `off` [default: loopback].
    #[arg(long, value_name = "loopback|any|off")]
    pub metrics: Option<String>,

    /// Extra object_store options for cloud storage URLs (TOML only), e.g.
    /// `aws_region = "eu-west-1"`.
    #[arg(skip)]
    #[serde(default)]
    pub storage_options: BTreeMap<String, String>,
}

/// The TOML `storage` key.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum StorageSetting {
    /// `storage = "PATH|URL"`.
    One(String),
    /// `[[storage]]` tables: a replicated storage.
    Many(Vec<BackendSetting>),
}

/// One `[[storage]]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendSetting {
    /// Its location (as `storage`).
    pub url: String,
    /// Whether a write must reach it before it is acknowledged [default: false].
    #[serde(default)]
    pub required: bool,
    /// Its name in logs, metrics and the repair journal [default: `backend<N>`, from 1];
    /// keep it stable (journal entries name it).
    #[serde(default)]
    pub name: Option<String>,
    /// `object_store` options for this backend (as `[storage_options]`).
    #[serde(default)]
    pub options: BTreeMap<String, String>,
}

/// One backend of a replicated storage, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendConfig {
    /// Its name.
    pub name: String,
    /// Where it is.
    pub location: StorageLocation,
    /// Its `object_store` options.
    pub options: BTreeMap<String, String>,
    /// Whether writes must reach it.
    pub required: bool,
}

/// Where files are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StorageLocation {
    /// A local directory.
    Local(PathBuf),
    /// In memory (tests, benchmarks); lost on exit.
    Memory,
    /// A cloud URL for `object_store::parse_url_opts`.
    Cloud(url::Url),
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to bind.
    pub bind: SocketAddr,
    /// Storage location (with `[[storage]]`: the primary backend's).
    pub storage: StorageLocation,
    /// The `[[storage]]` backends, in the listed order; empty for one storage.
    pub replicas: Vec<BackendConfig>,
    /// Options for cloud storage.
    pub storage_options: BTreeMap<String, String>,
    /// Server name for the challenge.
    pub server_name: String,
    /// Read URL prefix, ending in `/`; `None` means `http://<bound address>/read/`.
    pub read_url: Option<String>,
    /// Upload limit in MiB.
    pub max_upload_mb: u64,
    /// Page size for list-files.
    pub page_size: usize,
    /// Whitelisted signing addresses.
    pub whitelist: Option<Vec<String>>,
    /// Enforce `hubUrl`.
    pub require_correct_hub_url: bool,
    /// Extra accepted hub URLs.
    pub valid_hub_urls: Vec<String>,
    /// Log filter, if given.
    pub log: Option<String>,
    /// Most client connections open at once.
    pub max_connections: usize,
    /// Time allowed for a request's headers (and an idle keep-alive connection).
    pub header_timeout: Duration,
    /// Longest pause between two pieces of a request body.
    pub body_timeout: Duration,
    /// Make local writes durable (fsync) before acknowledging them.
    pub fsync: bool,
    /// Several hub processes share the storage.
    pub multi_process: bool,
    /// How long a listing is reused for the later pages of a list-files session.
    pub listing_cache_ttl: Duration,
    /// Per-bucket quota in bytes.
    pub quota_bytes: Option<u64>,
    /// Writes per second per bucket, with the burst allowed.
    pub write_rate: Option<(f64, u64)>,
    /// Who may read `/metrics`.
    pub metrics: MetricsAccess,
}

/// Who may read `GET /metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetricsAccess {
    /// Clients connecting from a loopback address only.
    Loopback,
    /// Anyone.
    Any,
    /// Nobody (404).
    Off,
}

impl Config {
    /// The upload limit in bytes.
    pub fn max_upload_bytes(&self) -> u64 {
        self.max_upload_mb.saturating_mul(1024 * 1024)
    }
}

/// A configuration problem, reported at startup.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// The TOML file could not be read.
    Read(String),
    /// The TOML file is not valid.
    Toml(String),
    /// A value is out of range or malformed.
    Invalid {
        /// The setting's name.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Read(e) => write!(f, "cannot read the configuration file: {e}"),
            ConfigError::Toml(e) => write!(f, "invalid configuration file: {e}"),
            ConfigError::Invalid { field, reason } => write!(f, "invalid `{field}`: {reason}"),
        }
    }
}

impl std::error::Error for ConfigError {}

fn invalid(field: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field,
        reason: reason.into(),
    }
}

/// Parses TOML text into [`Settings`].
pub fn parse_toml(text: &str) -> Result<Settings, ConfigError> {
    toml::from_str(text).map_err(|e| ConfigError::Toml(e.to_string()))
}

/// Reads the file named by `--config` (if any) and merges it under the flags.
pub fn load(flags: Settings) -> Result<Config, ConfigError> {
    let file = match &flags.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| ConfigError::Read(format!("{}: {e}", path.display())))?;
            parse_toml(&text)?
        }
        None => Settings::default(),
    };
    merge(flags, file)
}

/// Parses a storage setting: a URL with a known scheme, or a local path.
pub fn parse_storage(s: &str) -> Result<StorageLocation, ConfigError> {
    if s.trim().is_empty() {
        return Err(invalid("storage", "empty"));
    }
    if !s.contains("://") {
        return Ok(StorageLocation::Local(PathBuf::from(s)));
    }
    let url = url::Url::parse(s).map_err(|e| invalid("storage", format!("{s}: {e}")))?;
    match url.scheme() {
        "file" => url
            .to_file_path()
            .map(StorageLocation::Local)
            .map_err(|_| invalid("storage", format!("{s}: not a local file URL"))),
        "memory" => Ok(StorageLocation::Memory),
        "s3" | "s3a" | "az" | "azure" | "abfs" | "abfss" | "adl" | "gs" | "https" => {
            if url.host_str().is_none_or(str::is_empty) {
                return Err(invalid(
                    "storage",
                    format!("{s}: missing bucket or container"),
                ));
            }
            Ok(StorageLocation::Cloud(url))
        }
        other => Err(invalid(
            "storage",
            format!(
                "{s}: unsupported scheme `{other}` (use a path, file://, s3://, az://, gs:// or memory://)"
            ),
        )),
    }
}

/// Merges flags over file settings over defaults and validates the result.
pub fn merge(flags: Settings, file: Settings) -> Result<Config, ConfigError> {
    let bind_s = flags
        .bind
        .or(file.bind)
        .unwrap_or_else(|| DEFAULT_BIND.to_string());
    let bind: SocketAddr = bind_s.parse().map_err(|_| {
        invalid(
            "bind",
            format!("`{bind_s}` is not HOST:PORT (e.g. 127.0.0.1:4000)"),
        )
    })?;

    let mut replicas = Vec::new();
    let storage_s = match (flags.storage, file.storage_file) {
        (Some(s), _) | (None, Some(StorageSetting::One(s))) => s,
        (None, None) => DEFAULT_STORAGE.to_string(),
        (None, Some(StorageSetting::Many(list))) => {
            if list.is_empty() {
                return Err(invalid("storage", "the [[storage]] list is empty"));
            }
            for (i, b) in list.into_iter().enumerate() {
                let name = b.name.unwrap_or_else(|| format!("backend{}", i + 1));
                if name.is_empty()
                    || name.len() > 64
                    || !name
                        .bytes()
                        .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
                {
                    return Err(invalid(
                        "storage",
                        format!("backend name `{name}`: use 1–64 of A–Z a–z 0–9 - _"),
                    ));
                }
                if replicas.iter().any(|r: &BackendConfig| r.name == name) {
                    return Err(invalid(
                        "storage",
                        format!("two backends are named `{name}`"),
                    ));
                }
                replicas.push(BackendConfig {
                    name,
                    location: parse_storage(&b.url)?,
                    options: b.options,
                    required: b.required,
                });
            }
            match replicas.iter().find(|r| r.required) {
                Some(p) => match &p.location {
                    StorageLocation::Local(d) => d.display().to_string(),
                    StorageLocation::Memory => "memory://".to_string(),
                    StorageLocation::Cloud(u) => u.to_string(),
                },
                None => {
                    return Err(invalid(
                        "storage",
                        "at least one [[storage]] backend needs required = true",
                    ));
                }
            }
        }
    };
    let storage = parse_storage(&storage_s)?;

    let server_name = flags
        .server_name
        .or(file.server_name)
        .unwrap_or_else(|| DEFAULT_SERVER_NAME.to_string());
    if server_name.is_empty() || server_name.chars().any(char::is_control) {
        return Err(invalid("server_name", "must be a non-empty name"));
    }

    let read_url = match flags.read_url.or(file.read_url) {
        None => None,
        Some(u) => {
            let parsed =
                url::Url::parse(&u).map_err(|e| invalid("read_url", format!("{u}: {e}")))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(invalid("read_url", format!("{u}: must be an http(s) URL")));
            }
            Some(if u.ends_with('/') { u } else { format!("{u}/") })
        }
    };

    let max_upload_mb = flags
        .max_upload_mb
        .or(file.max_upload_mb)
        .unwrap_or(DEFAULT_MAX_UPLOAD_MB);
    if max_upload_mb == 0 || max_upload_mb > 1024 * 1024 {
        return Err(invalid("max_upload_mb", "must be between 1 and 1048576"));
    }

    let page_size = flags
        .page_size
        .or(file.page_size)
        .unwrap_or(DEFAULT_PAGE_SIZE);
    if page_size == 0 || page_size > MAX_PAGE_SIZE {
        return Err(invalid(
            "page_size",
            format!("must be between 1 and {MAX_PAGE_SIZE}"),
        ));
    }

    let whitelist = flags.whitelist.or(file.whitelist);
    if let Some(list) = &whitelist
        && let Some(bad) = list.iter().find(|a| !is_valid_address(a))
    {
        return Err(invalid("whitelist", format!("`{bad}` is not an address")));
    }

    let valid_hub_urls: Vec<String> = flags
        .valid_hub_urls
        .or(file.valid_hub_urls)
        .unwrap_or_default()
        .into_iter()
        .map(|u| u.strip_suffix('/').map(str::to_string).unwrap_or(u))
        .collect();

    let max_connections = flags
        .max_connections
        .or(file.max_connections)
        .unwrap_or(DEFAULT_MAX_CONNECTIONS);
    if max_connections == 0 || max_connections > 1_000_000 {
        return Err(invalid("max_connections", "must be between 1 and 1000000"));
    }
    let header_timeout = timeout(
        "header_timeout",
        flags.header_timeout.or(file.header_timeout),
        DEFAULT_HEADER_TIMEOUT_S,
    )?;
    let body_timeout = timeout(
        "body_timeout",
        flags.body_timeout.or(file.body_timeout),
        DEFAULT_BODY_TIMEOUT_S,
    )?;

    let ttl = flags
        .listing_cache_ttl
        .or(file.listing_cache_ttl)
        .unwrap_or(2.0);
    if !(ttl.is_finite() && (0.0..=60.0).contains(&ttl)) {
        return Err(invalid(
            "listing_cache_ttl",
            "must be between 0 and 60 seconds",
        ));
    }

    let quota_bytes = match flags.quota_mb.or(file.quota_mb) {
        None => None,
        Some(0) => return Err(invalid("quota_mb", "must be at least 1")),
        Some(mb) => Some(mb.saturating_mul(1024 * 1024)),
    };
    let write_rate = match flags.write_rate.or(file.write_rate) {
        None => None,
        Some(r) if r.is_finite() && r > 0.0 && r <= 1e6 => {
            let burst = flags.write_burst.or(file.write_burst).unwrap_or(10).max(1);
            Some((r, burst))
        }
        Some(_) => {
            return Err(invalid(
                "write_rate",
                "must be a number of writes per second above 0 (at most 1000000)",
            ));
        }
    };
    let metrics = match flags.metrics.or(file.metrics).as_deref() {
        None | Some("loopback") => MetricsAccess::Loopback,
        Some("any") => MetricsAccess::Any,
        Some("off") => MetricsAccess::Off,
        Some(other) => {
            return Err(invalid(
                "metrics",
                format!("`{other}`: use loopback, any or off"),
            ));
        }
    };

    let mut storage_options = file.storage_options;
    storage_options.extend(flags.storage_options);

    Ok(Config {
        bind,
        storage,
        replicas,
        storage_options,
        server_name,
        read_url,
        max_upload_mb,
        page_size,
        whitelist,
        require_correct_hub_url: flags
            .require_correct_hub_url
            .or(file.require_correct_hub_url)
            .unwrap_or(false),
        valid_hub_urls,
        log: flags.log.or(file.log),
        max_connections,
        header_timeout,
        body_timeout,
        fsync: flags.fsync.or(file.fsync).unwrap_or(true),
        multi_process: flags.multi_process.or(file.multi_process).unwrap_or(false),
        listing_cache_ttl: Duration::from_secs_f64(ttl),
        quota_bytes,
        write_rate,
        metrics,
    })
}

/// A timeout setting in seconds (decimals allowed), checked to be positive and sane.
fn timeout(field: &'static str, value: Option<f64>, default: f64) -> Result<Duration, ConfigError> {
    let secs = value.unwrap_or(default);
    if !(secs.is_finite() && (0.001..=MAX_TIMEOUT_S).contains(&secs)) {
        return Err(invalid(
            field,
            format!("must be between 0.001 and {MAX_TIMEOUT_S} seconds"),
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(args: &[&str]) -> Settings {
        let mut v = vec!["cairn-hub"];
        v.extend_from_slice(args);
        Settings::try_parse_from(v).unwrap()
    }

    #[test]
    fn defaults() {
        let c = merge(Settings::default(), Settings::default()).unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:4000");
        assert_eq!(c.storage, StorageLocation::Local("data".into()));
        assert_eq!(c.server_name, "localhost");
        assert_eq!(c.max_upload_mb, 20);
        assert_eq!(c.max_upload_bytes(), 20 * 1024 * 1024);
        assert_eq!(c.page_size, 100);
        assert!(c.whitelist.is_none());
        assert!(!c.require_correct_hub_url);
        assert_eq!(c.max_connections, 512);
        assert_eq!(c.header_timeout, Duration::from_secs(30));
        assert_eq!(c.body_timeout, Duration::from_secs(30));
        assert!(c.fsync);
        assert!(!c.multi_process);
        assert_eq!(c.listing_cache_ttl, Duration::from_secs(2));
        assert_eq!(c.quota_bytes, None);
        assert_eq!(c.write_rate, None);
        assert_eq!(c.metrics, MetricsAccess::Loopback);
    }

    #[test]
    fn operator_controls() {
        let file = parse_toml(
            "multi_process = true\nlisting_cache_ttl = 0.5\nquota_mb = 3\nwrite_rate = 2.5\nmetrics = \"any\"",
        )
        .unwrap();
        let c = merge(Settings::default(), file).unwrap();
        assert!(c.multi_process);
        assert_eq!(c.listing_cache_ttl, Duration::from_millis(500));
        assert_eq!(c.quota_bytes, Some(3 * 1024 * 1024));
        assert_eq!(c.write_rate, Some((2.5, 10)));
        assert_eq!(c.metrics, MetricsAccess::Any);
        for (bad, field) in [
            (&["--quota-mb", "0"][..], "quota_mb"),
            (&["--write-rate", "0"], "write_rate"),
            (&["--metrics", "everyone"], "metrics"),
            (&["--listing-cache-ttl", "61"], "listing_cache_ttl"),
        ] {
            let e = merge(flags(bad), Settings::default()).unwrap_err();
            assert!(e.to_string().contains(field), "{e}");
        }
    }

    #[test]
    fn connection_limits() {
        let file = parse_toml(
            "max_connections = 8\nheader_timeout = 0.5\nbody_timeout = 2\nfsync = false",
        )
        .unwrap();
        let c = merge(flags(&["--body-timeout", "1.5"]), file).unwrap();
        assert_eq!(c.max_connections, 8);
        assert_eq!(c.header_timeout, Duration::from_millis(500));
        assert_eq!(c.body_timeout, Duration::from_millis(1500));
        assert!(!c.fsync);
        for bad in [
            &["--max-connections", "0"][..],
            &["--header-timeout", "0"],
            &["--body-timeout=-1"],
            &["--body-timeout", "NaN"],
            &["--header-timeout", "100000"],
        ] {
            let e = merge(flags(bad), Settings::default()).unwrap_err();
            let name = bad[0][2..].split('=').next().unwrap_or_default();
            assert!(e.to_string().contains(&name.replace('-', "_")), "{e}");
        }
    }

    #[test]
    fn flags_override_file() {
        let file = parse_toml(
            r#"
            bind = "0.0.0.0:5000"
            storage = "/srv/gaia"
            server_name = "hub.example"
            page_size = 7
            whitelist = ["1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"]
            require_correct_hub_url = true
            valid_hub_urls = ["https://hub.example/"]
            [storage_options]
            aws_region = "eu-west-1"
            "#,
        )
        .unwrap();
        let c = merge(
            flags(&["--page-size", "3", "--read-url", "http://x/r"]),
            file,
        )
        .unwrap();
        assert_eq!(c.bind.to_string(), "0.0.0.0:5000");
        assert_eq!(c.page_size, 3);
        assert_eq!(c.server_name, "hub.example");
        assert_eq!(c.read_url.as_deref(), Some("http://x/r/"));
        assert!(c.require_correct_hub_url);
        assert_eq!(c.valid_hub_urls, vec!["https://hub.example"]);
        assert_eq!(
            c.storage_options.get("aws_region").map(String::as_str),
            Some("eu-west-1")
        );
        assert_eq!(c.whitelist.unwrap().len(), 1);
    }

    #[test]
    fn bad_values_are_reported_clearly() {
        let e = merge(flags(&["--bind", "nonsense"]), Settings::default()).unwrap_err();
        assert!(e.to_string().contains("bind"), "{e}");
        let e = merge(flags(&["--page-size", "0"]), Settings::default()).unwrap_err();
        assert!(e.to_string().contains("page_size"));
        let e = merge(flags(&["--max-upload-mb", "0"]), Settings::default()).unwrap_err();
        assert!(e.to_string().contains("max_upload_mb"));
        let e = merge(flags(&["--storage", "ftp://x/y"]), Settings::default()).unwrap_err();
        assert!(e.to_string().contains("unsupported scheme"));
        let e = merge(
            flags(&["--whitelist", "not-an-address"]),
            Settings::default(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("whitelist"));
        let e = merge(flags(&["--read-url", "ftp://x"]), Settings::default()).unwrap_err();
        assert!(e.to_string().contains("read_url"));
        assert!(parse_toml("unknown_key = 1").is_err());
        assert!(parse_toml("page_size = \"x\"").is_err());
    }

    #[test]
    fn replicated_storage_list() {
        let cfg = |text: &str| parse_toml(text).and_then(|f| merge(Settings::default(), f));
        let c = cfg(
            "[[storage]]\nurl = \"az://c\"\n[storage.options]\nazure_storage_use_emulator = \"true\"\n\
             [[storage]]\nname = \"disk\"\nurl = \"/srv/g\"\nrequired = true\n",
        )
        .unwrap();
        assert_eq!(c.replicas.len(), 2);
        assert_eq!(c.replicas[0].name, "backend1");
        assert!(!c.replicas[0].required);
        assert_eq!(
            c.replicas[0]
                .options
                .get("azure_storage_use_emulator")
                .map(String::as_str),
            Some("true")
        );
        assert_eq!(c.replicas[1].name, "disk");
        // The primary's location is the storage.
        assert_eq!(c.storage, StorageLocation::Local("/srv/g".into()));
        // One storage stays one storage.
        assert!(cfg("storage = \"/x\"").unwrap().replicas.is_empty());
        for bad in [
            "[[storage]]\nurl = \"/a\"\n",
            "[[storage]]\nurl = \"/a\"\nrequired = true\nname = \"a\"\n[[storage]]\nurl = \"/b\"\nname = \"a\"\n",
            "[[storage]]\nurl = \"/a\"\nrequired = true\nname = \"a b\"\n",
            "[[storage]]\nurl = \"ftp://x\"\nrequired = true\n",
            "storage = []\n",
        ] {
            assert!(cfg(bad).is_err(), "{bad}");
        }
        // Unknown keys in a backend are errors.
        assert!(parse_toml("[[storage]]\nurl = \"/a\"\nrequird = true\n").is_err());
    }

    #[test]
    fn storage_urls() {
        assert_eq!(
            parse_storage("file:///tmp/x").unwrap(),
            StorageLocation::Local("/tmp/x".into())
        );
        assert_eq!(parse_storage("memory://").unwrap(), StorageLocation::Memory);
        assert!(matches!(
            parse_storage("s3://bucket/prefix").unwrap(),
            StorageLocation::Cloud(_)
        ));
        assert!(matches!(
            parse_storage("az://container").unwrap(),
            StorageLocation::Cloud(_)
        ));
        assert!(matches!(
            parse_storage("gs://bucket").unwrap(),
            StorageLocation::Cloud(_)
        ));
        assert!(parse_storage("s3://").is_err());
        assert!(parse_storage("").is_err());
    }

    #[test]
    fn require_hub_url_flag_forms() {
        assert_eq!(
            flags(&["--require-correct-hub-url"]).require_correct_hub_url,
            Some(true)
        );
        assert_eq!(
            flags(&["--require-correct-hub-url", "false"]).require_correct_hub_url,
            Some(false)
        );
    }
}
