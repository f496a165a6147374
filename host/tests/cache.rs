//! The compiled-component cache cannot be swapped: an artifact copied over another hook's
//! name, or altered, is detected and recompiled; a directory others could write is refused.
#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed step fails the test

mod common;

use common::{context, guest_bytes, host, server};
use drs_host::{Decision, HookError, HookHost, LoadSource};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

fn servers() -> Vec<drs_host::Server> {
    vec![server("s-1", &[("Name", "db1")]), server("s-2", &[("dr:skip", "true")])]
}

/// The artifact of the component pinned by `pin` in `dir`.
fn artifact(dir: &Path, pin: &str) -> PathBuf {
    let names = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path());
    let mut found: Vec<PathBuf> = names
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(pin) && p.extension().unwrap() == "cwasm")
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    found.pop().unwrap()
}

/// hostile-multi's artifact copied over skip-tagged's: loading skip-tagged again recompiles
/// it and it answers as skip-tagged (skip s-2), not as hostile-multi (proceed). The old
/// cache deserialized the copy and ran hostile-multi under skip-tagged's pin.
#[test]
fn an_artifact_copied_over_another_hooks_name_does_not_run_as_it() {
    let (host, dir) = host("swap");
    let (pinned, pin) = guest_bytes("skip-tagged");
    let (other, other_pin) = guest_bytes("hostile-multi");
    host.load(&pinned, &pin).unwrap();
    host.load(&other, &other_pin).unwrap();
    std::fs::copy(artifact(&dir, &other_pin), artifact(&dir, &pin)).unwrap();

    let fresh = HookHost::new(host.config().clone()).unwrap();
    let hook = fresh.load(&pinned, &pin).unwrap();
    assert_eq!(hook.source, LoadSource::Compiled, "the swapped artifact was not detected");
    assert_eq!(fresh.before_wave(&hook, &context("exec-1", servers())).unwrap().decision, Decision::Skip(vec!["s-2".into()]));
    // The entry was replaced by a good one: the next load reads it.
    assert_eq!(HookHost::new(host.config().clone()).unwrap().load(&pinned, &pin).unwrap().source, LoadSource::Cache);
}

/// One flipped byte, or a truncated file, fails the digest and is recompiled.
#[test]
fn an_altered_or_truncated_artifact_is_recompiled() {
    let (host, dir) = host("alter");
    let (bytes, pin) = guest_bytes("skip-tagged");
    host.load(&bytes, &pin).unwrap();
    let path = artifact(&dir, &pin);
    let good = std::fs::read(&path).unwrap();
    let mut flipped = good.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x40;
    for (what, contents) in [("flipped", flipped), ("truncated", good[..good.len() - 100].to_vec())] {
        std::fs::write(&path, &contents).unwrap();
        let hook = HookHost::new(host.config().clone()).unwrap().load(&bytes, &pin).unwrap();
        assert_eq!(hook.source, LoadSource::Compiled, "{what}");
        assert_eq!(std::fs::read(&path).unwrap().len(), good.len(), "{what}: rewritten whole");
    }
}

/// A cache directory others can write is refused at load, with the reason; nothing is loaded
/// from it.
#[test]
fn a_cache_directory_writable_by_others_is_refused() {
    let (host, dir) = host("open-dir");
    let (bytes, pin) = guest_bytes("skip-tagged");
    host.load(&bytes, &pin).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    match HookHost::new(host.config().clone()).unwrap().load(&bytes, &pin) {
        Err(HookError::Cache { path, message }) => {
            assert_eq!(path, dir);
            assert!(message.contains("writable by others"), "{message}");
        }
        Err(other) => panic!("expected a cache refusal, got {other}"),
        Ok(_) => panic!("loaded from a directory anyone can write"),
    }
}

/// A new cache directory is private to its user.
#[test]
fn a_new_cache_directory_is_private() {
    let (host, dir) = host("mode");
    let (bytes, pin) = guest_bytes("skip-tagged");
    host.load(&bytes, &pin).unwrap();
    assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
    let file = std::fs::metadata(artifact(&dir, &pin)).unwrap().permissions().mode() & 0o777;
    assert_eq!(file, 0o600);
}
