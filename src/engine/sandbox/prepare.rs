//! What a run needs before the helper starts: the program as an argv with the toolchain's
//! read-only paths ([`prepare`]; a snippet is written into the run's directory first), the
//! scratch directory of a snippet run (removed on drop), and the whole environment the program
//! gets ([`sandbox_env`]).
//!
//! Invariant: the environment is built from nothing — `PATH` (the toolchain's bin dirs, then
//! the system's), `LANG`, `HOME` and `TMPDIR` (the run's directory), `TERM=dumb`, plus a
//! language's own cache settings — never inherited from kv1nt.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::languages::{self, Language};
use super::{Program, SandboxError};

const SYSTEM_PATH: &str = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin";

pub(super) struct Prepared {
    pub(super) argv: Vec<String>,
    pub(super) read_paths: Vec<PathBuf>,
    pub(super) bin_dirs: Vec<PathBuf>,
    pub(super) language: Option<Language>,
}

/// Removes a scratch directory on drop.
pub(super) struct ScratchDir(pub(super) Option<PathBuf>);

impl Drop for ScratchDir {
    fn drop(&mut self) {
        if let Some(dir) = &self.0 {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

pub(super) fn scratch_dir() -> std::io::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let name = format!(
        "kv1nt-run-{}-{}-{}",
        std::process::id(),
        nanos.as_nanos(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let dir = std::env::temp_dir().join(name);
    std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
    dir.canonicalize()
}

pub(super) fn prepare(program: Program, dir: &Path) -> Result<Prepared, SandboxError> {
    let toolchain = |language: Language| {
        languages::toolchain(language).map_err(|e| SandboxError::Toolchain(language.name().into(), e))
    };
    Ok(match program {
        Program::Command { argv } => {
            if argv.is_empty() {
                return Err(SandboxError::Spawn("empty command".into()));
            }
            Prepared { argv, read_paths: vec![], bin_dirs: vec![], language: None }
        }
        Program::Code { language, code } => {
            let tc = toolchain(language)?;
            let file = dir.join(language.snippet_file());
            std::fs::write(&file, code)?;
            let argv = languages::argv_for(language, &tc, &file);
            Prepared { argv, read_paths: tc.read_paths, bin_dirs: tc.bin_dirs, language: Some(language) }
        }
        Program::File { language, path } => {
            let tc = toolchain(language)?;
            let path = path.canonicalize()?;
            let argv = languages::argv_for(language, &tc, &path);
            let mut read_paths = tc.read_paths;
            read_paths.extend(path.parent().map(Path::to_path_buf));
            Prepared { argv, read_paths, bin_dirs: tc.bin_dirs, language: Some(language) }
        }
    })
}

/// The whole environment the program gets.
pub(super) fn sandbox_env(
    dir: &Path,
    bin_dirs: &[PathBuf],
    language: Option<Language>,
) -> HashMap<String, String> {
    let mut path: Vec<String> = bin_dirs.iter().map(|d| d.to_string_lossy().into_owned()).collect();
    path.push(SYSTEM_PATH.into());
    let home = dir.to_string_lossy().into_owned();
    let lang = std::env::var("LANG").ok().filter(|l| !l.is_empty()).unwrap_or_else(|| "C.UTF-8".into());
    let mut env = HashMap::from([
        ("PATH".to_string(), path.join(":")),
        ("LANG".into(), lang),
        ("HOME".into(), home.clone()),
        ("TMPDIR".into(), home.clone()),
        ("TERM".into(), "dumb".into()),
    ]);
    match language {
        Some(Language::Go) => {
            env.insert("GOCACHE".into(), format!("{home}/.kv1nt-go/cache"));
            env.insert("GOPATH".into(), format!("{home}/.kv1nt-go/path"));
            env.insert("GOTOOLCHAIN".into(), "local".into());
            env.insert("CGO_ENABLED".into(), "0".into());
        }
        Some(Language::Python) => {
            env.insert("PYTHONDONTWRITEBYTECODE".into(), "1".into());
        }
        _ => {}
    }
    env
}
