//! The cache's directory must be this user's alone: wasmtime loads what is in it as native
//! code, so whoever can write there runs code in the process that holds the module's
//! credentials. Created 0700, and an existing one of this user's that others may read is
//! corrected to 0700; one is refused when it is a symbolic link, is owned by another user, or
//! is writable by anyone but its owner (what is in it may have been planted), and so is a path through a
//! directory that another user could rename it out of (writable by others and not sticky,
//! like /tmp is, or owned by neither this user nor root).

use crate::error::HookError;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// `$XDG_CACHE_HOME/drs-orch/hooks`, else `$HOME/.cache/drs-orch/hooks`, else (a Lambda has
/// no home, and only /tmp to write, private to its sandbox) `drs-orch-hooks-<uid>` in the
/// temporary directory. Wherever it is, [`ensure`] checks it before use.
pub fn default_cache_dir() -> PathBuf {
    let nonempty = |v: std::ffi::OsString| (!v.is_empty()).then(|| PathBuf::from(v));
    let home = std::env::var_os("XDG_CACHE_HOME")
        .and_then(nonempty)
        .or_else(|| std::env::var_os("HOME").and_then(nonempty).map(|h| h.join(".cache")));
    match home {
        Some(base) => base.join("drs-orch").join("hooks"),
        None => std::env::temp_dir().join(format!("drs-orch-hooks-{}", euid())),
    }
}

pub fn euid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// Create `dir` (0700, parents too) if missing, then check that it is private.
pub fn ensure(dir: &Path) -> Result<(), HookError> {
    let refuse = |message: String| HookError::Cache { path: dir.to_path_buf(), message };
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(|e| refuse(e.to_string()))?;
    let me = euid();
    // The directory itself, not what a link there points to.
    let meta = std::fs::symlink_metadata(dir).map_err(|e| refuse(e.to_string()))?;
    if meta.file_type().is_symlink() {
        return Err(refuse("is a symbolic link; the cache must be a directory of its own".into()));
    }
    if !meta.is_dir() {
        return Err(refuse("is not a directory".into()));
    }
    if meta.uid() != me {
        return Err(refuse(format!("is owned by uid {}, not by this user (uid {me})", meta.uid())));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(refuse(format!(
            "is writable by others (mode {:o}); the cache must be writable by its owner only (chmod go-w)",
            meta.permissions().mode() & 0o7777
        )));
    }
    // Readable or searchable by others (0755, say): what is there is ours, but others need not
    // see which tenants' code is compiled: corrected to 0700, refused when it cannot be.
    if meta.mode() & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| refuse(format!("mode {:o} could not be corrected to 700: {e}", meta.mode() & 0o7777)))?;
        let now = std::fs::symlink_metadata(dir).map_err(|e| refuse(e.to_string()))?;
        if now.mode() & 0o077 != 0 {
            return Err(refuse(format!("mode {:o} could not be corrected to 700", now.mode() & 0o7777)));
        }
    }
    let absolute = std::path::absolute(dir).map_err(|e| refuse(e.to_string()))?;
    for ancestor in absolute.ancestors().skip(1) {
        let meta = std::fs::metadata(ancestor).map_err(|e| refuse(format!("{}: {e}", ancestor.display())))?;
        let sticky = meta.mode() & 0o1000 != 0;
        if meta.uid() != me && meta.uid() != 0 {
            return Err(refuse(format!(
                "its parent {} is owned by uid {}, neither this user nor root",
                ancestor.display(),
                meta.uid()
            )));
        }
        if meta.mode() & 0o002 != 0 && !sticky {
            return Err(refuse(format!(
                "its parent {} is writable by everyone without the sticky bit: the cache could be swapped from there",
                ancestor.display()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("drs-host-private-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn refusal(dir: &Path) -> String {
        match ensure(dir) {
            Err(HookError::Cache { message, .. }) => message,
            other => panic!("expected a refusal of {}, got {other:?}", dir.display()),
        }
    }

    #[test]
    fn a_new_directory_is_created_private() {
        let dir = scratch("new");
        ensure(&dir.join("a/b")).unwrap();
        assert_eq!(std::fs::metadata(dir.join("a/b")).unwrap().mode() & 0o777, 0o700);
        ensure(&dir.join("a/b")).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_directory_writable_by_others_is_refused() {
        let dir = scratch("open");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(refusal(&dir).contains("writable by others"));
        // Under it, the parent is now the problem.
        assert!(refusal(&dir.join("inner")).contains("writable by everyone"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_directory_others_may_read_is_corrected_to_private() {
        let dir = scratch("readable");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        ensure(&dir).unwrap();
        assert_eq!(std::fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_symbolic_link_is_refused() {
        let dir = scratch("link");
        std::fs::create_dir_all(dir.join("real")).unwrap();
        std::fs::set_permissions(dir.join("real"), std::fs::Permissions::from_mode(0o700)).unwrap();
        std::os::unix::fs::symlink(dir.join("real"), dir.join("link")).unwrap();
        assert!(refusal(&dir.join("link")).contains("symbolic link"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_directory_of_another_user_is_refused() {
        let dir = scratch("other");
        std::fs::create_dir_all(&dir).unwrap();
        if euid() == 0 {
            // Root can give it away; as another user, a directory of root's stands in.
            rustix::fs::chown(&dir, Some(rustix::process::Uid::from_raw(65534)), None).unwrap();
            assert!(refusal(&dir).contains("owned by uid 65534"), "{}", refusal(&dir));
        } else {
            assert!(refusal(Path::new("/")).contains("owned by uid 0"));
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
