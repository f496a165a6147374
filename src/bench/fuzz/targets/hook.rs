//! What a hook returns, lifted by the real host from a real guest. The host has no pure entry
//! point for this: the lift reads the guest's memory inside wasmtime's call. So the input is
//! laid out as a memory image and handed to an echo component (`hooks/hostile/echo-*.wasm`,
//! built by `host/tests/echo.rs`), which returns it as its decision: any case, pointer,
//! length and bytes, in the string encoding the input picks. The host must lift a decision
//! within bounds or refuse it as an invalid decision (`HookError::BadReturn`, which names the
//! decision); any other failure (a trap, a timeout, the memory cap) is the host failing on a
//! return instead of refusing it, counted as a server error.

use super::{Runner, Verdict};
use drs_host::{Hook, HookError, HookHost, HostConfig, Mode, Server, WaveContext, WaveResult};
use serde_json::Value;
use std::sync::OnceLock;
use std::time::Duration;

/// Where the echo components decode their image (`host/tests/echo.rs`).
const BASE: u32 = 4 << 20;
/// Where the image's data starts, after the decision's 12 bytes.
const DATA: usize = 16;
/// Larger images are cut here: their hex, as the guest's memory holds it in UTF-16, must stay
/// below BASE.
const MAX_IMAGE: usize = 512 << 10;
/// The canonical ABI's mark of a UTF-16 string in a Latin-1 + UTF-16 guest.
const UTF16_TAG: u32 = 1 << 31;

/// The wave's servers: a skip list may name these.
const SERVERS: [&str; 3] = ["s-1111111111111111a", "s-2222222222222222b", "s-3333333333333333c"];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Utf8,
    Utf16,
    Latin1,
}

struct Echo {
    host: HookHost,
    hooks: Vec<(Encoding, Hook)>,
}

/// One host and the three echo hooks for the whole process: loading compiles (or reads the
/// cache), which is not what is measured here.
fn echo() -> Result<&'static Echo, String> {
    static ECHO: OnceLock<Result<Echo, String>> = OnceLock::new();
    ECHO.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("hooks/hostile");
        // Timing is the fuzzer's to judge (a slow input is a hang): the host's cap stays far out.
        let config = HostConfig { call_timeout: Duration::from_secs(10), ..HostConfig::new(drs_host::default_cache_dir()) };
        let host = HookHost::new(config).map_err(|e| format!("the hook host: {e:#}"))?;
        let mut hooks = vec![];
        for (encoding, name) in
            [(Encoding::Utf8, "echo-utf8"), (Encoding::Utf16, "echo-utf16"), (Encoding::Latin1, "echo-latin1")]
        {
            let bytes = std::fs::read(dir.join(format!("{name}.wasm"))).map_err(|e| format!("{name}.wasm: {e}"))?;
            let hook = host.load(&bytes, &drs_host::sha256_hex(&bytes)).map_err(|e| format!("{name}.wasm: {e}"))?;
            hooks.push((encoding, hook));
        }
        Ok(Echo { host, hooks })
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// `{"encoding": "utf8" | "utf16" | "latin1", "call": "before" | "after", <case>: <payload>}`
/// with one case of `proceed`, `skip`, `delay`, `pause`, `abort`, or `case` (a raw
/// discriminant, its payload in `payload`). A payload is laid out as the guest would (a
/// string in the guest's encoding, a list of pointer pairs), or given raw: `{"ptr": <offset
/// from the image's start>, "len": n}` for a pointer pair, `{"bytes": "<hex>"}` for bytes.
pub(super) fn hook_result() -> Runner {
    // A host that cannot load its hooks ends the worker: the run counts it lost.
    let echo = echo().expect("the echo hooks in hooks/hostile load (host/tests/echo.rs builds them)");
    Box::new(move |_, m| {
        let encoding = match m.value.get("encoding").and_then(Value::as_str) {
            Some("utf16") => Encoding::Utf16,
            Some("latin1") => Encoding::Latin1,
            _ => Encoding::Utf8,
        };
        let mut image = Image::new(encoding);
        image.decision(&m.value);
        let hex = image.hex();
        let Some((_, hook)) = echo.hooks.iter().find(|(e, _)| *e == encoding) else {
            return Verdict::ServerError("no echo hook for the encoding".into());
        };
        let context = context(hex);
        super::super::engine::begin();
        let called = match m.value.get("call").and_then(Value::as_str) {
            Some("after") => echo.host.after_wave(hook, &WaveResult { context, outcomes: vec![] }),
            _ => echo.host.before_wave(hook, &context),
        };
        match called {
            Ok(_) => Verdict::Accepted,
            Err(e @ HookError::BadReturn(_)) => Verdict::Rejected(e.to_string()),
            Err(e) => Verdict::ServerError(format!("the host failed instead of refusing the return: {e}")),
        }
    })
}

fn context(execution_id: String) -> WaveContext {
    let servers = SERVERS
        .iter()
        .map(|id| Server {
            account: "200000000001".into(),
            region: "us-east-1".into(),
            hostname: format!("{id}.example.internal"),
            source_server_id: (*id).into(),
            tags: vec![],
        })
        .collect();
    WaveContext {
        execution_id,
        tenant: "fuzz".into(),
        mode: Mode::Drill,
        wave_index: 0,
        now: 1_796_083_200,
        wave_name: "fuzz".into(),
        servers,
    }
}

/// The guest's memory from BASE on, as the input describes it.
struct Image {
    encoding: Encoding,
    bytes: Vec<u8>,
}

impl Image {
    fn new(encoding: Encoding) -> Image {
        Image { encoding, bytes: vec![0; DATA] }
    }

    fn hex(&self) -> String {
        self.bytes.iter().take(MAX_IMAGE).map(|b| format!("{b:02x}")).collect()
    }

    /// The decision at the image's start: its case, and its payload at offset 4.
    fn decision(&mut self, v: &Value) {
        const CASES: [&str; 5] = ["proceed", "skip", "delay", "pause", "abort"];
        let found = CASES.iter().enumerate().find_map(|(i, c)| v.get(*c).map(|p| (i as u8, p)));
        let (case, payload) = match found {
            Some(found) => found,
            None => (v.get("case").map_or(0, |c| number(c) as u8), v.get("payload").unwrap_or(&Value::Null)),
        };
        self.bytes[0] = case;
        let (a, b) = match case {
            1 => self.list(payload),
            2 => (number(payload), 0),
            3 | 4 => self.string(payload),
            _ => self.raw_pair(payload),
        };
        self.put(4, a);
        self.put(8, b);
    }

    fn put(&mut self, at: usize, word: u32) {
        if let Some(slot) = self.bytes.get_mut(at..at + 4) {
            slot.copy_from_slice(&word.to_le_bytes());
        }
    }

    /// Appends `data` aligned to `align`; its address.
    fn append(&mut self, data: &[u8], align: usize) -> u32 {
        while !self.bytes.len().is_multiple_of(align) {
            self.bytes.push(0);
        }
        let at = self.bytes.len();
        self.bytes.extend_from_slice(data);
        BASE.wrapping_add(at as u32)
    }

    /// A pointer pair given raw (`{"ptr", "len"}`, the pointer from the image's start), or
    /// bytes (`{"bytes": hex}`) and their length.
    fn raw_pair(&mut self, v: &Value) -> (u32, u32) {
        if let Some(hex) = v.get("bytes").and_then(Value::as_str) {
            let bytes: Vec<u8> =
                (0..hex.len() / 2).filter_map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()).collect();
            return (self.append(&bytes, 2), bytes.len() as u32);
        }
        let ptr = v.get("ptr").map_or(0, number);
        (BASE.wrapping_add(ptr), v.get("len").map_or(0, number))
    }

    /// A string: text laid out in the guest's encoding, a number as the length of whatever
    /// lies at the data's start, anything else raw.
    fn string(&mut self, v: &Value) -> (u32, u32) {
        match v {
            Value::String(s) => self.text(s),
            Value::Number(_) => (BASE + DATA as u32, number(v)),
            _ => self.raw_pair(v),
        }
    }

    fn text(&mut self, s: &str) -> (u32, u32) {
        let utf16 = |s: &str| s.encode_utf16().flat_map(u16::to_le_bytes).collect::<Vec<u8>>();
        match self.encoding {
            Encoding::Utf8 => (self.append(s.as_bytes(), 1), s.len() as u32),
            Encoding::Utf16 => (self.append(&utf16(s), 2), s.encode_utf16().count() as u32),
            Encoding::Latin1 => match s.chars().map(|c| u8::try_from(c as u32).ok()).collect::<Option<Vec<u8>>>() {
                Some(latin1) => (self.append(&latin1, 2), latin1.len() as u32),
                None => (self.append(&utf16(s), 2), s.encode_utf16().count() as u32 | UTF16_TAG),
            },
        }
    }

    /// A list of strings: its items' pointer pairs, then their texts. A number is the length of
    /// a list at the data's start; anything but an array, a raw pair.
    fn list(&mut self, v: &Value) -> (u32, u32) {
        let items = match v {
            Value::Array(items) => items,
            Value::Number(_) => return (BASE + DATA as u32, number(v)),
            Value::String(s) => return self.list(&Value::Array(vec![Value::String(s.clone())])),
            _ => return self.raw_pair(v),
        };
        let pairs = self.append(&vec![0; items.len() * 8], 4);
        let first = (pairs - BASE) as usize;
        for (n, item) in items.iter().enumerate() {
            let (ptr, len) = self.string(item);
            self.put(first + 8 * n, ptr);
            self.put(first + 8 * n + 4, len);
        }
        (pairs, items.len() as u32)
    }
}

/// A JSON number as the u32 a guest would write: wrapping, negative numbers from the top.
fn number(v: &Value) -> u32 {
    v.as_u64()
        .map(|n| n as u32)
        .or_else(|| v.as_i64().map(|n| n as u32))
        .or_else(|| v.as_f64().map(|f| f as i64 as u32))
        .unwrap_or(0)
}
