//! Counters for `GET /metrics` (Prometheus text format, version 0.0.4): requests by
//! route and status, a latency histogram per route, bytes in and out, refusals by the
//! operator limits, and backend errors. Lock-free on the request path except for the
//! (small, bounded) label maps.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds (seconds) of the latency histogram buckets.
pub const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// The routes requests are counted under (a fixed set, so labels stay bounded).
pub const ROUTES: [&str; 8] = [
    "hub_info",
    "store",
    "delete",
    "list-files",
    "revoke-all",
    "read",
    "metrics",
    "other",
];

/// The route label of a request path.
pub fn route_of(path: &str) -> &'static str {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    ROUTES
        .iter()
        .find(|r| **r == first && **r != "other")
        .copied()
        .unwrap_or("other")
}

#[derive(Default)]
struct Histogram {
    buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    count: AtomicU64,
    sum_us: AtomicU64,
}

/// The hub's counters.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, String, u16), u64>>,
    latency: [Histogram; ROUTES.len()],
    bytes_in: [AtomicU64; ROUTES.len()],
    bytes_out: [AtomicU64; ROUTES.len()],
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

fn idx(route: &str) -> usize {
    ROUTES
        .iter()
        .position(|r| *r == route)
        .unwrap_or(ROUTES.len() - 1)
}

impl Metrics {
    /// Records one finished request.
    pub fn record(
        &self,
        route: &'static str,
        method: &str,
        status: u16,
        took: Duration,
        bytes_in: u64,
        bytes_out: u64,
    ) {
        // Only standard methods become labels (anything else is "OTHER").
        let method = match method {
            "GET" | "HEAD" | "POST" | "DELETE" | "OPTIONS" | "PUT" => method,
            _ => "OTHER",
        };
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((route, method.to_string(), status)).or_insert(0) += 1;
        }
        let i = idx(route);
        let h = &self.latency[i];
        let secs = took.as_secs_f64();
        for (b, le) in h.buckets.iter().zip(LATENCY_BUCKETS) {
            if secs <= le {
                b.fetch_add(1, Ordering::Relaxed);
            }
        }
        h.count.fetch_add(1, Ordering::Relaxed);
        h.sum_us.fetch_add(
            u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        self.bytes_in[i].fetch_add(bytes_in, Ordering::Relaxed);
        self.bytes_out[i].fetch_add(bytes_out, Ordering::Relaxed);
    }

    /// The Prometheus text exposition. `backends` are (storage description, errors).
    pub fn render(&self, backends: &[(&str, u64)]) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP cairn_hub_requests_total Requests answered, by route, method and status.\n",
        );
        out.push_str("# TYPE cairn_hub_requests_total counter\n");
        if let Ok(m) = self.requests.lock() {
            for ((route, method, status), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "cairn_hub_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} {n}"
                );
            }
        }
        out.push_str(
            "# HELP cairn_hub_request_duration_seconds Time from request to response headers.\n",
        );
        out.push_str("# TYPE cairn_hub_request_duration_seconds histogram\n");
        for (route, h) in ROUTES.iter().zip(&self.latency) {
            let count = h.count.load(Ordering::Relaxed);
            if count == 0 {
                continue;
            }
            for (b, le) in h.buckets.iter().zip(LATENCY_BUCKETS) {
                let _ = writeln!(
                    out,
                    "cairn_hub_request_duration_seconds_bucket{{route=\"{route}\",le=\"{le}\"}} {}",
                    b.load(Ordering::Relaxed)
                );
            }
            let _ = writeln!(
                out,
                "cairn_hub_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(
                out,
                "cairn_hub_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                h.sum_us.load(Ordering::Relaxed) as f64 / 1e6
            );
            let _ = writeln!(
                out,
                "cairn_hub_request_duration_seconds_count{{route=\"{route}\"}} {count}"
            );
        }
        for (name, help, arr) in [
            (
                "cairn_hub_received_bytes_total",
                "Request body bytes received, by route.",
                &self.bytes_in,
            ),
            (
                "cairn_hub_sent_bytes_total",
                "Response body bytes sent, by route.",
                &self.bytes_out,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            for (route, v) in ROUTES.iter().zip(arr.iter()) {
                let _ = writeln!(
                    out,
                    "{name}{{route=\"{route}\"}} {}",
                    v.load(Ordering::Relaxed)
                );
            }
        }
        out.push_str("# HELP cairn_hub_backend_errors_total Storage backend failures.\n");
        out.push_str("# TYPE cairn_hub_backend_errors_total counter\n");
        for (backend, n) in backends {
            let b = backend.replace('\\', "\\\\").replace('"', "\\\"");
            let _ = writeln!(out, "cairn_hub_backend_errors_total{{backend=\"{b}\"}} {n}");
        }
        out
    }
}

/// A metric family of the replication lines: name, type, help, value per backend.
type Family = (
    &'static str,
    &'static str,
    &'static str,
    fn(&crate::replica::BackendStats) -> f64,
);

/// The replication lines of `/metrics` for a `[[storage]]` list: per backend, the repair
/// queue, its lag (age of the oldest entry), errors, repairs done and objects missing at
/// the last listing.
pub fn render_replication(stats: &[crate::replica::BackendStats]) -> String {
    let mut out = String::new();
    let families: [Family; 5] = [
        (
            "cairn_hub_repair_queue_length",
            "gauge",
            "Repair entries waiting, per storage backend.",
            |b| b.queued as f64,
        ),
        (
            "cairn_hub_replication_lag_seconds",
            "gauge",
            "Age of the oldest waiting repair entry, per storage backend.",
            |b| b.lag_seconds,
        ),
        (
            "cairn_hub_replica_errors_total",
            "counter",
            "Failed operations, per backend of the replicated storage.",
            |b| b.errors as f64,
        ),
        (
            "cairn_hub_repairs_total",
            "counter",
            "Repairs done, per storage backend.",
            |b| b.repaired as f64,
        ),
        (
            "cairn_hub_backend_missing_objects",
            "gauge",
            "Objects the primary had and this backend lacked, at the last listing.",
            |b| b.missing as f64,
        ),
    ];
    for (name, kind, help, value) in families {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for b in stats {
            let _ = writeln!(
                out,
                "{name}{{backend=\"{}\",required=\"{}\"}} {}",
                b.name,
                b.required,
                value(b)
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_and_rendering() {
        assert_eq!(route_of("/store/1A/x"), "store");
        assert_eq!(route_of("/hub_info/"), "hub_info");
        assert_eq!(route_of("/other/x"), "other");
        assert_eq!(route_of("/"), "other");
        let m = Metrics::default();
        m.record("store", "POST", 202, Duration::from_millis(3), 10, 20);
        m.record("store", "BREW", 404, Duration::from_secs(20), 0, 5);
        let t = m.render(&[("file:///x", 2)]);
        assert!(t.contains(
            "cairn_hub_requests_total{route=\"store\",method=\"POST\",status=\"202\"} 1"
        ));
        assert!(t.contains("method=\"OTHER\",status=\"404\"} 1"));
        assert!(
            t.contains("cairn_hub_request_duration_seconds_bucket{route=\"store\",le=\"0.005\"} 1")
        );
        assert!(
            t.contains("cairn_hub_request_duration_seconds_bucket{route=\"store\",le=\"+Inf\"} 2")
        );
        assert!(t.contains("cairn_hub_received_bytes_total{route=\"store\"} 10"));
        assert!(t.contains("cairn_hub_sent_bytes_total{route=\"store\"} 25"));
        assert!(t.contains("cairn_hub_backend_errors_total{backend=\"file:///x\"} 2"));
    }
}
