//! The connection type over both backends, and the r2d2 manager that picks
//! the backend from the database URL and prepares SQLite connections.

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

/// Settings applied to every SQLite connection.
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; \
     PRAGMA busy_timeout = 5000; \
     PRAGMA foreign_keys = ON; \
     PRAGMA synchronous = NORMAL;";

/// An r2d2 manager that opens the backend named by the URL, so a real
/// connection error (wrong password, missing file) reaches the operator.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: String,
    backend: Backend,
}

impl ConnectionManager {
    pub fn new(url: &str) -> Self {
        let backend = Backend::from_url(url);
        let url = match backend {
            Backend::Sqlite => url.strip_prefix("sqlite://").unwrap_or(url).to_owned(),
            Backend::Postgres => url.to_owned(),
        };
        ConnectionManager { url, backend }
    }

    pub fn backend(&self) -> Backend {
        self.backend
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
                Ok(AnyConnection::Sqlite(conn))
            }
        }
    }
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = AnyConnection;
    type Error = ConnectError;

    fn connect(&self) -> Result<AnyConnection, ConnectError> {
        self.open()
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), ConnectError> {
        Ok(conn.batch_execute("SELECT 1")?)
    }

    fn has_broken(&self, _conn: &mut AnyConnection) -> bool {
        false
    }
}
