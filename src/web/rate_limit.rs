//! The Mastodon API's request limit, as Mastodon applies it: a number of
//! requests per five minutes for each token (or, without one, each client
//! address), answered past the limit with 429, `Retry-After` and the
//! `X-RateLimit-*` headers clients read. Each process counts on its own;
//! several processes behind one proxy allow that many times the limit.

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use super::AppState;
use super::client_address::ClientAddress;
use super::error::WebError;

/// The window a limit counts requests in.
pub const WINDOW: Duration = Duration::from_secs(300);

/// Above this many tracked keys, expired windows are swept out.
const SWEEP_ABOVE: usize = 10_000;

/// What a request may do, with what to tell the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Time until the window starts again.
    pub reset_in: Duration,
}

/// Fixed windows of requests per key.
pub struct RateLimiter {
    limit: u32,
    window: Duration,
    windows: Mutex<HashMap<u64, (Instant, u32)>>,
}

impl RateLimiter {
    pub fn new(limit: u32, window: Duration) -> Self {
        RateLimiter {
            limit,
            window,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request of `key` at `now`.
    pub fn check(&self, key: u64, now: Instant) -> Verdict {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() > SWEEP_ABOVE {
            let window = self.window;
            windows.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let entry = windows.entry(key).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        let allowed = entry.1 < self.limit;
        if allowed {
            entry.1 += 1;
        }
        Verdict {
            allowed,
            limit: self.limit,
            remaining: self.limit.saturating_sub(entry.1),
            reset_in: self.window.saturating_sub(now.duration_since(entry.0)),
        }
    }
}

/// What a request is counted against: its bearer token, else its address.
fn key_of(headers: &HeaderMap, address: ClientAddress) -> u64 {
    let mut hasher = DefaultHasher::new();
    match headers.get(AUTHORIZATION) {
        Some(token) => ("token", token.as_bytes()).hash(&mut hasher),
        None => ("address", address.0).hash(&mut hasher),
    }
    hasher.finish()
}

fn add_headers(headers: &mut HeaderMap, verdict: Verdict) {
    let reset = Utc::now() + verdict.reset_in;
    let pairs = [
        ("x-ratelimit-limit", verdict.limit.to_string()),
        ("x-ratelimit-remaining", verdict.remaining.to_string()),
        (
            "x-ratelimit-reset",
            reset.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        ),
    ];
    for (name, value) in pairs {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
}

/// The middleware on every Mastodon API route.
pub async fn limit_api(
    State(state): State<AppState>,
    address: ClientAddress,
    request: Request,
    next: Next,
) -> Response {
    let verdict = state
        .api_limits
        .check(key_of(request.headers(), address), Instant::now());
    let mut response = if verdict.allowed {
        next.run(request).await
    } else {
        let mut refused =
            WebError::new(StatusCode::TOO_MANY_REQUESTS, "Too many requests").into_response();
        let seconds = verdict.reset_in.as_secs().max(1);
        if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
            refused.headers_mut().insert(RETRY_AFTER, value);
        }
        refused
    };
    add_headers(response.headers_mut(), verdict);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_allows_its_limit_then_starts_again() {
        let limiter = RateLimiter::new(3, Duration::from_secs(300));
        let start = Instant::now();
        let verdicts: Vec<Verdict> = (0..4).map(|_| limiter.check(7, start)).collect();
        assert_eq!(
            verdicts.iter().map(|v| v.allowed).collect::<Vec<_>>(),
            [true, true, true, false]
        );
        assert_eq!(verdicts[2].remaining, 0);
        assert!(limiter.check(8, start).allowed, "another key has its own");
        let later = start + Duration::from_secs(301);
        let verdict = limiter.check(7, later);
        assert!(verdict.allowed);
        assert_eq!(verdict.remaining, 2);
    }
}
