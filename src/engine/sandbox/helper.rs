//! `kv1nt sandbox-exec`: the helper that applies the layers and execs the program.
//!
//! Invariants:
//! - Runs single-threaded: `main.rs` dispatches here before config loading, the tokio runtime
//!   or any thread (unshare(CLONE_NEWUSER) and per-thread seccomp/Landlock need that).
//! - Its environment is already the parent's allowlist; it adds nothing.
//! - Reports on fd 3 exactly one JSON line — `{"layers":[…]}` just before exec, or
//!   `{"error":{"layer":…,"reason":…}}` and exit [`EXIT_REFUSED`] — then fd 3 is closed, so the
//!   parent reads it to EOF.
//! - Order: rlimits → unshare(user+pid+mount[+net]) and uid/gid maps → RLIMIT_NPROC (counted per
//!   user namespace, so it binds even for root mapped to root) → fork: the child is PID 1 ("init")
//!   of the new PID namespace → private mounts, the copy-on-write overlay (`cow.rs`, when asked),
//!   protected paths read-only (`protect.rs`), fresh
//!   /proc, tmpfs /dev/shm → Landlock →
//!   capabilities dropped (bounding set, ambient, securebits NOROOT locked) → seccomp → report →
//!   init forks the program (PID 2), reaps everything, and hands the program's status to the
//!   outer helper through a pipe; the outer helper exits the same way (code or signal).
//!   When init exits, the kernel kills every process left in the namespace.
//! - As real root, the program stays host uid 0 *without capabilities* (no uid drop to 65534):
//!   toolchains under /root (0700) must stay readable and project files writable. Hence /etc is
//!   allowlisted entry by entry (never /etc/shadow), and /proc is readable only when it is the
//!   namespace's own fresh mount.

use std::convert::Infallible;
use std::ffi::CString;

use super::cow;
use super::layers::{drop_caps, drop_to_nobody, landlock, seccomp};
use super::protect::bind_read_only;
use super::{HelperConfig, SandboxMode};

const REPORT_FD: i32 = 3;
/// Exit status when the helper refuses to run the program.
pub const EXIT_REFUSED: i32 = 125;

pub(super) const SYSTEM_READ: &[&str] = &[
    "/usr",
    "/lib",
    "/lib64",
    "/lib32",
    "/libx32",
    "/bin",
    "/sbin",
    "/dev/zero",
    "/dev/urandom",
    "/dev/random",
    "/dev/full",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/localtime",
    "/etc/timezone",
    "/etc/ssl",
    "/etc/ca-certificates",
    "/etc/alternatives",
    "/etc/hosts",
    "/etc/host.conf",
    "/etc/resolv.conf",
    "/etc/gai.conf",
    "/etc/mime.types",
    "/etc/os-release",
    "/etc/debian_version",
    "/etc/locale.alias",
    "/etc/inputrc",
    "/etc/bash.bashrc",
    "/etc/profile",
];

/// One layer of [`confine`]: the label to report, or why it could not be applied.
type Step<'a> = dyn Fn() -> Result<String, String> + 'a;

struct Refusal {
    layer: &'static str,
    reason: String,
}

/// Entry point; returns only when the program could not be run (the exit status to use).
pub fn main(config_json: &str, argv: &[String]) -> i32 {
    let config: HelperConfig = match serde_json::from_str(config_json) {
        Ok(config) => config,
        Err(e) => return refuse("config", &format!("bad helper config: {e}")),
    };
    if argv.is_empty() {
        return refuse("config", "no program to run");
    }
    match run(&config, argv) {
        Ok(never) => match never {},
        Err(r) => refuse(r.layer, &r.reason),
    }
}

fn refuse(layer: &str, reason: &str) -> i32 {
    let line = serde_json::json!({ "error": { "layer": layer, "reason": reason } });
    write_report(&line.to_string());
    EXIT_REFUSED
}

fn write_report(line: &str) {
    let text = format!("{line}\n");
    // SAFETY: writing a valid buffer to an fd we own (or a closed fd: EBADF, ignored).
    unsafe {
        libc::write(REPORT_FD, text.as_ptr().cast(), text.len());
        libc::close(REPORT_FD);
    }
}

fn run(config: &HelperConfig, argv: &[String]) -> Result<Infallible, Refusal> {
    let mut layers = vec!["env-cleared".to_string()];
    if config.mode == SandboxMode::Off {
        return exec_now(argv, &layers);
    }
    let required = |layer: &str| config.require.iter().any(|r| r == layer);
    let optional = |layer: &'static str, result: Result<(), String>, layers: &mut Vec<String>| match result {
        Ok(()) => {
            layers.push(layer.to_string());
            Ok(true)
        }
        Err(reason) if required(layer) => Err(Refusal { layer, reason }),
        Err(_) => Ok(false),
    };
    optional("rlimits", set_rlimits(config), &mut layers)?;
    // SAFETY: plain syscall.
    let root = unsafe { libc::geteuid() } == 0;
    let namespaced = match unshare(config.network, root) {
        Ok(()) => true,
        Err(reason) if required("pidns") || required("userns") => {
            return Err(Refusal { layer: "pidns", reason });
        }
        Err(_) => false,
    };
    if namespaced || root {
        // Binds only a non-root real uid: the run's own uid in its user namespace, or 65534 after
        // the uid drop (shared with other runs and `nobody` processes).
        set_limit(libc::RLIMIT_NPROC, config.max_processes, config.max_processes)
            .map_err(|reason| Refusal { layer: "rlimits", reason })?;
    }
    if namespaced {
        if !root {
            layers.push("userns".into());
        }
        if !config.network {
            layers.push("netns".into());
        }
        layers.push("pidns".into());
        return fork_init(config, argv, layers);
    }
    for layer in ["netns", "pidns"] {
        if required(layer) {
            return Err(Refusal { layer, reason: "namespaces are unavailable".into() });
        }
    }
    if config.cow.is_some() {
        let reason = "no private mount namespace to mount the overlay in".into();
        return Err(Refusal { layer: cow::LAYER, reason });
    }
    protect(config, false, &mut layers)?;
    confine(config, false, false, &mut layers)?;
    exec_now(argv, &layers)
}

/// Landlock, capabilities, seccomp — each mandatory when required (Landlock then with every
/// filesystem right: a partial ruleset is reported as such, and refused when required).
fn confine(
    config: &HelperConfig,
    own_proc: bool,
    shm: bool,
    layers: &mut Vec<String>,
) -> Result<(), Refusal> {
    let mut required: Vec<&str> = config.require.iter().map(String::as_str).collect();
    if config.mode == SandboxMode::Enforce {
        required.extend(["landlock", "seccomp", "uid-drop"]);
    }
    // SAFETY: plain syscall.
    let root = unsafe { libc::geteuid() } == 0;
    let landlock_step = || {
        let outcome = landlock(config, own_proc, shm)?;
        if outcome.fs_complete || !required.contains(&"landlock") {
            Ok(outcome.label)
        } else {
            Err(outcome.refusal())
        }
    };
    let plain = |step: fn() -> Result<(), String>, layer: &'static str| move || step().map(|()| layer.into());
    let steps: [(&'static str, Box<Step>); 3] = [
        ("landlock", Box::new(landlock_step)),
        if root {
            ("uid-drop", Box::new(plain(drop_to_nobody, "uid-drop")))
        } else {
            ("caps-dropped", Box::new(plain(drop_caps, "caps-dropped")))
        },
        ("seccomp", Box::new(|| seccomp(config.network).map(|()| "seccomp".into()))),
    ];
    for (layer, step) in steps {
        match step() {
            Ok(label) => layers.push(label),
            Err(reason) if required.contains(&layer) => return Err(Refusal { layer, reason }),
            Err(_) => {}
        }
    }
    Ok(())
}

fn exec_now(argv: &[String], layers: &[String]) -> Result<Infallible, Refusal> {
    write_report(&serde_json::json!({ "layers": layers }).to_string());
    let error = execvp(argv);
    eprintln!("kv1nt sandbox: cannot run `{}`: {error}", argv[0]);
    // SAFETY: plain process exit.
    unsafe { libc::_exit(127) }
}

fn execvp(argv: &[String]) -> std::io::Error {
    let args: Vec<CString> = match argv.iter().map(|a| CString::new(a.as_bytes())).collect() {
        Ok(args) => args,
        Err(_) => return std::io::Error::other("an argument contains a NUL byte"),
    };
    let mut ptrs: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    // SAFETY: NUL-terminated array of valid C strings that outlive the call.
    unsafe { libc::execvp(ptrs[0], ptrs.as_ptr()) };
    std::io::Error::last_os_error()
}

fn set_limit(resource: libc::__rlimit_resource_t, soft: u64, hard: u64) -> Result<(), String> {
    let limit = libc::rlimit { rlim_cur: soft, rlim_max: hard.max(soft) };
    // SAFETY: valid pointer to an initialised rlimit.
    if unsafe { libc::setrlimit(resource, &limit) } != 0 {
        return Err(format!("setrlimit({resource}): {}", std::io::Error::last_os_error()));
    }
    Ok(())
}

fn set_rlimits(config: &HelperConfig) -> Result<(), String> {
    set_limit(libc::RLIMIT_DATA, config.memory_bytes, config.memory_bytes)?;
    set_limit(libc::RLIMIT_CPU, config.cpu_secs, config.cpu_secs + 1)?;
    set_limit(libc::RLIMIT_FSIZE, config.max_file_bytes, config.max_file_bytes)?;
    set_limit(libc::RLIMIT_NOFILE, 256, 256)?;
    set_limit(libc::RLIMIT_CORE, 0, 0)
}

/// New PID, mount (and network) namespaces; a user namespace too unless we are root (root
/// needs none, and a root-mapped user namespace would not make RLIMIT_NPROC bind).
fn unshare(network: bool, root: bool) -> Result<(), String> {
    // SAFETY: plain syscalls; the process is single-threaded here.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    let mut flags = libc::CLONE_NEWNS | libc::CLONE_NEWPID;
    if !root {
        flags |= libc::CLONE_NEWUSER;
    }
    if !network {
        flags |= libc::CLONE_NEWNET;
    }
    // SAFETY: as above.
    if unsafe { libc::unshare(flags) } != 0 {
        return Err(format!("unshare: {}", std::io::Error::last_os_error()));
    }
    if root {
        return Ok(());
    }
    let write = |file: &str, text: String| {
        std::fs::write(format!("/proc/self/{file}"), text).map_err(|e| format!("/proc/self/{file}: {e}"))
    };
    write("setgroups", "deny".into())?;
    write("uid_map", format!("{uid} {uid} 1"))?;
    write("gid_map", format!("{gid} {gid} 1"))
}

fn fork_init(config: &HelperConfig, argv: &[String], mut layers: Vec<String>) -> Result<Infallible, Refusal> {
    let mut fds = [0; 2];
    // SAFETY: valid array for pipe2; fork in a single-threaded process.
    let pid = unsafe {
        if libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) != 0 {
            return Err(Refusal { layer: "pidns", reason: "pipe2 failed".into() });
        }
        libc::fork()
    };
    let (status_r, status_w) = (fds[0], fds[1]);
    if pid < 0 {
        return Err(Refusal { layer: "pidns", reason: format!("fork: {}", std::io::Error::last_os_error()) });
    }
    if pid > 0 {
        // SAFETY: closing our copies; the outer helper only waits.
        unsafe {
            libc::close(REPORT_FD);
            libc::close(status_w);
        }
        outer_wait(pid, status_r);
    }
    // Init: PID 1 of the new namespace. Dies with the outer helper.
    // SAFETY: plain syscalls.
    unsafe {
        libc::close(status_r);
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
    }
    let mounts = private_mounts();
    if let Some(spec) = &config.cow {
        // SAFETY: plain syscall.
        let userns = unsafe { libc::geteuid() } != 0 || layers.iter().any(|l| l == "userns");
        let mounted = match mounts {
            Some(_) => cow::mount(spec, &config.workspace, userns),
            None => Err("no private mount namespace to mount the overlay in".into()),
        };
        mounted.map_err(|reason| Refusal { layer: cow::LAYER, reason })?;
        layers.push(cow::LAYER.into());
    }
    protect(config, mounts.is_some(), &mut layers)?;
    let (own_proc, shm) = mounts.unwrap_or_default();
    confine(config, own_proc, shm, &mut layers)?;
    write_report(&serde_json::json!({ "layers": layers }).to_string());
    // SAFETY: fork from the single-threaded init.
    let child = unsafe { libc::fork() };
    if child == 0 {
        let error = execvp(argv);
        eprintln!("kv1nt sandbox: cannot run `{}`: {error}", argv[0]);
        // SAFETY: plain exit.
        unsafe { libc::_exit(127) }
    }
    let mut status = 0;
    loop {
        // SAFETY: valid out pointer.
        let reaped = unsafe { libc::waitpid(-1, &mut status, 0) };
        if reaped == child
            || (reaped < 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR))
        {
            break;
        }
    }
    // SAFETY: writing an i32 to our pipe, then exiting (which kills the namespace).
    unsafe {
        libc::write(status_w, (&status as *const i32).cast(), 4);
        libc::_exit(0)
    }
}

/// Wait for init, then exit exactly as the program did.
fn outer_wait(init: libc::pid_t, status_r: i32) -> ! {
    let mut status = 0;
    // SAFETY: valid out pointers and buffers.
    unsafe {
        while libc::waitpid(init, &mut status, 0) < 0
            && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR)
        {}
        let mut program_status = 0i32;
        if libc::read(status_r, (&mut program_status as *mut i32).cast(), 4) == 4 {
            status = program_status;
        }
        if libc::WIFSIGNALED(status) {
            let signal = libc::WTERMSIG(status);
            libc::signal(signal, libc::SIG_DFL);
            libc::kill(libc::getpid(), signal);
            libc::_exit(128 + signal);
        }
        libc::_exit(if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { 1 })
    }
}

/// The protected paths read-only (`protected-ro`), mandatory in `enforce` mode or when required;
/// `private`: whether the mount namespace is the run's own (otherwise nothing may be mounted).
fn protect(config: &HelperConfig, private: bool, layers: &mut Vec<String>) -> Result<(), Refusal> {
    const LAYER: &str = "protected-ro";
    if config.protected.is_empty() {
        return Ok(());
    }
    let result = if private {
        bind_read_only(&config.protected)
    } else {
        Err("no private mount namespace to make the git dir read-only in".into())
    };
    match result {
        Ok(()) => layers.push(LAYER.into()),
        Err(reason) if config.mode == SandboxMode::Enforce || config.require.iter().any(|r| r == LAYER) => {
            return Err(Refusal { layer: LAYER, reason });
        }
        Err(_) => {}
    }
    Ok(())
}

/// Make mounts private (`None` when that fails: nothing else is mounted then), mount a fresh
/// /proc and a private /dev/shm. Returns which of those worked.
fn private_mounts() -> Option<(bool, bool)> {
    let c = |s: &str| CString::new(s).expect("static string");
    let (none, root, proc_, shm, tmpfs, opts) =
        (c("none"), c("/"), c("/proc"), c("/dev/shm"), c("tmpfs"), c("size=64m,mode=1777"));
    // SAFETY: valid C strings; we are root of our own user and mount namespaces.
    unsafe {
        let flags = libc::MS_REC | libc::MS_PRIVATE;
        if libc::mount(none.as_ptr(), root.as_ptr(), std::ptr::null(), flags, std::ptr::null()) != 0 {
            return None;
        }
        let safe = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
        let proc_ok =
            libc::mount(proc_.as_ptr(), proc_.as_ptr(), c("proc").as_ptr(), safe, std::ptr::null()) == 0;
        let shm_ok =
            libc::mount(tmpfs.as_ptr(), shm.as_ptr(), tmpfs.as_ptr(), safe, opts.as_ptr().cast()) == 0;
        Some((proc_ok, shm_ok))
    }
}
