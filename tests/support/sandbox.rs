//! In-process sandbox runs from tests: the sandbox starts its helper by re-executing the
//! current binary unless `KV1NT_SANDBOX_HELPER` names another, and in a test the current binary
//! is the test binary, so tests point it at the built `kv1nt` — in one place, once per process.

use std::sync::Once;

/// Points `KV1NT_SANDBOX_HELPER` at the built `kv1nt` (once per process, always the same
/// value). Call before a test's first sandboxed run.
pub fn use_built_helper() {
    static ONCE: Once = Once::new();
    // SAFETY: written once, with one value, before any sandboxed run. Other tests may be running
    // on other threads: Rust's own environment access is locked against this write, and glibc's
    // setenv never frees the environment a concurrent C getenv may be reading.
    ONCE.call_once(|| unsafe { std::env::set_var("KV1NT_SANDBOX_HELPER", env!("CARGO_BIN_EXE_kv1nt")) });
}
