//! Load-time import policy.
//!
//! Allowed: the `log` and `types` interfaces of our own package and the WASI cli, io, clocks, random and
//! filesystem interfaces. Refused by name: `wasi:sockets/*` and
//! `wasi:http/*` (network), and anything not WASI. `wasi:filesystem/*` is allowed because
//! the Rust standard library on wasm32-wasip2 imports it even in a hook that never touches
//! a file; the sandbox preopens no directory, so no path can be opened. Everything that
//! passes goes through a deny-by-default WasiCtx (no env, no args, no network, no stdin).

use crate::error::HookError;
use wasmtime::component::Component;
use wasmtime::Engine;

/// Our own package: the `log` function and the type-only `types` interface.
const OWN_IMPORTS: &[&str] = &["drs-orch:hooks/host-log@", "drs-orch:hooks/types@"];
const REFUSED_WASI: &[&str] = &["wasi:sockets/", "wasi:http/"];
const ALLOWED_WASI: &[&str] = &["wasi:cli/", "wasi:io/", "wasi:clocks/", "wasi:random/", "wasi:filesystem/"];

/// Refuse a component whose imports reach past the sandbox, naming the first bad one.
pub fn check(engine: &Engine, component: &Component) -> Result<(), HookError> {
    for (name, _) in component.component_type().imports(engine) {
        if !allowed(name) {
            // The name is the component's own: as long as it likes.
            return Err(HookError::Refused { import: crate::error::bounded(name) });
        }
    }
    Ok(())
}

pub fn allowed(name: &str) -> bool {
    if OWN_IMPORTS.iter().any(|p| name.starts_with(p)) {
        return true;
    }
    if REFUSED_WASI.iter().any(|p| name.starts_with(p)) {
        return false;
    }
    ALLOWED_WASI.iter().any(|p| name.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::allowed;

    #[test]
    fn policy() {
        assert!(allowed("wasi:cli/stdout@0.2.6"));
        assert!(allowed("wasi:io/streams@0.2.6"));
        assert!(allowed("drs-orch:hooks/host-log@0.2.0"));
        assert!(allowed("drs-orch:hooks/types@0.2.0"));
        assert!(!allowed("wasi:sockets/tcp@0.2.6"));
        assert!(!allowed("wasi:http/outgoing-handler@0.2.6"));
        assert!(!allowed("acme:secrets/vault"));
        assert!(!allowed("drs-orch:hooks/other@0.2.0"));
    }
}
