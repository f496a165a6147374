//! SHA-256 pins and the compiled-component cache.
//!
//! A cached artifact is native code that wasmtime loads without validation, so the cache
//! directory must be writable only by the module, never by tenants. The file name carries
//! the component hash and a hash of the engine's compatibility settings, so a wasmtime
//! upgrade or a config change misses the cache instead of loading incompatible code. Beside
//! each artifact, `<name>.lock` serializes its compile between loaders.

use crate::error::HookError;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
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

pub fn cache_path(dir: &Path, engine: &Engine, sha256: &str) -> PathBuf {
    let mut h = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    dir.join(format!("{sha256}-{:016x}.cwasm", h.finish()))
}

/// Deserialize from the cache, or compile and store. A corrupt cache entry is recompiled.
/// Loads racing on a missing entry (threads of one process, or processes sharing the
/// directory) compile it once: the first compiles under the entry's lock, the others wait
/// and then read its file.
pub fn load(dir: &Path, engine: &Engine, bytes: &[u8], sha256: &str) -> Result<(Component, LoadSource), HookError> {
    let path = cache_path(dir, engine, sha256);
    if let Some(component) = cached(engine, &path) {
        return Ok((component, LoadSource::Cache));
    }
    let _lock = lock(&path)?;
    if let Some(component) = cached(engine, &path) {
        return Ok((component, LoadSource::Cache));
    }
    let compiled = engine.precompile_component(bytes).map_err(|e| HookError::Invalid(format!("{e:#}")))?;
    store(&path, &compiled)?;
    // SAFETY: `compiled` came from this engine's precompile_component just above.
    let component = unsafe { Component::deserialize(engine, &compiled) }.map_err(|e| HookError::Invalid(format!("{e:#}")))?;
    Ok((component, LoadSource::Compiled))
}

/// The cache entry, if there is a usable one.
fn cached(engine: &Engine, path: &Path) -> Option<Component> {
    if !path.exists() {
        return None;
    }
    // SAFETY: the file was written by `store` below from our own compile, in a directory
    // only the module writes (see the module doc).
    match unsafe { Component::deserialize_file(engine, path) } {
        Ok(component) => Some(component),
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "hook cache entry unusable; recompiling");
            None
        }
    }
}

/// An exclusive lock on the entry's lock file, held until the guard drops.
fn lock(path: &Path) -> Result<File, HookError> {
    let lock_path = path.with_extension("lock");
    let err = |e: std::io::Error| HookError::Cache { path: lock_path.clone(), message: e.to_string() };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let file = File::create(&lock_path).map_err(err)?;
    file.lock().map_err(err)?;
    Ok(file)
}

/// Write via a temporary file of this writer's own and rename, so a concurrent reader never
/// sees half a file and two writers never share one temporary (one would rename the other's
/// away, half-written, and fail its own rename).
fn store(path: &Path, compiled: &[u8]) -> Result<(), HookError> {
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let err = |e: std::io::Error| HookError::Cache { path: path.to_path_buf(), message: e.to_string() };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let n = WRITES.fetch_add(1, Ordering::Relaxed);
    let tmp = path.with_extension(format!("tmp{}-{n}", std::process::id()));
    let written = std::fs::write(&tmp, compiled).and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written.map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Barrier};

    /// Writers racing on one artifact (threads of one process) each rename a whole file of
    /// their own into place: none fails and the file is always complete.
    #[test]
    fn concurrent_stores_of_one_artifact_all_succeed() {
        let dir = std::env::temp_dir().join(format!("drs-host-cache-race-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
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
}
