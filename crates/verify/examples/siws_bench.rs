//! Native throughput of Sign-In with Stacks verification (parse + recover + compare), one
//! core: `cairn_core::protocol::sign_in_with_stacks::verify_sign_in` over the inputs that
//! `bench/siws.mjs` generates (fresh keys, signed by `@stacks/transactions`), so the native,
//! wasm and JavaScript numbers of one run come from the same messages.
//!
//!   cargo run --release -p cairn-verify --example siws_bench -- INPUTS.json [SECONDS]
//!
//! INPUTS.json: `{"domain", "now", "cases": [{"message", "signature", "nonce", "address"}]}`.
//! Prints one JSON object: `{"verifications", "seconds", "perSecond", "medianUs", "p95Us",
//! "batches", "parseUs", "recoverUs"}` (a batch is one pass over every case; its time
//! divided by the case count is one sample; `parseUs` and `recoverUs` are the medians of
//! the parse alone and of the key recovery alone, for where the time goes; `cpuSeconds`,
//! `cpuMedianUs` and `perCpuSecond` count only the time the thread was on a CPU, from
//! /proc/thread-self/schedstat, 0 where that file does not exist). Exits 1 if any case does
//! not verify to its address.

use cairn_core::protocol::sign_in_with_stacks::{
    CHAIN_ID_MAINNET, VerifyOptions, parse_sign_in_message, recover_message_signer, verify_sign_in,
};
use cairn_core::support::json::{self, Value};
use std::process::ExitCode;
use std::time::{Duration, Instant};

struct Case {
    message: String,
    signature: String,
    opts: VerifyOptions,
    address: String,
}

fn field(v: &Value, k: &str) -> Result<String, String> {
    v.get(k)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| format!("inputs: missing string \"{k}\""))
}

fn load(path: &str) -> Result<Vec<Case>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let root = json::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
    let domain = field(&root, "domain")?;
    let now = root
        .get("now")
        .and_then(Value::as_i64)
        .ok_or("inputs: missing \"now\"")?;
    let cases = root
        .get("cases")
        .and_then(Value::as_array)
        .ok_or("inputs: missing \"cases\"")?;
    cases
        .iter()
        .map(|c| {
            let mut opts = VerifyOptions::new(&domain, &field(c, "nonce")?, now);
            opts.chain_id = Some(CHAIN_ID_MAINNET);
            Ok(Case {
                message: field(c, "message")?,
                signature: field(c, "signature")?,
                opts,
                address: field(c, "address")?,
            })
        })
        .collect()
}

/// One pass over every case; false if any fails to verify to its address.
fn pass(cases: &[Case]) -> bool {
    cases.iter().all(|c| {
        verify_sign_in(&c.message, &c.signature, &c.opts).is_ok_and(|v| v.address == c.address)
    })
}

/// This thread's time on a CPU so far, in ns (Linux: /proc/thread-self/schedstat), so that
/// the throughput of one core can be told apart from time spent waiting for one on a busy
/// machine.
fn cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Median µs per case of `f` over every case, batches for `budget`.
fn median_us(cases: &[Case], budget: Duration, f: impl Fn(&Case) -> bool) -> Option<f64> {
    let mut samples = Vec::new();
    let start = Instant::now();
    while start.elapsed() < budget || samples.is_empty() {
        let t = Instant::now();
        if !cases.iter().all(&f) {
            return None;
        }
        samples.push(t.elapsed().as_secs_f64() * 1e6 / cases.len() as f64);
    }
    samples.sort_by(f64::total_cmp);
    Some(samples[samples.len() / 2])
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: siws_bench INPUTS.json [SECONDS]");
        return ExitCode::from(2);
    };
    let budget = Duration::from_secs_f64(args.get(1).and_then(|s| s.parse().ok()).unwrap_or(3.0));
    let cases = match load(path) {
        Ok(c) if !c.is_empty() => c,
        Ok(_) => {
            eprintln!("siws_bench: no cases");
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("siws_bench: {e}");
            return ExitCode::from(2);
        }
    };
    // Warm-up, and the correctness check.
    if !pass(&cases) {
        eprintln!("siws_bench: a case did not verify");
        return ExitCode::from(1);
    }
    let mut samples = Vec::new();
    let mut cpu_samples = Vec::new();
    let start = Instant::now();
    let cpu_start = cpu_ns();
    while start.elapsed() < budget {
        let t = Instant::now();
        let c = cpu_ns();
        if !pass(&cases) {
            eprintln!("siws_bench: a case did not verify");
            return ExitCode::from(1);
        }
        samples.push(t.elapsed().as_secs_f64() * 1e6 / cases.len() as f64);
        if let (Some(a), Some(b)) = (c, cpu_ns()) {
            cpu_samples.push(b.saturating_sub(a) as f64 / 1e3 / cases.len() as f64);
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let cpu_seconds = match (cpu_start, cpu_ns()) {
        (Some(a), Some(b)) => b.saturating_sub(a) as f64 / 1e9,
        _ => 0.0,
    };
    cpu_samples.sort_by(f64::total_cmp);
    let cpu_median = cpu_samples
        .get(cpu_samples.len() / 2)
        .copied()
        .unwrap_or(0.0);
    let part = budget / 4;
    let parse = median_us(&cases, part, |c| parse_sign_in_message(&c.message).is_ok());
    let recover = median_us(&cases, part, |c| {
        recover_message_signer(&c.message, &c.signature).is_ok()
    });
    let (Some(parse), Some(recover)) = (parse, recover) else {
        eprintln!("siws_bench: a case did not parse or recover");
        return ExitCode::from(1);
    };
    let total = samples.len() * cases.len();
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    println!(
        "{{\"verifications\": {total}, \"seconds\": {seconds:.3}, \"perSecond\": {:.0}, \"medianUs\": {:.2}, \"p95Us\": {:.2}, \"batches\": {}, \"parseUs\": {parse:.2}, \"recoverUs\": {recover:.2}, \"cpuSeconds\": {cpu_seconds:.3}, \"cpuMedianUs\": {cpu_median:.2}, \"perCpuSecond\": {:.0}}}",
        total as f64 / seconds,
        at(0.5),
        at(0.95),
        samples.len(),
        if cpu_seconds > 0.0 {
            total as f64 / cpu_seconds
        } else {
            0.0
        }
    );
    ExitCode::SUCCESS
}
