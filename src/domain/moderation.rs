//! Moderation: the operator's rules for other servers (block, silence,
//! refuse media), suspended remote accounts, and reports (`Flag`s) received
//! from other servers.
//!
//! A rule names a domain and covers its subdomains; a rule that names a
//! port (`host:8080`) covers that origin only. Rules are cached per process
//! for [`POLICY_TTL`], so a rule added by the command line reaches a
//! running server within that time; a rule changed in this process applies
//! at once.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{NaiveDateTime, Utc};
use serde::Serialize;

use super::DomainError;
use super::accounts::{Account, row_to_account};
use crate::store::Store;
use crate::store::accounts as account_rows;
use crate::store::domain_blocks::{self as rows, DomainBlockRow, NewDomainBlockRow};
use crate::store::follows as follow_rows;
use crate::store::reports::{self as report_rows, NewReportRow, ReportRow};

/// How long a process trusts its copy of the rules.
pub const POLICY_TTL: Duration = Duration::from_secs(1);

/// Why a moderation command was refused.
#[derive(Debug, thiserror::Error)]
pub enum ModerationError {
    #[error("{0:?} is not a domain (give a host name such as example.com, optionally with :port)")]
    InvalidDomain(String),
    #[error("{0} is not blocked or silenced")]
    NotBlocked(String),
    #[error("{0:?} is not an account known here (give its actor URL or NAME@HOST)")]
    UnknownAccount(String),
    #[error("there is no open report {0}")]
    NoSuchReport(i64),
    #[error(transparent)]
    Domain(#[from] DomainError),
}

impl From<crate::store::StoreError> for ModerationError {
    fn from(error: crate::store::StoreError) -> Self {
        ModerationError::Domain(error.into())
    }
}

impl From<diesel::result::Error> for ModerationError {
    fn from(error: diesel::result::Error) -> Self {
        ModerationError::Domain(error.into())
    }
}

/// What a rule does to a domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Nothing in or out; follows both ways removed.
    Block,
    /// Follows stay; hidden from public pages and timelines.
    Silence,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Block => "block",
            Severity::Silence => "silence",
        }
    }

    fn from_stored(text: &str) -> Self {
        match text {
            "silence" => Severity::Silence,
            _ => Severity::Block,
        }
    }
}

/// One rule.
#[derive(Debug, Clone, Serialize)]
pub struct DomainRule {
    pub domain: String,
    pub severity: Severity,
    pub reject_media: bool,
    pub created_at: NaiveDateTime,
}

fn row_to_rule(row: DomainBlockRow) -> DomainRule {
    DomainRule {
        severity: Severity::from_stored(&row.severity),
        domain: row.domain,
        reject_media: row.reject_media,
        created_at: row.created_at,
    }
}

/// `host` without a port (IPv6 literals keep their brackets).
fn without_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((name, port))
            if !name.is_empty()
                && !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit())
                && (!name.contains(':') || name.ends_with(']')) =>
        {
            name
        }
        _ => host,
    }
}

/// Whether a rule for `rule` covers `host` (`host[:port]`, lower case): the
/// same origin when the rule names a port, else the same host name or a
/// subdomain of it, on any port.
pub fn rule_covers(rule: &str, host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    if without_port(rule) != rule {
        return host == rule;
    }
    let name = without_port(&host);
    name == rule || name.strip_suffix(rule).is_some_and(|s| s.ends_with('.'))
}

/// The canonical form of a domain the operator typed: lower case, no
/// scheme or path, the port kept when given.
pub fn normalize_domain(text: &str) -> Result<String, ModerationError> {
    let invalid = || ModerationError::InvalidDomain(text.to_owned());
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed.contains(char::is_whitespace) || trimmed.contains('@') {
        return Err(invalid());
    }
    let candidate = if trimmed.contains("://") {
        trimmed.to_owned()
    } else {
        format!("http://{trimmed}")
    };
    let url = url::Url::parse(&candidate).map_err(|_| invalid())?;
    if !matches!(url.scheme(), "http" | "https")
        || url.host_str().is_none()
        || (url.path() != "/" && !url.path().is_empty())
        || url.query().is_some()
        || !url.username().is_empty()
    {
        return Err(invalid());
    }
    let host = url.host_str().unwrap_or_default();
    if !host.contains('.') && !host.starts_with('[') && host != "localhost" {
        return Err(invalid());
    }
    let explicit_port = url.port().or_else(|| {
        // `Url` drops a scheme's default port; keep it when it was typed.
        let after_host = trimmed
            .rsplit_once(':')
            .map(|(_, p)| p.trim_end_matches('/'));
        after_host.and_then(|p| p.parse::<u16>().ok())
    });
    Ok(match explicit_port {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
    .to_ascii_lowercase())
}

/// What `domain block` did.
#[derive(Debug, Clone, Serialize)]
pub struct Blocked {
    #[serde(flatten)]
    pub rule: DomainRule,
    /// Follows removed (a full block ends follows both ways).
    pub follows_removed: usize,
}

/// Blocks or silences a domain (replacing an earlier rule for it). A full
/// block also removes every follow between local accounts and accounts on
/// that domain.
pub async fn block_domain(
    store: &Store,
    domain: &str,
    severity: Severity,
    reject_media: bool,
) -> Result<Blocked, ModerationError> {
    let domain = normalize_domain(domain)?;
    store
        .transaction(move |conn| {
            let row = rows::upsert(
                conn,
                &NewDomainBlockRow {
                    domain: &domain,
                    severity: severity.as_str(),
                    reject_media,
                    created_at: Utc::now().naive_utc(),
                },
            )?;
            if reject_media {
                let ids = account_rows::remote_ids_on(conn, &domain)?;
                account_rows::clear_avatars(conn, &ids)?;
            }
            let follows_removed = match severity {
                Severity::Block => {
                    let ids = account_rows::remote_ids_on(conn, &domain)?;
                    follow_rows::delete_involving(conn, &ids)?
                }
                Severity::Silence => 0,
            };
            Ok::<_, ModerationError>(Blocked {
                rule: row_to_rule(row),
                follows_removed,
            })
        })
        .await
}

/// Whether the rules refuse the media (avatars) of accounts on `domain`.
pub fn rejects_media(
    conn: &mut crate::store::AnyConnection,
    domain: &str,
) -> Result<bool, DomainError> {
    Ok(rows::all(conn)?
        .iter()
        .any(|rule| rule.reject_media && rule_covers(&rule.domain, domain)))
}

/// Lifts the rule for a domain.
pub async fn unblock_domain(store: &Store, domain: &str) -> Result<String, ModerationError> {
    let domain = normalize_domain(domain)?;
    store
        .run(move |conn| match rows::delete(conn, &domain)? {
            0 => Err(ModerationError::NotBlocked(domain)),
            _ => Ok(domain),
        })
        .await
}

/// Every rule, by domain.
pub async fn domain_rules(store: &Store) -> Result<Vec<DomainRule>, ModerationError> {
    store
        .run(|conn| Ok(rows::all(conn)?.into_iter().map(row_to_rule).collect()))
        .await
}

/// The rules as read at an instant.
type Snapshot = (Instant, Arc<Vec<DomainRule>>);

/// The rules as one process sees them: cached for [`POLICY_TTL`].
#[derive(Clone)]
pub struct DomainPolicy {
    store: Store,
    cached: Arc<Mutex<Option<Snapshot>>>,
}

impl std::fmt::Debug for DomainPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DomainPolicy").finish_non_exhaustive()
    }
}

impl DomainPolicy {
    pub fn new(store: Store) -> Self {
        DomainPolicy {
            store,
            cached: Arc::default(),
        }
    }

    /// Forgets the cached rules (after a change in this process).
    pub fn invalidate(&self) {
        *self.cached.lock().expect("policy lock") = None;
    }

    async fn rules(&self) -> Result<Arc<Vec<DomainRule>>, ModerationError> {
        if let Some((at, rules)) = self.cached.lock().expect("policy lock").as_ref()
            && at.elapsed() < POLICY_TTL
        {
            return Ok(rules.clone());
        }
        let rules = Arc::new(domain_rules(&self.store).await?);
        *self.cached.lock().expect("policy lock") = Some((Instant::now(), rules.clone()));
        Ok(rules)
    }

    /// The rule covering `host`, the most specific when several do.
    pub async fn rule_for(&self, host: &str) -> Result<Option<DomainRule>, ModerationError> {
        let rules = self.rules().await?;
        Ok(rules
            .iter()
            .filter(|rule| rule_covers(&rule.domain, host))
            .max_by_key(|rule| rule.domain.len())
            .cloned())
    }

    /// Whether `host` is fully blocked. A failure to read the rules counts
    /// as blocked for nobody, and is logged.
    pub async fn blocks(&self, host: &str) -> bool {
        match self.rule_for(host).await {
            Ok(rule) => rule.is_some_and(|r| r.severity == Severity::Block),
            Err(error) => {
                tracing::warn!(%error, host, "cannot read the domain rules");
                false
            }
        }
    }
}

/// What public pages and collections leave out, read once per listing.
#[derive(Debug, Clone, Default)]
pub struct PublicFilter {
    rules: Vec<DomainRule>,
}

impl PublicFilter {
    pub fn load(conn: &mut crate::store::AnyConnection) -> Result<Self, DomainError> {
        Ok(PublicFilter {
            rules: rows::all(conn)?.into_iter().map(row_to_rule).collect(),
        })
    }

    pub async fn read(store: &Store) -> Result<Self, DomainError> {
        store.run(PublicFilter::load).await
    }

    /// Whether what `author` posted is left out: always for a suspended or
    /// deleted account or one on a blocked domain; for anonymous readers
    /// also when its domain is silenced (followers still get its posts).
    pub fn hides(&self, author: &Account, anonymous: bool) -> bool {
        if author.is_hidden() {
            return true;
        }
        let Some(domain) = &author.domain else {
            return false;
        };
        self.rules
            .iter()
            .filter(|rule| rule_covers(&rule.domain, domain))
            .max_by_key(|rule| rule.domain.len())
            .is_some_and(|rule| rule.severity == Severity::Block || anonymous)
    }
}

/// Suspends a remote (or local) account: its inbox POSTs are refused and
/// its posts hidden. Returns the account.
pub async fn suspend_account(
    store: &Store,
    actor: &Account,
    suspend: bool,
) -> Result<Account, ModerationError> {
    let id = actor.id;
    store
        .run(move |conn| {
            let at = suspend.then(|| Utc::now().naive_utc());
            account_rows::set_suspended(conn, id, at)?;
            account_rows::find(conn, id)?
                .map(row_to_account)
                .ok_or_else(|| ModerationError::UnknownAccount(id.to_string()))
        })
        .await
}

/// The account an operator names: an actor URL, or `NAME@HOST` (a local
/// name when `HOST` is `local_host`).
pub async fn find_account(
    store: &Store,
    local_host: &str,
    named: &str,
) -> Result<Account, ModerationError> {
    let unknown = || ModerationError::UnknownAccount(named.to_owned());
    let text = named.trim().trim_start_matches('@').to_owned();
    let local_host = local_host.to_ascii_lowercase();
    let found = store
        .run(move |conn| {
            if text.starts_with("http://") || text.starts_with("https://") {
                return Ok::<_, ModerationError>(account_rows::find_by_actor_url(conn, &text)?);
            }
            let Some((name, host)) = text.split_once('@') else {
                return Ok(None);
            };
            let (name, host) = (name.to_ascii_lowercase(), host.to_ascii_lowercase());
            if host == local_host {
                Ok(account_rows::find_local(conn, &name)?)
            } else {
                Ok(account_rows::find_remote(conn, &name, &host)?)
            }
        })
        .await?;
    found.map(row_to_account).ok_or_else(unknown)
}

/// A report, as the operator reads it.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub id: i64,
    pub activity: String,
    /// The reporting actor (often the reporting server's instance actor).
    pub reporter: String,
    /// The reported accounts and posts.
    pub targets: Vec<String>,
    pub comment: Option<String>,
    pub received_at: NaiveDateTime,
    pub resolved_at: Option<NaiveDateTime>,
}

fn row_to_report(row: ReportRow, reporter: String) -> Report {
    Report {
        id: row.id,
        activity: row.ap_id,
        reporter,
        targets: serde_json::from_str(&row.targets).unwrap_or_default(),
        comment: row.content,
        received_at: row.created_at,
        resolved_at: row.resolved_at,
    }
}

/// A `Flag` from another server.
#[derive(Debug, Clone)]
pub struct NewReport {
    pub ap_id: String,
    pub reporter_id: i64,
    pub targets: Vec<String>,
    pub comment: Option<String>,
    pub document: String,
}

/// A report a local user files: stored like a `Flag` from another server.
/// Returns its id.
pub async fn file_report(store: &Store, report: NewReport) -> Result<i64, DomainError> {
    let ap_id = report.ap_id.clone();
    receive_report(store, report).await?;
    store
        .run(move |conn| {
            report_rows::list(conn, true)?
                .into_iter()
                .rev()
                .find(|row| row.ap_id == ap_id)
                .map(|row| row.id)
                .ok_or_else(|| DomainError::NoSuchObject(ap_id.clone()))
        })
        .await
}

/// Stores a report; a second copy of the same activity is ignored. Returns
/// whether it was new.
pub async fn receive_report(store: &Store, report: NewReport) -> Result<bool, DomainError> {
    store
        .run(move |conn| {
            let targets = serde_json::to_string(&report.targets).unwrap_or_else(|_| "[]".into());
            Ok(report_rows::insert(
                conn,
                &NewReportRow {
                    ap_id: &report.ap_id,
                    reporter_id: report.reporter_id,
                    targets: &targets,
                    content: report.comment.as_deref(),
                    document: &report.document,
                    created_at: Utc::now().naive_utc(),
                },
            )?)
        })
        .await
}

/// Reports, oldest first: open ones, or all.
pub async fn reports(store: &Store, all: bool) -> Result<Vec<Report>, ModerationError> {
    store
        .run(move |conn| {
            let mut out = Vec::new();
            for row in report_rows::list(conn, all)? {
                let reporter = account_rows::find(conn, row.reporter_id)?
                    .map(|a| a.actor_url)
                    .unwrap_or_default();
                out.push(row_to_report(row, reporter));
            }
            Ok(out)
        })
        .await
}

/// Marks an open report resolved.
pub async fn resolve_report(store: &Store, id: i64) -> Result<Report, ModerationError> {
    store
        .run(move |conn| {
            if report_rows::resolve(conn, id, Utc::now().naive_utc())? == 0 {
                return Err(ModerationError::NoSuchReport(id));
            }
            let row = report_rows::find(conn, id)?.ok_or(ModerationError::NoSuchReport(id))?;
            let reporter = account_rows::find(conn, row.reporter_id)?
                .map(|a| a.actor_url)
                .unwrap_or_default();
            Ok(row_to_report(row, reporter))
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_cover_subdomains_and_ports_as_written() {
        assert!(rule_covers("bad.example", "bad.example"));
        assert!(rule_covers("bad.example", "bad.example:8443"));
        assert!(rule_covers("bad.example", "social.bad.example"));
        assert!(!rule_covers("bad.example", "notbad.example"));
        assert!(!rule_covers("bad.example", "bad.example.org"));
        assert!(rule_covers("127.0.0.1:4000", "127.0.0.1:4000"));
        assert!(!rule_covers("127.0.0.1:4000", "127.0.0.1:4001"));
        assert!(rule_covers("[::1]", "[::1]:80"));
    }

    #[test]
    fn domains_are_normalised_or_refused() {
        for (typed, expected) in [
            ("Bad.Example", "bad.example"),
            ("https://bad.example/", "bad.example"),
            ("bad.example:8443", "bad.example:8443"),
            ("127.0.0.1:4000", "127.0.0.1:4000"),
            ("http://bad.example:80", "bad.example:80"),
        ] {
            assert_eq!(normalize_domain(typed).unwrap(), expected, "{typed}");
        }
        for bad in [
            "",
            "  ",
            "bad example",
            "alice@bad.example",
            "https://bad.example/path",
            "nodot",
            "ftp://bad.example",
        ] {
            assert!(normalize_domain(bad).is_err(), "{bad:?}");
        }
    }
}
