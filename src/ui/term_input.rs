//! The terminal reader: one thread reads keys, mouse, pastes and resizes (crossterm) and
//! hands them to the loop. In input mode it also types each keystroke straight into the
//! focused pane, so the echo path skips a hop through the loop. Which pane that is (the
//! route) is set only by the loop; the reader only clears it, on the key that leaves.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use tokio::sync::mpsc;

use super::keys;
use super::terminal::PaneInput;
use crate::agent::PaneRef;
use crate::model::TaskId;

pub enum TermEvent {
    Event(Event),
    /// The reader typed a key into this pane itself.
    Typed(TaskId),
    Failed(String),
}

/// The pane keys go to in input mode.
#[derive(Clone, Default)]
pub struct Route(Arc<Mutex<Option<PaneRef>>>);

impl Route {
    pub fn set(&self, pane: Option<PaneRef>) {
        if let Ok(mut r) = self.0.lock() {
            *r = pane;
        }
    }

    fn take_if_set(&self) {
        if let Ok(mut r) = self.0.lock() {
            r.take();
        }
    }

    pub fn task(&self) -> Option<TaskId> {
        self.0.lock().ok().and_then(|r| r.as_ref().map(|p| p.task))
    }

    fn get(&self) -> Option<PaneRef> {
        self.0.lock().ok().and_then(|r| r.clone())
    }
}

/// Stops the reader thread when dropped (it polls, so it notices within 50 ms). Never
/// waited for: on a terminal that hung up, crossterm's `read` may not return at all.
pub struct Reader {
    stop: Arc<AtomicBool>,
}

impl Drop for Reader {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
    }
}

pub fn start(route: Route, input: Arc<PaneInput>) -> (Reader, mpsc::UnboundedReceiver<TermEvent>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let stop = Arc::new(AtomicBool::new(false));
    let done = stop.clone();
    let spawned = std::thread::Builder::new()
        .name("terminal-input".into())
        .spawn(move || {
            while !done.load(Ordering::Acquire) {
                let ev = match event::poll(Duration::from_millis(50)) {
                    Ok(false) => continue,
                    Ok(true) => event::read(),
                    Err(e) => Err(e),
                };
                let msg = match ev {
                    Ok(ev) => route_event(ev, &route, &input),
                    Err(e) => TermEvent::Failed(format!("cannot read the terminal: {e}")),
                };
                let failed = matches!(msg, TermEvent::Failed(_));
                if tx.send(msg).is_err() || failed {
                    break;
                }
            }
        });
    match spawned {
        Ok(_) => (Reader { stop }, rx),
        Err(e) => {
            let (tx, rx) = mpsc::unbounded_channel();
            let _ = tx.send(TermEvent::Failed(format!(
                "cannot start the terminal reader: {e}"
            )));
            (Reader { stop }, rx)
        }
    }
}

fn route_event(ev: Event, route: &Route, input: &PaneInput) -> TermEvent {
    let Event::Key(k) = &ev else {
        return TermEvent::Event(ev);
    };
    if k.kind == KeyEventKind::Release {
        return TermEvent::Event(ev);
    }
    if k.code == KeyCode::Char('g') && k.modifiers.contains(KeyModifiers::CONTROL) {
        // Leaving input mode: no key after this one may reach the pane.
        route.take_if_set();
        return TermEvent::Event(ev);
    }
    let Some(pane) = route.get().filter(|p| !p.exited.load(Ordering::Acquire)) else {
        return TermEvent::Event(ev);
    };
    let app_cursor = pane
        .parser
        .lock()
        .map(|p| p.screen().application_cursor())
        .unwrap_or(false);
    match keys::encode(k, app_cursor) {
        Some(bytes) => {
            let task = pane.task;
            input.write(pane, bytes);
            TermEvent::Typed(task)
        }
        None => TermEvent::Event(ev),
    }
}
