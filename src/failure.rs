//! A user-facing failure (a sentence and an exit code, ARCHITECTURE §7), and the tokio
//! runtime every command that needs one builds, whose only error is such a failure.

/// A user-facing failure: a sentence and an exit code.
pub struct Failure {
    pub message: String,
    pub code: i32,
}

impl Failure {
    pub fn usage(message: impl std::fmt::Display) -> Failure {
        Failure {
            message: message.to_string(),
            code: 2,
        }
    }
}

/// The board's runtime: two workers (the machines this runs on have two cores).
pub fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::usage(format!("cannot start the runtime: {e}")))
}
