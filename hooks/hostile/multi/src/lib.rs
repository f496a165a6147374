//! Test-only hook for the host's sandbox tests. The execution id picks the misbehaviour,
//! so one component (one compile) covers every case.

wit_bindgen::generate!({ path: "../../../host/wit", world: "wave-hooks" });

use drs_orch::hooks::host_log::{log, Level};
use std::hint::black_box;

struct Hostile;

#[allow(unconditional_recursion)]
fn recurse(depth: u64) -> u64 {
    // black_box keeps this a real call chain, not a loop.
    let buf = black_box([depth; 16]);
    black_box(recurse(depth + 1)) + buf[3]
}

fn run(mode: &str, servers: &[String]) -> Decision {
    match mode {
        "loop" => {
            let mut n = 0u64;
            loop {
                n = black_box(n.wrapping_add(1));
            }
        }
        "memory" => {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                // Reserve without touching: growth, not page faults, is what this tests.
                let mut chunk = Vec::<u8>::with_capacity(1 << 20);
                chunk.push(1);
                hoard.push(chunk);
                black_box(&hoard);
            }
        }
        "recurse" => Decision::Abort(format!("unreachable {}", recurse(0))),
        "panic" => panic!("hostile hook panics on purpose"),
        // 1 MiB on stderr in one line, then a panic: the trap quotes stderr.
        "stderr-flood-panic" => {
            eprint!("{}", "e".repeat(1 << 20));
            panic!("hostile hook panics after flooding stderr")
        }
        "log-flood" => {
            let big = "x".repeat(10_000);
            for i in 0..10_000 {
                log(Level::Warn, if i == 0 { &big } else { "flood" });
            }
            Decision::Proceed
        }
        "fs" => match std::fs::read_to_string("/etc/passwd") {
            Ok(text) => Decision::Abort(format!("fs-read {} bytes", text.len())),
            Err(e) => Decision::Abort(format!("fs-denied: {e}")),
        },
        "env" => Decision::Abort(format!("env={} args={}", std::env::vars().count(), std::env::args().count())),
        "stdio" => {
            println!("hello on stdout");
            eprintln!("hello on stderr");
            Decision::Proceed
        }
        // What the guest's WASI clock says: the host pins it to the context's `now`.
        "clock" => Decision::Abort(format!(
            "clock={}",
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
        )),
        // Well-behaved decisions the executor must apply: a delay and a pause.
        "delay-1" => Decision::Delay(1),
        "hook-pause" => Decision::Pause("the tenant's health probe is red".into()),
        "bad-skip" => Decision::Skip(vec!["s-not-in-this-wave".into()]),
        // Host calls that block: epochs do not stop them, the call's wall-time cap must.
        "sleep" => {
            std::thread::sleep(std::time::Duration::from_secs(30));
            Decision::Proceed
        }
        // A duration too long to be a deadline: the host's pollable never becomes ready.
        "sleep-forever" => {
            std::thread::sleep(std::time::Duration::from_nanos(u64::MAX));
            Decision::Proceed
        }
        // Many short waits, each ending before the cap.
        "sleep-loop" => loop {
            std::thread::sleep(std::time::Duration::from_millis(1));
        },
        // Oversized returns: the host must bound what it lifts.
        "skip-3m" => Decision::Skip(vec![servers.first().cloned().unwrap_or_default(); 3_000_000]),
        // As many ids as servers, but one id over and over.
        "skip-dup" => Decision::Skip(vec![servers.last().cloned().unwrap_or_default(); servers.len()]),
        "skip-twice" => Decision::Skip(vec![servers.first().cloned().unwrap_or_default(); 2]),
        "skip-long-id" => Decision::Skip(vec!["s".repeat(40 << 20)]),
        "pause-40mb" => Decision::Pause("p".repeat(40 << 20)),
        "abort-40mb" => Decision::Abort("é".repeat(20 << 20)),
        "skip-first" => Decision::Skip(servers.iter().take(1).cloned().collect()),
        _ => Decision::Proceed,
    }
}

impl Guest for Hostile {
    /// Every tag, except in the test that checks the filter.
    fn tag_keys() -> Vec<String> {
        Vec::new()
    }

    fn before_wave(context: WaveContext) -> Decision {
        let ids: Vec<String> = context.servers.iter().map(|s| s.source_server_id.clone()).collect();
        run(&context.execution_id, &ids)
    }

    fn after_wave(result: WaveResult) -> Decision {
        let ids: Vec<String> = result.context.servers.iter().map(|s| s.source_server_id.clone()).collect();
        run(&result.context.execution_id, &ids)
    }
}

export!(Hostile);
