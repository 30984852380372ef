//! Test prerequisites that are installed, not built: toolchains (node, go, rustc), bwrap, the
//! local embedding model, a dependency's sources. The rule, in one place: a missing
//! prerequisite fails the test under `CI=true` (CI installs everything, see `.ci/run`), and
//! elsewhere prints `skipped: …` so a developer without it can still run the rest.
//!
//! What a CI machine may genuinely lack (a kernel feature, a host device) is not a
//! prerequisite; such tests print their own skip reason.

use std::path::PathBuf;

/// Whether this is a CI run (`CI=true`, as `.ci/run` is started).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// `present` when the prerequisite is here. When it is not (`missing` says what is missing):
/// under `CI=true` panics saying how to install it; otherwise prints `skipped: …` and returns
/// false (the test then returns without asserting).
pub fn require(present: bool, missing: &str, install: &str) -> bool {
    if present {
        return true;
    }
    assert!(!in_ci(), "missing prerequisite: {missing}. Install: {install} (CI=true: this fails, not skips)");
    eprintln!("skipped: missing prerequisite: {missing} (install: {install}; with CI=true this fails)");
    false
}

/// [`require`] for a lookup whose `Err` says what is missing: the found value, or `None`
/// (printed skip) — or a panic under `CI=true`.
pub fn require_found<T>(found: Result<T, String>, install: &str) -> Option<T> {
    match found {
        Ok(value) => Some(value),
        Err(missing) => {
            require(false, &missing, install);
            None
        }
    }
}

/// The unpacked sources of the registry crate `name` at the version Cargo.lock pins (the
/// first one listed when several are locked), e.g. `~/.cargo/registry/src/<index>/similar-2.7.0`.
/// Building kv1nt (or `cargo fetch --locked`) unpacks every locked dependency there. `Err`
/// says what is missing.
pub fn crate_sources(name: &str) -> Result<PathBuf, String> {
    let lock_path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("Cargo.lock");
    let lock = std::fs::read_to_string(&lock_path).map_err(|e| format!("{}: {e}", lock_path.display()))?;
    let lock: toml::Table = lock.parse().map_err(|e| format!("{}: {e}", lock_path.display()))?;
    let version = lock
        .get("package")
        .and_then(toml::Value::as_array)
        .into_iter()
        .flatten()
        .find(|p| p.get("name").and_then(toml::Value::as_str) == Some(name))
        .and_then(|p| p.get("version").and_then(toml::Value::as_str))
        .ok_or_else(|| format!("{name} is not in {}", lock_path.display()))?;
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo"));
    let registry = cargo_home.join("registry/src");
    let dir_name = format!("{name}-{version}");
    std::fs::read_dir(&registry)
        .into_iter()
        .flatten()
        .flatten()
        .map(|index| index.path().join(&dir_name))
        .find(|dir| dir.join("Cargo.toml").is_file())
        .ok_or_else(|| {
            format!("the sources of {dir_name} (from Cargo.lock) are not in {}", registry.display())
        })
}
