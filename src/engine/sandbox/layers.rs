//! The kernel layers the helper applies last, each all-or-nothing: Landlock (filesystem and
//! TCP allowlist, signal and abstract-socket scoping), the capability drop (and, as root, the
//! uid drop to 65534), and the seccomp filter.
//!
//! Invariants:
//! - Each function either applies its layer completely or returns why it could not; the helper
//!   decides (from the mode) whether that refuses the run.
//! - Seccomp is installed last: after it, only `execve` of the program remains to be done.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::HelperConfig;
use super::helper::SYSTEM_READ;

pub(super) fn landlock(config: &HelperConfig, own_proc: bool, shm: bool) -> Result<(), String> {
    use landlock::{
        ABI, Access, AccessFs, AccessNet, Ruleset, RulesetAttr, RulesetCreatedAttr, RulesetStatus, Scope,
        path_beneath_rules,
    };
    let abi = ABI::V6;
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
    match status.ruleset {
        RulesetStatus::NotEnforced => Err("this kernel does not enforce Landlock".into()),
        _ => Ok(()),
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
