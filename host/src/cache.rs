//! SHA-256 pins and the compiled-component cache.
//!
//! A cached artifact is native code that wasmtime loads without validation, so the cache
//! directory must be writable only by the module, never by tenants. The file name carries
//! the component hash and a hash of the engine's compatibility settings, so a wasmtime
//! upgrade or a config change misses the cache instead of loading incompatible code.

use crate::error::HookError;
use sha2::{Digest, Sha256};
use std::hash::{DefaultHasher, Hash, Hasher};
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
pub fn load(dir: &Path, engine: &Engine, bytes: &[u8], sha256: &str) -> Result<(Component, LoadSource), HookError> {
    let path = cache_path(dir, engine, sha256);
    if path.exists() {
        // SAFETY: the file was written by `store` below from our own compile, in a directory
        // only the module writes (see the module doc).
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(component) => return Ok((component, LoadSource::Cache)),
            Err(e) => tracing::warn!(path = %path.display(), error = %e, "hook cache entry unusable; recompiling"),
        }
    }
    let compiled = engine.precompile_component(bytes).map_err(|e| HookError::Invalid(format!("{e:#}")))?;
    store(&path, &compiled)?;
    // SAFETY: `compiled` came from this engine's precompile_component just above.
    let component = unsafe { Component::deserialize(engine, &compiled) }.map_err(|e| HookError::Invalid(format!("{e:#}")))?;
    Ok((component, LoadSource::Compiled))
}

/// Write via a temporary file and rename, so a concurrent reader never sees half a file.
fn store(path: &Path, compiled: &[u8]) -> Result<(), HookError> {
    let err = |e: std::io::Error| HookError::Cache { path: path.to_path_buf(), message: e.to_string() };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, compiled).map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
}
