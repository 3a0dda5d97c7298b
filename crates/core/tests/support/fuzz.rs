//! The driver shared by the property-based fuzz targets (`tests/fuzz_*.rs`,
//! `hub/tests/fuzz_*.rs`; docs/FUZZING.md).
//!
//! Each target is a `proptest` strategy (inputs built from structure: valid tokens,
//! URLs, JSON trees, records, then mutated) and a property. `cargo test` runs a short,
//! deterministic pass; the environment makes it longer:
//!
//! - `CAIRN_FUZZ_CASES=N`: cases per round (default: the target's own, small count);
//! - `CAIRN_FUZZ_SECS=S`: keep starting new rounds, each with a fresh seed, until
//!   `S` seconds have passed (what `scripts/fuzz.sh S` sets);
//! - `CAIRN_FUZZ_SEED=X`: the first round's seed (default: fixed per target), to
//!   reproduce a failure reported by a long run.
//!
//! A failure is shrunk to a small input and reported with the seed of its round.

#![allow(dead_code)]

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestError, TestRunner};
use std::fmt::Debug;
use std::time::{Duration, Instant};

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

/// A fixed seed per target name (FNV-1a), so the short pass is reproducible.
fn name_seed(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// Runs `property` on inputs from the strategy `make` builds: `default_cases` cases,
/// or as the environment says (see the module docs). Panics with the shrunk failing
/// input.
///
/// Runs on a thread with a large stack (hence a strategy built there, as proptest's
/// boxed strategies cannot move between threads): the strategies' generated code is
/// deeply nested in unoptimised builds.
pub(crate) fn fuzz<S, M, P>(name: &str, default_cases: u32, make: M, property: P)
where
    S: Strategy,
    S::Value: Debug,
    M: FnOnce() -> S + Send,
    P: Fn(S::Value) -> Result<(), TestCaseError> + Send,
{
    std::thread::scope(|scope| {
        let run = std::thread::Builder::new()
            .name(name.to_string())
            .stack_size(256 << 20)
            .spawn_scoped(scope, move || {
                fuzz_here(name, default_cases, make(), property)
            })
            .expect("a thread for the fuzz target");
        if let Err(panic) = run.join() {
            std::panic::resume_unwind(panic);
        }
    });
}

fn fuzz_here<S>(
    name: &str,
    default_cases: u32,
    strategy: S,
    property: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S: Strategy,
    S::Value: Debug,
{
    let cases = env_u64("CAIRN_FUZZ_CASES")
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(default_cases)
        .max(1);
    let budget = env_u64("CAIRN_FUZZ_SECS").map(Duration::from_secs);
    let first_seed = env_u64("CAIRN_FUZZ_SEED").unwrap_or_else(|| name_seed(name));
    let start = Instant::now();
    let mut total: u64 = 0;
    let mut round: u64 = 0;
    loop {
        let seed = first_seed.wrapping_add(round.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let config = Config {
            cases,
            failure_persistence: None,
            rng_seed: RngSeed::Fixed(seed),
            max_shrink_time: 60_000,
            max_global_rejects: cases.saturating_mul(20),
            ..Config::default()
        };
        let mut runner = TestRunner::new(config);
        match runner.run(&strategy, &property) {
            Ok(()) => {}
            Err(TestError::Fail(why, input)) => panic!(
                "fuzz target {name} failed (CAIRN_FUZZ_SEED={seed} CAIRN_FUZZ_CASES={cases}): \
                 {why}\nminimal input: {input:#?}"
            ),
            Err(e) => panic!("fuzz target {name} (CAIRN_FUZZ_SEED={seed}): {e}"),
        }
        total += u64::from(cases);
        round += 1;
        match budget {
            Some(b) if start.elapsed() < b => continue,
            _ => break,
        }
    }
    eprintln!(
        "fuzz target {name}: {total} cases in {round} round(s), {:.1} s, no finding",
        start.elapsed().as_secs_f64()
    );
}

/// Fails the case with `message` unless `condition` holds (`#[macro_use] mod fuzz;`).
macro_rules! check {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err(proptest::test_runner::TestCaseError::fail(format!($($fmt)+)));
        }
    };
}

/// Byte-level mutations of a string, the classic fuzzer moves: replace, insert,
/// delete, duplicate a span, truncate; `picks` are indexes and bytes drawn by the
/// strategy ([`mutations`]).
pub(crate) fn mutate(input: &str, picks: &[(u8, usize, u8)]) -> String {
    const INTERESTING: &[u8] = b"\x00\x7f\xff\x80 \t\n\\/.:@%#?[]{}\",=-_+0179afAFxX";
    let mut b = input.as_bytes().to_vec();
    for &(op, at, byte) in picks {
        let len = b.len();
        let i = if len == 0 { 0 } else { at % len };
        let pick = if byte & 1 == 0 {
            INTERESTING[usize::from(byte >> 1) % INTERESTING.len()]
        } else {
            byte
        };
        match op % 6 {
            0 if len > 0 => b[i] = pick,
            1 => b.insert(i.min(len), pick),
            2 if len > 0 => {
                b.remove(i);
            }
            3 if len > 0 => {
                let end = (i + 1 + usize::from(byte) % 8).min(len);
                let span = b[i..end].to_vec();
                b.splice(i..i, span);
            }
            4 if len > 0 => b.truncate(i),
            5 if len > 0 => b[i] ^= 1 << (byte % 8),
            _ => b.push(pick),
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

/// A strategy for 1 to `max` mutation picks for [`mutate`].
pub(crate) fn mutations(max: usize) -> impl Strategy<Value = Vec<(u8, usize, u8)>> + Clone {
    proptest::collection::vec(
        (
            proptest::num::u8::ANY,
            proptest::num::usize::ANY,
            proptest::num::u8::ANY,
        ),
        1..=max,
    )
}
