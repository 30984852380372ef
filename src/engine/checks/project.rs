//! Which checks a repository has: detected from its files (`Cargo.toml` → `cargo check`,
//! Python files → ruff or pyflakes and a compile check, `tsconfig.json` → `tsc --noEmit`, a
//! `package.json` `lint` script, `go.mod` → `go vet`) plus the user's `[checks.commands]`.
//!
//! Invariants:
//! - Every check runs in the sandbox (the caller's job, `RunDir::Project`: no network, `.git/`
//!   and `.kv1nt/` read-only). Toolchains are resolved here, outside it, to absolute binaries
//!   with the read-only paths they need, because the sandbox's PATH holds only the system
//!   directories and its HOME is the workspace.
//! - Code the repository itself provides runs only in a trusted repository (its
//!   `.kv1nt/config.toml` trusted, `Config::repo_trusted`): the `package.json` `lint` script
//!   and a `node_modules/.bin/tsc`. Build scripts and proc macros that `cargo check` compiles
//!   and runs are the repository's code too; they run contained by the sandbox like the
//!   model's `run` (`checks.auto_detect = false` turns detection off).
//! - Detection reads files and probes interpreters; it never runs repository code.

use std::path::{Path, PathBuf};

use super::settings::{ChecksSettings, OutputFormat};
use crate::engine::sandbox::languages::{self, Language, find_on_path};

/// What the sandbox runs for one check, and how its output is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckSpec {
    /// `cargo check`, `ruff`, `python compile`, `tsc`, `npm run lint`, `go vet`, or a
    /// `[checks.commands]` name.
    pub name: String,
    pub argv: Vec<String>,
    pub format: OutputFormat,
    /// Read-only paths the tool needs besides the system directories (toolchain prefixes).
    pub read_paths: Vec<PathBuf>,
    /// Writable paths besides the workspace (a build cache kept out of it).
    pub write_paths: Vec<PathBuf>,
}

/// Directories detection does not look into (dependencies, build output, virtualenvs).
const SKIP_DIRS: &[&str] =
    &[".git", "target", "node_modules", ".venv", "venv", "__pycache__", ".kv1nt", "dist", "build"];

/// The compile check for Python: compiles every `.py` file in memory (nothing is written, unlike
/// `compileall`) and prints syntax errors gcc-style.
const PY_COMPILE: &str = r#"import os, sys
skip = set(sys.argv[1].split(","))
bad = 0
for root, dirs, files in os.walk("."):
    dirs[:] = sorted(d for d in dirs if d not in skip and not d.startswith("."))
    for name in sorted(files):
        if not name.endswith(".py"):
            continue
        path = os.path.join(root, name)[2:]
        try:
            with open(path, "rb") as f:
                compile(f.read(), path, "exec", dont_inherit=True)
        except SyntaxError as e:
            bad += 1
            print(f"{path}:{e.lineno or 0}:{e.offset or 0}: error: {type(e).__name__}: {e.msg}")
        except (ValueError, OSError) as e:
            print(f"{path}:0:0: warning: not checked: {e}")
sys.exit(1 if bad else 0)
"#;

/// The checks for `workspace`: the detected ones (when `auto_detect`), then the user's.
/// `trusted`: the repository's own config file is trusted (see the module invariants).
pub fn detect(workspace: &Path, settings: &ChecksSettings, trusted: bool) -> Vec<CheckSpec> {
    let mut out = Vec::new();
    if settings.auto_detect {
        let has = |name: &str| workspace.join(name).is_file();
        if has("Cargo.toml") {
            out.extend(rust(settings.clippy));
        }
        if has("pyproject.toml") || has("setup.cfg") || has("setup.py") || has_python_files(workspace) {
            out.extend(python());
        }
        if has("tsconfig.json")
            && let Some(tsc) = tsc(workspace, trusted)
        {
            out.push(tsc);
        }
        if has("package.json") && trusted && has_lint_script(&workspace.join("package.json")) {
            out.push(plain(
                "npm run lint",
                find_on_path("npm"),
                &["run", "lint", "--silent"],
                OutputFormat::Eslint,
            ));
        }
        if has("go.mod") {
            out.extend(go());
        }
    }
    for (name, command) in &settings.commands {
        out.push(CheckSpec {
            name: name.clone(),
            argv: vec!["sh".into(), "-c".into(), command.command.clone()],
            format: command.format,
            read_paths: Vec::new(),
            write_paths: Vec::new(),
        });
    }
    out.retain(|spec| !spec.argv.is_empty());
    out
}

/// A check whose program was found, or none (an empty argv is dropped).
fn plain(name: &str, program: Option<PathBuf>, args: &[&str], format: OutputFormat) -> CheckSpec {
    let argv = match program {
        Some(p) => {
            std::iter::once(p.display().to_string()).chain(args.iter().map(|a| a.to_string())).collect()
        }
        None => Vec::new(),
    };
    CheckSpec { name: name.into(), argv, format, read_paths: Vec::new(), write_paths: Vec::new() }
}

fn env_program() -> String {
    if Path::new("/usr/bin/env").is_file() { "/usr/bin/env".into() } else { "env".into() }
}

/// The system directories the sandbox puts on PATH, after `first`.
fn path_with(first: &Path) -> String {
    format!("PATH={}:/usr/local/bin:/usr/bin:/bin", first.display())
}

/// `cargo check` (and clippy) with the real toolchain: rustup's proxies need a HOME the sandbox
/// does not give, so cargo and rustc are named by their sysroot, and CARGO_HOME is the user's
/// (read-only) with the network off, so downloaded dependencies are found.
fn rust(clippy: bool) -> Vec<CheckSpec> {
    let Ok(tc) = languages::toolchain(Language::Rust) else { return Vec::new() };
    let Some(bin) = tc.program.parent().map(Path::to_path_buf) else { return Vec::new() };
    let mut read_paths = tc.read_paths.clone();
    let mut env = vec![env_program(), path_with(&bin), format!("RUSTC={}", tc.program.display())];
    if let Some(home) = cargo_home() {
        env.push(format!("CARGO_HOME={}", home.display()));
        read_paths.push(home);
    }
    env.push("CARGO_NET_OFFLINE=true".into());
    let cargo = bin.join("cargo").display().to_string();
    let mut subcommands = vec![("cargo check", "check")];
    if clippy {
        subcommands.push(("cargo clippy", "clippy"));
    }
    subcommands
        .into_iter()
        .map(|(name, sub)| {
            let mut argv = env.clone();
            argv.extend([cargo.clone(), sub.into(), "--message-format=json".into()]);
            CheckSpec {
                name: name.into(),
                argv,
                format: OutputFormat::CargoJson,
                read_paths: read_paths.clone(),
                write_paths: Vec::new(),
            }
        })
        .collect()
}

fn cargo_home() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .filter(|p| p.is_dir())
}

/// ruff (`python -m ruff`) when installed, else pyflakes when installed; and the compile check.
fn python() -> Vec<CheckSpec> {
    let Ok(tc) = languages::toolchain(Language::Python) else { return Vec::new() };
    let python = tc.program.display().to_string();
    let spec = |name: &str, args: &[&str], format| {
        let mut argv = vec![python.clone(), "-B".into()];
        argv.extend(args.iter().map(|a| a.to_string()));
        CheckSpec {
            name: name.into(),
            argv,
            format,
            read_paths: tc.read_paths.clone(),
            write_paths: Vec::new(),
        }
    };
    let mut out = Vec::new();
    if has_module(&tc.program, "ruff") {
        out.push(spec(
            "ruff",
            &["-m", "ruff", "check", "--no-cache", "--output-format=json", "."],
            OutputFormat::RuffJson,
        ));
    } else if has_module(&tc.program, "pyflakes") {
        out.push(spec("pyflakes", &["-m", "pyflakes", "."], OutputFormat::Gcc));
    }
    out.push(spec("python compile", &["-c", PY_COMPILE, &SKIP_DIRS.join(",")], OutputFormat::Gcc));
    out
}

fn has_module(python: &Path, module: &str) -> bool {
    let probe =
        format!("import importlib.util,sys;sys.exit(0 if importlib.util.find_spec('{module}') else 1)");
    std::process::Command::new(python)
        .args(["-c", &probe])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `tsc --noEmit`: the project's own `node_modules/.bin/tsc` only when trusted (it is code the
/// repository ships), else one on PATH.
fn tsc(workspace: &Path, trusted: bool) -> Option<CheckSpec> {
    let local = workspace.join("node_modules/.bin/tsc");
    let program = if trusted && local.is_file() { Some(local) } else { find_on_path("tsc") }?;
    let mut spec = plain("tsc", Some(program.clone()), &["--noEmit", "--pretty", "false"], OutputFormat::Tsc);
    if let Ok(real) = program.canonicalize()
        && let Some(prefix) = real.ancestors().nth(3)
    {
        spec.read_paths.push(prefix.to_path_buf());
    }
    Some(spec)
}

fn has_lint_script(package_json: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(package_json) else { return false };
    serde_json::from_str::<serde_json::Value>(&text).is_ok_and(|v| v["scripts"]["lint"].is_string())
}

/// `go vet ./...` with GOROOT's go, offline, its build cache in a private temp directory
/// rather than the workspace (the sandbox's HOME).
fn go() -> Option<CheckSpec> {
    let tc = languages::toolchain(Language::Go).ok()?;
    let bin = tc.program.parent()?.to_path_buf();
    let cache = go_cache()?;
    let argv = vec![
        env_program(),
        path_with(&bin),
        format!("GOCACHE={}", cache.display()),
        // go ignores a go.mod in the temp root, and the sandbox's TMPDIR is the workspace.
        format!("TMPDIR={}", cache.display()),
        "GOTOOLCHAIN=local".into(),
        "GOPROXY=off".into(),
        "GOFLAGS=-mod=mod".into(),
        "CGO_ENABLED=0".into(),
        tc.program.display().to_string(),
        "vet".into(),
        "./...".into(),
    ];
    Some(CheckSpec {
        name: "go vet".into(),
        argv,
        format: OutputFormat::Gcc,
        read_paths: tc.read_paths,
        write_paths: vec![cache],
    })
}

/// `<tmp>/kv1nt-go-cache-<uid>`, private to the user.
fn go_cache() -> Option<PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    let uid = unsafe { libc::getuid() };
    let dir = std::env::temp_dir().join(format!("kv1nt-go-cache-{uid}"));
    let _ = std::fs::DirBuilder::new().mode(0o700).create(&dir);
    let meta = std::fs::symlink_metadata(&dir).ok()?;
    (meta.is_dir() && meta.uid() == uid).then_some(dir)
}

/// A `.py` file in the top two levels (not in [`SKIP_DIRS`]).
fn has_python_files(dir: &Path) -> bool {
    fn walk(dir: &Path, depth: usize) -> bool {
        let Ok(entries) = std::fs::read_dir(dir) else { return false };
        entries.flatten().any(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let ty = e.file_type().ok();
            if ty.is_some_and(|t| t.is_dir()) {
                depth > 0 && !SKIP_DIRS.contains(&name.as_str()) && walk(&e.path(), depth - 1)
            } else {
                name.ends_with(".py")
            }
        })
    }
    walk(dir, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path, settings: &ChecksSettings, trusted: bool) -> Vec<String> {
        detect(dir, settings, trusted).into_iter().map(|s| s.name).collect()
    }

    #[test]
    fn a_lint_script_runs_only_in_a_trusted_repository() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("package.json"), r#"{"scripts":{"lint":"touch pwned"}}"#).unwrap();
        let settings = ChecksSettings::default();
        assert!(!names(dir.path(), &settings, false).contains(&"npm run lint".to_string()));
        if find_on_path("npm").is_some() {
            assert!(names(dir.path(), &settings, true).contains(&"npm run lint".to_string()));
        }
    }

    #[test]
    fn cargo_toml_gives_cargo_check_and_clippy_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Cargo.toml"), "[package]\nname = \"x\"\n").unwrap();
        let mut settings = ChecksSettings::default();
        assert_eq!(names(dir.path(), &settings, false), ["cargo check"]);
        settings.clippy = true;
        assert_eq!(names(dir.path(), &settings, false), ["cargo check", "cargo clippy"]);
        settings.auto_detect = false;
        assert!(names(dir.path(), &settings, false).is_empty());
    }
}
