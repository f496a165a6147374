//! SHA-256 pins and the compiled-component cache.
//!
//! What the cache trusts, and why. A cached artifact is native code that wasmtime maps and
//! runs without validating it (`Component::deserialize` is unsafe), so an artifact must be
//! exactly what this host compiled from the pinned component:
//! - the directory is this user's alone (`private_dir.rs`: 0700, refused when it is a link,
//!   another user's or writable by others), so only this user (or root) can put a file there;
//! - each file opens with a record written with it: the component's SHA-256 (its pin), the
//!   engine's compatibility hash and the SHA-256 of the compiled bytes that follow. A load
//!   reads the file once (no link followed), checks all three, and deserializes those same
//!   bytes from memory (no second read that could differ). An artifact of hook A copied
//!   over hook B's name names A's component, and is recompiled as B; a truncated or altered
//!   one fails its digest and is recompiled;
//! - files are written to a temporary name no one can predict, created exclusively (an
//!   existing file or link there fails the create instead of being followed), then renamed
//!   into place: a reader never sees half a file.
//!
//! What it does not defend against: someone running as this user, who could write a
//! matching record as easily (and could as well change the binary). The file name carries
//! the component hash and the engine hash, so a wasmtime upgrade or a config change misses
//! the cache instead of loading incompatible code. Beside each artifact, `<name>.lock`
//! serializes its compile between loaders.

use crate::error::HookError;
use crate::private_dir;
use sha2::{Digest, Sha256};
use std::fs::{File, OpenOptions};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use wasmtime::component::Component;
use wasmtime::Engine;

/// Where a loaded component came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadSource {
    /// Compiled by Cranelift now (and written to the cache).
    Compiled,
    /// Deserialized from the cache.
    Cache,
}

/// The first line of an artifact file names its format.
const MAGIC: &str = "drs-hook-artifact 1";
/// A record line longer than this is not one of ours.
const MAX_RECORD: usize = 512;
/// Larger files are not read (the JavaScript hook's artifact is tens of MB).
const MAX_ARTIFACT_BYTES: u64 = 1 << 30;

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Check the pin before anything parses the bytes. Returns the hash.
pub fn check_pin(bytes: &[u8], pin: &str) -> Result<String, HookError> {
    let actual = sha256_hex(bytes);
    let pin = pin.trim().to_ascii_lowercase();
    let expected = pin.trim_start_matches("sha256:").to_string();
    if actual != expected {
        return Err(HookError::PinMismatch { expected, actual });
    }
    Ok(actual)
}

fn engine_hash(engine: &Engine) -> String {
    let mut h = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    format!("{:016x}", h.finish())
}

pub fn cache_path(dir: &Path, engine: &Engine, sha256: &str) -> PathBuf {
    dir.join(format!("{sha256}-{}.cwasm", engine_hash(engine)))
}

/// The record an artifact file opens with.
fn record(component: &str, engine: &str, body: &[u8]) -> String {
    format!("{MAGIC} component={component} engine={engine} sha256={}\n", sha256_hex(body))
}

/// Deserialize from the cache, or compile and store. An entry that is missing, unreadable or
/// fails its record is recompiled (and replaced). Loads racing on a missing entry (threads of
/// one process, or processes sharing the directory) compile it once: the first compiles under
/// the entry's lock, the others wait and then read its file.
pub fn load(dir: &Path, engine: &Engine, bytes: &[u8], sha256: &str) -> Result<(Component, LoadSource), HookError> {
    private_dir::ensure(dir)?;
    let path = cache_path(dir, engine, sha256);
    if let Some(component) = cached(engine, &path, sha256) {
        return Ok((component, LoadSource::Cache));
    }
    let _lock = lock(&path)?;
    if let Some(component) = cached(engine, &path, sha256) {
        return Ok((component, LoadSource::Cache));
    }
    let compiled = engine.precompile_component(bytes).map_err(|e| HookError::Invalid(format!("{e:#}")))?;
    let mut file = record(sha256, &engine_hash(engine), &compiled).into_bytes();
    file.extend_from_slice(&compiled);
    store(&path, &file)?;
    // SAFETY: `compiled` came from this engine's precompile_component just above, in memory.
    let component = unsafe { Component::deserialize(engine, &compiled) }.map_err(|e| HookError::Invalid(format!("{e:#}")))?;
    Ok((component, LoadSource::Compiled))
}

/// The cache entry, if there is one that passes its record.
fn cached(engine: &Engine, path: &Path, sha256: &str) -> Option<Component> {
    let file = match read_artifact(path) {
        Ok(file) => file?,
        Err(why) => {
            tracing::warn!(path = %path.display(), why, "hook cache entry unusable; recompiling");
            return None;
        }
    };
    let body = match verify(&file, sha256, &engine_hash(engine)) {
        Ok(body) => body,
        Err(why) => {
            tracing::warn!(path = %path.display(), %why, "hook cache entry fails its record; recompiling");
            return None;
        }
    };
    // SAFETY: `body` is the very buffer whose SHA-256 `verify` just checked against the record
    // written with it when this host's engine compiled the component the caller pinned (same
    // component hash, same engine compatibility hash), in a directory only this user can
    // write (`private_dir::ensure`). It is therefore this engine's own precompile output;
    // only someone running as this user could have forged file and record together. That
    // digest check, not the directory alone, is what makes this sound against a swapped or
    // corrupt file.
    match unsafe { Component::deserialize(engine, body) } {
        Ok(component) => Some(component),
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "hook cache entry unusable; recompiling");
            None
        }
    }
}

/// The whole file, opened without following a link; None when there is none.
fn read_artifact(path: &Path) -> Result<Option<Vec<u8>>, String> {
    let opened = OpenOptions::new().read(true).custom_flags(nofollow()).open(path);
    let mut file = match opened {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("open: {e} (a symbolic link is refused)")),
    };
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if meta.uid() != private_dir::euid() || meta.mode() & 0o022 != 0 {
        return Err(format!("owned by uid {} with mode {:o}: not a file this user wrote", meta.uid(), meta.mode() & 0o7777));
    }
    if meta.len() > MAX_ARTIFACT_BYTES {
        return Err(format!("{} bytes, more than an artifact can be", meta.len()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    Ok(Some(bytes))
}

/// Why an artifact file's record does not vouch for the bytes after it. Each names the part
/// of the record at fault; what the file says is quoted escaped and cut.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// No line end in the first bytes: not a file this cache wrote.
    #[error("record: no line end in the first {MAX_RECORD} bytes")]
    NoLine,
    /// The line is not `drs-hook-artifact 1 component=.. engine=.. sha256=..`.
    #[error("record: `{found}` is not `{MAGIC} component=<sha256> engine=<hash> sha256=<sha256>`")]
    Format { found: String },
    /// Another component's artifact (copied over this one's name).
    #[error("component: the record names {found}, not {expected}")]
    Component { found: String, expected: String },
    /// Another engine's artifact.
    #[error("engine: the record names {found}, not {expected}")]
    Engine { found: String, expected: String },
    /// The bytes after the record are not those it was written with (altered or truncated).
    #[error("sha256: the record says {found}; the bytes after it hash to {actual}")]
    Digest { found: String, actual: String },
}

/// The compiled bytes of an artifact file, if its record names this component and engine
/// and its digest matches them.
pub fn verify<'a>(file: &'a [u8], component: &str, engine: &str) -> Result<&'a [u8], RecordError> {
    let end = file.iter().take(MAX_RECORD).position(|b| *b == b'\n').ok_or(RecordError::NoLine)?;
    let (line, body) = (&file[..end], &file[end + 1..]);
    let bad = || RecordError::Format { found: quoted(line) };
    let text = std::str::from_utf8(line).map_err(|_| bad())?;
    let fields: Vec<&str> = text.strip_prefix(MAGIC).and_then(|t| t.strip_prefix(' ')).ok_or_else(bad)?.split(' ').collect();
    let [found_component, found_engine, found_digest] = fields.as_slice() else { return Err(bad()) };
    let value = |field: &str, key: &str| field.strip_prefix(key).and_then(|f| f.strip_prefix('=')).map(str::to_owned);
    let (Some(c), Some(e), Some(d)) =
        (value(found_component, "component"), value(found_engine, "engine"), value(found_digest, "sha256"))
    else {
        return Err(bad());
    };
    if c != component {
        return Err(RecordError::Component { found: quoted(c.as_bytes()), expected: component.to_owned() });
    }
    if e != engine {
        return Err(RecordError::Engine { found: quoted(e.as_bytes()), expected: engine.to_owned() });
    }
    let actual = sha256_hex(body);
    if d != actual {
        return Err(RecordError::Digest { found: quoted(d.as_bytes()), actual });
    }
    // What passed field by field is the very line this cache writes.
    if file[..=end] != *record(component, engine, body).as_bytes() {
        return Err(bad());
    }
    Ok(body)
}

/// What a record says, for a message: escaped, and cut to a few dozen characters.
fn quoted(bytes: &[u8]) -> String {
    let text: String = String::from_utf8_lossy(bytes).escape_debug().collect();
    match text.char_indices().nth(80) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text,
    }
}

/// O_NOFOLLOW: open the file itself, never what a link in its place points to.
fn nofollow() -> i32 {
    rustix::fs::OFlags::NOFOLLOW.bits() as i32
}

/// An exclusive lock on the entry's lock file, held until the guard drops.
fn lock(path: &Path) -> Result<File, HookError> {
    let lock_path = path.with_extension("lock");
    let err = |e: std::io::Error| HookError::Cache { path: lock_path.clone(), message: e.to_string() };
    // Not truncated (another loader may hold it), not followed if a link.
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(nofollow())
        .open(&lock_path);
    let file = file.map_err(err)?;
    file.lock().map_err(err)?;
    Ok(file)
}

/// Write via a temporary file of this writer's own and rename, so a concurrent reader never
/// sees half a file and two writers never share one temporary. The temporary's name has 128
/// random bits, and it is created exclusively: a file or link planted at that name fails the
/// write rather than being written through.
fn store(path: &Path, contents: &[u8]) -> Result<(), HookError> {
    let err = |e: std::io::Error| HookError::Cache { path: path.to_path_buf(), message: e.to_string() };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.{:032x}.tmp", rand::random::<u128>()));
    let written = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(nofollow())
        .open(&tmp)
        .and_then(|mut f| f.write_all(contents))
        .and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written.map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Barrier};

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("drs-host-cache-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        private_dir::ensure(&dir).unwrap();
        dir
    }

    /// Writers racing on one artifact (threads of one process) each rename a whole file of
    /// their own into place: none fails and the file is always complete.
    #[test]
    fn concurrent_stores_of_one_artifact_all_succeed() {
        let dir = scratch("race");
        let path = dir.join("artifact.cwasm");
        let artifact = Arc::new(vec![7u8; 256 << 10]);
        let threads = 4;
        let barrier = Arc::new(Barrier::new(threads));
        let writers: Vec<_> = (0..threads)
            .map(|_| {
                let (path, artifact, barrier) = (path.clone(), artifact.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    (0..50).map(|_| store(&path, &artifact)).collect::<Result<Vec<()>, _>>()
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap().unwrap();
        }
        assert_eq!(std::fs::read(&path).unwrap(), *artifact);
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, ["artifact.cwasm"], "no temporary files are left");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The old temporary name (`<name>.tmp<pid>-<n>`) could be guessed: a link planted there
    /// made the cache write through it into any file this user could write. No name is
    /// followed now, and the victim is untouched.
    #[test]
    fn a_planted_link_is_not_written_through() {
        let dir = scratch("plant");
        let victim = dir.join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        let path = dir.join("artifact.cwasm");
        for n in 0..4 {
            let _ = std::os::unix::fs::symlink(&victim, path.with_extension(format!("tmp{}-{n}", std::process::id())));
        }
        std::os::unix::fs::symlink(&victim, path.with_extension("lock")).unwrap();
        store(&path, b"artifact").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"artifact");
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        assert!(lock(&path).is_err(), "a lock file that is a link is refused");
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        // A link in the artifact's own place is not read either.
        std::fs::remove_file(&path).unwrap();
        std::os::unix::fs::symlink(&victim, &path).unwrap();
        assert!(read_artifact(&path).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_record_binds_component_engine_and_bytes() {
        let body = b"compiled bytes".to_vec();
        let mut file = record("aaaa", "e1", &body).into_bytes();
        file.extend_from_slice(&body);
        assert_eq!(verify(&file, "aaaa", "e1").unwrap(), body);
        let other = verify(&file, "bbbb", "e1").unwrap_err();
        assert_eq!(other, RecordError::Component { found: "aaaa".into(), expected: "bbbb".into() }, "another component's");
        assert!(other.to_string().starts_with("component: "), "{other}");
        assert!(matches!(verify(&file, "aaaa", "e2"), Err(RecordError::Engine { .. })), "another engine's artifact");
        let mut altered = file.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert!(matches!(verify(&altered, "aaaa", "e1"), Err(RecordError::Digest { .. })), "altered bytes");
        assert!(matches!(verify(&file[..file.len() - 1], "aaaa", "e1"), Err(RecordError::Digest { .. })), "truncated");
        assert_eq!(verify(&body, "aaaa", "e1"), Err(RecordError::NoLine), "no record");
    }

    /// Only the line this cache writes passes: an extra space, a field out of order or added, a
    /// second `=`, a CR before the line end, another version, each refused naming its part.
    #[test]
    fn a_record_in_any_other_shape_is_refused_as_its_format() {
        let body = b"compiled bytes";
        let digest = sha256_hex(body);
        for line in [
            format!("{MAGIC}  component=aaaa engine=e1 sha256={digest}"),
            format!("{MAGIC} engine=e1 component=aaaa sha256={digest}"),
            format!("{MAGIC} component==aaaa engine=e1 sha256={digest}"),
            format!("{MAGIC} component=aaaa engine=e1 sha256={digest}\r"),
            format!("drs-hook-artifact 2 component=aaaa engine=e1 sha256={digest}"),
            format!("{MAGIC} component=aaaa engine=e1 sha256={digest} extra=1"),
        ] {
            let mut file = format!("{line}\n").into_bytes();
            file.extend_from_slice(body);
            let e = verify(&file, "aaaa", "e1").unwrap_err().to_string();
            assert!(["record: ", "component: ", "sha256: "].iter().any(|field| e.starts_with(field)), "{line}: {e}");
        }
        let mut hostile = b"drs-hook-artifact 1 component=\x1b[31m".to_vec();
        hostile.extend_from_slice(&[b'x'; 400]);
        hostile.extend_from_slice(b" engine=e1 sha256=0\n");
        let shown = verify(&hostile, "aaaa", "e1").unwrap_err().to_string();
        assert!(!shown.contains('\x1b') && shown.len() < 200, "{shown}");
    }
}
