//! Failed sign-in and setup attempts, counted per key (`ip:…`, `email:…`) in a
//! sliding window. Kept in this node's memory: with several nodes each allows
//! the limit, which still bounds guessing to a handful of tries per minute.
//! Time comes from the app's `Clock`, so tests move it instead of waiting.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// Failures allowed per key within [`WINDOW_MS`].
pub const MAX_FAILURES: usize = 10;
pub const WINDOW_MS: i64 = 15 * 60 * 1000;
/// Keys remembered at most; past this, keys whose failures all expired are
/// dropped first, and then new keys are not recorded until some expire.
const MAX_KEYS: usize = 100_000;

#[derive(Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, VecDeque<i64>>>,
}

impl Throttle {
    /// Seconds until every one of `keys` is under the limit again; `None` when
    /// they all are now.
    pub fn retry_after(&self, keys: &[&str], now_ms: i64) -> Option<u64> {
        let map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        keys.iter()
            .filter_map(|k| map.get(*k))
            .filter_map(|times| {
                let recent: Vec<i64> = times
                    .iter()
                    .copied()
                    .filter(|t| *t > now_ms - WINDOW_MS)
                    .collect();
                // Free again once enough of the recent failures age out.
                (recent.len() >= MAX_FAILURES).then(|| {
                    let frees_at = recent[recent.len() - MAX_FAILURES] + WINDOW_MS;
                    ((frees_at - now_ms).max(1_000) as u64).div_ceil(1000)
                })
            })
            .max()
    }

    pub fn record_failure(&self, keys: &[&str], now_ms: i64) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_KEYS {
            map.retain(|_, times| times.back().is_some_and(|t| *t > now_ms - WINDOW_MS));
        }
        for key in keys {
            if map.len() >= MAX_KEYS && !map.contains_key(*key) {
                continue;
            }
            let times = map.entry((*key).to_owned()).or_default();
            times.push_back(now_ms);
            while times.len() > MAX_FAILURES {
                times.pop_front();
            }
        }
    }

    pub fn clear(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_failures_lock_a_key_until_they_age_out() {
        let t = Throttle::default();
        for i in 0..MAX_FAILURES as i64 {
            assert_eq!(t.retry_after(&["ip:a"], i * 1000), None);
            t.record_failure(&["ip:a", "email:x"], i * 1000);
        }
        // The first failure (at 0) frees a slot at WINDOW_MS.
        assert_eq!(t.retry_after(&["ip:a"], 10_000), Some(890));
        assert_eq!(t.retry_after(&["ip:b", "email:x"], 10_000), Some(890));
        assert_eq!(t.retry_after(&["ip:b"], 10_000), None);
        assert_eq!(t.retry_after(&["ip:a"], WINDOW_MS), None);
        t.clear("email:x");
        assert_eq!(t.retry_after(&["email:x"], 10_000), None);
    }
}
