//! Running the HTTP server: open the store, migrate, bind, serve until a
//! shutdown signal, then let in-flight requests finish.

use std::future::Future;
use std::net::SocketAddr;

use tokio::net::TcpListener;

use std::sync::Arc;

use tokio::sync::watch;

use crate::config::Config;
use crate::delivery::{QueueSettings, Workers, activitypub};
use crate::domain::DomainError;
use crate::federation::ctx::Federation;
use crate::federation::fetch::{FetchError, FetchLimits, Fetcher};
use crate::metrics::Metrics;
use crate::store::{PoolSettings, Store, StoreError, WriteBatch};
use crate::web::{AppState, router};

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("server failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot build the HTTP client: {0}")]
    Client(#[from] FetchError),
    #[error(transparent)]
    Domain(#[from] DomainError),
}

/// The user agent of outbound requests.
pub fn user_agent(config: &Config) -> String {
    format!(
        "Estuary/{} (+{})",
        env!("CARGO_PKG_VERSION"),
        config.base_url.as_str().trim_end_matches('/')
    )
}

/// The federation context of a process: outbound client, caches, instance
/// actor.
pub async fn federation(config: &Config, store: Store) -> Result<Federation, ServeError> {
    let limits = FetchLimits {
        total_timeout: config.fetch_timeout,
        max_json_bytes: config.fetch_max_bytes,
        ..FetchLimits::default()
    };
    let fetcher = Fetcher::new(config.allow_private_addresses, limits, &user_agent(config))?;
    let urls = crate::urls::Urls::new(config.base_url.clone());
    let mut fed = Federation::new(store, urls, fetcher, Arc::new(Metrics::default())).await?;
    fed.mf2_limits = crate::indieweb::mf2::Limits {
        max_items: config.mf2_max_items,
        max_time: config.parse_timeout,
    };
    Ok(fed)
}

/// Opens the configured database with the configured pool settings.
pub fn open_store(config: &Config) -> Result<Store, StoreError> {
    Store::open(
        &config.database_url,
        PoolSettings {
            max_connections: config.db_pool_size,
            acquire_timeout: std::time::Duration::from_secs(10),
        },
    )
    .map(|store| {
        store.with_group_commit(WriteBatch {
            max_items: config.write_batch_max,
            max_wait: config.write_batch_wait,
        })
    })
}

/// A bound, migrated server, ready to run.
pub struct Server {
    listener: TcpListener,
    state: AppState,
}

impl Server {
    /// Opens the database, applies migrations and binds the listen address
    /// (port 0 picks a free port; see [`Server::local_addr`]).
    pub async fn bind(config: Config) -> Result<Self, ServeError> {
        let listener = TcpListener::bind(config.bind)
            .await
            .map_err(|source| ServeError::Bind {
                addr: config.bind,
                source,
            })?;
        Self::with_listener(config, listener).await
    }

    /// Like [`Server::bind`] on a listener the caller already bound (tests
    /// bind port 0 first to learn the base URL).
    pub async fn with_listener(config: Config, listener: TcpListener) -> Result<Self, ServeError> {
        let store = open_store(&config)?;
        Self::with_store(config, listener, store).await
    }

    /// Like [`Server::with_listener`] on a store the caller opened (tests
    /// watch the statements it runs).
    pub async fn with_store(
        config: Config,
        listener: TcpListener,
        store: Store,
    ) -> Result<Self, ServeError> {
        let migrate_store = store.clone();
        let applied = tokio::task::spawn_blocking(move || migrate_store.migrate())
            .await
            .map_err(|_| StoreError::Cancelled)??;
        if !applied.is_empty() {
            tracing::info!(?applied, "applied migrations");
        }
        let fed = federation(&config, store).await?;
        Ok(Server {
            listener,
            state: AppState::new(config, fed),
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then waits for in-flight requests.
    /// Serves HTTP and runs the delivery workers until `shutdown`
    /// completes, then lets in-flight requests and jobs finish. Jobs not
    /// started stay queued.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let (stop, stopped) = watch::channel(false);
        let refresher = tokio::spawn(crate::federation::actor_cache::refresh(
            self.state.fed.clone(),
            self.state.config.cache_refresh,
            stopped.clone(),
        ));
        let workers = tokio::spawn(workers(&self.state).run(stopped));
        let header_read_timeout = self.state.config.header_read_timeout;
        let app = router(self.state);
        crate::web::serve::serve(self.listener, app, header_read_timeout, async move {
            shutdown.await;
            let _ = stop.send(true);
        })
        .await;
        let _ = workers.await;
        let _ = refresher.await;
        Ok(())
    }
}

/// The delivery workers of this process.
pub fn workers(state: &AppState) -> Workers {
    let config = &state.config;
    let settings = QueueSettings {
        concurrency: config.delivery_concurrency,
        host_cap: i64::from(config.delivery_host_cap),
        lease: config.job_lease,
        job_timeout: config.job_timeout,
        max_crashes: i32::try_from(config.job_max_crashes).unwrap_or(i32::MAX),
        keep_done: config.job_keep_done,
        ..QueueSettings::default()
    };
    let metrics = state.fed.metrics.clone();
    let mut workers = Workers::new(state.store.clone(), settings, state.fed.wake.clone())
        .on_outcome(Arc::new(move |_kind, outcome| {
            let label = match outcome {
                crate::delivery::JobOutcome::Done => "done",
                crate::delivery::JobOutcome::Retry { .. } => "retry",
                crate::delivery::JobOutcome::Fail { .. } => "dead",
            };
            metrics.increment(crate::metrics::JOB_ATTEMPTS, label);
        }));
    let deliver = activitypub::Deliver::new(state.fed.clone());
    for (kind, handler) in activitypub::handlers(&state.fed, &deliver) {
        workers = workers.handle(kind, handler);
    }
    workers = workers.handle(
        crate::domain::actions::VERIFY_WEBMENTION,
        Arc::new(crate::indieweb::receive::Verify(state.fed.clone())),
    );
    workers = workers.handle(
        crate::domain::actions::SEND_WEBMENTION,
        Arc::new(crate::indieweb::send::Send(state.fed.clone())),
    );
    workers = workers.handle(
        crate::domain::actions::ROOM_RELAY,
        Arc::new(crate::rooms::relay::Relay::new(state.fed.clone(), deliver)),
    );
    workers = workers.handle(
        crate::domain::actions::WEBSUB_VERIFY,
        Arc::new(crate::rooms::websub::Verify(state.fed.clone())),
    );
    workers = workers.handle(
        crate::domain::actions::WEBSUB_DELIVER,
        Arc::new(crate::rooms::websub::Deliver(state.fed.clone())),
    );
    workers = workers.handle(
        crate::domain::actions::PRIVATE_NOTE_TO_SITE,
        Arc::new(crate::indieweb::private::PrivateNotes(state.fed.clone())),
    );
    workers = workers.handle(
        crate::domain::actions::SEND_TICKET,
        Arc::new(crate::indieweb::tickets::Tickets(state.fed.clone())),
    );
    workers = workers.handle(
        crate::domain::actions::PRIVATE_NOTE_CHECK,
        Arc::new(crate::indieweb::private::PrivateNoteChecks(
            state.fed.clone(),
        )),
    );
    workers
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
unsafe extern "C" {
    fn mallopt(param: std::ffi::c_int, value: std::ffi::c_int) -> std::ffi::c_int;
}

/// Sets up glibc's malloc; call it first thing, before other threads start.
///
/// Rust's own memory comes from jemalloc (the binaries declare it global):
/// with glibc's malloc kept to one arena every thread queued on that
/// arena's lock, and inbox ingest ran at half the rate; with an arena per
/// thread, peak memory crept up from one large fan-out to the next. jemalloc
/// does neither (`cargo bench --bench federation -- ingest rounds`).
///
/// What C libraries (SQLite, OpenSSL) allocate still comes from glibc's
/// malloc, kept to one arena unless `MALLOC_ARENA_MAX` says otherwise.
pub fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        /// glibc's `M_ARENA_MAX`.
        const M_ARENA_MAX: std::ffi::c_int = -8;
        // SAFETY: a documented glibc tunable, set before other threads exist.
        unsafe {
            mallopt(M_ARENA_MAX, 1);
        }
    }
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("SIGINT received, shutting down"),
        () = terminate => tracing::info!("SIGTERM received, shutting down"),
    }
}
