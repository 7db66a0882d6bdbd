//! The data dir: its paths, the one-board lock, and the small files (board id, secrets).

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
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

    pub fn create(&self) -> Result<(), DataDirError> {
        std::fs::create_dir_all(self.logs()).map_err(|e| self.io(e))
    }

    /// Takes the one-board lock (an advisory `flock` held while running) and writes our pid.
    pub fn lock(&self) -> Result<Lock, DataDirError> {
        self.create()?;
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
