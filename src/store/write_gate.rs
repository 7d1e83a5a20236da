//! The write gate of a SQLite database: this process's writers take turns
//! at an in-process lock before they ask SQLite for its write lock, so they
//! wait on each other for microseconds instead of sleeping in SQLite's busy
//! handler (1, 2, 5, 10… ms between tries). Other processes (the CLI) still
//! meet the busy timeout. PostgreSQL locks rows, not the database: no gate.

use std::sync::{Arc, Mutex, MutexGuard};

use super::Backend;

/// Shared by every clone of one `Store` (the pool and the group-commit
/// writer); empty on PostgreSQL.
#[derive(Debug, Clone, Default)]
pub struct WriteGate(Option<Arc<Mutex<()>>>);

impl WriteGate {
    pub fn for_backend(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => WriteGate(Some(Arc::default())),
            Backend::Postgres => WriteGate(None),
        }
    }

    /// Waits for this process's turn to write; the turn ends when the
    /// returned guard is dropped, after the transaction's commit. A writer
    /// that panicked during its turn leaves nothing behind to guard (its
    /// transaction rolled back), so the turn is taken all the same.
    pub fn enter(&self) -> Option<MutexGuard<'_, ()>> {
        self.0
            .as_ref()
            .map(|lock| lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }
}
