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
            tracing::warn!(path = %path.display(), why, "hook cache entry fails its record; recompiling");
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

/// The compiled bytes of an artifact file, if its record names this component and engine
/// and its digest matches them.
fn verify<'a>(file: &'a [u8], component: &str, engine: &str) -> Result<&'a [u8], String> {
    let end = file.iter().take(MAX_RECORD).position(|b| *b == b'\n').ok_or("no record line")?;
    let (line, body) = (&file[..=end], &file[end + 1..]);
    let expected = record(component, engine, body);
    if line != expected.as_bytes() {
        let found = String::from_utf8_lossy(line);
        return Err(format!("record `{}` does not match `{}`", found.trim_end(), expected.trim_end()));
    }
    Ok(body)
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
        assert!(verify(&file, "bbbb", "e1").unwrap_err().contains("component=aaaa"), "another component's artifact");
        assert!(verify(&file, "aaaa", "e2").is_err(), "another engine's artifact");
        let mut altered = file.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert!(verify(&altered, "aaaa", "e1").is_err(), "altered bytes");
        assert!(verify(&file[..file.len() - 1], "aaaa", "e1").is_err(), "truncated");
        assert!(verify(&body, "aaaa", "e1").is_err(), "no record");
    }
}
