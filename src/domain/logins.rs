//! Logging in on the OAuth form without giving the password check away:
//! argon2 runs a few at a time per process, failures are counted per
//! account and per client address in the database (shared by every
//! process) and too many answer "try later", and an unknown user or one
//! without a password costs the same time as a wrong password.

use std::net::IpAddr;
use std::sync::Arc;

use chrono::Utc;
use tokio::sync::Semaphore;

use super::DomainError;
use super::accounts::Account;
use super::names::normalize_name;
use super::oauth::{MAX_PASSWORD_LEN, dummy_hash, password_hash_of, verify_password};
use crate::store::Store;
use crate::store::login_failures as rows;

/// How far back failures count.
pub const FAILURE_WINDOW: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// The limits of one process's login form.
#[derive(Clone)]
pub struct LoginGuard {
    slots: Arc<Semaphore>,
    max_failures: u32,
}

impl LoginGuard {
    /// At most `concurrency` password checks at once; `max_failures` per
    /// account and per address in [`FAILURE_WINDOW`].
    pub fn new(concurrency: usize, max_failures: u32) -> Self {
        LoginGuard {
            slots: Arc::new(Semaphore::new(concurrency.max(1))),
            max_failures,
        }
    }
}

/// What came of a login attempt.
#[derive(Debug)]
pub enum LoginOutcome {
    LoggedIn(Box<Account>),
    /// Wrong name or password (the two are not told apart).
    Wrong,
    /// Too many failures for this account or address: try after this long.
    Throttled(std::time::Duration),
}

/// The subjects failures are counted on: the account name as typed
/// (normalised when it is a valid name) and the client's address (its /64
/// for IPv6, which one host usually holds whole).
fn subjects(name: &str, address: Option<IpAddr>) -> Vec<String> {
    let account = normalize_name(name).unwrap_or_else(|| name.trim().to_lowercase());
    let mut subjects = vec![format!("account:{account}")];
    match address {
        Some(IpAddr::V4(v4)) => subjects.push(format!("address:{v4}")),
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            subjects.push(format!(
                "address:{:x}:{:x}:{:x}:{:x}::/64",
                s[0], s[1], s[2], s[3]
            ));
        }
        None => {}
    }
    subjects
}

/// Checks `name`'s password, within the guard's limits.
pub async fn log_in(
    store: &Store,
    guard: &LoginGuard,
    name: &str,
    password: String,
    address: Option<IpAddr>,
) -> Result<LoginOutcome, DomainError> {
    let subjects = subjects(name, address);
    let window = chrono::Duration::from_std(FAILURE_WINDOW).unwrap_or_default();
    let max_failures = i64::from(guard.max_failures);
    // Counted while holding a slot, so that a burst of concurrent attempts
    // cannot all pass the count before the first failure is recorded.
    let _permit = guard
        .slots
        .acquire()
        .await
        .map_err(|_| crate::store::StoreError::Cancelled)?;
    let counted = subjects.clone();
    let worst = store
        .run(move |conn| {
            let refs: Vec<&str> = counted.iter().map(String::as_str).collect();
            Ok::<_, DomainError>(rows::most_recent(
                conn,
                &refs,
                Utc::now().naive_utc() - window,
            )?)
        })
        .await?;
    if let Some((count, oldest)) = worst
        && count >= max_failures
    {
        let free_at = oldest + window;
        let wait = (free_at - Utc::now().naive_utc())
            .to_std()
            .unwrap_or_default()
            .max(std::time::Duration::from_secs(1));
        return Ok(LoginOutcome::Throttled(wait));
    }

    let found = password_hash_of(store, name).await?;
    let matches = {
        let hash = found
            .as_ref()
            .map(|(_, hash)| hash.clone())
            .unwrap_or_else(|| dummy_hash().to_owned());
        let too_long = password.len() > MAX_PASSWORD_LEN;
        tokio::task::spawn_blocking(move || {
            // An over-long password is checked against the dummy, cut
            // short: the same time, and never a match.
            if too_long {
                let cut: String = password.chars().take(64).collect();
                verify_password(dummy_hash(), &cut);
                return false;
            }
            verify_password(&hash, &password)
        })
        .await
        .map_err(|_| crate::store::StoreError::Cancelled)?
    };
    match found {
        Some((account, _)) if matches => {
            let subject = subjects[0].clone();
            store
                .run(move |conn| Ok::<_, DomainError>(rows::clear(conn, &subject)?))
                .await?;
            Ok(LoginOutcome::LoggedIn(Box::new(account)))
        }
        _ => {
            store
                .run(move |conn| {
                    let now = Utc::now().naive_utc();
                    let refs: Vec<&str> = subjects.iter().map(String::as_str).collect();
                    rows::record(conn, &refs, now, now - window)?;
                    Ok::<_, DomainError>(())
                })
                .await?;
            Ok(LoginOutcome::Wrong)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_count_per_account_and_per_address() {
        assert_eq!(
            subjects("Alice", Some("203.0.113.9".parse().unwrap())),
            ["account:alice", "address:203.0.113.9"]
        );
        assert_eq!(
            subjects("x y", Some("2001:db8:1:2:3:4:5:6".parse().unwrap())),
            ["account:x y", "address:2001:db8:1:2::/64"]
        );
    }
}
