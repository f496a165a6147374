//! `drs-orch hooks check HOOK.wasm --context SAMPLE.json [--after]`: load a hook component
//! as the module would (SHA-256 pin, compile cache, import policy, sandbox limits), run one
//! call against a sample context and print the decision, what the hook logged and the time.
//! The sample's JSON shape is documented in hooks/README.md (examples in hooks/samples/).

use anyhow::Context;
use drs_host::{
    Decision, HookHost, HostConfig, LaunchOutcome, Level, LoadSource, Mode, Server, ServerOutcome, WaveContext, WaveResult,
};
use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Load a hook component and run it once against a sample wave context.
    Check(CheckArgs),
}

#[derive(clap::Args)]
pub struct CheckArgs {
    /// The hook component (.wasm).
    hook: PathBuf,
    /// The sample: a wave context, or a wave result ({"context", "outcomes"}) for --after.
    #[arg(long)]
    context: PathBuf,
    /// Run after-wave with the sample's outcomes instead of before-wave.
    #[arg(long)]
    after: bool,
    /// The pin the tenant configured (hex, optionally `sha256:`); by default the file's own hash.
    #[arg(long)]
    sha256: Option<String>,
    /// Where compiled components are cached (default: ~/.cache/drs-orch/hooks). It must be
    /// this user's alone: one that is a link, another user's or writable by others is refused.
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    /// The per-call wall-time cap, as the module applies it.
    #[arg(long, default_value_t = 50)]
    timeout_ms: u64,
}

pub async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Check(args) => check(args).await,
    }
}

async fn check(args: CheckArgs) -> anyhow::Result<()> {
    // The sample first: a typo there should not wait for a compile.
    let text = std::fs::read_to_string(&args.context).with_context(|| format!("{}", args.context.display()))?;
    let sample = Sample::parse(&text, args.after).map_err(|e| anyhow::anyhow!("{}: {e}", args.context.display()))?;
    let bytes = std::fs::read(&args.hook).with_context(|| format!("{}", args.hook.display()))?;
    let own = drs_host::sha256_hex(&bytes);
    let (pin, pinned_by) = match &args.sha256 {
        Some(pin) => (pin.clone(), "--sha256"),
        None => (own.clone(), "its own hash (no --sha256 given)"),
    };

    let cache_dir = args.cache_dir.clone().unwrap_or_else(drs_host::default_cache_dir);
    let config = HostConfig { call_timeout: Duration::from_millis(args.timeout_ms), ..HostConfig::new(&cache_dir) };
    let host = HookHost::new(config).map_err(|e| anyhow::anyhow!("create the hook host: {e:#}"))?;
    let hook = host.load(&bytes, &pin).with_context(|| format!("load {}", args.hook.display()))?;
    println!("hook      {} ({} bytes)", args.hook.display(), bytes.len());
    println!("sha256    {own}, pinned by {pinned_by}");
    let how = match hook.source {
        LoadSource::Compiled => "compiled",
        LoadSource::Cache => "loaded from the cache",
    };
    println!("load      {how} in {} ({})", ms(hook.load_time), cache_dir.display());

    // Awaited, not the blocking call: this runs in the CLI's async main.
    let (call, outcome) = match &sample {
        Sample::Before(context) => ("before-wave", host.before_wave_async(&hook, context).await),
        Sample::After(result) => ("after-wave", host.after_wave_async(&hook, result).await),
    };
    let context = sample.context();
    println!(
        "call      {call}: execution {}, tenant {}, {}, wave {} ({}), {} server(s)",
        context.execution_id,
        context.tenant,
        match context.mode {
            Mode::Drill => "drill",
            Mode::Recovery => "recovery",
        },
        context.wave_index,
        context.wave_name,
        context.servers.len()
    );
    let outcome = outcome.map_err(|e| anyhow::anyhow!("{call} failed: {e}"))?;
    println!("decision  {}", decision_text(&outcome.decision));
    println!("time      {} (fresh store, instantiate and call)", ms(outcome.elapsed));
    println!(
        "logs      {}{}",
        outcome.logs.len(),
        match outcome.dropped_logs {
            0 => String::new(),
            n => format!(" (+{n} dropped over the per-call cap)"),
        }
    );
    for line in &outcome.logs {
        let cut = if line.truncated { " [truncated]" } else { "" };
        println!("  {:<5} {}{cut}", level_text(line.level), line.message);
    }
    for (name, text) in [("stdout", &outcome.stdout), ("stderr", &outcome.stderr)] {
        if !text.is_empty() {
            println!("{name}");
            for line in text.lines() {
                println!("  {line}");
            }
        }
    }
    Ok(())
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

fn level_text(level: Level) -> &'static str {
    match level {
        Level::Trace => "trace",
        Level::Debug => "debug",
        Level::Info => "info",
        Level::Warn => "warn",
        Level::Error => "error",
    }
}

fn decision_text(decision: &Decision) -> String {
    match decision {
        Decision::Proceed => "proceed".into(),
        Decision::Skip(ids) => format!("skip {}", ids.join(", ")),
        Decision::Delay(s) => format!("delay {s} s"),
        Decision::Pause(reason) => format!("pause: {reason}"),
        Decision::Abort(reason) => format!("abort: {reason}"),
    }
}

/// A sample for one call.
#[derive(Debug)]
pub enum Sample {
    Before(WaveContext),
    After(WaveResult),
}

impl Sample {
    /// A wave context, or a wave result (`{"context", "outcomes"}`); before-wave takes either
    /// (the result's context), after-wave only a result. Errors name the field (a JSON path)
    /// and its line.
    pub fn parse(text: &str, after: bool) -> Result<Sample, String> {
        let is_result = match serde_json::from_str::<Shape>(text) {
            Ok(shape) => shape.context,
            Err(e) if e.is_data() => false,
            Err(e) => return Err(format!("not JSON: {}", describe(text, &e))),
        };
        match (is_result, after) {
            (false, true) => {
                Err("--after needs a wave result: {\"context\": {...}, \"outcomes\": [...]} (see hooks/samples/after-wave.json)"
                    .into())
            }
            (false, false) => {
                let context: SampleContext = serde_json::from_str(text).map_err(|e| describe(text, &e))?;
                Ok(Sample::Before(context.into()))
            }
            (true, _) => {
                let result: SampleResult = serde_json::from_str(text).map_err(|e| describe(text, &e))?;
                let result = result.into_result()?;
                Ok(if after { Sample::After(result) } else { Sample::Before(result.context) })
            }
        }
    }

    fn context(&self) -> &WaveContext {
        match self {
            Sample::Before(context) => context,
            Sample::After(result) => &result.context,
        }
    }
}

/// Whether a document is a map with a top-level `context` (a wave result), read without
/// building the document: a 2 MB sample was built as a value, dropped, then read again.
struct Shape {
    context: bool,
}

impl<'de> Deserialize<'de> for Shape {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Shape, D::Error> {
        d.deserialize_any(ShapeVisitor)
    }
}

/// Only a map has a `context`; any other document is refused here as data (not a syntax
/// error), and the typed read names what is wrong with it.
struct ShapeVisitor;

impl<'de> Visitor<'de> for ShapeVisitor {
    type Value = Shape;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shape, A::Error> {
        let mut context = false;
        while let Some(key) = map.next_key::<String>()? {
            context |= key == "context";
            map.next_value::<serde::de::IgnoredAny>()?;
        }
        Ok(Shape { context })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SampleContext {
    execution_id: String,
    tenant: String,
    mode: SampleMode,
    wave_index: u32,
    wave_name: String,
    /// The module's clock: Unix seconds or an RFC 3339 time (default: now).
    #[serde(default, deserialize_with = "instant")]
    now: Option<u64>,
    servers: Vec<SampleServer>,
}

fn instant<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    use serde::de::Error;
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Number(n) => n.as_u64().map(Some).ok_or_else(|| D::Error::custom("now: Unix seconds, a whole number")),
        serde_json::Value::String(s) => chrono::DateTime::parse_from_rfc3339(&s)
            .map(|t| Some(t.timestamp().max(0) as u64))
            .map_err(|e| D::Error::custom(format!("now: '{s}' is not an RFC 3339 time ({e})"))),
        serde_json::Value::Null => Ok(None),
        _ => Err(D::Error::custom("now: Unix seconds or an RFC 3339 time")),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum SampleMode {
    Drill,
    Recovery,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SampleServer {
    account: String,
    region: String,
    hostname: String,
    source_server_id: String,
    #[serde(default, deserialize_with = "tags")]
    tags: Vec<(String, String)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SampleResult {
    context: SampleContext,
    outcomes: Vec<SampleOutcome>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SampleOutcome {
    /// The source server id of one of the context's servers.
    server: String,
    outcome: SampleLaunch,
}

/// `"launched"` or `{"failed": "why"}`.
#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum SampleLaunch {
    Launched,
    Failed(String),
}

impl From<SampleContext> for WaveContext {
    fn from(c: SampleContext) -> Self {
        WaveContext {
            execution_id: c.execution_id,
            tenant: c.tenant,
            mode: match c.mode {
                SampleMode::Drill => Mode::Drill,
                SampleMode::Recovery => Mode::Recovery,
            },
            wave_index: c.wave_index,
            wave_name: c.wave_name,
            now: c.now.unwrap_or_else(|| chrono::Utc::now().timestamp().max(0) as u64),
            servers: c.servers.into_iter().map(Server::from).collect(),
        }
    }
}

impl From<SampleServer> for Server {
    fn from(s: SampleServer) -> Self {
        Server { account: s.account, region: s.region, hostname: s.hostname, source_server_id: s.source_server_id, tags: s.tags }
    }
}

impl SampleResult {
    fn into_result(self) -> Result<WaveResult, String> {
        let context = WaveContext::from(self.context);
        let mut outcomes = Vec::with_capacity(self.outcomes.len());
        for (i, o) in self.outcomes.into_iter().enumerate() {
            let Some(server) = context.servers.iter().find(|s| s.source_server_id == o.server) else {
                return Err(format!("outcomes[{i}].server: {} is not a sourceServerId of context.servers", o.server));
            };
            let outcome = match o.outcome {
                SampleLaunch::Launched => LaunchOutcome::Launched,
                SampleLaunch::Failed(why) => LaunchOutcome::Failed(why),
            };
            outcomes.push(ServerOutcome { server: server.clone(), outcome });
        }
        Ok(WaveResult { context, outcomes })
    }
}

/// Tags as an object in document order (`{"Name": "db1"}`, DRS's shape) or a list of
/// `{"Key": ..., "Value": ...}` (EC2's shape).
fn tags<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, String)>, D::Error> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Ec2Tag {
        #[serde(rename = "Key")]
        key: String,
        #[serde(rename = "Value")]
        value: String,
    }
    struct Tags;
    impl<'de> Visitor<'de> for Tags {
        type Value = Vec<(String, String)>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str(r#"an object of string values or a list of {"Key", "Value"}"#)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut tags = Vec::new();
            while let Some(pair) = map.next_entry::<String, String>()? {
                tags.push(pair);
            }
            Ok(tags)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut tags = Vec::new();
            while let Some(tag) = seq.next_element::<Ec2Tag>()? {
                tags.push((tag.key, tag.value));
            }
            Ok(tags)
        }
    }
    d.deserialize_any(Tags)
}

/// serde_json's message with the JSON path of where it stopped (`servers[1].tags`) and the line.
fn describe(text: &str, e: &serde_json::Error) -> String {
    let (line, column) = (e.line(), e.column());
    let message = e.to_string();
    let message = message.strip_suffix(&format!(" at line {line} column {column}")).unwrap_or(&message);
    let offset: usize = text.split_inclusive('\n').take(line.saturating_sub(1)).map(str::len).sum::<usize>() + column;
    match path_at(text, offset) {
        path if path.is_empty() => format!("{message} (line {line})"),
        path => format!("{path}: {message} (line {line})"),
    }
}

/// The JSON path of the innermost value open at byte `offset`: object keys and array indexes.
fn path_at(text: &str, offset: usize) -> String {
    enum Frame {
        Object { key: Option<String>, want_key: bool },
        Array { index: usize },
    }
    let bytes = text.as_bytes();
    let end = offset.min(bytes.len());
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    while i < end {
        match bytes[i] {
            b'"' => {
                let start = i + 1;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                if let Some(Frame::Object { key, want_key: want @ true }) = stack.last_mut() {
                    *key = Some(text[start..i.min(bytes.len())].to_string());
                    *want = false;
                }
            }
            b'{' => stack.push(Frame::Object { key: None, want_key: true }),
            b'[' => stack.push(Frame::Array { index: 0 }),
            b'}' | b']' => {
                stack.pop();
            }
            b',' => match stack.last_mut() {
                Some(Frame::Object { want_key, .. }) => *want_key = true,
                Some(Frame::Array { index }) => *index += 1,
                None => {}
            },
            _ => {}
        }
        i += 1;
    }
    let mut path = String::new();
    for frame in &stack {
        match frame {
            Frame::Object { key: Some(key), .. } => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
            }
            Frame::Object { key: None, .. } => {}
            Frame::Array { index } => path.push_str(&format!("[{index}]")),
        }
    }
    path
}

/// Builds the guest components (hooks/) for the test below. `bench hooks` includes the same
/// file; its module is private to the bench, out of this one's reach.
#[cfg(test)]
#[allow(clippy::duplicate_mod)]
#[path = "../../host/tests/common/build.rs"]
mod test_build;

#[cfg(test)]
mod tests {
    use super::*;

    const BEFORE: &str = include_str!("../../hooks/samples/before-wave.json");
    const AFTER: &str = include_str!("../../hooks/samples/after-wave.json");

    use super::test_build as build;

    /// `hooks check` on a hook that loops: a hook that slept used to panic it ("Cannot start a
    /// runtime from within a runtime": WASI's blocking sleep inside the CLI's async main); now
    /// the call ends at its cap and the command reports the timeout as an error. (A sleep is
    /// refused at once today: a hook's clocks do not move.)
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn check_on_a_looping_hook_reports_the_timeout() {
        let hook = build::build_rust_guests().unwrap().join("hostile_multi.wasm");
        let dir = std::env::temp_dir().join(format!("drs-orch-hooks-check-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let sample = dir.join("loop.json");
        std::fs::write(&sample, BEFORE.replacen("drill-20251224T101500Z-7f3a", "loop", 1)).unwrap();
        let args =
            CheckArgs { hook, context: sample, after: false, sha256: None, cache_dir: Some(dir.join("cache")), timeout_ms: 50 };
        let started = std::time::Instant::now();
        let err = check(args).await.unwrap_err().to_string();
        assert!(err.contains("before-wave failed: hook ran longer than its 50 ms limit"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(20), "load and call took {:?}", started.elapsed());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn err(text: &str, after: bool) -> String {
        Sample::parse(text, after).map(|s| format!("{s:?}")).unwrap_err()
    }

    #[test]
    fn samples_parse() {
        let Sample::Before(c) = Sample::parse(BEFORE, false).unwrap() else { panic!() };
        assert_eq!((c.mode, c.servers.len()), (Mode::Drill, 3));
        // Object tags keep their order; EC2-style tags map to the same pairs.
        assert_eq!(c.servers[0].tags, vec![("Name".into(), "db1".into()), ("Application".into(), "billing".into())]);
        assert_eq!(c.servers[2].tags[1].0, "change-freeze");

        let Sample::After(r) = Sample::parse(AFTER, true).unwrap() else { panic!() };
        assert_eq!(r.outcomes.len(), 3);
        assert_eq!(r.outcomes[1].server.hostname, "app2.acme.internal");
        assert!(matches!(&r.outcomes[2].outcome, LaunchOutcome::Failed(why) if why.contains("Capacity")));
        // before-wave takes a result's context.
        assert!(matches!(Sample::parse(AFTER, false).unwrap(), Sample::Before(c) if c.wave_index == 1));
    }

    #[test]
    fn errors_name_the_field() {
        let e = err(&BEFORE.replacen(r#""sourceServerId": "s-1111111111111111b""#, r#""sourceServerId": 7"#, 1), false);
        assert!(e.starts_with("servers[1].sourceServerId: invalid type: integer `7`"), "{e}");
        let e = err(&BEFORE.replacen(r#""mode": "drill""#, r#""mode": "dril""#, 1), false);
        assert!(e.starts_with("mode: unknown variant `dril`"), "{e}");
        let e = err(&BEFORE.replacen(r#""hostname": "db2.acme.internal","#, "", 1), false);
        assert!(e.starts_with("servers[1]: missing field `hostname`"), "{e}");
        let e = err(&BEFORE.replacen(r#""tags": { "Name": "db1""#, r#""tags": { "Name": 1"#, 1), false);
        assert!(e.starts_with("servers[0].tags.Name: invalid type"), "{e}");
        let e = err(&BEFORE.replacen(r#""tenant""#, r#""tennant""#, 1), false);
        assert!(e.starts_with("tennant: unknown field `tennant`"), "{e}");
        let e = err(&AFTER.replacen(r#""server": "s-4444444444444444f""#, r#""server": "s-nope""#, 1), true);
        assert_eq!(e, "outcomes[2].server: s-nope is not a sourceServerId of context.servers");
        let e = err(&AFTER.replacen(r#""outcome": "launched""#, r#""outcome": "launch""#, 1), true);
        assert!(e.starts_with("outcomes[0].outcome: unknown variant `launch`"), "{e}");
        assert!(err(BEFORE, true).starts_with("--after needs a wave result"));
        assert!(err("{", false).contains("EOF"));
    }
}
