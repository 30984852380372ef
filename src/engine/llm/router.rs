//! Retries with exponential backoff and jitter, honouring `retry-after`.
//!
//! The router only retries the *start* of a reply: once text has streamed to the user, a failure
//! ends the turn as incomplete rather than replaying it. Falling back to another provider is the
//! engine's decision (it may need the user's confirmation), made from [`LlmError::warrants_fallback`].

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use super::{ChatRequest, EventStream, LlmError, Provider, ProviderKind};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts after the first.
    pub max_retries: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// A `retry-after` longer than this is not waited for: the attempt fails (and may fall back).
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Delay before retry number `attempt` (1-based): the server's `retry-after` if given, else
    /// `base · 2^(attempt-1)` capped at `max_delay`, scaled by a random factor in [0.5, 1.0).
    pub fn delay(&self, attempt: u32, error: &LlmError) -> Option<Duration> {
        if let Some(after) = error.retry_after() {
            return (after <= self.max_retry_after).then_some(after);
        }
        let exp = self.base_delay.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        Some(exp.min(self.max_delay).mul_f64(0.5 + jitter() / 2.0))
    }
}

/// A uniformly distributed number in [0, 1) from the process's random hasher keys.
fn jitter() -> f64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64),
    );
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// Something the user should see while a reply is being started.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryNotice {
    pub provider: ProviderKind,
    pub attempt: u32,
    pub max_retries: u32,
    pub delay: Duration,
    pub reason: String,
}

/// Start a reply on `provider`, retrying retryable failures per `policy`.
pub async fn start_with_retries(
    provider: &dyn Provider,
    request: &ChatRequest,
    policy: &RetryPolicy,
    mut notify: impl FnMut(RetryNotice),
) -> Result<EventStream, LlmError> {
    let mut attempt = 0;
    loop {
        match provider.start(request.clone()).await {
            Ok(stream) => return Ok(stream),
            Err(error) if error.is_retryable() && attempt < policy.max_retries => {
                attempt += 1;
                let Some(delay) = policy.delay(attempt, &error) else { return Err(error) };
                notify(RetryNotice {
                    provider: provider.kind(),
                    attempt,
                    max_retries: policy.max_retries,
                    delay,
                    reason: error.to_string(),
                });
                tokio::time::sleep(delay).await;
            }
            Err(error) => return Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_error() -> LlmError {
        LlmError::Http { provider: ProviderKind::Anthropic, status: 500, message: "boom".into() }
    }

    #[test]
    fn backoff_grows_and_is_capped_with_jitter() {
        let policy = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(350),
            ..Default::default()
        };
        for _ in 0..50 {
            let d1 = policy.delay(1, &server_error()).unwrap();
            let d3 = policy.delay(3, &server_error()).unwrap();
            assert!(d1 >= Duration::from_millis(50) && d1 < Duration::from_millis(100), "{d1:?}");
            assert!(d3 >= Duration::from_millis(175) && d3 < Duration::from_millis(350), "{d3:?}");
        }
    }

    #[test]
    fn retry_after_is_honoured_until_it_is_too_long() {
        let policy = RetryPolicy::default();
        let limited = |secs| LlmError::RateLimited {
            provider: ProviderKind::Anthropic,
            retry_after: Some(Duration::from_secs(secs)),
            message: String::new(),
        };
        assert_eq!(policy.delay(1, &limited(2)), Some(Duration::from_secs(2)));
        assert_eq!(policy.delay(1, &limited(3600)), None);
    }
}
