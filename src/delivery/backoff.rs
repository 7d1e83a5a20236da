//! When to try a failed job again: exponential backoff with jitter, about
//! three days over fifteen attempts, never sooner than the peer asked.

use std::time::Duration;

/// Attempts before a job is given up.
pub const MAX_ATTEMPTS: i32 = 15;
/// Delay after the first failure; it doubles after each one.
pub const BASE_DELAY: Duration = Duration::from_secs(16);

/// The delay before the next attempt, after `failures` failed attempts
/// (1 after the first), with `jitter` in `[0, 1)` spreading it ±20%; a
/// `Retry-After` from the peer is a lower bound. `None` means give up.
pub fn next_delay(failures: i32, jitter: f64, retry_after: Option<Duration>) -> Option<Duration> {
    if failures >= MAX_ATTEMPTS {
        return None;
    }
    let exponent = (failures.max(1) - 1).min(30) as u32;
    let base = BASE_DELAY.as_secs_f64() * f64::from(2u32.pow(exponent));
    let spread = base * (0.8 + 0.4 * jitter.clamp(0.0, 1.0));
    let delay = Duration::from_secs_f64(spread);
    Some(retry_after.map_or(delay, |asked| delay.max(asked)))
}

/// A jitter value from the OS random source.
pub fn random_jitter() -> f64 {
    let mut bytes = [0u8; 4];
    let _ = openssl::rand::rand_bytes(&mut bytes);
    f64::from(u32::from_le_bytes(bytes)) / (f64::from(u32::MAX) + 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_spans_about_three_days() {
        let total: f64 = (1..MAX_ATTEMPTS)
            .map(|n| next_delay(n, 0.5, None).unwrap().as_secs_f64())
            .sum();
        let days = total / 86_400.0;
        assert!((2.5..3.5).contains(&days), "{days} days");
        assert_eq!(next_delay(MAX_ATTEMPTS, 0.5, None), None);
    }

    #[test]
    fn jitter_spreads_and_retry_after_is_a_floor() {
        assert_eq!(
            next_delay(1, 0.0, None).unwrap().as_secs_f64().round(),
            13.0
        );
        assert_eq!(
            next_delay(1, 0.999_999, None)
                .unwrap()
                .as_secs_f64()
                .round(),
            19.0
        );
        assert_eq!(next_delay(2, 0.5, None).unwrap(), Duration::from_secs(32));
        assert_eq!(
            next_delay(1, 0.5, Some(Duration::from_secs(600))).unwrap(),
            Duration::from_secs(600)
        );
        let j = random_jitter();
        assert!((0.0..1.0).contains(&j));
    }
}
