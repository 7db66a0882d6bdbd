//! The data dir: its paths, the one-board lock, and the small files (board id, secrets).

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

#[derive(Clone, Debug)]
pub struct DataDir {
    pub root: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    #[error("another taskboard (pid {pid}) is already running on {}; stop it first or use another --data-dir", dir.display())]
    InUse { pid: String, dir: PathBuf },
    #[error(
        "the data dir {} is writable by {who} (mode {mode:o}): whoever can write there can replace its token, endpoint or database. Make it private: chmod 700 {}",
        dir.display(),
        dir.display()
    )]
    NotPrivate {
        dir: PathBuf,
        mode: u32,
        who: &'static str,
    },
    #[error("cannot use the data dir {}: {source}", dir.display())]
    Io {
        dir: PathBuf,
        source: std::io::Error,
    },
}

/// Held while a board runs; dropping it releases the lock.
pub struct Lock {
    _file: Flock<File>,
}

impl DataDir {
    pub fn new(root: impl Into<PathBuf>) -> DataDir {
        DataDir { root: root.into() }
    }

    /// `--data-dir`, else `$TASKBOARD_HOME`, else the platform data dir.
    pub fn resolve(flag: Option<&Path>) -> DataDir {
        if let Some(p) = flag {
            return DataDir::new(p);
        }
        if let Some(h) = std::env::var_os("TASKBOARD_HOME").filter(|h| !h.is_empty()) {
            return DataDir::new(PathBuf::from(h));
        }
        let dir = directories::ProjectDirs::from("", "", "taskboard")
            .map(|d| d.data_dir().to_path_buf())
            .unwrap_or_else(|| PathBuf::from(".taskboard"));
        DataDir::new(dir)
    }

    pub fn db(&self) -> PathBuf {
        self.root.join("taskboard.db")
    }
    pub fn lock_path(&self) -> PathBuf {
        self.root.join("lock")
    }
    pub fn endpoint(&self) -> PathBuf {
        self.root.join("endpoint")
    }
    pub fn token(&self) -> PathBuf {
        self.root.join("token")
    }
    pub fn secret(&self) -> PathBuf {
        self.root.join("secret")
    }
    pub fn logs(&self) -> PathBuf {
        self.root.join("logs")
    }
    pub fn log_file(&self, task: u64) -> PathBuf {
        self.logs().join(format!("{task}.log"))
    }
    pub fn worktrees(&self) -> PathBuf {
        self.root.join("worktrees")
    }
    pub fn trace_log(&self) -> PathBuf {
        self.root.join("taskboard.log")
    }

    fn io(&self, source: std::io::Error) -> DataDirError {
        DataDirError::Io {
            dir: self.root.clone(),
            source,
        }
    }

    /// Makes the data dir (mode 0700: prompts, agent output, worktrees and the token are
    /// the user's only) and its `logs/`, or checks that an existing one is not writable by
    /// others.
    pub fn create(&self) -> Result<(), DataDirError> {
        if let Some(parent) = self.root.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| self.io(e))?;
        }
        let private = || {
            let mut b = std::fs::DirBuilder::new();
            b.mode(0o700);
            b
        };
        match private().create(&self.root) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(self.io(e)),
        }
        self.check_private()?;
        match private().create(self.logs()) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
            Err(e) => Err(self.io(e)),
        }
    }

    /// Refuses a data dir that group or others may write (they could swap the token or the
    /// endpoint a client trusts, or the database). A missing dir is fine: `create` makes
    /// it private.
    pub fn check_private(&self) -> Result<(), DataDirError> {
        use std::os::unix::fs::PermissionsExt;
        let mode = match std::fs::metadata(&self.root) {
            Ok(m) => m.permissions().mode() & 0o7777,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(self.io(e)),
        };
        let who = match (mode & 0o020 != 0, mode & 0o002 != 0) {
            (false, false) => return Ok(()),
            (true, false) => "its group",
            (false, true) => "every user",
            (true, true) => "its group and every user",
        };
        Err(DataDirError::NotPrivate {
            dir: self.root.clone(),
            mode,
            who,
        })
    }

    /// A data dir made before it was created private (0755) becomes 0700 when a board
    /// starts on it: its worktrees, diffs and trace log are the user's only.
    pub fn tighten(&self) {
        use std::os::unix::fs::PermissionsExt;
        let Ok(meta) = std::fs::metadata(&self.root) else {
            return;
        };
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 && mode & 0o022 == 0 {
            match std::fs::set_permissions(&self.root, std::fs::Permissions::from_mode(0o700)) {
                Ok(()) => tracing::info!(
                    "made the data dir {} private (mode {mode:o} -> 700)",
                    self.root.display()
                ),
                Err(e) => tracing::warn!("cannot make {} private: {e}", self.root.display()),
            }
        }
    }

    /// Takes the one-board lock (an advisory `flock` held while running) and writes our pid.
    pub fn lock(&self) -> Result<Lock, DataDirError> {
        self.create()?;
        self.tighten();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(self.lock_path())
            .map_err(|e| self.io(e))?;
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(mut f) => {
                f.set_len(0).map_err(|e| self.io(e))?;
                write!(f, "{}", std::process::id()).map_err(|e| self.io(e))?;
                f.sync_all().map_err(|e| self.io(e))?;
                Ok(Lock { _file: f })
            }
            Err((mut file, _)) => {
                let mut pid = String::new();
                let _ = file.read_to_string(&mut pid);
                let pid = pid.trim().to_string();
                Err(DataDirError::InUse {
                    pid: if pid.is_empty() {
                        "unknown".into()
                    } else {
                        pid
                    },
                    dir: self.root.clone(),
                })
            }
        }
    }

    /// The pid of the board holding the lock, if one runs.
    pub fn running_pid(&self) -> Option<u32> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(self.lock_path())
            .ok()?;
        match Flock::lock(file, FlockArg::LockSharedNonblock) {
            Ok(_) => None,
            Err((mut f, _)) => {
                let mut s = String::new();
                f.read_to_string(&mut s).ok()?;
                s.trim().parse().ok()
            }
        }
    }

    /// Reads a small secret file, or makes it (CSPRNG, mode 0600) the first time.
    pub fn secret_file(&self, path: &Path, bytes: usize) -> Result<String, DataDirError> {
        if let Ok(s) = std::fs::read_to_string(path) {
            let s = s.trim().to_string();
            if !s.is_empty() {
                return Ok(s);
            }
        }
        let mut buf = vec![0u8; bytes];
        getrandom::fill(&mut buf).map_err(|e| self.io(std::io::Error::other(e.to_string())))?;
        let value = hex::encode(buf);
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| self.io(e))?;
        f.write_all(value.as_bytes()).map_err(|e| self.io(e))?;
        f.sync_all().map_err(|e| self.io(e))?;
        Ok(value)
    }

    /// A short id made once per data dir, used in branch names and process markers.
    pub fn board_id(&self) -> Result<String, DataDirError> {
        self.secret_file(&self.root.join("board-id"), 3)
    }
}
