//! The macOS plan: the same parent, helper protocol and [`HelperConfig`], with Apple's seatbelt
//! in place of Landlock + seccomp + namespaces. On macOS the helper would exec
//! `/usr/bin/sandbox-exec -p <profile> -- program…` with the profile built here (the rlimits,
//! cleared environment, process group, wall time and output caps are POSIX and stay as they are).
//!
//! What maps to what:
//! - Landlock's read-only system paths and writable workspace → `file-read*` / `file-write*`
//!   rules over `subpath`s, everything else denied (`deny default`).
//! - Landlock's TCP rules and the seccomp `socket()` ban → `(deny network*)`; only `network =
//!   true` allows it. Unix sockets outside the workspace are covered by the same rule.
//! - seccomp's ptrace/process_vm denial → no `process-info*`/`mach-priv-task-port` allowances;
//!   signals only to processes of the same sandbox.
//! - The read-only bind mounts of the protected paths (`protect.rs`) → `(deny file-write*)` over
//!   each, after the workspace's allowance (the last matching rule wins).
//! - PID namespace (nothing outlives the run) → the parent's process-group kill; macOS has no
//!   PID namespaces, so a `setsid` child escaping the group is the known gap there.
//!
//! Not built for Linux: this module is compiled only on macOS, and on Linux for its unit tests
//! (which check the profile text, not its enforcement — that needs a Mac).

use std::fmt::Write;
use std::path::Path;

use super::HelperConfig;

/// System locations a program and its toolchain read on macOS.
const SYSTEM_READ: &[&str] = &[
    "/usr",
    "/bin",
    "/sbin",
    "/System",
    "/Library",
    "/private/etc",
    "/private/var/db/timezone",
    "/opt/homebrew",
    "/dev/urandom",
    "/dev/random",
    "/dev/zero",
];

/// The seatbelt (SBPL) profile for one run.
pub(crate) fn profile(config: &HelperConfig) -> String {
    let mut p = String::from("(version 1)\n(deny default)\n");
    p.push_str("(allow process-exec process-fork)\n(allow signal (target same-sandbox))\n");
    p.push_str("(allow sysctl-read)\n(allow file-read-metadata)\n");
    p.push_str("(allow mach-lookup (global-name \"com.apple.system.opendirectoryd.libinfo\"))\n");
    let reads = SYSTEM_READ.iter().map(Path::new).chain(config.read_paths.iter().map(|p| p.as_path()));
    for path in reads {
        let _ = writeln!(p, "(allow file-read* (subpath {}))", quote(path));
    }
    let writes =
        std::iter::once(config.workspace.as_path()).chain(config.write_paths.iter().map(|p| p.as_path()));
    for path in writes {
        let _ = writeln!(p, "(allow file-read* file-write* (subpath {}))", quote(path));
    }
    p.push_str("(allow file-read* file-write* (literal \"/dev/null\"))\n");
    for path in &config.protected {
        let _ = writeln!(p, "(deny file-write* (subpath {}))", quote(path));
    }
    p.push_str(if config.network { "(allow network*)\n" } else { "(deny network*)\n" });
    p
}

/// An SBPL string literal: backslashes and double quotes escaped, control characters refused by
/// replacing them (a path with a newline must not end the rule early).
fn quote(path: &Path) -> String {
    let mut out = String::from("\"");
    for c in path.to_string_lossy().chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c if c.is_control() => out.push('?'),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::engine::sandbox::SandboxMode;

    fn config(network: bool) -> HelperConfig {
        HelperConfig {
            workspace: PathBuf::from("/Users/me/my \"repo\""),
            read_paths: vec![PathBuf::from("/Users/me/.rustup")],
            write_paths: Vec::new(),
            protected: Vec::new(),
            memory_bytes: 512 << 20,
            max_processes: 64,
            cpu_secs: 31,
            max_file_bytes: 1 << 28,
            network,
            mode: SandboxMode::Enforce,
            require: Vec::new(),
            cow: None,
        }
    }

    #[test]
    fn denies_by_default_and_opens_only_the_workspace_for_writing() {
        let p = profile(&config(false));
        assert!(p.starts_with("(version 1)\n(deny default)\n"));
        assert!(p.contains(r#"(allow file-read* file-write* (subpath "/Users/me/my \"repo\""))"#), "{p}");
        assert!(p.contains(r#"(allow file-read* (subpath "/Users/me/.rustup"))"#));
        assert_eq!(p.matches("file-write*").count(), 2, "workspace and /dev/null only:\n{p}");
        assert!(p.ends_with("(deny network*)\n"));
        assert!(profile(&config(true)).ends_with("(allow network*)\n"));
    }

    #[test]
    fn protected_paths_are_denied_for_writing_after_the_workspace_is_allowed() {
        let mut c = config(false);
        c.protected = vec![PathBuf::from("/Users/me/my \"repo\"/.git")];
        let p = profile(&c);
        let deny = p.find(r#"(deny file-write* (subpath "/Users/me/my \"repo\"/.git"))"#).expect(&p);
        assert!(deny > p.find("(allow file-read* file-write* (subpath").unwrap(), "{p}");
    }

    #[test]
    fn a_path_cannot_break_out_of_its_rule() {
        let mut c = config(false);
        c.workspace = PathBuf::from("/tmp/x\"))\n(allow default)(\"");
        let p = profile(&c);
        assert!(!p.contains("\n(allow default)"), "{p}");
    }
}
