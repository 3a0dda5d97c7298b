//! Operator controls: per-bucket quota (507), write rate limit (429 + Retry-After),
//! and `GET /metrics` (Prometheus text).

#![allow(clippy::unwrap_used)] // a test that unwraps fails, which is what it should do

mod common;

use common::{App, HubProc, client};
use serde_json::Value;
use std::time::Duration;

async fn store(
    c: &reqwest::Client,
    hub: &HubProc,
    app: &App,
    path: &str,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    c.post(format!("{}/store/{}/{path}", hub.url, app.address))
        .header("Authorization", app.token())
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn json_error(r: reqwest::Response, status: u16, name: &str) -> Value {
    assert_eq!(r.status().as_u16(), status);
    assert_eq!(r.headers()["content-type"], "application/json");
    let j: Value = r.json().await.unwrap();
    assert_eq!(j["error"], name, "{j}");
    assert!(j["message"].as_str().is_some_and(|m| !m.is_empty()), "{j}");
    j
}

/// Writes streaming into one bucket at the same time cannot each take the same room:
/// four slow 400 KiB uploads under a 1 MiB quota, at most two stored.
#[tokio::test]
async fn quota_holds_against_writes_arriving_together() {
    let hub = HubProc::spawn(&["--quota-mb", "1"]);
    let app = App::new();
    let c = client();
    let slow = || {
        // 400 KiB in 8 chunks, 50 ms apart, no Content-Length: all four are streaming
        // before any is stored.
        let chunks = futures::stream::unfold(0, |i| async move {
            if i == 8 {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            Some((Ok::<_, std::io::Error>(vec![3u8; 50 * 1024]), i + 1))
        });
        reqwest::Body::wrap_stream(chunks)
    };
    let names: Vec<String> = (0..4).map(|i| format!("f{i}")).collect();
    let statuses =
        futures::future::join_all(names.iter().map(|n| store(&c, &hub, &app, n, slow())))
            .await
            .into_iter()
            .map(|r| r.status().as_u16())
            .collect::<Vec<_>>();
    let stored = statuses.iter().filter(|s| **s == 202).count();
    assert!(stored <= 2, "{statuses:?}");
    assert!(stored >= 1, "{statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 202 || *s == 507),
        "{statuses:?}"
    );
    // What is on the hub fits the quota, and the refused uploads left no room taken.
    let mut on_hub = 0;
    for i in 0..4 {
        let r = c
            .get(format!("{}{}/f{i}", hub.read_prefix(), app.address))
            .send()
            .await
            .unwrap();
        if r.status().as_u16() == 200 {
            on_hub += r.bytes().await.unwrap().len();
        }
    }
    assert_eq!(on_hub, stored * 400 * 1024);
    let room_left = 1024 * 1024 - on_hub;
    if room_left >= 100 * 1024 {
        assert_eq!(
            store(&c, &hub, &app, "fits", vec![1u8; 100 * 1024])
                .await
                .status(),
            202
        );
    }
}

#[tokio::test]
async fn quota_refuses_writes_over_it_with_507() {
    let hub = HubProc::spawn(&["--quota-mb", "1"]);
    let (app, other) = (App::new(), App::new());
    let c = client();
    let kb600 = vec![7u8; 600 * 1024];
    assert_eq!(
        store(&c, &hub, &app, "a", kb600.clone()).await.status(),
        202
    );
    // A second file does not fit (Content-Length known: refused before the body).
    let r = store(&c, &hub, &app, "b", kb600.clone()).await;
    let j = json_error(r, 507, "QuotaExceededError").await;
    assert!(j["message"].as_str().unwrap().contains("quota"), "{j}");
    // Streamed without a length: refused when the stream goes over.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..10).map(|_| Ok(vec![1u8; 64 * 1024])).collect();
    let body = reqwest::Body::wrap_stream(futures::stream::iter(chunks));
    json_error(
        store(&c, &hub, &app, "c", body).await,
        507,
        "QuotaExceededError",
    )
    .await;
    let r = c
        .get(format!("{}{}/c", hub.read_prefix(), app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404, "a refused upload left a file");
    // Replacing a file frees its size; other buckets have their own quota.
    assert_eq!(
        store(&c, &hub, &app, "a", kb600.clone()).await.status(),
        202
    );
    assert_eq!(
        store(&c, &hub, &other, "b", kb600.clone()).await.status(),
        202
    );
    // After a delete the room is back.
    let r = c
        .delete(format!("{}/delete/{}/a", hub.url, app.address))
        .header("Authorization", app.token())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    assert_eq!(store(&c, &hub, &app, "b", kb600).await.status(), 202);
}

#[tokio::test]
async fn write_rate_limit_answers_429_with_retry_after() {
    let hub = HubProc::spawn(&["--write-rate", "1", "--write-burst", "3"]);
    let (app, other) = (App::new(), App::new());
    let c = client();
    for i in 0..3 {
        assert_eq!(
            store(&c, &hub, &app, &format!("f{i}"), "x").await.status(),
            202
        );
    }
    let r = store(&c, &hub, &app, "f3", "x").await;
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry), "Retry-After {retry}");
    json_error(r, 429, "TooManyRequestsError").await;
    // Deletes count as writes too; reads and other buckets are not limited.
    let r = c
        .delete(format!("{}/delete/{}/f0", hub.url, app.address))
        .header("Authorization", app.token())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 429);
    let r = c
        .get(format!("{}{}/f0", hub.read_prefix(), app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(store(&c, &hub, &other, "f", "x").await.status(), 202);
    // After Retry-After, writes go through again.
    tokio::time::sleep(Duration::from_secs(retry)).await;
    assert_eq!(store(&c, &hub, &app, "f3", "x").await.status(), 202);
}

fn metric(text: &str, line_start: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(line_start))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no `{line_start}` in\n{text}"))
}

#[tokio::test]
async fn metrics_in_prometheus_format() {
    let hub = HubProc::spawn(&[]);
    let app = App::new();
    let c = client();
    for i in 0..5 {
        assert_eq!(
            store(&c, &hub, &app, &format!("f{i}"), vec![1u8; 1000])
                .await
                .status(),
            202
        );
    }
    for _ in 0..3 {
        let r = c
            .get(format!("{}{}/f0", hub.read_prefix(), app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(r.bytes().await.unwrap().len(), 1000);
    }
    let r = c
        .get(format!("{}{}/none", hub.read_prefix(), app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let r = c.get(format!("{}/metrics", hub.url)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let t = r.text().await.unwrap();
    let req = |route: &str, method: &str, status: u16| {
        metric(
            &t,
            &format!(
                "cairn_hub_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}}"
            ),
        )
    };
    assert_eq!(req("store", "POST", 202), 5.0);
    assert_eq!(req("read", "GET", 200), 3.0);
    assert_eq!(req("read", "GET", 404), 1.0);
    assert_eq!(
        metric(
            &t,
            "cairn_hub_request_duration_seconds_count{route=\"store\"}"
        ),
        5.0
    );
    assert_eq!(
        metric(
            &t,
            "cairn_hub_request_duration_seconds_bucket{route=\"store\",le=\"+Inf\"}"
        ),
        5.0
    );
    assert!(
        metric(
            &t,
            "cairn_hub_request_duration_seconds_sum{route=\"store\"}"
        ) > 0.0
    );
    assert_eq!(
        metric(&t, "cairn_hub_received_bytes_total{route=\"store\"}"),
        5000.0
    );
    assert!(metric(&t, "cairn_hub_sent_bytes_total{route=\"read\"}") >= 3000.0);
    assert!(t.contains("# TYPE cairn_hub_backend_errors_total counter"));
    assert_eq!(
        metric(&t, "cairn_hub_backend_errors_total{backend=\"file://"),
        0.0
    );

    // Off: not served at all.
    let off = HubProc::spawn(&["--metrics", "off"]);
    let r = c.get(format!("{}/metrics", off.url)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
}
