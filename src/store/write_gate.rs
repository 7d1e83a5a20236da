//! The write gate of a SQLite database: this process's writers take turns
//! at an in-process lock before they ask SQLite for its write lock, so they
//! wait on each other for microseconds instead of sleeping in SQLite's busy
//! handler (1, 2, 5, 10… ms between tries). Other processes (the CLI) still
//! meet the busy timeout. PostgreSQL locks rows, not the database: no gate.
//! The gate also notes that a writer committed, for the WAL checkpointer.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::Backend;

/// Shared by every clone of one `Store` (the pool and the group-commit
/// writer); empty on PostgreSQL.
#[derive(Debug, Clone, Default)]
pub struct WriteGate(Option<Arc<Gate>>);

#[derive(Debug, Default)]
struct Gate {
    turn: Mutex<()>,
    /// Set by each commit made at the gate, taken by the checkpointer.
    committed: AtomicBool,
}

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
        self.0.as_ref().map(|gate| {
            gate.turn
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
        })
    }

    /// Notes that a writer committed: there is WAL to copy back.
    pub fn committed(&self) {
        if let Some(gate) = &self.0 {
            gate.committed.store(true, Ordering::Release);
        }
    }

    /// Whether a writer committed since the last call.
    pub fn take_committed(&self) -> bool {
        self.0
            .as_ref()
            .is_some_and(|gate| gate.committed.swap(false, Ordering::AcqRel))
    }
}
