//! Token-bucket rate limits keyed by user or client address.
//!
//! Buckets live in a sharded map guarded by short-held mutexes; a bucket that has refilled
//! completely carries no information, so the map drops those when it grows.

use std::{
    collections::HashMap,
    hash::{BuildHasher, Hash, RandomState},
    net::IpAddr,
    sync::{Mutex, PoisonError},
    time::{Duration, Instant},
};

use promptdb_core::UserId;

use crate::RateLimitSettings;

const SHARDS: usize = 16;
/// Above this many buckets in a shard, full ones are dropped.
const SWEEP_AT: usize = 4_096;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Buckets of one kind of key.
#[derive(Debug)]
pub struct Buckets<K> {
    shards: Box<[Mutex<HashMap<K, Bucket>>]>,
    hasher: RandomState,
    per_second: f64,
    burst: f64,
}

impl<K: Hash + Eq + Copy> Buckets<K> {
    /// Buckets holding `burst` tokens, refilling at `per_second`.
    pub fn new(per_second: f64, burst: u32) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
            per_second,
            burst: f64::from(burst),
        }
    }

    fn shard(&self, key: &K) -> &Mutex<HashMap<K, Bucket>> {
        let i = usize::try_from(self.hasher.hash_one(key) % SHARDS as u64).unwrap_or(0);
        &self.shards[i]
    }

    fn refilled(&self, b: Bucket, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        (b.tokens + elapsed * self.per_second).min(self.burst)
    }

    fn wait_for_one(&self, tokens: f64) -> Duration {
        Duration::from_secs_f64(((1.0 - tokens) / self.per_second).max(0.0))
    }

    /// Takes a token for `key`, or says how long until one is available.
    pub fn take(&self, key: K, now: Instant) -> Result<(), Duration> {
        let mut map = self
            .shard(&key)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if map.len() >= SWEEP_AT {
            map.retain(|_, b| self.refilled(*b, now) < self.burst);
        }
        let bucket = map.entry(key).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let tokens = self.refilled(*bucket, now);
        if tokens >= 1.0 {
            *bucket = Bucket {
                tokens: tokens - 1.0,
                at: now,
            };
            Ok(())
        } else {
            Err(self.wait_for_one(tokens))
        }
    }

    /// How long until `key` has a token again, if it has none now (without taking one).
    pub fn exhausted(&self, key: K, now: Instant) -> Option<Duration> {
        let map = self
            .shard(&key)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let tokens = self.refilled(*map.get(&key)?, now);
        (tokens < 1.0).then(|| self.wait_for_one(tokens))
    }
}

/// Every limit of the server.
#[derive(Debug)]
pub struct RateLimiter {
    users: Buckets<UserId>,
    ips: Buckets<IpAddr>,
    auth: Buckets<IpAddr>,
    exempt_loopback: bool,
}

impl RateLimiter {
    /// Limits from settings; `None` when they are off.
    pub fn new(s: &RateLimitSettings) -> Option<Self> {
        s.enabled.then(|| Self {
            users: Buckets::new(s.user_per_second, s.user_burst),
            ips: Buckets::new(s.ip_per_second, s.ip_burst),
            auth: Buckets::new(s.auth_per_minute / 60.0, s.auth_burst),
            exempt_loopback: s.exempt_loopback,
        })
    }

    fn limited_ip(&self, ip: Option<IpAddr>) -> Option<IpAddr> {
        ip.filter(|ip| !(self.exempt_loopback && ip.is_loopback()))
    }

    /// One request from `ip`.
    pub fn request_from(&self, ip: Option<IpAddr>) -> Result<(), Duration> {
        match self.limited_ip(ip) {
            Some(ip) => self.ips.take(ip, Instant::now()),
            None => Ok(()),
        }
    }

    /// One request by `user`.
    pub fn request_by(&self, user: UserId) -> Result<(), Duration> {
        self.users.take(user, Instant::now())
    }

    /// Whether `ip` has used up its authentication attempts (checked before credentials are).
    pub fn auth_blocked(&self, ip: Option<IpAddr>) -> Option<Duration> {
        self.auth.exhausted(self.limited_ip(ip)?, Instant::now())
    }

    /// One login attempt or failed authentication from `ip`.
    pub fn auth_attempt(&self, ip: Option<IpAddr>) -> Result<(), Duration> {
        match self.limited_ip(ip) {
            Some(ip) => self.auth.take(ip, Instant::now()),
            None => Ok(()),
        }
    }
}

/// Whole seconds to put in `Retry-After` (at least 1).
pub fn retry_after_secs(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_refills_at_its_rate() {
        let b = Buckets::<u8>::new(2.0, 3);
        let t0 = Instant::now();
        for _ in 0..3 {
            b.take(1, t0).unwrap();
        }
        let wait = b.take(1, t0).unwrap_err();
        assert!((wait.as_secs_f64() - 0.5).abs() < 1e-6, "{wait:?}");
        assert_eq!(b.exhausted(1, t0), Some(wait));
        assert!(b.take(2, t0).is_ok(), "keys are separate");
        let later = t0 + Duration::from_millis(500);
        assert!(b.exhausted(1, later).is_none());
        b.take(1, later).unwrap();
        assert!(b.take(1, later).is_err());
        // A long pause refills to the burst, not beyond.
        let much_later = later + Duration::from_secs(3600);
        for _ in 0..3 {
            b.take(1, much_later).unwrap();
        }
        assert!(b.take(1, much_later).is_err());
    }

    #[test]
    fn full_buckets_are_forgotten_when_the_map_grows() {
        let b = Buckets::<u32>::new(1_000.0, 1);
        let t0 = Instant::now();
        for k in 0..(SWEEP_AT as u32 * SHARDS as u32 * 2) {
            let _ = b.take(k, t0);
        }
        let shard_len = |k: u32| b.shard(&k).lock().unwrap().len();
        assert!(shard_len(u32::MAX) >= SWEEP_AT, "empty buckets are kept");
        // A second later every bucket has refilled; the next take in that shard sweeps it.
        let _ = b.take(u32::MAX, t0 + Duration::from_secs(1));
        assert_eq!(shard_len(u32::MAX), 1);
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_secs(Duration::from_secs(2)), 2);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }

    #[test]
    fn loopback_is_exempt_from_address_limits_when_configured() {
        let s = RateLimitSettings {
            ip_burst: 1,
            auth_burst: 1,
            ..RateLimitSettings::default()
        };
        let r = RateLimiter::new(&s).unwrap();
        let local = Some(IpAddr::from([127, 0, 0, 1]));
        let remote = Some(IpAddr::from([192, 0, 2, 1]));
        for _ in 0..5 {
            r.request_from(local).unwrap();
            r.auth_attempt(local).unwrap();
        }
        r.request_from(remote).unwrap();
        assert!(r.request_from(remote).is_err());
        r.auth_attempt(remote).unwrap();
        assert!(r.auth_blocked(remote).is_some());
        assert!(r.auth_blocked(local).is_none());
        assert!(
            r.request_from(None).is_ok(),
            "unknown addresses are not limited"
        );
    }
}
