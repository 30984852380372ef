//! The kernel layers the helper applies last, each all-or-nothing: Landlock (filesystem and
//! TCP allowlist, signal and abstract-socket scoping), the capability drop (and, as root, the
//! uid drop to 65534), and the seccomp filter.
//!
//! Invariants:
//! - Each function either applies its layer completely or returns why it could not; the helper
//!   decides (from the mode) whether that refuses the run. Landlock is the exception the kernel
//!   forces: an older kernel enforces part of the ruleset, and [`landlock_outcome`] says exactly
//!   which part is missing (`landlock(partial: ABI 3, no net rules, …)`); `enforce` mode
//!   requires every filesystem right.
//! - Seccomp is installed last: after it, only `execve` of the program remains to be done.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::HelperConfig;
use super::helper::SYSTEM_READ;

/// The ABI the ruleset asks for: every filesystem right, TCP rules and scopes.
const LANDLOCK_ABI: i32 = 6;

/// What the kernel enforced of the ruleset asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LandlockOutcome {
    /// The layer as reported: `landlock`, or e.g. `landlock(partial: ABI 3, no net rules, …)`.
    pub label: String,
    /// Whether every filesystem right asked for is enforced (what `enforce` mode requires).
    pub fs_complete: bool,
}

/// Which features an older kernel lacks: (ABI that brought it, what the label says, a
/// filesystem right?).
const LANDLOCK_FEATURES: &[(i32, &str, bool)] = &[
    (2, "no refer rights", true),
    (3, "no truncate rights", true),
    (4, "no net rules", false),
    (5, "no ioctl-dev rights", true),
    (6, "no scope rules", false),
];

/// The pure decision: `kernel` is the kernel's Landlock ABI, `requested` the ruleset's,
/// `partial` whether the kernel said PartiallyEnforced, `net_rules` whether TCP rules were asked
/// for (not when the run may use the network).
pub(super) fn landlock_outcome(
    kernel: i32,
    requested: i32,
    partial: bool,
    net_rules: bool,
) -> LandlockOutcome {
    let missing: Vec<&(i32, &str, bool)> = LANDLOCK_FEATURES
        .iter()
        .filter(|(abi, name, _)| *abi > kernel && *abi <= requested && (net_rules || *name != "no net rules"))
        .collect();
    if missing.is_empty() && !partial {
        return LandlockOutcome { label: "landlock".into(), fs_complete: true };
    }
    let mut label = format!("landlock(partial: ABI {kernel}");
    for (_, name, _) in &missing {
        label.push_str(", ");
        label.push_str(name);
    }
    label.push(')');
    // Partial for a reason the ABI does not explain: assume the worst.
    let fs_complete = !missing.is_empty() && !missing.iter().any(|(_, _, fs)| *fs);
    LandlockOutcome { label, fs_complete }
}

impl LandlockOutcome {
    /// Why `enforce` mode refuses this outcome.
    pub(super) fn refusal(&self) -> String {
        format!("this kernel enforces the filesystem rules only partly ({})", self.label)
    }
}

pub(super) fn landlock(config: &HelperConfig, own_proc: bool, shm: bool) -> Result<LandlockOutcome, String> {
    use landlock::{
        ABI, Access, AccessFs, AccessNet, LandlockStatus, Ruleset, RulesetAttr, RulesetCreatedAttr,
        RulesetStatus, Scope, path_beneath_rules,
    };
    let abi = ABI::V6;
    debug_assert_eq!(abi as i32, LANDLOCK_ABI);
    let mut read: Vec<PathBuf> = SYSTEM_READ.iter().map(PathBuf::from).collect();
    read.extend(config.read_paths.iter().cloned());
    if own_proc {
        read.push("/proc".into());
    }
    let mut write = vec![config.workspace.clone(), PathBuf::from("/dev/null")];
    write.extend(config.write_paths.iter().cloned());
    if shm {
        write.push("/dev/shm".into());
    }
    let e = |e: landlock::RulesetError| e.to_string();
    let mut ruleset = Ruleset::default().handle_access(AccessFs::from_all(abi)).map_err(e)?;
    if !config.network {
        ruleset = ruleset.handle_access(AccessNet::from_all(abi)).map_err(e)?;
    }
    let status = ruleset
        .scope(Scope::AbstractUnixSocket | Scope::Signal)
        .map_err(e)?
        .create()
        .map_err(e)?
        .add_rules(path_beneath_rules(&read, AccessFs::from_read(abi)))
        .map_err(e)?
        .add_rules(path_beneath_rules(&write, AccessFs::from_all(abi)))
        .map_err(e)?
        .restrict_self()
        .map_err(e)?;
    let kernel = match status.landlock {
        LandlockStatus::Available { effective_abi, kernel_abi } => kernel_abi.unwrap_or(effective_abi as i32),
        LandlockStatus::NotEnabled | LandlockStatus::NotImplemented => 0,
    };
    match status.ruleset {
        RulesetStatus::NotEnforced => Err("this kernel does not enforce Landlock".into()),
        RulesetStatus::PartiallyEnforced => Ok(landlock_outcome(kernel, LANDLOCK_ABI, true, !config.network)),
        RulesetStatus::FullyEnforced => Ok(landlock_outcome(kernel, LANDLOCK_ABI, false, !config.network)),
    }
}

const NOBODY: libc::uid_t = 65534;
const CAP_DAC_OVERRIDE: libc::c_ulong = 1;
const CAP_DAC_READ_SEARCH: libc::c_ulong = 2;
const DAC_CAPS: u32 = (1 << CAP_DAC_OVERRIDE) | (1 << CAP_DAC_READ_SEARCH);

/// Root only: become uid/gid 65534 (so RLIMIT_NPROC binds) keeping just CAP_DAC_OVERRIDE and
/// CAP_DAC_READ_SEARCH as ambient capabilities — file access is then exactly Landlock's
/// allowlist (toolchains under /root, root-owned project files) and nothing else survives.
pub(super) fn drop_to_nobody() -> Result<(), String> {
    // NOROOT, NO_SETUID_FIXUP (caps survive the uid change), KEEP_CAPS off — all locked.
    const SECUREBITS: libc::c_ulong = 0b10_1111;
    let err = |what: &str| format!("{what}: {}", std::io::Error::last_os_error());
    // SAFETY: prctl/set*id/capset with valid arguments; the process is single-threaded.
    unsafe {
        for cap in 0..64 {
            if DAC_CAPS & (1u32.checked_shl(cap).unwrap_or(0)) == 0
                && libc::prctl(libc::PR_CAPBSET_DROP, cap) != 0
            {
                break;
            }
        }
        if libc::prctl(libc::PR_SET_SECUREBITS, SECUREBITS) != 0 {
            return Err(err("securebits"));
        }
        if libc::setgroups(0, std::ptr::null()) != 0 || libc::setresgid(NOBODY, NOBODY, NOBODY) != 0 {
            return Err(err("setresgid"));
        }
        if libc::setresuid(NOBODY, NOBODY, NOBODY) != 0 {
            return Err(err("setresuid"));
        }
        capset([DAC_CAPS, DAC_CAPS, DAC_CAPS])?;
        for cap in [CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH] {
            if libc::prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0 {
                return Err(err("ambient capabilities"));
            }
        }
    }
    Ok(())
}

/// Set (effective, permitted, inheritable) for the low 32 capabilities; the high ones to none.
fn capset(sets: [u32; 3]) -> Result<(), String> {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    let header = Header { version: 0x2008_0522, pid: 0 };
    let data = [sets[0], sets[1], sets[2], 0, 0, 0];
    // SAFETY: valid header and two-element data array (v3 layout).
    if unsafe { libc::syscall(libc::SYS_capset, &header, data.as_ptr()) } != 0 {
        return Err(format!("capset: {}", std::io::Error::last_os_error()));
    }
    Ok(())
}

pub(super) fn drop_caps() -> Result<(), String> {
    // NOROOT, NO_SETUID_FIXUP, NO_CAP_AMBIENT_RAISE and KEEP_CAPS off — all locked.
    const SECUREBITS: libc::c_ulong = 0b1110_1111;
    // SAFETY: prctl/capset with valid arguments; the process is single-threaded.
    unsafe {
        if libc::prctl(libc::PR_SET_SECUREBITS, SECUREBITS) != 0 {
            return Err(format!("securebits: {}", std::io::Error::last_os_error()));
        }
        for cap in 0..64 {
            if libc::prctl(libc::PR_CAPBSET_DROP, cap) != 0 {
                break;
            }
        }
        libc::prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    }
    capset([0; 3])
}

pub(super) fn seccomp(network: bool) -> Result<(), String> {
    use seccompiler::{
        SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter, SeccompRule,
        TargetArch,
    };
    let arch: TargetArch = std::env::consts::ARCH.try_into().map_err(|e| format!("{e:?}"))?;
    let mut denied = vec![
        libc::SYS_ptrace,
        libc::SYS_process_vm_readv,
        libc::SYS_process_vm_writev,
        libc::SYS_io_uring_setup,
        libc::SYS_io_uring_enter,
        libc::SYS_io_uring_register,
        libc::SYS_bpf,
        libc::SYS_keyctl,
        libc::SYS_add_key,
        libc::SYS_request_key,
        libc::SYS_userfaultfd,
        libc::SYS_perf_event_open,
        libc::SYS_mount,
        libc::SYS_umount2,
        libc::SYS_unshare,
        libc::SYS_setns,
        libc::SYS_pivot_root,
        libc::SYS_chroot,
        libc::SYS_open_tree,
        libc::SYS_move_mount,
        libc::SYS_fsopen,
        libc::SYS_fsmount,
        libc::SYS_fspick,
        libc::SYS_mount_setattr,
        libc::SYS_name_to_handle_at,
        libc::SYS_open_by_handle_at,
        libc::SYS_kexec_load,
        libc::SYS_init_module,
        libc::SYS_finit_module,
        libc::SYS_delete_module,
    ];
    if !network {
        denied.push(libc::SYS_socket);
    }
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = denied.into_iter().map(|nr| (nr, vec![])).collect();
    // clone() creating namespaces is denied; clone3 (flags in memory) answers ENOSYS below so libc
    // falls back to clone.
    let ns_flags = [
        libc::CLONE_NEWUSER,
        libc::CLONE_NEWNS,
        libc::CLONE_NEWNET,
        libc::CLONE_NEWPID,
        libc::CLONE_NEWIPC,
        libc::CLONE_NEWUTS,
        libc::CLONE_NEWCGROUP,
    ];
    let e = |e: seccompiler::BackendError| e.to_string();
    let clone_rules = ns_flags
        .iter()
        .map(|&flag| {
            let flag = flag as u64;
            let cond = SeccompCondition::new(0, SeccompCmpArgLen::Qword, SeccompCmpOp::MaskedEq(flag), flag)
                .map_err(e)?;
            SeccompRule::new(vec![cond]).map_err(e)
        })
        .collect::<Result<Vec<_>, String>>()?;
    rules.insert(libc::SYS_clone, clone_rules);
    let deny =
        SeccompFilter::new(rules, SeccompAction::Allow, SeccompAction::Errno(libc::EPERM as u32), arch)
            .map_err(e)?;
    let enosys = SeccompFilter::new(
        BTreeMap::from([(libc::SYS_clone3, vec![])]),
        SeccompAction::Allow,
        SeccompAction::Errno(libc::ENOSYS as u32),
        arch,
    )
    .map_err(e)?;
    for filter in [deny, enosys] {
        let program: seccompiler::BpfProgram = filter.try_into().map_err(e)?;
        seccompiler::apply_filter(&program).map_err(|e| e.to_string())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kernel_with_the_requested_abi_reports_plain_landlock() {
        let full = landlock_outcome(6, 6, false, true);
        assert_eq!(full, LandlockOutcome { label: "landlock".into(), fs_complete: true });
        assert_eq!(landlock_outcome(7, 6, false, true), full, "a newer kernel is full too");
    }

    #[test]
    fn an_older_kernel_names_its_abi_and_every_missing_feature() {
        let abi3 = landlock_outcome(3, 6, true, true);
        assert_eq!(abi3.label, "landlock(partial: ABI 3, no net rules, no ioctl-dev rights, no scope rules)");
        assert!(!abi3.fs_complete, "ioctl on devices is a filesystem right");
        let abi1 = landlock_outcome(1, 6, true, false);
        assert_eq!(
            abi1.label,
            "landlock(partial: ABI 1, no refer rights, no truncate rights, no ioctl-dev rights, no scope rules)",
            "with the network allowed no TCP rules were asked for"
        );
        assert!(abi1.refusal().contains("only partly (landlock(partial: ABI 1"), "{}", abi1.refusal());
    }

    #[test]
    fn missing_only_net_or_scope_rules_keeps_the_filesystem_complete() {
        let abi5 = landlock_outcome(5, 6, true, true);
        assert_eq!(
            abi5,
            LandlockOutcome { label: "landlock(partial: ABI 5, no scope rules)".into(), fs_complete: true }
        );
        let abi4 = landlock_outcome(4, 6, true, true);
        assert!(!abi4.fs_complete, "ABI 4 lacks ioctl-dev: {abi4:?}");
        let abi4_net = landlock_outcome(4, 4, true, false);
        assert_eq!(abi4_net.label, "landlock(partial: ABI 4)", "unexplained partial");
        assert!(!abi4_net.fs_complete, "an unexplained partial enforcement is not trusted");
    }
}
