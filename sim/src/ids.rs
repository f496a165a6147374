//! Identifiers in the shapes AWS uses (`s-` + 17 alphanumerics, `drsjob-` + 17, `i-` + 17 hex).

use rand::distr::{Alphanumeric, SampleString};
use rand::Rng;
use sha2::{Digest, Sha256};

pub fn alnum(n: usize) -> String {
    Alphanumeric.sample_string(&mut rand::rng(), n)
}

pub fn upper_alnum(n: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut rng = rand::rng();
    (0..n).map(|_| CHARS[rng.random_range(0..CHARS.len())] as char).collect()
}

pub fn secret(n: usize) -> String {
    alnum(n)
}

pub fn hex_id(n: usize) -> String {
    let mut rng = rand::rng();
    (0..n).map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0')).collect()
}

pub fn job_id() -> String {
    format!("drsjob-{}", alnum(17))
}

pub fn instance_id() -> String {
    format!("i-{}", hex_id(17))
}

pub fn request_id() -> String {
    format!("{}-{}-{}-{}-{}", hex_id(8), hex_id(4), hex_id(4), hex_id(4), hex_id(12))
}

/// Stable IDs derived from a name, so a fleet file without IDs gets the same ones each run.
pub fn stable_alnum(seed: &str, n: usize) -> String {
    const CHARS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    Sha256::digest(seed.as_bytes()).iter().take(n).map(|b| CHARS[*b as usize % CHARS.len()] as char).collect()
}

pub fn stable_hex(seed: &str, n: usize) -> String {
    hex::encode(Sha256::digest(seed.as_bytes()))[..n].to_string()
}

pub fn stable_source_server_id(account: &str, region: &str, hostname: &str) -> String {
    format!("s-{}", stable_alnum(&format!("{account}/{region}/{hostname}"), 17))
}

pub fn stable_instance_id(seed: &str) -> String {
    format!("i-{}", stable_hex(seed, 17))
}
