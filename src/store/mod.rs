//! Persistence: a pooled diesel connection to SQLite or PostgreSQL, the
//! embedded migrations, and one module of rows and queries per table group.

pub mod accounts;
pub mod activities;
pub mod blocks;
pub mod cache_generation;
mod connection;
pub mod domain_blocks;
pub mod follows;
mod group_commit;
pub mod inbox_items;
pub mod jobs;
pub mod login_failures;
pub mod mastodon;
pub mod media;
pub mod oauth;
pub mod objects;
pub mod private_pages;
pub mod reactions;
pub mod reports;
pub mod schema;
pub mod site_grants;
pub mod tokens;
pub mod webmentions;
pub mod websub;
mod write_gate;

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub use connection::{AnyConnection, Backend, ConnectError, ConnectionManager, PooledConnection};
use group_commit::GroupWriter;
pub use group_commit::{WriteBatch, WriteStats};
use write_gate::WriteGate;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// An arbitrary constant naming the advisory lock that serialises migrations
/// when several processes start against one PostgreSQL database.
const MIGRATION_LOCK_KEY: i64 = 0x0e57_0a27;

/// What can go wrong below the domain.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database: {0}")]
    Connect(#[from] ConnectError),
    #[error("cannot create the database folder or file {path}: {source}")]
    Folder {
        path: String,
        source: std::io::Error,
    },
    #[error("no database connection available: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("query failed: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("the database task stopped before finishing")]
    Cancelled,
    /// The failure of a batch of writes, told to each write it held.
    #[error("{message}")]
    Batch { message: String, outage: bool },
}

impl StoreError {
    /// Whether this is the database being unavailable (unreachable, full,
    /// read-only, locked past the busy timeout) rather than a bad query:
    /// the caller is told to come back later.
    pub fn is_outage(&self) -> bool {
        match self {
            StoreError::Connect(_) | StoreError::Pool(_) => true,
            StoreError::Query(error) => query_is_outage(error),
            StoreError::Batch { outage, .. } => *outage,
            StoreError::Folder { .. } | StoreError::Migration(_) | StoreError::Cancelled => false,
        }
    }

    /// The same failure again, for each of the writes a batch held.
    pub fn shared(&self) -> StoreError {
        StoreError::Batch {
            message: self.to_string(),
            outage: self.is_outage(),
        }
    }
}

/// Whether a failed query failed because the database is unavailable.
pub fn query_is_outage(error: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match error {
        Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => true,
        Error::DatabaseError(_, info) => {
            let message = info.message().to_ascii_lowercase();
            [
                "readonly",
                "read-only",
                "disk",
                "database is locked",
                "unable to open",
                "terminating connection",
                "server closed the connection",
                "no connection to the server",
                "shutting down",
                "could not connect",
            ]
            .iter()
            .any(|needle| message.contains(needle))
        }
        Error::BrokenTransactionManager => true,
        _ => false,
    }
}

/// Pool settings, from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

/// The pooled database shared by every handler and worker.
#[derive(Clone)]
pub struct Store {
    pool: r2d2::Pool<ConnectionManager>,
    settings: PoolSettings,
    backend: Backend,
    /// The group-commit writer, when writes are batched (SQLite serving).
    writer: Option<GroupWriter>,
    /// Opens the connections of the pool, and of the writer.
    manager: ConnectionManager,
    /// Where this process's SQLite writers take turns.
    gate: WriteGate,
}

impl Store {
    /// Opens the database named by `url`, creating a SQLite file's folder
    /// when needed. One connection is opened eagerly so that a wrong URL or
    /// password is reported at once, with the driver's own message.
    pub fn open(url: &str, settings: PoolSettings) -> Result<Self, StoreError> {
        let manager = ConnectionManager::new(url);
        if let Some(path) = manager.sqlite_path() {
            create_parent_folder(path)?;
        }
        let first = r2d2::ManageConnection::connect(&manager)?;
        let backend = manager.backend();
        let pool = build_pool(manager.clone(), settings);
        drop(first);
        Ok(Store {
            pool,
            settings,
            backend,
            writer: None,
            manager,
            gate: WriteGate::for_backend(backend),
        })
    }

    /// Batches the writes made with [`Store::write`] into group commits by
    /// one writer thread (unless a batch holds one write). The settings
    /// choose it for SQLite, which has one writer at a time anyway.
    pub fn with_group_commit(mut self, batch: WriteBatch) -> Self {
        if batch.max_items > 1 {
            if self.backend == Backend::Sqlite {
                // The checkpointer beside the writer copies the WAL back
                // after any commit at the gate, so no connection does it in
                // a commit (a pool transaction that did waited 5-8 ms).
                self.manager = self.manager.without_wal_autocheckpoint();
                self.pool = build_pool(self.manager.clone(), self.settings);
            }
            self.writer = Some(GroupWriter::start(
                self.manager.clone(),
                self.gate.clone(),
                batch,
            ));
        }
        self
    }

    /// What the group-commit writer has committed, when there is one.
    pub fn write_stats(&self) -> Option<&WriteStats> {
        self.writer.as_ref().map(|writer| &*writer.stats)
    }

    /// Runs `work` in a write transaction: its own, or its own savepoint in
    /// the next group commit. Either way it returns once its work is
    /// committed, and a failure of `work` writes nothing of it.
    pub async fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + From<diesel::result::Error> + Send + 'static,
    {
        match &self.writer {
            Some(writer) => writer.write(work).await,
            None => self.transaction(work).await,
        }
    }

    /// Runs `work` in a write transaction of its own on the pool, never
    /// gathered into a group commit: for work that holds its transaction
    /// for what follows it (the queue's claims, leases and outcomes). On
    /// SQLite it first waits for this process's turn to write (see
    /// [`WriteGate`]). A failure of `work` writes nothing of it.
    pub async fn transaction<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + From<diesel::result::Error> + Send + 'static,
    {
        let gate = self.gate.clone();
        self.run(move |conn| {
            let _turn = gate.enter();
            let written = write_transaction(conn, work);
            if written.is_ok() {
                gate.committed();
            }
            written
        })
        .await
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies pending migrations; returns the versions applied.
    pub fn migrate(&self) -> Result<Vec<String>, StoreError> {
        let mut conn = self.pool.get()?;
        run_migrations(&mut conn.conn)
    }

    /// Runs blocking database work on the blocking thread pool.
    pub async fn run<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(StoreError::from)?;
            let result = work(&mut conn.conn);
            // Probed before it is reused: it may be broken.
            conn.suspect = result.is_err();
            result
        })
        .await
        .map_err(|_| StoreError::Cancelled)?
    }

    /// Answers whether the database responds, holds our schema and accepts
    /// writes: it reads the migrations table and writes the one row of
    /// `health_checks`, so an unreachable, dropped, corrupt, read-only or
    /// full database fails.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.transaction(|conn| {
            conn.batch_execute("SELECT 1 FROM __diesel_schema_migrations LIMIT 1")?;
            use diesel::prelude::*;
            diesel::update(schema::health_checks::table.find(1))
                .set(schema::health_checks::checked_at.eq(chrono::Utc::now().naive_utc()))
                .execute(conn)?;
            Ok::<_, StoreError>(())
        })
        .await
    }
}

/// The pool of `manager`'s connections.
fn build_pool(manager: ConnectionManager, settings: PoolSettings) -> r2d2::Pool<ConnectionManager> {
    r2d2::Pool::builder()
        .max_size(settings.max_connections)
        // Connections open on demand, never in the background: a
        // background connect racing a short-lived command's exit crashes
        // inside libpq's Kerberos support.
        .min_idle(Some(0))
        .connection_timeout(settings.acquire_timeout)
        .build_unchecked(manager)
}

/// Creates the SQLite file's folder (owner-only, 0700, when we create it)
/// and the file itself owner-only (0600): it holds every account's private
/// key. SQLite creates its `-wal` and `-shm` files with the same mode.
fn create_parent_folder(path: &str) -> Result<(), StoreError> {
    if path == ":memory:" || path.starts_with("file:") {
        return Ok(());
    }
    let path = std::path::Path::new(path);
    if let Some(folder) = path.parent().filter(|f| !f.as_os_str().is_empty()) {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(folder)
            .map_err(|source| StoreError::Folder {
                path: folder.display().to_string(),
                source,
            })?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(source) => Err(StoreError::Folder {
            path: path.display().to_string(),
            source,
        }),
    }
}

fn run_migrations(conn: &mut AnyConnection) -> Result<Vec<String>, StoreError> {
    fn versions(
        applied: diesel::migration::Result<Vec<diesel::migration::MigrationVersion<'_>>>,
    ) -> Result<Vec<String>, StoreError> {
        applied
            .map(|versions| versions.iter().map(|v| v.to_string()).collect())
            .map_err(|e| StoreError::Migration(e.to_string()))
    }
    match conn {
        AnyConnection::Sqlite(c) => versions(c.run_pending_migrations(SQLITE_MIGRATIONS)),
        AnyConnection::Postgresql(c) => {
            c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))?;
            let applied = versions(c.run_pending_migrations(POSTGRES_MIGRATIONS));
            c.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))?;
            applied
        }
    }
}

/// Runs `work` in a write transaction. On SQLite it begins `IMMEDIATE`, so
/// the write lock is taken (waiting up to the busy timeout) before the
/// first read: a deferred transaction that reads, then writes, fails at once
/// with "database is locked" when another writer got there first.
fn write_transaction<T, E, F>(conn: &mut AnyConnection, work: F) -> Result<T, E>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    begin_write(conn)?;
    match work(conn) {
        Ok(value) => {
            end_write(conn, true)?;
            Ok(value)
        }
        Err(error) => {
            let _ = end_write(conn, false);
            Err(error)
        }
    }
}

/// Begins a write transaction (`BEGIN IMMEDIATE` on SQLite); a transaction
/// opened with `Connection::transaction` inside it is a savepoint.
pub(crate) fn begin_write(conn: &mut AnyConnection) -> diesel::QueryResult<()> {
    use diesel::connection::AnsiTransactionManager;
    match conn {
        AnyConnection::Postgresql(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN"),
        AnyConnection::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")
        }
    }
}

/// Commits (or rolls back) the transaction [`begin_write`] began; a commit
/// that fails is rolled back.
pub(crate) fn end_write(conn: &mut AnyConnection, commit: bool) -> diesel::QueryResult<()> {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    fn end<C>(c: &mut C, commit: bool) -> diesel::QueryResult<()>
    where
        C: diesel::Connection<TransactionManager = AnsiTransactionManager>,
    {
        if !commit {
            return AnsiTransactionManager::rollback_transaction(c);
        }
        AnsiTransactionManager::commit_transaction(c).inspect_err(|_| {
            let _ = AnsiTransactionManager::rollback_transaction(c);
        })
    }
    crate::with_backend!(conn, |c| end(c, commit))
}

/// True when a query failed on a unique constraint.
pub fn is_unique_violation(error: &diesel::result::Error) -> bool {
    matches!(
        error,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}
