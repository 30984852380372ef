//! The log file: `tracing` warnings that used to go nowhere land in `<KV1NT_HOME>/logs/`, never on
//! the terminal, and `kv1nt --log-file` names the file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// kv1nt with `args` in `cwd`, isolated: HOME, config and data under `home`, no keys.
fn kv1nt(home: &Path, cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kv1nt"))
        .args(args)
        .current_dir(cwd)
        .env("HOME", home)
        .env("KV1NT_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("share"))
        .env_remove("KV1NT_LOG")
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("OPENAI_API_KEY")
        .output()
        .expect("kv1nt runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The graph databases under the data dir (not their WAL files or moved-aside copies).
fn graph_files(data: &Path) -> Vec<PathBuf> {
    let Ok(dir) = std::fs::read_dir(data.join("graphs")) else { return Vec::new() };
    dir.filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "sqlite"))
        .collect()
}

#[test]
fn a_lost_warning_reaches_the_log_file_and_not_the_terminal() {
    let home = tempfile::tempdir().unwrap();
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(repo.path().join("lib.rs"), "pub fn answer() -> u32 { 42 }\n").unwrap();
    let first = kv1nt(home.path(), repo.path(), &["index", "--json"]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(first.stderr.is_empty(), "a first run opens the log quietly: {}", text(&first.stderr));
    // Corrupt the repository's graph: the next run moves it aside with a `tracing::warn!`.
    let data = home.path().join("data");
    let graphs = graph_files(&data);
    assert_eq!(graphs.len(), 1, "{graphs:?}");
    for side in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{side}", graphs[0].display()));
    }
    std::fs::write(&graphs[0], vec![0x5a; 8192]).unwrap();
    let second = kv1nt(home.path(), repo.path(), &["index", "--json"]);
    assert!(second.status.success(), "{}", text(&second.stderr));

    let log = data.join("logs/kv1nt.log");
    let logged = std::fs::read_to_string(&log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
    assert!(logged.contains("WARN") && logged.contains("corrupt graph database moved aside"), "{logged}");
    // The subscriber writes to the file only.
    for out in [&first, &second] {
        let stderr = text(&out.stderr);
        assert!(!stderr.contains("moved aside") && !stderr.contains("WARN"), "{stderr}");
    }
}

#[test]
fn log_file_flag_prints_the_path_inside_kv1nt_home() {
    let home = tempfile::tempdir().unwrap();
    let out = kv1nt(home.path(), home.path(), &["--log-file"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = PathBuf::from(text(&out.stdout).trim_end());
    assert_eq!(printed, home.path().join("data/logs/kv1nt.log"));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
}

#[test]
fn kv1nt_log_filters_what_is_written() {
    let home = tempfile::tempdir().unwrap();
    let run = |filter: &str| {
        Command::new(env!("CARGO_BIN_EXE_kv1nt"))
            .args(["sessions"])
            .current_dir(home.path())
            .env("HOME", home.path())
            .env("KV1NT_HOME", home.path().join("data"))
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .env("KV1NT_LOG", filter)
            .output()
            .expect("kv1nt runs")
    };
    // A fresh session database is migrated: an info note, hidden by `KV1NT_LOG=error`.
    let quiet = run("error");
    assert!(quiet.status.success(), "{}", text(&quiet.stderr));
    let log = home.path().join("data/logs/kv1nt.log");
    assert!(!std::fs::read_to_string(&log).unwrap_or_default().contains("migrated"));
    std::fs::remove_dir_all(home.path().join("data")).unwrap();
    let noisy = run("info");
    assert!(noisy.status.success(), "{}", text(&noisy.stderr));
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("INFO") && logged.contains("migrated session database"), "{logged}");
}

#[test]
fn without_kv1nt_home_the_data_dir_is_the_xdg_one_as_before() {
    let log_file = |xdg_data: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kv1nt"));
        cmd.arg("--log-file").env("HOME", "/home/u").env_remove("KV1NT_HOME").env_remove("XDG_DATA_HOME");
        if let Some(dir) = xdg_data {
            cmd.env("XDG_DATA_HOME", dir);
        }
        let out = cmd.output().expect("kv1nt runs");
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout).trim_end().to_string()
    };
    assert_eq!(log_file(None), "/home/u/.local/share/kv1nt/logs/kv1nt.log");
    assert_eq!(log_file(Some("/srv/data")), "/srv/data/kv1nt/logs/kv1nt.log");
}

/// The TUI under a pseudo-terminal (`script`, util-linux) with everything logged: the log file
/// fills, stderr stays empty. `script` is a prerequisite (a skip outside CI, a failure in it).
#[test]
fn the_tui_logs_to_the_file_and_nothing_to_stderr() {
    let home = tempfile::tempdir().unwrap();
    let err = home.path().join("stderr.txt");
    let shell = format!("'{}' --exit-after-first-frame 2>'{}'", env!("CARGO_BIN_EXE_kv1nt"), err.display());
    let out = Command::new("script")
        .args(["-qec", &shell, "/dev/null"])
        .current_dir(home.path())
        .env("HOME", home.path())
        .env("KV1NT_HOME", home.path().join("data"))
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("KV1NT_LOG", "trace")
        .env("TERM", "xterm-256color")
        .output();
    if !crate::support::prereq::require(out.is_ok(), "`script` (util-linux)", "apt-get install bsdutils") {
        return;
    }
    let out = out.unwrap();
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(std::fs::read_to_string(&err).unwrap(), "");
    let logged = std::fs::read_to_string(home.path().join("data/logs/kv1nt.log")).unwrap();
    assert!(logged.contains("migrated session database"), "{logged}");
}
