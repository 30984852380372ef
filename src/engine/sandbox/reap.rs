//! Ending a run completely: the guard that kills the whole process group, and reaping what is
//! left of it (kv1nt is a child subreaper, so the helper's orphans come back to it instead of
//! waiting for PID 1 as zombies that still count against RLIMIT_NPROC).

use std::time::{Duration, Instant};

/// Kills the run on drop unless it was reaped.
pub(super) struct KillGuard {
    pub pid: i32,
    pub reaped: bool,
}

impl KillGuard {
    pub fn kill(&self) {
        // SAFETY: signalling our own child and its process group.
        unsafe {
            libc::killpg(self.pid, libc::SIGKILL);
            libc::kill(self.pid, libc::SIGKILL);
        }
    }
}

impl Drop for KillGuard {
    fn drop(&mut self) {
        if !self.reaped {
            self.kill();
        }
    }
}

/// Makes this process the reaper of its orphaned descendants (once): when a run is killed, the
/// helper's own children lose their parent and would otherwise wait as zombies for PID 1 —
/// which in containers may reap late — while still counting against RLIMIT_NPROC.
pub(super) fn become_subreaper() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    // SAFETY: plain prctl on this process.
    ONCE.call_once(|| unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1);
    });
}

/// Reaps what is left of the run's process group (orphans reparented to us) and waits, up to
/// 2 s, until the group is empty, so a run started right after a killed one can still fork.
pub(super) async fn drain_process_group(pgid: i32) {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        loop {
            // SAFETY: zeroed siginfo is valid; we reap only members of the run's own group,
            // which nothing else in this process waits for.
            let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
            let r = unsafe {
                libc::waitid(libc::P_PGID, pgid as libc::id_t, &mut info, libc::WEXITED | libc::WNOHANG)
            };
            // SAFETY: si_pid is valid to read after waitid with WEXITED.
            if r != 0 || unsafe { info.si_pid() } == 0 {
                break;
            }
        }
        // SAFETY: signal 0 only checks whether the group still has members.
        if unsafe { libc::killpg(pgid, 0) } != 0 || Instant::now() >= deadline {
            return;
        }
        // SAFETY: a member that survived the first kill gets another.
        unsafe { libc::killpg(pgid, libc::SIGKILL) };
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}
