//! The connection type over both backends, and the r2d2 manager that picks
//! the backend from the database URL and prepares SQLite connections.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

/// One connection, to whichever backend `DATABASE_URL` selected.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// Runs `$body` with `$c` bound to the concrete connection of either backend.
/// Used for the statements `MultiConnection` cannot express (RETURNING,
/// upserts, `SKIP LOCKED`).
#[macro_export]
macro_rules! with_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::store::AnyConnection::Postgresql($c) => $body,
            $crate::store::AnyConnection::Sqlite($c) => $body,
        }
    };
}

/// Which database engine a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    /// `postgres://` and `postgresql://` select PostgreSQL; anything else is
    /// a SQLite file path.
    pub fn from_url(url: &str) -> Self {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

/// Names the backend of a concrete connection (inside `with_backend!`).
pub trait BackendOf {
    fn backend() -> Backend;
}

impl BackendOf for diesel::PgConnection {
    fn backend() -> Backend {
        Backend::Postgres
    }
}

impl BackendOf for diesel::SqliteConnection {
    fn backend() -> Backend {
        Backend::Sqlite
    }
}

impl Backend {
    /// The backend of a concrete connection.
    pub fn of<C: BackendOf>(_conn: &C) -> Backend {
        C::backend()
    }
}

/// Why a connection could not be opened or prepared.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("{0}")]
    Connect(#[from] diesel::ConnectionError),
    #[error("preparing the connection: {0}")]
    Setup(#[from] diesel::result::Error),
}

/// Settings applied to every SQLite connection. The busy timeout comes
/// first: after a crash the first connection replays the WAL under an
/// exclusive lock, and the others (a pool opens several at once) must wait
/// for it, not fail with "database is locked".
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 5000; \
     PRAGMA journal_mode = WAL; \
     PRAGMA foreign_keys = ON; \
     PRAGMA synchronous = NORMAL;";

/// An r2d2 manager that opens the backend named by the URL, so a real
/// connection error (wrong password, missing file) reaches the operator.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: String,
    backend: Backend,
    /// Whether a SQLite connection checkpoints the WAL itself when a commit
    /// leaves it over 1,000 pages (SQLite's default). Off where a
    /// checkpointer thread does it instead, so no commit waits for one.
    wal_autocheckpoint: bool,
}

impl ConnectionManager {
    pub fn new(url: &str) -> Self {
        let backend = Backend::from_url(url);
        let url = match backend {
            Backend::Sqlite => url.strip_prefix("sqlite://").unwrap_or(url).to_owned(),
            Backend::Postgres => url.to_owned(),
        };
        ConnectionManager {
            url,
            backend,
            wal_autocheckpoint: true,
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The same manager, whose SQLite connections leave WAL checkpoints to
    /// a checkpointer (see [`super::group_commit`]).
    pub(super) fn without_wal_autocheckpoint(&self) -> Self {
        ConnectionManager {
            wal_autocheckpoint: false,
            ..self.clone()
        }
    }

    /// The SQLite file this manager opens, if it is a SQLite manager.
    pub fn sqlite_path(&self) -> Option<&str> {
        (self.backend == Backend::Sqlite).then_some(self.url.as_str())
    }

    pub fn open(&self) -> Result<AnyConnection, ConnectError> {
        match self.backend {
            Backend::Postgres => Ok(AnyConnection::Postgresql(diesel::PgConnection::establish(
                &self.url,
            )?)),
            Backend::Sqlite => {
                let mut conn = diesel::SqliteConnection::establish(&self.url)?;
                conn.batch_execute(SQLITE_PRAGMAS)?;
                if !self.wal_autocheckpoint {
                    conn.batch_execute("PRAGMA wal_autocheckpoint = 0")?;
                }
                Ok(AnyConnection::Sqlite(conn))
            }
        }
    }
}

/// A connection that proved itself this recently (opened, or returned to
/// the pool after work that did not fail) is handed out without a round
/// trip; one idle for longer is tested first (the server or a pooler may
/// have closed it meanwhile).
const FRESH: Duration = Duration::from_secs(5);

/// A pooled connection, and whether work on it failed since it was last
/// checked (then it is probed before it goes back to the pool).
pub struct PooledConnection {
    pub conn: AnyConnection,
    pub suspect: bool,
    /// When it last answered: opened, probed, or did work without error.
    answered_at: Instant,
}

impl PooledConnection {
    /// Whether the connection still works as a writer: PostgreSQL answers,
    /// and SQLite can write (a connection opened while the file was
    /// read-only never can; its write is rolled back). Another writer
    /// holding the lock is no fault: the probe does not wait for it.
    fn probe(&mut self) -> Result<(), diesel::result::Error> {
        match &mut self.conn {
            AnyConnection::Postgresql(c) => c.batch_execute("SELECT 1"),
            AnyConnection::Sqlite(c) => {
                c.batch_execute("PRAGMA busy_timeout = 0")?;
                let wrote = c.batch_execute("BEGIN IMMEDIATE").and_then(|()| {
                    c.batch_execute("UPDATE health_checks SET id = id WHERE id = 1")
                });
                let _ = c.batch_execute("ROLLBACK");
                let restored = c.batch_execute("PRAGMA busy_timeout = 5000");
                match wrote {
                    Err(error) if cannot_write(&error) => Err(error),
                    _ => restored,
                }
            }
        }
    }
}

/// A SQLite failure that this connection will keep failing with.
fn cannot_write(error: &diesel::result::Error) -> bool {
    let message = error.to_string().to_ascii_lowercase();
    ["readonly", "read-only", "disk i/o"]
        .iter()
        .any(|needle| message.contains(needle))
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = PooledConnection;
    type Error = ConnectError;

    fn connect(&self) -> Result<PooledConnection, ConnectError> {
        Ok(PooledConnection {
            conn: self.open()?,
            suspect: false,
            answered_at: Instant::now(),
        })
    }

    /// The check on checkout: no statement for a connection that answered
    /// within [`FRESH`] (no `SELECT 1` before every request's work), one
    /// `SELECT 1` for a connection idle for longer.
    fn is_valid(&self, conn: &mut PooledConnection) -> Result<(), ConnectError> {
        if conn.answered_at.elapsed() < FRESH {
            return Ok(());
        }
        conn.conn.batch_execute("SELECT 1")?;
        conn.answered_at = Instant::now();
        Ok(())
    }

    /// A connection whose work failed leaves the pool unless it passes the
    /// probe: a closed PostgreSQL connection, or a SQLite connection left
    /// read-only, is replaced by a fresh one once the fault is fixed.
    fn has_broken(&self, conn: &mut PooledConnection) -> bool {
        if !std::mem::take(&mut conn.suspect) {
            conn.answered_at = Instant::now();
            return false;
        }
        match conn.probe() {
            Ok(()) => {
                conn.answered_at = Instant::now();
                false
            }
            Err(error) => {
                tracing::warn!(%error, "a broken database connection leaves the pool");
                true
            }
        }
    }
}
