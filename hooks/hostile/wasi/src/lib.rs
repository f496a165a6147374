//! Test-only hook for the host's bounds on granted WASI imports: it calls them as std never
//! would (64 MiB of random bytes in one call, a 10 s subscribe-duration, a poll on a future
//! instant). The execution id picks the case, as in hostile-multi.

wit_bindgen::generate!({
    path: ["../../../host/wit", "wit"],
    world: "drs-orch:hostile-wasi/hostile-wasi",
    generate_all,
});

use wasi::clocks::monotonic_clock;
use wasi::io::poll;
use wasi::random::{insecure, random};

struct Hostile;

const KIB: u64 = 1 << 10;
const MIB: u64 = 1 << 20;

/// `calls` calls of `len` bytes each; proceeds with the total length it got.
fn take(calls: u64, len: u64, get: fn(u64) -> Vec<u8>) -> Decision {
    let mut total = 0u64;
    let mut kept = Vec::new();
    for _ in 0..calls {
        let bytes = get(len);
        total += bytes.len() as u64;
        // Keep the last one (no more): what the host handed out is counted, not what is kept.
        kept = bytes;
    }
    std::hint::black_box(&kept);
    Decision::Abort(format!("got {total} bytes"))
}

fn run(mode: &str) -> Decision {
    match mode {
        "random-64mib" => take(1, 64 * MIB, random::get_random_bytes),
        "insecure-64mib" => take(1, 64 * MIB, insecure::get_insecure_random_bytes),
        // Each call at the per-call cap: 16 fit a 64 MiB budget, 2,048 (128 MiB) do not.
        "random-64kib-x16" => take(16, 64 * KIB, random::get_random_bytes),
        "random-64kib-x2048" => take(2048, 64 * KIB, random::get_random_bytes),
        "insecure-64kib-x2048" => take(2048, 64 * KIB, insecure::get_insecure_random_bytes),
        "sleep-10s" => {
            monotonic_clock::subscribe_duration(10_000_000_000).block();
            Decision::Abort("slept 10 s".into())
        }
        "until-10s" => {
            let when = monotonic_clock::now() + 10_000_000_000;
            poll::poll(&[&monotonic_clock::subscribe_instant(when)]);
            Decision::Abort("polled until 10 s later".into())
        }
        // A wait for no time (what a non-blocking poll subscribes to) is ready at once.
        "poll-now" => {
            let now = monotonic_clock::subscribe_instant(monotonic_clock::now());
            let zero = monotonic_clock::subscribe_duration(0);
            let ready = poll::poll(&[&now, &zero]);
            Decision::Abort(format!("ready={ready:?} now={}", monotonic_clock::now()))
        }
        _ => Decision::Proceed,
    }
}

impl Guest for Hostile {
    fn tag_keys() -> Vec<String> {
        Vec::new()
    }

    fn before_wave(context: WaveContext) -> Decision {
        run(&context.execution_id)
    }

    fn after_wave(result: WaveResult) -> Decision {
        run(&result.context.execution_id)
    }
}

export!(Hostile);
