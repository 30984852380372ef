//! Copy-on-write runs ([`RunDir::Transaction`](super::RunDir::Transaction)): the program sees
//! the workspace through an overlay whose lower layer is the real tree and whose upper layer is
//! a private directory, so nothing it writes reaches the workspace until the caller applies the
//! change set (`changes.rs`) that the upper layer describes.
//!
//! Invariants:
//! - The upper and work directories live in a fresh 0700 directory under the system temp dir
//!   ([`CowDir`]), never inside the workspace (overlayfs refuses overlapping layers), and are
//!   removed when the [`CowDir`] is dropped.
//! - Git-ignored directories that exist before the run (`target/`, `node_modules/`, caches) are
//!   bound from the real tree over the overlay ("write-through"), so builds write them directly
//!   and stay fast; they are found with git's own ignore rules ([`write_through`]).
//! - The helper opens the write-through directories *before* mounting the overlay and binds
//!   them from those descriptors, so it binds the real directories, not the overlay's view.
//! - The overlay is mounted before the protected paths are made read-only (`protect.rs`), so
//!   the git dir and `.kv1nt/` stay read-only inside the overlay too.
//! - A helper that cannot mount the overlay refuses the run with layer [`LAYER`]; the parent
//!   then remembers that copy-on-write is unavailable in this process and falls back to a
//!   recorded run (`changes::Snapshot`), never to an unrecorded one.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// The layer name a copy-on-write run reports (and refuses with).
pub(crate) const LAYER: &str = "copy-on-write";

/// What the helper needs to mount the overlay.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CowSpec {
    pub upper: PathBuf,
    pub work: PathBuf,
    /// Existing git-ignored directories, bound from the real tree (absolute, canonical).
    pub write_through: Vec<PathBuf>,
}

/// The private directory holding a run's upper and work layers; removed on drop.
pub(crate) struct CowDir {
    root: PathBuf,
    pub spec: CowSpec,
}

static UNAVAILABLE: AtomicBool = AtomicBool::new(false);

/// Whether an earlier run found that the overlay cannot be mounted here.
pub(crate) fn known_unavailable() -> bool {
    UNAVAILABLE.load(Ordering::Relaxed)
}

pub(crate) fn mark_unavailable() {
    UNAVAILABLE.store(true, Ordering::Relaxed);
}

impl CowDir {
    /// A fresh upper/work pair for a run in `workspace` (canonical).
    pub(crate) fn new(workspace: &Path) -> std::io::Result<CowDir> {
        use std::os::unix::fs::DirBuilderExt;
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let name = format!("kv1nt-cow-{}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
        let root = std::env::temp_dir().join(name);
        let _ = remove_tree(&root);
        std::fs::DirBuilder::new().mode(0o700).create(&root)?;
        let root = root.canonicalize()?;
        let (upper, work) = (root.join("upper"), root.join("work"));
        std::fs::create_dir(&upper)?;
        std::fs::create_dir(&work)?;
        Ok(CowDir { root, spec: CowSpec { upper, work, write_through: write_through(workspace) } })
    }

    /// The directory bwrap must bind so the helper can reach the layers.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }
}

impl Drop for CowDir {
    fn drop(&mut self) {
        let _ = remove_tree(&self.root);
    }
}

/// `remove_dir_all`, after making every directory searchable (overlayfs leaves a mode-0 `work`).
fn remove_tree(root: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700));
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                dirs.push(entry.path());
            }
        }
    }
    std::fs::remove_dir_all(root)
}

/// The git-ignored directories of `workspace` that exist now, at their top-most ignored level
/// (`target/`, `web/node_modules/`); none when the workspace is not in a git repository.
pub(crate) fn write_through(workspace: &Path) -> Vec<PathBuf> {
    let Ok(repo) = git2::Repository::open(workspace) else { return Vec::new() };
    let Some(root) = repo.workdir().and_then(|w| w.canonicalize().ok()) else { return Vec::new() };
    let mut opts = git2::StatusOptions::new();
    opts.include_ignored(true)
        .recurse_ignored_dirs(false)
        .include_untracked(false)
        .exclude_submodules(true)
        .no_refresh(true);
    let Ok(statuses) = repo.statuses(Some(&mut opts)) else { return Vec::new() };
    statuses
        .iter()
        .filter(|e| e.status().contains(git2::Status::IGNORED))
        .filter_map(|e| e.path().ok().map(|p| root.join(p.trim_end_matches('/'))))
        .filter(|p| p.starts_with(workspace) && p.symlink_metadata().is_ok_and(|m| m.is_dir()))
        .collect()
}

/// Helper side, in the run's private mount namespace: mount the overlay over `workspace`, bind
/// the write-through directories back, hide the layers' directory under an empty read-only
/// tmpfs, and move the process (whose cwd was the real directory) into the overlay.
/// `userns`: the helper is in its own user namespace (overlayfs then keeps its metadata in
/// `user.*` xattrs).
pub(super) fn mount(spec: &CowSpec, workspace: &Path, userns: bool) -> Result<(), String> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let cstr = |p: &Path| CString::new(p.as_os_str().as_bytes()).map_err(|_| "a path contains a NUL byte");
    // Open the real directories first: after the mount their paths name the overlay's view.
    let mut held = Vec::new();
    for dir in &spec.write_through {
        let c = cstr(dir)?;
        // SAFETY: valid C string; the fd is closed below.
        let fd = unsafe { libc::open(c.as_ptr(), libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC) };
        if fd >= 0 {
            held.push((fd, c));
        }
    }
    let mut options = format!(
        "lowerdir={},upperdir={},workdir={}",
        escape(workspace),
        escape(&spec.upper),
        escape(&spec.work)
    );
    if userns {
        options.push_str(",userxattr");
    }
    let (target, fstype, options) =
        (cstr(workspace)?, c"overlay", CString::new(options).map_err(|e| e.to_string())?);
    let result = (|| {
        // SAFETY: valid C strings; we are in a private mount namespace.
        let mounted = unsafe {
            libc::mount(fstype.as_ptr(), target.as_ptr(), fstype.as_ptr(), 0, options.as_ptr().cast())
        };
        if mounted != 0 {
            return Err(format!("overlay mount: {}", std::io::Error::last_os_error()));
        }
        if let Some(root) = spec.upper.parent() {
            let (root, tmpfs) = (cstr(root)?, c"tmpfs");
            let flags = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC | libc::MS_RDONLY;
            // SAFETY: valid C strings; the overlay holds its layers already.
            if unsafe { libc::mount(tmpfs.as_ptr(), root.as_ptr(), tmpfs.as_ptr(), flags, std::ptr::null()) }
                != 0
            {
                return Err(format!("hiding the layers: {}", std::io::Error::last_os_error()));
            }
        }
        for (fd, path) in &held {
            let source = CString::new(format!("/proc/self/fd/{fd}")).map_err(|e| e.to_string())?;
            // SAFETY: valid C strings; the fd is open.
            let bound = unsafe {
                libc::mount(
                    source.as_ptr(),
                    path.as_ptr(),
                    std::ptr::null(),
                    libc::MS_BIND | libc::MS_REC,
                    std::ptr::null(),
                )
            };
            if bound != 0 {
                let error = std::io::Error::last_os_error();
                return Err(format!("binding {} through: {error}", path.to_string_lossy()));
            }
        }
        // The run's cwd was the real directory: enter the overlay.
        // SAFETY: valid C string.
        if unsafe { libc::chdir(target.as_ptr()) } != 0 {
            return Err(format!("entering the overlay: {}", std::io::Error::last_os_error()));
        }
        Ok(())
    })();
    for (fd, _) in held {
        // SAFETY: closing fds we opened.
        unsafe { libc::close(fd) };
    }
    result
}

/// A path as an overlayfs mount option value (`,` `:` and `\` escaped).
fn escape(path: &Path) -> String {
    let mut out = String::new();
    for c in path.to_string_lossy().chars() {
        if matches!(c, ',' | ':' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
