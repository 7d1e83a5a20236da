//! Group commit: one writer thread takes the write transactions that callers
//! hand it and commits many of them at once — each in its own savepoint, so
//! one that fails changes nothing and the others still commit — and answers
//! each caller only after the commit that holds its work is durable.
//!
//! SQLite has one writer at a time: connections that each open their own
//! write transaction queue on the file lock in the busy handler, and every
//! commit appends its own WAL frame. One writer committing batches does the
//! same work without the waiting.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use diesel::Connection;
use diesel::connection::SimpleConnection;

use super::write_gate::WriteGate;
use super::{AnyConnection, Backend, ConnectionManager, StoreError, begin_write, end_write};

/// How the writer gathers a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteBatch {
    /// The most units of work one transaction holds.
    pub max_items: usize,
    /// How long the writer waits for more work after the first unit of a
    /// batch before it commits what it has (zero: it takes what is queued).
    pub max_wait: Duration,
}

/// How often the checkpointer copies the WAL back into the database file.
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(500);

/// What the writer is told once the batch's commit has succeeded or failed.
type Finish = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// One caller's work: runs in its savepoint and returns how to answer; given
/// the reason instead of a connection when the batch could not begin.
type Unit = Box<dyn FnOnce(Result<&mut AnyConnection, StoreError>) -> Finish + Send>;

/// What the writer has committed so far.
#[derive(Debug, Default)]
pub struct WriteStats {
    /// Transactions committed.
    pub batches: AtomicU64,
    /// Units of work those transactions held (each caller's work is one).
    pub units: AtomicU64,
    /// The most units one transaction held.
    pub largest: AtomicU64,
}

/// The sending side of the writer thread; the thread ends when the last
/// clone is dropped.
#[derive(Clone)]
pub(super) struct GroupWriter {
    queue: mpsc::Sender<Unit>,
    /// Dropped with the last writer handle: stops the checkpointer.
    _checkpoints: Arc<mpsc::Sender<()>>,
    pub(super) stats: Arc<WriteStats>,
}

impl GroupWriter {
    /// Starts the writer thread, and the checkpointer beside it, each with
    /// its own connection from `manager`.
    pub(super) fn start(manager: ConnectionManager, gate: WriteGate, batch: WriteBatch) -> Self {
        let (queue, units) = mpsc::channel::<Unit>();
        let (checkpoints, stop) = mpsc::channel::<()>();
        let stats = Arc::new(WriteStats::default());
        let mut writer = WriterConnection {
            manager: manager.clone(),
            conn: None,
            stats: stats.clone(),
            gate: gate.clone(),
        };
        std::thread::Builder::new()
            .name("estuary-writer".into())
            .spawn(move || writer_loop(&mut writer, &units, batch))
            .expect("spawning the database writer thread");
        if manager.backend() == Backend::Sqlite {
            std::thread::Builder::new()
                .name("estuary-checkpoints".into())
                .spawn(move || checkpoint_loop(&manager, &gate, &stop, CHECKPOINT_INTERVAL))
                .expect("spawning the WAL checkpoint thread");
        }
        GroupWriter {
            queue,
            _checkpoints: Arc::new(checkpoints),
            stats,
        }
    }

    /// Runs `work` in the next batch's transaction, in a savepoint of its
    /// own; resolves once that transaction is committed (or failed).
    pub(super) async fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + From<diesel::result::Error> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel::<Result<T, E>>();
        let unit: Unit = Box::new(move |conn: Result<&mut AnyConnection, StoreError>| {
            let result = match conn {
                Ok(conn) => conn.transaction(work),
                Err(error) => Err(E::from(error)),
            };
            Box::new(move |committed: Result<(), StoreError>| {
                let outcome = match (result, committed) {
                    (Ok(value), Ok(())) => Ok(value),
                    (Ok(_), Err(error)) => Err(E::from(error)),
                    (Err(error), _) => Err(error),
                };
                // The caller may have gone (its request was cancelled);
                // its work is committed all the same.
                let _ = reply.send(outcome);
            })
        });
        self.queue.send(unit).map_err(|_| StoreError::Cancelled)?;
        answer.await.map_err(|_| StoreError::Cancelled)?
    }
}

/// The writer's own connection, opened when first needed and again after
/// a failure, by the store's manager: on SQLite its automatic WAL
/// checkpoints are off (the checkpointer thread runs them), as are the
/// pool's, so no request waits for one.
struct WriterConnection {
    manager: ConnectionManager,
    conn: Option<AnyConnection>,
    stats: Arc<WriteStats>,
    /// Taken for each batch, from its begin to its commit.
    gate: WriteGate,
}

impl WriterConnection {
    fn get(&mut self) -> Result<&mut AnyConnection, StoreError> {
        if self.conn.is_none() {
            self.conn = Some(self.manager.open()?);
        }
        Ok(self.conn.as_mut().expect("opened above"))
    }
}

fn writer_loop(writer: &mut WriterConnection, units: &mpsc::Receiver<Unit>, batch: WriteBatch) {
    while let Ok(first) = units.recv() {
        let mut pending = vec![first];
        gather(units, &mut pending, batch);
        commit_batch(writer, pending);
    }
}

/// Checkpoints SQLite's WAL in the background every `interval` after a
/// writer committed at the gate, the group-commit writer or a pool
/// transaction (`PASSIVE`: it copies what it can without blocking the
/// writer or readers) until the writer is gone. Nothing is tried while
/// nothing commits, as when the file has turned read-only.
fn checkpoint_loop(
    manager: &ConnectionManager,
    gate: &WriteGate,
    stop: &mpsc::Receiver<()>,
    interval: Duration,
) {
    let mut conn = None;
    while let Err(mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(interval) {
        if !gate.take_committed() {
            continue;
        }
        if conn.is_none() {
            conn = manager.open().ok();
        }
        if let Some(c) = conn.as_mut()
            && let Err(error) = c.batch_execute("PRAGMA wal_checkpoint(PASSIVE)")
        {
            tracing::warn!(%error, "WAL checkpoint failed");
            conn = None;
        }
    }
}

/// Takes what is queued, up to the batch size, waiting at most the batch's
/// wait for more.
fn gather(units: &mpsc::Receiver<Unit>, pending: &mut Vec<Unit>, batch: WriteBatch) {
    let deadline = Instant::now() + batch.max_wait;
    while pending.len() < batch.max_items.max(1) {
        match units.try_recv() {
            Ok(unit) => pending.push(unit),
            Err(mpsc::TryRecvError::Disconnected) => return,
            Err(mpsc::TryRecvError::Empty) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return;
                }
                match units.recv_timeout(left) {
                    Ok(unit) => pending.push(unit),
                    Err(_) => return,
                }
            }
        }
    }
}

/// Runs every unit in one write transaction and answers each once it is
/// committed; when the commit fails, every unit is told why (nothing of the
/// batch was written). A unit that panics fails the whole batch and the
/// connection is replaced, but the thread goes on.
fn commit_batch(writer: &mut WriterConnection, pending: Vec<Unit>) {
    let gate = writer.gate.clone();
    let _turn = gate.enter();
    let conn = match writer.get() {
        Ok(conn) => conn,
        Err(error) => return refuse(pending, &error),
    };
    if let Err(error) = begin_write(conn) {
        writer.conn = None;
        return refuse(pending, &StoreError::from(error));
    }
    let held = pending.len() as u64;
    let ran = catch_unwind(AssertUnwindSafe(|| {
        pending
            .into_iter()
            .map(|unit| unit(Ok(&mut *conn)))
            .collect::<Vec<Finish>>()
    }));
    let Ok(finishes) = ran else {
        tracing::error!("a unit of work panicked; its batch was rolled back");
        writer.conn = None;
        return;
    };
    let committed = end_write(conn, true).map_err(StoreError::from);
    match committed {
        Ok(()) => {
            writer.gate.committed();
            writer.stats.batches.fetch_add(1, Ordering::Relaxed);
            writer.stats.units.fetch_add(held, Ordering::Relaxed);
            writer.stats.largest.fetch_max(held, Ordering::Relaxed);
        }
        Err(_) => writer.conn = None,
    }
    for finish in finishes {
        finish(committed.as_ref().map(|_| ()).map_err(StoreError::shared));
    }
}

/// Answers every unit of a batch that could not begin with the reason.
fn refuse(pending: Vec<Unit>, error: &StoreError) {
    tracing::warn!(%error, units = pending.len(), "a batch of writes could not begin");
    for unit in pending {
        unit(Err(StoreError::shared(error)))(Ok(()));
    }
}
