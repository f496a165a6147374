//! `bench hooks`: the wave-hook host's costs, per hook: the Rust example (hooks/skip-tagged,
//! wasm32-wasip2) and the JavaScript one (hooks/freeze-window-js) when node can build it.
//! - compile: a load with an empty cache (Cranelift, then the artifact written);
//! - cache load: a new HookHost (a new Engine, as a new process would have) loading the same
//!   component from that on-disk cache; the median of several;
//! - call: before-wave with a 500-server context, warm, many times; each call gets a fresh
//!   Store and instance from the InstancePre, as the host always does. p50, p99 and max of
//!   the wall time around `HookHost::before_wave`;
//! - hostile cases (`hooks/hostile.rs`): hooks that sleep, return 3 million ids or 40 MB of
//!   text, or grow their memory: the wall time of each call and the host's peak RSS growth.
//!
//! Goals: call p99 under 1 ms, cache load under 20 ms; a sleeping hook ends within its cap
//! plus 10 ms (it is refused at its first sleep today: a hook's clocks do not move).

#[path = "../../host/tests/common/build.rs"]
mod build;
mod hostile;

use drs_host::{Decision, Hook, HookHost, HostConfig, LoadSource, Mode, Server, WaveContext};
use std::path::Path;
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct Args {
    /// Servers in the wave context.
    #[arg(long, default_value_t = 500)]
    servers: usize,
    /// Measured before-wave calls per hook (after 10% as many warm-up calls).
    #[arg(long, default_value_t = 5000)]
    calls: usize,
    /// Fresh hosts that load each hook from the cache (the median is reported).
    #[arg(long, default_value_t = 5)]
    cache_loads: usize,
    /// Leave the JavaScript hook out.
    #[arg(long, conflicts_with = "js")]
    no_js: bool,
    /// Measure this JavaScript component instead of building hooks/freeze-window-js.
    #[arg(long)]
    js: Option<std::path::PathBuf>,
    /// Leave the hostile cases out.
    #[arg(long)]
    no_hostile: bool,
}

struct Figures {
    compile: Duration,
    cache_load: Duration,
    p50: Duration,
    p99: Duration,
    max: Duration,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    anyhow::ensure!(args.calls >= 100 && args.cache_loads >= 1, "--calls must be at least 100 and --cache-loads at least 1");
    let guests = build::build_rust_guests()?;
    let rust = guests.join("skip_tagged.wasm");
    let js = match (args.no_js, &args.js) {
        (true, _) => None,
        (false, Some(path)) => Some(path.clone()),
        (false, None) => match build::build_js_hook().map_err(anyhow::Error::msg)? {
            build::JsHook::Built { path, .. } => Some(path),
            build::JsHook::Unavailable(why) => {
                println!("javascript hook: skipped ({why})");
                None
            }
        },
    };

    let rust = measure("rust skip-tagged", &rust, &args, "exec-bench")?;
    // Outside the hook's freeze windows, so the whole check runs and the wave proceeds.
    let js = js.map(|path| measure("javascript freeze-window", &path, &args, "drill-20251115T090000Z-bench")).transpose()?;
    let hostile = match args.no_hostile {
        true => vec![],
        false => hostile::run(&guests.join("hostile_multi.wasm"), &build::repo_root().join("hooks/hostile/memories.wasm"))?,
    };

    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let mut line = format!(
        "bench hooks: p99_us={:.0} cache_load_ms={:.2} compile_ms={:.0}",
        us(rust.p99),
        ms(rust.cache_load),
        ms(rust.compile)
    );
    if let Some(js) = &js {
        line += &format!(
            " js_p99_us={:.0} js_cache_load_ms={:.2} js_compile_ms={:.0}",
            us(js.p99),
            ms(js.cache_load),
            ms(js.compile)
        );
    }
    line += &format!(
        " p50_us={:.0} max_us={:.0}{} servers={} calls={} goal_p99_us=1000 goal_cache_load_ms=20",
        us(rust.p50),
        us(rust.max),
        js.as_ref().map(|js| format!(" js_p50_us={:.0} js_max_us={:.0}", us(js.p50), us(js.max))).unwrap_or_default(),
        args.servers,
        args.calls
    );
    for case in &hostile {
        line += &format!(" {}_ms={:.1} {}_rss_mb={:.1}", case.key, ms(case.wall), case.key, case.rss_growth_bytes as f64 / 1e6);
    }
    if !hostile.is_empty() {
        line += " goal_sleep_ms=60";
    }
    println!("{line}");
    Ok(())
}

fn measure(name: &str, path: &Path, args: &Args, execution_id: &str) -> anyhow::Result<Figures> {
    let bytes = std::fs::read(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let pin = drs_host::sha256_hex(&bytes);
    let cache_dir = std::env::temp_dir().join(format!("drs-bench-hooks-{}-{}", std::process::id(), &pin[..12]));
    let _ = std::fs::remove_dir_all(&cache_dir);
    let config = HostConfig::new(&cache_dir);

    let host = HookHost::new(config.clone()).map_err(|e| anyhow::anyhow!("{e:#}"))?;
    let first = host.load(&bytes, &pin)?;
    anyhow::ensure!(first.source == LoadSource::Compiled, "{name}: the empty cache was not empty");
    let compile = first.load_time;
    drop((first, host));

    let mut loads = Vec::with_capacity(args.cache_loads);
    let mut warm: Option<(HookHost, Hook)> = None;
    for _ in 0..args.cache_loads {
        let host = HookHost::new(config.clone()).map_err(|e| anyhow::anyhow!("{e:#}"))?;
        let hook = host.load(&bytes, &pin)?;
        anyhow::ensure!(hook.source == LoadSource::Cache, "{name}: not loaded from the cache");
        loads.push(hook.load_time);
        warm = Some((host, hook));
    }
    loads.sort();
    let cache_load = loads[loads.len() / 2];
    let (host, hook) = warm.expect("at least one cache load");

    let context = context(execution_id, args.servers);
    let decision = host.before_wave(&hook, &context)?.decision;
    for _ in 0..args.calls / 10 {
        host.before_wave(&hook, &context)?;
    }
    let mut times = Vec::with_capacity(args.calls);
    for _ in 0..args.calls {
        let started = Instant::now();
        host.before_wave(&hook, &context)?;
        times.push(started.elapsed());
    }
    times.sort();
    let pct = |p: f64| times[((times.len() as f64 * p).ceil() as usize).clamp(1, times.len()) - 1];
    let figures = Figures { compile, cache_load, p50: pct(0.50), p99: pct(0.99), max: times[times.len() - 1] };
    let _ = std::fs::remove_dir_all(&cache_dir);

    let summary = match &decision {
        Decision::Proceed => "proceed".to_string(),
        Decision::Skip(ids) => format!("skip {} server(s)", ids.len()),
        Decision::Delay(s) => format!("delay {s} s"),
        Decision::Pause(why) | Decision::Abort(why) => why.clone(),
    };
    println!(
        "{name}: {} ({:.1} MB), compile {:.0} ms, cache load {:.2} ms (median of {}; {:.2}..{:.2}), \
         before-wave x{} with {} servers: p50 {:.0} us, p99 {:.0} us, max {:.0} us; decision: {summary}",
        path.display(),
        bytes.len() as f64 / 1e6,
        figures.compile.as_secs_f64() * 1e3,
        figures.cache_load.as_secs_f64() * 1e3,
        loads.len(),
        loads[0].as_secs_f64() * 1e3,
        loads[loads.len() - 1].as_secs_f64() * 1e3,
        args.calls,
        args.servers,
        figures.p50.as_secs_f64() * 1e6,
        figures.p99.as_secs_f64() * 1e6,
        figures.max.as_secs_f64() * 1e6,
    );
    Ok(figures)
}

/// A wave of `n` servers over 4 accounts x 2 regions with a few tags each; every 10th is
/// tagged dr:skip (which the Rust example leaves out).
fn context(execution_id: &str, n: usize) -> WaveContext {
    let servers = (0..n)
        .map(|i| {
            let mut tags = vec![
                ("Name".to_string(), format!("app{i:04}")),
                ("Application".to_string(), "billing".to_string()),
                ("Environment".to_string(), "production".to_string()),
            ];
            if i % 10 == 0 {
                tags.push(("dr:skip".into(), "true".into()));
            }
            Server {
                account: format!("1000000000{:02}", i % 4),
                region: ["eu-west-1", "eu-central-1"][i % 2].into(),
                hostname: format!("app{i:04}.bench.internal"),
                source_server_id: format!("s-{i:017x}"),
                tags,
            }
        })
        .collect();
    WaveContext {
        execution_id: execution_id.into(),
        tenant: "bench".into(),
        mode: Mode::Drill,
        wave_index: 0,
        wave_name: "bench".into(),
        now: 1_796_083_200,
        servers,
    }
}
