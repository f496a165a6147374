//! Structure-aware mutations of a JSON seed: fields dropped, duplicated, renamed in another
//! case, retyped; numbers at the edges; strings long, empty, unicode or control characters;
//! deep nesting; subtrees spliced from other seeds. Text targets also get raw byte mutations
//! (flip, truncate, insert, cut). Every choice comes from the caller's seeded RNG, so an
//! input is reproduced from its target, seed and index alone.

use rand::rngs::StdRng;
use rand::Rng;
use serde_json::{json, Map, Value};

/// Deeper than this is past the JSON parsers' own limit (128) and would only test the
/// stack of `Drop`; inputs arriving as text never get there.
const MAX_NEST: usize = 100;
const MAX_INPUT: usize = 2 << 20;

const NUMBERS: &[&str] = &[
    "0",
    "-1",
    "1",
    "2147483647",
    "4294967296",
    "9007199254740993",
    "18446744073709551615",
    "-9223372036854775808",
    "1e308",
    "-1e308",
    "1.5",
    "0.1",
    "1e-300",
    "-0.0",
    "43201",
    "1000001",
];

const STRINGS: &[&str] = &[
    "",
    " ",
    "é",
    "\u{0}",
    "\u{202e}evil",
    "🦀🦀🦀",
    "NaN",
    "Infinity",
    "-1",
    "1e999",
    "s-1111111111111111a",
    "i-0123456789abcdef0",
    "200000000001",
    "us-east-1",
    "2026-11-28T10:00:00Z",
    "{project}-{accountId}",
    "../../etc/passwd",
    "\\",
    "\"",
    "%ff%00%",
    "a=b&c",
    "<x>&amp;</x>",
    "true",
    "null",
];

/// One input: the mutated value and, for text targets, its text (raw mutations included).
pub struct Mutant {
    pub value: Value,
    pub text: String,
}

pub fn mutate(rng: &mut StdRng, seeds: &[Value], seed: usize, raw: bool) -> Mutant {
    let mut value = seeds[seed].clone();
    for _ in 0..rng.random_range(1..=4) {
        let depth = rng.random_range(0..8);
        let donor = seeds[rng.random_range(0..seeds.len())].clone();
        let before = value.clone();
        mutate_at(rng, &mut value, depth, &donor, 0);
        // Stacked duplications grow without bound (5,000 copies of 5,000 copies): an input
        // stays under a few MB, past what any entry point accepts anyway.
        if value.to_string().len() > MAX_INPUT {
            value = before;
        }
    }
    let mut text = value.to_string();
    if raw && rng.random_bool(0.25) {
        text = mutate_bytes(rng, text.into_bytes());
    }
    Mutant { value, text }
}

/// Walks down `depth` levels (fewer where the tree ends) and mutates the node reached.
fn mutate_at(rng: &mut StdRng, v: &mut Value, depth: usize, donor: &Value, level: usize) {
    if depth > 0 {
        let child = match v {
            Value::Object(m) if !m.is_empty() => {
                let i = rng.random_range(0..m.len());
                m.values_mut().nth(i)
            }
            Value::Array(a) if !a.is_empty() => {
                let i = rng.random_range(0..a.len());
                a.get_mut(i)
            }
            _ => None,
        };
        if let Some(child) = child {
            return mutate_at(rng, child, depth - 1, donor, level + 1);
        }
    }
    mutate_node(rng, v, donor, level);
}

fn mutate_node(rng: &mut StdRng, v: &mut Value, donor: &Value, level: usize) {
    match rng.random_range(0..10) {
        0 | 1 => container(rng, v),
        2 => *v = number(rng),
        3 => *v = Value::String(string(rng, v.as_str())),
        4 => *v = retype(rng, v),
        5 if level < MAX_NEST - 40 => {
            let mut inner = std::mem::take(v);
            for _ in 0..rng.random_range(1..40) {
                inner = if rng.random_bool(0.5) { json!([inner]) } else { json!({ "zz_nest": inner }) };
            }
            *v = inner;
        }
        6 => *v = pick(rng, donor).clone(),
        7 => {
            if let Value::Array(a) = v {
                if let Some(first) = a.first().cloned() {
                    let n = if rng.random_bool(0.1) { 5000 } else { rng.random_range(1..50) };
                    // The copies stay within the input's bound: 5,000 copies of a large
                    // member would be gigabytes before the bound could be checked.
                    let n = n.min(MAX_INPUT / first.to_string().len().max(1));
                    a.extend(std::iter::repeat_n(first, n));
                }
            }
        }
        _ => {
            if let Some(s) = v.as_str() {
                *v = Value::String(string(rng, Some(s)));
            } else {
                container(rng, v);
            }
        }
    }
}

/// Drops, duplicates or recases an object's key; drops or duplicates an array's member.
fn container(rng: &mut StdRng, v: &mut Value) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            let keys: Vec<String> = m.keys().cloned().collect();
            let key = &keys[rng.random_range(0..keys.len())];
            match rng.random_range(0..4) {
                0 => {
                    m.remove(key);
                }
                1 => {
                    let x = m[key].clone();
                    m.insert(recase(rng, key), x);
                }
                2 => {
                    if let Some(x) = m.remove(key) {
                        m.insert(recase(rng, key), x);
                    }
                }
                _ => {
                    let x = m[key].clone();
                    m.insert(format!("{key}{}", rng.random_range(0..3)), x);
                }
            }
        }
        Value::Array(a) if !a.is_empty() => {
            let i = rng.random_range(0..a.len());
            if rng.random_bool(0.5) {
                a.remove(i);
            } else {
                let x = a[i].clone();
                a.insert(i, x);
            }
        }
        _ => *v = retype(rng, v),
    }
}

fn recase(rng: &mut StdRng, key: &str) -> String {
    match rng.random_range(0..3) {
        0 => key.to_ascii_lowercase(),
        1 => key.to_ascii_uppercase(),
        _ => key.chars().map(|c| if c.is_ascii_lowercase() { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() }).collect(),
    }
}

fn number(rng: &mut StdRng) -> Value {
    serde_json::from_str(NUMBERS[rng.random_range(0..NUMBERS.len())]).unwrap_or(Value::Null)
}

fn string(rng: &mut StdRng, from: Option<&str>) -> String {
    let base = from.unwrap_or_default();
    match rng.random_range(0..7) {
        0 => STRINGS[rng.random_range(0..STRINGS.len())].to_owned(),
        1 => base.repeat(rng.random_range(2..200)).chars().take(20_000).collect(),
        2 => "x".repeat(if rng.random_bool(0.2) { 300_000 } else { rng.random_range(1..2000) }),
        3 => {
            let cut = rng.random_range(0..=base.chars().count());
            base.chars().take(cut).collect()
        }
        4 => format!("{base}{}", STRINGS[rng.random_range(0..STRINGS.len())]),
        5 => base.to_uppercase(),
        _ => {
            let mut chars: Vec<char> = base.chars().collect();
            if !chars.is_empty() {
                let i = rng.random_range(0..chars.len());
                chars[i] = char::from_u32(rng.random_range(0..0x3_0000)).unwrap_or('\u{fffd}');
            }
            chars.into_iter().collect()
        }
    }
}

fn retype(rng: &mut StdRng, v: &Value) -> Value {
    match rng.random_range(0..7) {
        0 => Value::Null,
        1 => Value::Bool(rng.random_bool(0.5)),
        2 => number(rng),
        3 => Value::String(v.to_string()),
        4 => json!([v.clone()]),
        5 => Value::Object(Map::new()),
        _ => json!([]),
    }
}

/// A random node of `v` (the root included).
fn pick<'a>(rng: &mut StdRng, v: &'a Value) -> &'a Value {
    let mut node = v;
    for _ in 0..rng.random_range(0..6) {
        let next = match node {
            Value::Object(m) if !m.is_empty() => m.values().nth(rng.random_range(0..m.len())),
            Value::Array(a) if !a.is_empty() => a.get(rng.random_range(0..a.len())),
            _ => None,
        };
        match next {
            Some(n) => node = n,
            None => break,
        }
    }
    node
}

const INSERTS: &[&[u8]] =
    &[b"{", b"}", b"[", b"]", b"\"", b"\\", b":", b",", b"\xff", b"\0", b"NaN", b"1e999999", b"-", b"\\u0000", b"\n", b"%"];

fn mutate_bytes(rng: &mut StdRng, mut b: Vec<u8>) -> String {
    for _ in 0..rng.random_range(1..=3) {
        if b.is_empty() {
            break;
        }
        let i = rng.random_range(0..b.len());
        match rng.random_range(0..5) {
            0 => b[i] ^= 1 << rng.random_range(0..8),
            1 => b.truncate(i),
            2 => {
                let ins = INSERTS[rng.random_range(0..INSERTS.len())];
                b.splice(i..i, ins.iter().copied());
            }
            3 => {
                let end = rng.random_range(i..=b.len().min(i + 64));
                b.drain(i..end);
            }
            _ => {
                let end = rng.random_range(i..=b.len().min(i + 64));
                let part = b[i..end].to_vec();
                b.splice(i..i, part);
            }
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}
