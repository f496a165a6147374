//! Getting a component from bytes or a file to a compiled `Component`, bounded in size and
//! time and kept off the async workers.
//!
//! A component over the size cap is refused before it is read whole, hashed or compiled: a
//! compile's time and memory grow with the input. What is left (read, hash, check the pin,
//! compile or read the cache) is blocking work of up to a minute for a large component, so it
//! runs on tokio's blocking pool (`spawn_blocking`), not on the thread of the caller's async
//! task, under the host's compile limit. A compile cannot be interrupted: past the limit the
//! load returns [`HookError::CompileTimeout`] and the compile finishes in the background, under
//! the cache entry's lock (`cache.rs`), so the next load of the same component waits for that
//! lock and reads the artifact instead of starting a second compile.

use crate::cache::{self, LoadSource};
use crate::error::HookError;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;
use wasmtime::component::Component;
use wasmtime::Engine;

/// Where a component's bytes are.
pub enum Source {
    Bytes(Vec<u8>),
    File(PathBuf),
}

/// What the blocking part hands back: the component, where it came from, its SHA-256.
pub struct Compiled {
    pub component: Component,
    pub source: LoadSource,
    pub sha256: String,
}

/// The limits and the place a load works in.
pub struct Limits<'a> {
    pub engine: &'a Engine,
    pub cache_dir: &'a Path,
    pub max_bytes: usize,
    pub time: Duration,
}

/// Read (a file), check the size cap and the pin, then compile or read the cache, on the
/// blocking pool within `limits.time`. Needs a tokio runtime (the caller's, or the host's own
/// when called through the blocking `HookHost::load`).
pub async fn compile(source: Source, pin: &str, limits: Limits<'_>) -> Result<Compiled, HookError> {
    if let Source::Bytes(bytes) = &source {
        check_size(bytes.len() as u64, limits.max_bytes)?;
    }
    let (engine, dir, pin, max) = (limits.engine.clone(), limits.cache_dir.to_owned(), pin.to_owned(), limits.max_bytes);
    let work = tokio::task::spawn_blocking(move || {
        let bytes = match source {
            Source::Bytes(bytes) => bytes,
            Source::File(path) => read_capped(&path, max)?,
        };
        let sha256 = cache::check_pin(&bytes, &pin)?;
        let (component, source) = cache::load(&dir, &engine, &bytes, &sha256)?;
        Ok(Compiled { component, source, sha256 })
    });
    match tokio::time::timeout(limits.time, work).await {
        Ok(Ok(done)) => done,
        Ok(Err(e)) => Err(HookError::Invalid(format!("the compile did not finish: {e}"))),
        Err(_) => Err(HookError::CompileTimeout { limit_ms: limits.time.as_millis() as u64 }),
    }
}

fn check_size(bytes: u64, limit: usize) -> Result<(), HookError> {
    match bytes > limit as u64 {
        true => Err(HookError::TooLarge { bytes, limit }),
        false => Ok(()),
    }
}

/// The file's bytes if it is a regular file within `limit`: its size is looked at before any
/// byte is read, and no more than `limit + 1` bytes are read (a file growing meanwhile).
fn read_capped(path: &Path, limit: usize) -> Result<Vec<u8>, HookError> {
    let unreadable = |e: std::io::Error| HookError::Unreadable { path: path.to_owned(), message: e.to_string() };
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let meta = file.metadata().map_err(unreadable)?;
    // A FIFO or a device could block the read, or never end it.
    if !meta.is_file() {
        return Err(HookError::Unreadable { path: path.to_owned(), message: "not a regular file".into() });
    }
    check_size(meta.len(), limit)?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(limit as u64 + 1).read_to_end(&mut bytes).map_err(unreadable)?;
    check_size(bytes.len() as u64, limit)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_over_the_cap_or_not_regular_is_refused_before_it_is_read() {
        let dir = std::env::temp_dir().join(format!("drs-host-load-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("big.wasm");
        // Sparse: 40 MiB by its size, nothing on disk; a read of it would take 40 MiB here.
        std::fs::File::create(&path).unwrap().set_len(40 << 20).unwrap();
        let err = read_capped(&path, 32 << 20).unwrap_err();
        assert!(matches!(err, HookError::TooLarge { bytes, limit } if bytes == 40 << 20 && limit == 32 << 20), "{err}");
        assert!(matches!(read_capped(&dir, 32 << 20), Err(HookError::Unreadable { .. })), "a directory");
        assert!(matches!(read_capped(Path::new("/dev/zero"), 32 << 20), Err(HookError::Unreadable { .. })), "a device");
        std::fs::write(&path, b"small").unwrap();
        assert_eq!(read_capped(&path, 32 << 20).unwrap(), b"small");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
