//! Pane bytes for an attached TUI: each followed task's log file (every byte its agent
//! wrote, ARCHITECTURE §4) is replayed from a bounded tail, then fed into the pane's parser
//! as the board appends to it. One thread waits on inotify for all files, so an idle board
//! costs no wake-ups and new output is parsed as soon as it is written.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, WatchDescriptor};

use crate::agent::read_tail;
use crate::agent::PaneRef;
use crate::model::TaskId;

/// Bytes of a log replayed when a pane is first shown (about the parser's scrollback).
pub const ATTACH_TAIL: u64 = 256 * 1024;

const CHUNK: usize = 64 * 1024;

struct Followed {
    pane: PaneRef,
    file: File,
}

struct Inner {
    inotify: Inotify,
    files: Mutex<HashMap<WatchDescriptor, Followed>>,
    output: Arc<dyn Fn(TaskId) + Send + Sync>,
}

/// Follows log files into panes; `output` is called when a pane has new bytes to show.
#[derive(Clone)]
pub struct Follower {
    inner: Arc<Inner>,
}

impl Follower {
    pub fn start(output: Arc<dyn Fn(TaskId) + Send + Sync>) -> std::io::Result<Follower> {
        let inotify = Inotify::init(InitFlags::IN_CLOEXEC)?;
        let inner = Arc::new(Inner {
            inotify,
            files: Mutex::new(HashMap::new()),
            output,
        });
        let shared = inner.clone();
        // One per attached TUI; it lives as long as the process.
        std::thread::Builder::new()
            .name("log-follow".into())
            .spawn(move || loop {
                let inner = &shared;
                let events = match inner.inotify.read_events() {
                    Ok(ev) => ev,
                    Err(nix::errno::Errno::EINTR) => continue,
                    Err(e) => {
                        tracing::error!("cannot follow the task logs: {e}");
                        return;
                    }
                };
                let Ok(mut files) = inner.files.lock() else {
                    return;
                };
                for ev in events {
                    if let Some(f) = files.get_mut(&ev.wd) {
                        drain(f, &*inner.output);
                    }
                }
            })?;
        Ok(Follower { inner })
    }

    /// Replays the end of `path` into the pane, then keeps feeding it what gets appended.
    pub fn follow(&self, pane: PaneRef, path: &Path, tail: u64) -> std::io::Result<()> {
        let mut files = self
            .inner
            .files
            .lock()
            .map_err(|_| std::io::Error::other("follower poisoned"))?;
        // Watch first, under the lock: whatever is written after the tail is read is
        // announced by an event the thread handles once we let go.
        let wd = self
            .inner
            .inotify
            .add_watch(path, AddWatchFlags::IN_MODIFY)?;
        let mut file = File::open(path)?;
        let (bytes, end) = read_tail(&mut file, tail)?;
        file.seek(SeekFrom::Start(end))?;
        feed(&pane, &bytes);
        pane.dirty.store(true, Ordering::Release);
        files.insert(wd, Followed { pane, file });
        Ok(())
    }

    /// Stops following a task's log (after reading what is left of it).
    pub fn unfollow(&self, task: TaskId) {
        let Ok(mut files) = self.inner.files.lock() else {
            return;
        };
        let wds: Vec<WatchDescriptor> = files
            .iter()
            .filter(|(_, f)| f.pane.task == task)
            .map(|(wd, _)| *wd)
            .collect();
        for wd in wds {
            if let Some(mut f) = files.remove(&wd) {
                drain(&mut f, &*self.inner.output);
            }
            let _ = self.inner.inotify.rm_watch(wd);
        }
    }
}

/// Reads everything appended since the last read into the pane's parser.
fn drain(f: &mut Followed, output: &(dyn Fn(TaskId) + Send + Sync)) {
    let mut buf = vec![0u8; CHUNK];
    let mut any = false;
    loop {
        match f.file.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                feed(&f.pane, &buf[..n]);
                any = true;
            }
        }
    }
    if any && !f.pane.dirty.swap(true, Ordering::AcqRel) {
        output(f.pane.task);
    }
}

/// Parses bytes; the board answers the program's queries, so the replies are dropped here.
fn feed(pane: &PaneRef, bytes: &[u8]) {
    if let Ok(mut p) = pane.parser.lock() {
        p.process(bytes);
        let cb = p.callbacks_mut();
        cb.replies.clear();
        cb.attention = None;
    }
    pane.remember(bytes);
}
