//! Languages the sandbox runs, and where their toolchains live.
//!
//! Invariants: interpreters are resolved OUTSIDE the sandbox to their real binary (pyenv shims
//! and rustup proxies need HOME and their own env, which the sandbox clears), and the install
//! prefix of that binary is returned as a read-only path so Landlock lets the program load its
//! standard library. Resolution runs each toolchain once per process and is cached.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Python,
    Node,
    Bash,
    Sh,
    Rust,
    Go,
}

impl Language {
    /// A language from a name or a file extension (`python`, `py`, `js`, `rs`, …).
    pub fn detect(name: &str) -> Option<Self> {
        match name.trim_start_matches('.').to_ascii_lowercase().as_str() {
            "python" | "python3" | "py" => Some(Self::Python),
            "node" | "nodejs" | "js" | "javascript" | "mjs" | "cjs" => Some(Self::Node),
            "bash" => Some(Self::Bash),
            "sh" | "shell" => Some(Self::Sh),
            "rust" | "rs" => Some(Self::Rust),
            "go" | "golang" => Some(Self::Go),
            _ => None,
        }
    }

    /// From a file's extension.
    pub fn from_path(path: &Path) -> Option<Self> {
        path.extension().and_then(|e| e.to_str()).and_then(Self::detect)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Python => "python",
            Self::Node => "node",
            Self::Bash => "bash",
            Self::Sh => "sh",
            Self::Rust => "rust",
            Self::Go => "go",
        }
    }

    /// The file a snippet is written to in the scratch workspace.
    pub fn snippet_file(self) -> &'static str {
        match self {
            Self::Python => "main.py",
            Self::Node => "main.js",
            Self::Bash => "main.bash",
            Self::Sh => "main.sh",
            Self::Rust => "main.rs",
            Self::Go => "main.go",
        }
    }

    fn command_name(self) -> &'static str {
        match self {
            Self::Python => "python3",
            Self::Node => "node",
            Self::Bash => "bash",
            Self::Sh => "sh",
            Self::Rust => "rustc",
            Self::Go => "go",
        }
    }
}

/// A resolved toolchain.
#[derive(Debug, Clone)]
pub struct Toolchain {
    /// The real binary (absolute).
    pub program: PathBuf,
    /// Read-only paths it needs beyond the system directories.
    pub read_paths: Vec<PathBuf>,
    /// Directories to put first on the sandbox's PATH.
    pub bin_dirs: Vec<PathBuf>,
}

/// The first executable `name` on PATH.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|candidate| {
        candidate.metadata().map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
    })
}

/// Resolve `language`'s toolchain (cached). Errors say what is missing.
pub fn toolchain(language: Language) -> Result<Toolchain, String> {
    static CACHE: OnceLock<Mutex<HashMap<Language, Result<Toolchain, String>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(found) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&language) {
        return found.clone();
    }
    let found = resolve(language);
    cache.lock().unwrap_or_else(|e| e.into_inner()).insert(language, found.clone());
    found
}

fn resolve(language: Language) -> Result<Toolchain, String> {
    let name = language.command_name();
    let on_path = find_on_path(name).ok_or_else(|| format!("`{name}` is not on PATH"))?;
    let mut read_paths = Vec::new();
    let program = match language {
        Language::Python => {
            let out = query(&on_path, &["-c", "import sys;print(sys.executable);print(sys.base_prefix)"])?;
            let mut lines = out.lines();
            let exe = PathBuf::from(lines.next().unwrap_or_default());
            read_paths.extend(lines.map(PathBuf::from));
            exe
        }
        Language::Rust => {
            let sysroot = PathBuf::from(query(&on_path, &["--print", "sysroot"])?.trim());
            read_paths.push(sysroot.clone());
            sysroot.join("bin").join("rustc")
        }
        Language::Go => {
            let goroot = PathBuf::from(query(&on_path, &["env", "GOROOT"])?.trim());
            read_paths.push(goroot.clone());
            goroot.join("bin").join("go")
        }
        Language::Node | Language::Bash | Language::Sh => on_path,
    };
    let program = program.canonicalize().map_err(|e| format!("{}: {e}", program.display()))?;
    // The install prefix (`…/bin/x` → `…`), unless it is a system directory already readable.
    if let Some(prefix) = program.parent().and_then(Path::parent)
        && !is_system(prefix)
    {
        read_paths.push(prefix.to_path_buf());
    }
    read_paths.retain(|p| !p.as_os_str().is_empty() && !is_system(p));
    read_paths.dedup();
    let bin_dirs = program.parent().map(Path::to_path_buf).into_iter().collect();
    Ok(Toolchain { program, read_paths, bin_dirs })
}

fn is_system(path: &Path) -> bool {
    ["/usr", "/lib", "/lib64", "/bin", "/sbin"].iter().any(|s| path.starts_with(s)) || path == Path::new("/")
}

fn query(program: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} {:?} failed: {}",
            program.display(),
            args,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The argv that runs `file` (inside the workspace `dir`) with `tc`.
pub(crate) fn argv_for(language: Language, tc: &Toolchain, file: &Path) -> Vec<String> {
    let prog = tc.program.to_string_lossy().into_owned();
    let file = file.to_string_lossy().into_owned();
    match language {
        // Compile inside the sandbox, then replace the shell with the binary.
        Language::Rust => vec![
            "/bin/sh".into(),
            "-c".into(),
            r#""$0" --edition 2021 -o ./.kv1nt-rust-main "$1" && exec ./.kv1nt-rust-main"#.into(),
            prog,
            file,
        ],
        Language::Go => vec![prog, "run".into(), file],
        _ => vec![prog, file],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_names_and_extensions() {
        assert_eq!(Language::detect("py"), Some(Language::Python));
        assert_eq!(Language::detect("JavaScript"), Some(Language::Node));
        assert_eq!(Language::from_path(Path::new("a/b.rs")), Some(Language::Rust));
        assert_eq!(Language::detect("cobol"), None);
    }

    #[test]
    fn resolves_sh_to_a_real_binary() {
        let tc = toolchain(Language::Sh).expect("sh on PATH");
        assert!(tc.program.is_absolute());
    }
}
