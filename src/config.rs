//! Settings: defaults, then an optional `estuary.toml`, then the environment
//! (which wins). Every value is checked before anything starts.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use url::Url;

/// The environment variables the binary reads; `.env.example` and
/// `docker-compose.yml` must use no others for the estuary service.
pub const ENV_VARS: &[&str] = &[
    "ESTUARY_BASE_URL",
    "ESTUARY_BIND",
    "DATABASE_URL",
    "ESTUARY_ALLOW_PRIVATE_ADDRESSES",
    "ESTUARY_MAX_BODY_BYTES",
    "ESTUARY_REQUEST_TIMEOUT_SECS",
    "ESTUARY_DB_POOL_SIZE",
    "ESTUARY_WRITE_BATCH_MAX",
    "ESTUARY_WRITE_BATCH_WAIT_MICROS",
    "ESTUARY_DELIVERY_CONCURRENCY",
    "ESTUARY_DELIVERY_HOST_CAP",
    "ESTUARY_JOB_LEASE_SECS",
    "ESTUARY_FETCH_TIMEOUT_SECS",
    "ESTUARY_FETCH_MAX_BYTES",
    "ESTUARY_WEBMENTION_RATE_PER_MINUTE",
    "ESTUARY_API_RATE_LIMIT",
    "ESTUARY_MF2_MAX_ITEMS",
    "ESTUARY_PARSE_TIMEOUT_SECS",
    "ESTUARY_JOB_TIMEOUT_SECS",
    "ESTUARY_JOB_MAX_CRASHES",
    "ESTUARY_JOB_KEEP_DONE_SECS",
    "ESTUARY_LOGIN_CONCURRENCY",
    "ESTUARY_LOGIN_MAX_FAILURES",
    "ESTUARY_WEBMENTION_QUEUE_MAX",
    "ESTUARY_HEADER_READ_TIMEOUT_SECS",
    "ESTUARY_METRICS",
    "ESTUARY_CONFIG",
    "RUST_LOG",
    "ESTUARY_INSTANCE_NAME",
    "ESTUARY_INSTANCE_DESCRIPTION",
    "ESTUARY_CONTACT",
    "ESTUARY_LOG_FORMAT",
    "ESTUARY_CACHE_REFRESH_MS",
];

pub const DEFAULT_BASE_URL: &str = "http://localhost:8080";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE_URL: &str = "./data/estuary.sqlite3";
pub const DEFAULT_CONFIG_FILE: &str = "estuary.toml";
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
pub const DEFAULT_REQUEST_TIMEOUT_SECS: u64 = 30;
pub const DEFAULT_DB_POOL_SIZE: u32 = 10;
/// Writes one group commit holds: on SQLite, which has one writer at a
/// time; PostgreSQL commits concurrent writers in parallel, so there each
/// write has its own transaction unless the setting says otherwise.
pub const DEFAULT_WRITE_BATCH_MAX_SQLITE: usize = 64;
pub const DEFAULT_WRITE_BATCH_MAX_POSTGRES: usize = 1;
pub const DEFAULT_WRITE_BATCH_WAIT_MICROS: u64 = 0;
pub const DEFAULT_DELIVERY_CONCURRENCY: usize = 32;
pub const DEFAULT_DELIVERY_HOST_CAP: u32 = 8;
pub const DEFAULT_JOB_LEASE_SECS: u64 = 30;
pub const DEFAULT_FETCH_TIMEOUT_SECS: u64 = 10;
pub const DEFAULT_FETCH_MAX_BYTES: usize = 1024 * 1024;
pub const DEFAULT_WEBMENTION_RATE_PER_MINUTE: u32 = 60;
pub const DEFAULT_API_RATE_LIMIT: u32 = 300;
pub const DEFAULT_MF2_MAX_ITEMS: usize = 5_000;
pub const DEFAULT_PARSE_TIMEOUT_SECS: u64 = 5;
pub const DEFAULT_JOB_TIMEOUT_SECS: u64 = 60;
pub const DEFAULT_JOB_MAX_CRASHES: u32 = 3;
pub const DEFAULT_JOB_KEEP_DONE_SECS: u64 = 3_600;
pub const DEFAULT_LOGIN_CONCURRENCY: usize = 2;
pub const DEFAULT_LOGIN_MAX_FAILURES: u32 = 10;
pub const DEFAULT_WEBMENTION_QUEUE_MAX: u32 = 1_000;
pub const DEFAULT_HEADER_READ_TIMEOUT_SECS: u64 = 10;
pub const DEFAULT_CACHE_REFRESH_MS: u64 = 250;
pub const DEFAULT_INSTANCE_DESCRIPTION: &str = "A place where the fediverse and the IndieWeb meet: follow its people and join its rooms \
     from Mastodon or any fediverse app, or from your own web site.";

/// The validated settings of one process.
#[derive(Debug, Clone)]
pub struct Config {
    /// The public origin, without a trailing slash; every id derives from it.
    pub base_url: Url,
    pub bind: SocketAddr,
    pub database_url: String,
    pub allow_private_addresses: bool,
    /// Largest request body accepted, in bytes (larger → 413).
    pub max_body_bytes: usize,
    /// Longest a request may take before the server gives up on it.
    pub request_timeout: Duration,
    pub db_pool_size: u32,
    /// Writes (recorded activities) one group commit holds; 1 commits each on its own.
    pub write_batch_max: usize,
    /// How long a group commit waits for more writes after its first.
    pub write_batch_wait: Duration,
    /// Delivery jobs run at once by one process.
    pub delivery_concurrency: usize,
    /// Delivery jobs running at once against one host, across processes.
    pub delivery_host_cap: u32,
    /// How long a claimed job is reserved before another worker may retry it.
    pub job_lease: Duration,
    /// Total time allowed for one outbound request.
    pub fetch_timeout: Duration,
    /// Largest document fetched from another server.
    pub fetch_max_bytes: usize,
    /// Webmentions accepted per source host per minute (more → 429).
    pub webmention_rate_per_minute: u32,
    /// Mastodon API requests allowed per token (or, without one, per client
    /// address) in five minutes, by each process (more → 429).
    pub api_rate_limit: u32,
    /// Largest microformats result of one page, in items (each use of a nested item counted); a larger page is refused.
    pub mf2_max_items: usize,
    /// Time allowed to parse one foreign page for microformats.
    pub parse_timeout: Duration,
    /// Time allowed for one run of a queued job (its lease is renewed meanwhile).
    pub job_timeout: Duration,
    /// Runs of one job that may time out or lose their lease (a crash) before it is dead.
    pub job_max_crashes: u32,
    /// How long finished jobs stay in the queue before they are pruned.
    pub job_keep_done: Duration,
    /// Password checks (argon2, about 19 MiB each) run at once by one process; more wait.
    pub login_concurrency: usize,
    /// Failed logins allowed per account and per client address in 15 minutes (more get 429).
    pub login_max_failures: u32,
    /// Webmentions waiting for verification, all sources together (more get 503).
    pub webmention_queue_max: u32,
    /// Time a client has to send a request's headers.
    pub header_read_timeout: Duration,
    /// How often the process checks whether cached accounts changed (in
    /// another process, or behind its back): the longest an actor document,
    /// WebFinger answer or key may be served stale.
    pub cache_refresh: Duration,
    /// Whether `/metrics` is served (off by default: it tells anyone about
    /// the instance's traffic and queue).
    pub metrics: bool,
    /// The `RUST_LOG` filter, if one was given.
    pub log_filter: Option<String>,
    /// The instance's name on its home page (default: its host).
    pub instance_name: String,
    /// A paragraph about the instance for its home page.
    pub instance_description: String,
    /// How to reach the operator (an e-mail address or a URL), if given.
    pub contact: Option<String>,
    /// Logs as text for people, or one JSON object per line for machines.
    pub log_format: LogFormat,
}

/// How log lines are written (on stderr).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// A setting that cannot be used; the message names it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    ReadFile {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not valid: {message}")]
    ParseFile { path: String, message: String },
    #[error("{name} is not valid: {message}")]
    Invalid { name: &'static str, message: String },
}

/// The keys `estuary.toml` may hold; each mirrors an environment variable.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    base_url: Option<String>,
    bind: Option<String>,
    database_url: Option<String>,
    allow_private_addresses: Option<bool>,
    max_body_bytes: Option<usize>,
    request_timeout_secs: Option<u64>,
    db_pool_size: Option<u32>,
    write_batch_max: Option<usize>,
    write_batch_wait_micros: Option<u64>,
    delivery_concurrency: Option<usize>,
    delivery_host_cap: Option<u32>,
    job_lease_secs: Option<u64>,
    fetch_timeout_secs: Option<u64>,
    fetch_max_bytes: Option<usize>,
    webmention_rate_per_minute: Option<u32>,
    api_rate_limit: Option<u32>,
    mf2_max_items: Option<usize>,
    parse_timeout_secs: Option<u64>,
    job_timeout_secs: Option<u64>,
    job_max_crashes: Option<u32>,
    job_keep_done_secs: Option<u64>,
    login_concurrency: Option<usize>,
    login_max_failures: Option<u32>,
    webmention_queue_max: Option<u32>,
    header_read_timeout_secs: Option<u64>,
    cache_refresh_ms: Option<u64>,
    metrics: Option<bool>,
    log: Option<String>,
    instance_name: Option<String>,
    instance_description: Option<String>,
    contact: Option<String>,
    log_format: Option<String>,
}

impl Config {
    /// Reads the process environment and the configuration file it points
    /// at (`ESTUARY_CONFIG`, default `./estuary.toml`, optional).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::load(|name| std::env::var(name).ok())
    }

    /// Builds the settings from a variable lookup (the environment in
    /// production, a map in tests).
    /// An empty variable counts as unset (Docker Compose passes `${X:-}`
    /// through as an empty string when `.env` leaves `X` blank).
    pub fn load(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &str| var(name).filter(|value| !value.trim().is_empty());
        let file = match var("ESTUARY_CONFIG") {
            Some(path) => read_file(Path::new(&path))?,
            None if Path::new(DEFAULT_CONFIG_FILE).exists() => {
                read_file(&PathBuf::from(DEFAULT_CONFIG_FILE))?
            }
            None => FileSettings::default(),
        };
        let pick = |name: &str, from_file: Option<String>| var(name).or(from_file);

        let base_url = parse_base_url(
            &pick("ESTUARY_BASE_URL", file.base_url).unwrap_or_else(|| DEFAULT_BASE_URL.into()),
        )?;
        let bind_text = pick("ESTUARY_BIND", file.bind).unwrap_or_else(|| DEFAULT_BIND.into());
        let bind = bind_text.parse().map_err(|_| ConfigError::Invalid {
            name: "ESTUARY_BIND",
            message: format!("{bind_text:?} is not an address like 127.0.0.1:8080"),
        })?;
        let database_url = pick("DATABASE_URL", file.database_url)
            .filter(|url| !url.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.into());
        let allow_private_addresses = match var("ESTUARY_ALLOW_PRIVATE_ADDRESSES") {
            Some(text) => parse_bool("ESTUARY_ALLOW_PRIVATE_ADDRESSES", &text)?,
            None => file.allow_private_addresses.unwrap_or(false),
        };
        let max_body_bytes = number(
            &var,
            "ESTUARY_MAX_BODY_BYTES",
            file.max_body_bytes,
            DEFAULT_MAX_BODY_BYTES,
        )?;
        let timeout_secs = number(
            &var,
            "ESTUARY_REQUEST_TIMEOUT_SECS",
            file.request_timeout_secs,
            DEFAULT_REQUEST_TIMEOUT_SECS,
        )?;
        let db_pool_size = number(
            &var,
            "ESTUARY_DB_POOL_SIZE",
            file.db_pool_size,
            DEFAULT_DB_POOL_SIZE,
        )?;
        let write_batch_max = number(
            &var,
            "ESTUARY_WRITE_BATCH_MAX",
            file.write_batch_max,
            match crate::store::Backend::from_url(&database_url) {
                crate::store::Backend::Sqlite => DEFAULT_WRITE_BATCH_MAX_SQLITE,
                crate::store::Backend::Postgres => DEFAULT_WRITE_BATCH_MAX_POSTGRES,
            },
        )?;
        let write_batch_wait_micros = at_least(
            &var,
            "ESTUARY_WRITE_BATCH_WAIT_MICROS",
            file.write_batch_wait_micros,
            DEFAULT_WRITE_BATCH_WAIT_MICROS,
            0,
        )?;
        let delivery_concurrency = number(
            &var,
            "ESTUARY_DELIVERY_CONCURRENCY",
            file.delivery_concurrency,
            DEFAULT_DELIVERY_CONCURRENCY,
        )?;
        let delivery_host_cap = number(
            &var,
            "ESTUARY_DELIVERY_HOST_CAP",
            file.delivery_host_cap,
            DEFAULT_DELIVERY_HOST_CAP,
        )?;
        let job_lease_secs = number(
            &var,
            "ESTUARY_JOB_LEASE_SECS",
            file.job_lease_secs,
            DEFAULT_JOB_LEASE_SECS,
        )?;
        let fetch_timeout_secs = number(
            &var,
            "ESTUARY_FETCH_TIMEOUT_SECS",
            file.fetch_timeout_secs,
            DEFAULT_FETCH_TIMEOUT_SECS,
        )?;
        let fetch_max_bytes = number(
            &var,
            "ESTUARY_FETCH_MAX_BYTES",
            file.fetch_max_bytes,
            DEFAULT_FETCH_MAX_BYTES,
        )?;
        let webmention_rate_per_minute = number(
            &var,
            "ESTUARY_WEBMENTION_RATE_PER_MINUTE",
            file.webmention_rate_per_minute,
            DEFAULT_WEBMENTION_RATE_PER_MINUTE,
        )?;
        let api_rate_limit = number(
            &var,
            "ESTUARY_API_RATE_LIMIT",
            file.api_rate_limit,
            DEFAULT_API_RATE_LIMIT,
        )?;
        let mf2_max_items = number(
            &var,
            "ESTUARY_MF2_MAX_ITEMS",
            file.mf2_max_items,
            DEFAULT_MF2_MAX_ITEMS,
        )?;
        let parse_timeout_secs = number(
            &var,
            "ESTUARY_PARSE_TIMEOUT_SECS",
            file.parse_timeout_secs,
            DEFAULT_PARSE_TIMEOUT_SECS,
        )?;
        // Leases are renewed while a job runs: the time limit may exceed one.
        let job_timeout_secs = number(
            &var,
            "ESTUARY_JOB_TIMEOUT_SECS",
            file.job_timeout_secs,
            DEFAULT_JOB_TIMEOUT_SECS,
        )?;
        let job_max_crashes = number(
            &var,
            "ESTUARY_JOB_MAX_CRASHES",
            file.job_max_crashes,
            DEFAULT_JOB_MAX_CRASHES,
        )?;
        let job_keep_done_secs = number(
            &var,
            "ESTUARY_JOB_KEEP_DONE_SECS",
            file.job_keep_done_secs,
            DEFAULT_JOB_KEEP_DONE_SECS,
        )?;
        let login_concurrency = number(
            &var,
            "ESTUARY_LOGIN_CONCURRENCY",
            file.login_concurrency,
            DEFAULT_LOGIN_CONCURRENCY,
        )?;
        let login_max_failures = number(
            &var,
            "ESTUARY_LOGIN_MAX_FAILURES",
            file.login_max_failures,
            DEFAULT_LOGIN_MAX_FAILURES,
        )?;
        let webmention_queue_max = number(
            &var,
            "ESTUARY_WEBMENTION_QUEUE_MAX",
            file.webmention_queue_max,
            DEFAULT_WEBMENTION_QUEUE_MAX,
        )?;
        let header_read_timeout_secs = number(
            &var,
            "ESTUARY_HEADER_READ_TIMEOUT_SECS",
            file.header_read_timeout_secs,
            DEFAULT_HEADER_READ_TIMEOUT_SECS,
        )?;
        let cache_refresh_ms = number(
            &var,
            "ESTUARY_CACHE_REFRESH_MS",
            file.cache_refresh_ms,
            DEFAULT_CACHE_REFRESH_MS,
        )?;
        let metrics = match var("ESTUARY_METRICS") {
            Some(text) => parse_bool("ESTUARY_METRICS", &text)?,
            None => file.metrics.unwrap_or(false),
        };
        let text =
            |value: Option<String>| value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let instance_name = text(pick("ESTUARY_INSTANCE_NAME", file.instance_name))
            .unwrap_or_else(|| host_of(&base_url));
        let instance_description = text(pick(
            "ESTUARY_INSTANCE_DESCRIPTION",
            file.instance_description,
        ))
        .unwrap_or_else(|| DEFAULT_INSTANCE_DESCRIPTION.to_owned());
        let contact = text(pick("ESTUARY_CONTACT", file.contact));
        let log_format = match text(pick("ESTUARY_LOG_FORMAT", file.log_format))
            .map(|v| v.to_ascii_lowercase())
            .as_deref()
        {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "ESTUARY_LOG_FORMAT",
                    message: format!("{other:?} is not text or json"),
                });
            }
        };
        Ok(Config {
            mf2_max_items,
            parse_timeout: Duration::from_secs(parse_timeout_secs),
            job_timeout: Duration::from_secs(job_timeout_secs),
            job_max_crashes,
            job_keep_done: Duration::from_secs(job_keep_done_secs),
            login_concurrency,
            login_max_failures,
            webmention_queue_max,
            header_read_timeout: Duration::from_secs(header_read_timeout_secs),
            cache_refresh: Duration::from_millis(cache_refresh_ms),
            metrics,
            log_format,
            instance_name,
            instance_description,
            contact,
            webmention_rate_per_minute,
            api_rate_limit,
            delivery_concurrency,
            delivery_host_cap,
            job_lease: Duration::from_secs(job_lease_secs),
            fetch_timeout: Duration::from_secs(fetch_timeout_secs),
            fetch_max_bytes,
            base_url,
            bind,
            database_url,
            allow_private_addresses,
            max_body_bytes,
            request_timeout: Duration::from_secs(timeout_secs),
            db_pool_size,
            write_batch_max,
            write_batch_wait: Duration::from_micros(write_batch_wait_micros),
            log_filter: pick("RUST_LOG", file.log),
        })
    }

    /// `host[:port]` of the base URL: the domain part of every local `acct:`.
    pub fn host(&self) -> String {
        host_of(&self.base_url)
    }
}

/// `host[:port]` of a URL, the port only when it is not the scheme's default.
pub fn host_of(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

fn read_file(path: &Path) -> Result<FileSettings, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::ReadFile {
        path: path.display().to_string(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::ParseFile {
        path: path.display().to_string(),
        message: e.message().to_owned(),
    })
}

/// An origin: http(s), a host, no credentials, no path, query or fragment.
fn parse_base_url(text: &str) -> Result<Url, ConfigError> {
    let invalid = |message: String| ConfigError::Invalid {
        name: "ESTUARY_BASE_URL",
        message,
    };
    let url = Url::parse(text).map_err(|e| invalid(format!("{text:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(format!(
            "{text:?} must start with http:// or https://"
        )));
    }
    if url.host_str().is_none() {
        return Err(invalid(format!("{text:?} has no host")));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(format!(
            "{text:?} must be an origin only, without a path, query or fragment"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(format!("{text:?} must not carry credentials")));
    }
    Ok(url)
}

fn parse_bool(name: &'static str, text: &str) -> Result<bool, ConfigError> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" | "" => Ok(false),
        _ => Err(ConfigError::Invalid {
            name,
            message: format!("{text:?} is not true or false"),
        }),
    }
}

fn number<T: std::str::FromStr + PartialOrd + From<u8>>(
    var: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    from_file: Option<T>,
    default: T,
) -> Result<T, ConfigError> {
    at_least(var, name, from_file, default, 1)
}

/// A whole number setting no smaller than `least`.
fn at_least<T: std::str::FromStr + PartialOrd + From<u8>>(
    var: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    from_file: Option<T>,
    default: T,
    least: u8,
) -> Result<T, ConfigError> {
    let value = match var(name) {
        Some(text) => text.trim().parse().map_err(|_| ConfigError::Invalid {
            name,
            message: format!("{text:?} is not a whole number"),
        })?,
        None => from_file.unwrap_or(default),
    };
    if value < T::from(least) {
        return Err(ConfigError::Invalid {
            name,
            message: format!("must be at least {least}"),
        });
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        // An empty file stands in for a developer's ./estuary.toml.
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.toml");
        std::fs::write(&empty, "").unwrap();
        let empty = empty.to_str().unwrap().to_owned();
        Config::load(|name| match map.get(name) {
            None if name == "ESTUARY_CONFIG" => Some(empty.clone()),
            found => found.cloned(),
        })
    }

    #[test]
    fn defaults_follow_the_contract() {
        let config = load(&[]).unwrap();
        assert_eq!(config.base_url.as_str(), "http://localhost:8080/");
        assert_eq!(config.host(), "localhost:8080");
        assert_eq!(config.bind, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(config.database_url, DEFAULT_DATABASE_URL);
        assert!(!config.allow_private_addresses);
        assert_eq!(config.max_body_bytes, DEFAULT_MAX_BODY_BYTES);
        assert_eq!(config.instance_name, "localhost:8080");
        assert_eq!(config.instance_description, DEFAULT_INSTANCE_DESCRIPTION);
        assert_eq!(config.contact, None);
    }

    #[test]
    fn empty_variables_count_as_unset() {
        let config = load(&[
            ("ESTUARY_MAX_BODY_BYTES", ""),
            ("ESTUARY_ALLOW_PRIVATE_ADDRESSES", " "),
            ("ESTUARY_INSTANCE_NAME", ""),
        ])
        .unwrap();
        assert_eq!(config.max_body_bytes, DEFAULT_MAX_BODY_BYTES);
        assert!(!config.allow_private_addresses);
        assert_eq!(config.instance_name, "localhost:8080");
    }

    #[test]
    fn the_home_page_settings_are_read_and_trimmed() {
        let config = load(&[
            ("ESTUARY_INSTANCE_NAME", " River Commons "),
            ("ESTUARY_INSTANCE_DESCRIPTION", "Where rivers meet."),
            ("ESTUARY_CONTACT", "admin@river.example"),
        ])
        .unwrap();
        assert_eq!(config.instance_name, "River Commons");
        assert_eq!(config.instance_description, "Where rivers meet.");
        assert_eq!(config.contact.as_deref(), Some("admin@river.example"));
        let blank = load(&[("ESTUARY_CONTACT", "  ")]).unwrap();
        assert_eq!(blank.contact, None);
    }

    #[test]
    fn the_log_format_is_text_or_json() {
        assert_eq!(load(&[]).unwrap().log_format, LogFormat::Text);
        let json = load(&[("ESTUARY_LOG_FORMAT", "JSON")]).unwrap();
        assert_eq!(json.log_format, LogFormat::Json);
        let error = load(&[("ESTUARY_LOG_FORMAT", "xml")]).unwrap_err();
        assert!(error.to_string().contains("ESTUARY_LOG_FORMAT"), "{error}");
    }

    #[test]
    fn base_url_with_a_path_or_query_is_refused() {
        for bad in [
            "https://example.org/estuary",
            "https://example.org/?a=1",
            "ftp://example.org",
            "not a url",
            "https://user:pw@example.org",
        ] {
            let error = load(&[("ESTUARY_BASE_URL", bad)]).unwrap_err();
            assert!(
                error
                    .to_string()
                    .starts_with("ESTUARY_BASE_URL is not valid"),
                "{bad}: {error}"
            );
        }
        let ok = load(&[("ESTUARY_BASE_URL", "https://social.example.org/")]).unwrap();
        assert_eq!(ok.host(), "social.example.org");
    }

    #[test]
    fn bad_bind_and_bool_are_refused() {
        let error = load(&[("ESTUARY_BIND", "localhost")]).unwrap_err();
        assert!(error.to_string().contains("ESTUARY_BIND"));
        let error = load(&[("ESTUARY_ALLOW_PRIVATE_ADDRESSES", "maybe")]).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("ESTUARY_ALLOW_PRIVATE_ADDRESSES")
        );
        let error = load(&[("ESTUARY_MAX_BODY_BYTES", "0")]).unwrap_err();
        assert!(error.to_string().contains("at least 1"));
    }

    #[test]
    fn environment_wins_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("estuary.toml");
        std::fs::write(
            &path,
            "base_url = \"https://file.example\"\nbind = \"0.0.0.0:9000\"\n",
        )
        .unwrap();
        let config = load(&[
            ("ESTUARY_CONFIG", path.to_str().unwrap()),
            ("ESTUARY_BASE_URL", "https://env.example"),
        ])
        .unwrap();
        assert_eq!(config.host(), "env.example");
        assert_eq!(config.bind, "0.0.0.0:9000".parse().unwrap());
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("estuary.toml");
        std::fs::write(&path, "base_ur = \"https://typo.example\"\n").unwrap();
        let error = load(&[("ESTUARY_CONFIG", path.to_str().unwrap())]).unwrap_err();
        assert!(error.to_string().contains("is not valid"), "{error}");
    }
}
