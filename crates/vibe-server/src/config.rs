//! Configuration: built-in defaults, then an optional `vibe.toml`, then `VIBE_*`
//! environment variables (and `DATABASE_URL`). Reading config writes nothing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use serde::Deserialize;
use vibe_core::secret::Secret;

#[derive(Debug, Clone)]
pub struct Config {
    /// Listen address, `127.0.0.1:8080` by default; port 0 picks a free port.
    pub addr: String,
    /// Where the SQLite database lives when no `database_url` is set.
    pub data_dir: PathBuf,
    /// `postgres://…` selects PostgreSQL; `sqlite://…` a specific SQLite file.
    pub database_url: Option<Secret>,
    /// Absolute URL users reach this server at; used in the snippet. Derived from
    /// the request's Host header when unset.
    pub public_url: Option<String>,
    pub admin_email: Option<String>,
    pub admin_password: Option<Secret>,
    /// `VIBE_SECRET_KEY`: the AES-256-GCM key sealing channel credentials
    /// (`vault.rs`), 32 bytes as base64 or hex. Unset: `secret.key` in the
    /// data directory, generated on first start. Environment only, so it is
    /// not copied around with `vibe.toml`.
    pub secret_key: Option<Secret>,
    /// Requests waiting for the writer before the collector answers 503.
    pub queue_capacity: usize,
    /// Estimated bytes of the requests waiting for the writer before the
    /// collector answers 503 (64 MiB by default).
    pub queue_max_bytes: usize,
    /// Largest accepted request body on the collector, in bytes.
    pub max_body_bytes: usize,
    /// Most messages in one collector request.
    pub max_batch_len: usize,
    /// Marks the session cookie `Secure` and names it `__Host-vibe_session`.
    /// Unset: on exactly when `public_url` is `https://…`.
    pub cookie_secure: Option<bool>,
    /// Proxies whose `X-Forwarded-For` is believed (addresses or CIDR ranges).
    /// Empty: the client is the TCP peer.
    pub trusted_proxies: Vec<crate::client_ip::IpNet>,
    /// A session is closed after this long without a message.
    pub session_idle_s: i64,
    /// Default online window for new projects.
    pub online_window_s: i64,
    /// Log level: error, warn, info, debug, trace.
    pub log: String,
    /// Messages a live-feed subscriber may fall behind before it gets a fresh
    /// snapshot instead.
    pub live_channel_capacity: usize,
    /// Committed batches a live hub may fall behind (slow database) before it
    /// drops them and resyncs its subscribers instead of buffering more.
    pub live_hub_backlog: usize,
    pub live_ping_every: Duration,
    /// How often a live connection re-checks its session or token.
    pub live_recheck_every: Duration,
    /// How often the leader looks for timed-out visitors (and retries the lock).
    pub live_sweep_every: Duration,
    /// Events per transaction when a funnel's rollup is built in the background
    /// (`vibe_store::funnel_build`); each chunk holds the writer for its duration.
    pub funnel_build_chunk: usize,
    /// Pause between two build chunks, so queued ingest batches go first.
    pub funnel_build_pause: Duration,
    /// The AI report's people page over a range with more than
    /// `ai_people_live_limit` people is a snapshot at most this old
    /// (`vibe_store::features::ai_people`).
    pub ai_people_max_age_s: i64,
    pub ai_people_live_limit: i64,
    /// The first retry of an outbound message the provider did not take
    /// (unreachable, 429, 5xx) waits this long; each next one twice as long,
    /// at most an hour (`outbound::sender`).
    pub outbound_retry_base_ms: i64,
    /// Tries of one outbound message before it is `failed`.
    pub outbound_max_attempts: i64,
    /// Outbound messages sent per second per project and channel, at most.
    pub outbound_rate_per_s: f64,
    /// How often the sender looks for due messages it was not woken for
    /// (other nodes' messages, retries).
    pub outbound_poll_every: Duration,
    /// How long a claimed outbound message stays a sender's without news
    /// (renewed when its request starts; more than the 15 s request timeout).
    pub outbound_lease_ms: i64,
    /// The VAPID `sub` of web push requests (RFC 8292): a `mailto:` or
    /// `https:` URI the push service's operator can reach about this server.
    /// Unset: `public_url`, else `mailto:` the admin email, else a fixed
    /// placeholder (`outbound::push::subject`).
    pub push_subject: Option<String>,
    /// Accept `http://` push endpoints (tests' local push service). Off: a
    /// page can only register `https://` endpoints, so a crafted subscription
    /// cannot make the server POST into a plain-HTTP internal service.
    pub push_allow_http: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            addr: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            public_url: None,
            admin_email: None,
            admin_password: None,
            secret_key: None,
            queue_capacity: 8192,
            queue_max_bytes: 64 * 1024 * 1024,
            max_body_bytes: 512 * 1024,
            max_batch_len: 500,
            cookie_secure: None,
            trusted_proxies: Vec::new(),
            session_idle_s: 30 * 60,
            online_window_s: 5 * 60,
            log: "info".into(),
            live_channel_capacity: 4096,
            live_hub_backlog: 1024,
            live_ping_every: Duration::from_secs(20),
            live_recheck_every: Duration::from_secs(5),
            live_sweep_every: Duration::from_secs(1),
            funnel_build_chunk: 5_000,
            funnel_build_pause: Duration::from_millis(5),
            ai_people_max_age_s: 60,
            ai_people_live_limit: 5_000,
            outbound_retry_base_ms: 10_000,
            outbound_max_attempts: 8,
            outbound_rate_per_s: 20.0,
            outbound_poll_every: Duration::from_secs(1),
            outbound_lease_ms: 60_000,
            push_subject: None,
            push_allow_http: false,
        }
    }
}

/// Keys accepted in `vibe.toml`; all optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    addr: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    public_url: Option<String>,
    admin_email: Option<String>,
    admin_password: Option<String>,
    queue_capacity: Option<usize>,
    queue_max_bytes: Option<usize>,
    max_body_bytes: Option<usize>,
    max_batch_len: Option<usize>,
    cookie_secure: Option<bool>,
    trusted_proxies: Option<Vec<String>>,
    session_idle_s: Option<i64>,
    online_window_s: Option<i64>,
    ai_people_max_age_s: Option<i64>,
    ai_people_live_limit: Option<i64>,
    outbound_retry_base_ms: Option<i64>,
    outbound_max_attempts: Option<i64>,
    outbound_rate_per_s: Option<f64>,
    push_subject: Option<String>,
    push_allow_http: Option<bool>,
    log: Option<String>,
}

impl Config {
    /// Loads `file` (or `./vibe.toml` when it exists) and the environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut cfg = Self::default();
        let path = file.map(Path::to_path_buf).or_else(|| {
            let p = PathBuf::from("vibe.toml");
            p.exists().then_some(p)
        });
        if let Some(path) = path {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            let f: FileConfig =
                toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
            cfg.apply_file(f)
                .with_context(|| format!("in {}", path.display()))?;
        }
        cfg.apply_env(|k| std::env::var(k).ok())?;
        cfg.validate()?;
        Ok(cfg)
    }

    fn apply_file(&mut self, f: FileConfig) -> anyhow::Result<()> {
        macro_rules! take {
            ($($field:ident),*) => { $( if let Some(v) = f.$field { self.$field = v; } )* };
        }
        take!(
            addr,
            data_dir,
            queue_capacity,
            queue_max_bytes,
            max_body_bytes,
            max_batch_len,
            session_idle_s,
            online_window_s,
            ai_people_max_age_s,
            ai_people_live_limit,
            outbound_retry_base_ms,
            outbound_max_attempts,
            outbound_rate_per_s,
            log
        );
        if let Some(v) = f.cookie_secure {
            self.cookie_secure = Some(v);
        }
        if let Some(list) = f.trusted_proxies {
            self.trusted_proxies = list
                .iter()
                .map(|p| crate::client_ip::IpNet::parse(p))
                .collect::<anyhow::Result<_>>()?;
        }
        self.database_url = f.database_url.map(Secret::new).or(self.database_url.take());
        self.public_url = f.public_url.or(self.public_url.take());
        self.admin_email = f.admin_email.or(self.admin_email.take());
        self.push_subject = f.push_subject.or(self.push_subject.take());
        if let Some(v) = f.push_allow_http {
            self.push_allow_http = v;
        }
        self.admin_password = f
            .admin_password
            .map(Secret::new)
            .or(self.admin_password.take());
        Ok(())
    }

    fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
        /// A numeric setting, left as it is while its variable is unset.
        fn num<T: std::str::FromStr>(
            slot: &mut T,
            key: &str,
            get: &dyn Fn(&str) -> Option<String>,
        ) -> anyhow::Result<()> {
            if let Some(v) = get(key) {
                *slot = v
                    .trim()
                    .parse()
                    .map_err(|_| anyhow::anyhow!("{key}={v:?} is not a valid number"))?;
            }
            Ok(())
        }
        let get = |k: &str| get(k).filter(|v| !v.is_empty());
        if let Some(v) = get("VIBE_ADDR") {
            self.addr = v;
        }
        if let Some(v) = get("VIBE_DATA_DIR") {
            self.data_dir = v.into();
        }
        if let Some(v) = get("VIBE_DATABASE_URL").or_else(|| get("DATABASE_URL")) {
            self.database_url = Some(Secret::new(v));
        }
        if let Some(v) = get("VIBE_PUBLIC_URL") {
            self.public_url = Some(v);
        }
        if let Some(v) = get("VIBE_PUSH_SUBJECT") {
            self.push_subject = Some(v);
        }
        if let Some(v) = get("VIBE_PUSH_ALLOW_HTTP") {
            self.push_allow_http = matches!(v.as_str(), "1" | "true" | "yes");
        }
        if let Some(v) = get("VIBE_ADMIN_EMAIL") {
            self.admin_email = Some(v);
        }
        if let Some(v) = get("VIBE_ADMIN_PASSWORD") {
            self.admin_password = Some(Secret::new(v));
        }
        if let Some(v) = get("VIBE_SECRET_KEY") {
            self.secret_key = Some(Secret::new(v));
        }
        num(&mut self.queue_capacity, "VIBE_QUEUE_CAPACITY", &get)?;
        num(&mut self.queue_max_bytes, "VIBE_QUEUE_MAX_BYTES", &get)?;
        num(&mut self.max_body_bytes, "VIBE_MAX_BODY_BYTES", &get)?;
        if let Some(v) = get("VIBE_COOKIE_SECURE") {
            self.cookie_secure = Some(matches!(v.as_str(), "1" | "true" | "yes"));
        }
        if let Some(v) = get("VIBE_TRUSTED_PROXIES") {
            self.trusted_proxies = v
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(crate::client_ip::IpNet::parse)
                .collect::<anyhow::Result<_>>()
                .context("VIBE_TRUSTED_PROXIES")?;
        }
        num(&mut self.session_idle_s, "VIBE_SESSION_IDLE_S", &get)?;
        num(&mut self.online_window_s, "VIBE_ONLINE_WINDOW_S", &get)?;
        num(
            &mut self.ai_people_max_age_s,
            "VIBE_AI_PEOPLE_MAX_AGE_S",
            &get,
        )?;
        num(
            &mut self.ai_people_live_limit,
            "VIBE_AI_PEOPLE_LIVE_LIMIT",
            &get,
        )?;
        num(
            &mut self.live_channel_capacity,
            "VIBE_LIVE_CHANNEL_CAPACITY",
            &get,
        )?;
        num(
            &mut self.outbound_retry_base_ms,
            "VIBE_OUTBOUND_RETRY_BASE_MS",
            &get,
        )?;
        num(
            &mut self.outbound_max_attempts,
            "VIBE_OUTBOUND_MAX_ATTEMPTS",
            &get,
        )?;
        num(
            &mut self.outbound_rate_per_s,
            "VIBE_OUTBOUND_RATE_PER_S",
            &get,
        )?;
        if let Some(v) = get("VIBE_LOG") {
            self.log = v;
        }
        Ok(())
    }

    /// How the AI report's people page may be served at `now_ms`.
    pub fn ai_people_policy(&self, now_ms: i64) -> vibe_store::features::ai_people::PeoplePolicy {
        vibe_store::features::ai_people::PeoplePolicy {
            now_ms,
            max_age_ms: self.ai_people_max_age_s.saturating_mul(1000),
            live_limit: self.ai_people_live_limit,
        }
    }

    /// Whether session cookies are `Secure` (and `__Host-` prefixed).
    pub fn secure_cookies(&self) -> bool {
        self.cookie_secure.unwrap_or_else(|| {
            self.public_url
                .as_deref()
                .is_some_and(|u| u.starts_with("https://"))
        })
    }

    /// `__Host-vibe_session` over HTTPS: the prefix makes browsers refuse the
    /// cookie unless this host set it with `Secure` and no `Domain`, so a
    /// sibling subdomain cannot plant a session.
    pub fn session_cookie(&self) -> &'static str {
        if self.secure_cookies() {
            "__Host-vibe_session"
        } else {
            "vibe_session"
        }
    }

    fn validate(&self) -> anyhow::Result<()> {
        if self.queue_capacity == 0
            || self.max_batch_len == 0
            || self.live_channel_capacity == 0
            || self.max_body_bytes < 1024
        {
            bail!("queue_capacity, max_batch_len and live_channel_capacity must be > 0 and max_body_bytes ≥ 1024");
        }
        if self.queue_max_bytes < self.max_body_bytes {
            bail!("queue_max_bytes must be at least max_body_bytes");
        }
        if !(10..=86_400).contains(&self.online_window_s) {
            bail!("online_window_s must be between 10 and 86400");
        }
        if !(0..=86_400).contains(&self.ai_people_max_age_s) || self.ai_people_live_limit < 0 {
            bail!("ai_people_max_age_s must be between 0 and 86400 and ai_people_live_limit ≥ 0");
        }
        let outbound_ok = (1..=3_600_000).contains(&self.outbound_retry_base_ms)
            && (1..=100).contains(&self.outbound_max_attempts)
            && self.outbound_rate_per_s > 0.0
            && self.outbound_rate_per_s <= 10_000.0;
        if !outbound_ok {
            bail!("outbound_retry_base_ms must be 1 to 3600000, outbound_max_attempts 1 to 100 and outbound_rate_per_s above 0 and at most 10000");
        }
        if let Some(u) = &self.public_url {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                bail!("public_url must start with http:// or https://");
            }
        }
        if let Some(s) = &self.push_subject {
            if !(s.starts_with("mailto:") || s.starts_with("https://")) {
                bail!("push_subject must be a mailto: or https: URI");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_settings() {
        let mut c = Config::default();
        c.apply_file(
            toml::from_str("push_subject = \"mailto:ops@shop.example\"\npush_allow_http = true")
                .unwrap(),
        )
        .unwrap();
        assert_eq!(c.push_subject.as_deref(), Some("mailto:ops@shop.example"));
        assert!(c.push_allow_http);
        assert!(c.validate().is_ok());
        c.apply_env(|k| (k == "VIBE_PUSH_ALLOW_HTTP").then(|| "0".to_string()))
            .unwrap();
        assert!(!c.push_allow_http);
        c.push_subject = Some("ops@shop.example".into());
        assert!(c.validate().is_err(), "not a URI");
    }

    #[test]
    fn env_overrides_file_overrides_defaults() {
        let mut c = Config::default();
        c.apply_file(toml::from_str("addr = \"0.0.0.0:9000\"\nlog = \"debug\"").unwrap())
            .unwrap();
        assert_eq!((c.addr.as_str(), c.log.as_str()), ("0.0.0.0:9000", "debug"));
        c.apply_env(|k| (k == "VIBE_ADDR").then(|| "127.0.0.1:1".to_string()))
            .unwrap();
        assert_eq!(c.addr, "127.0.0.1:1");
        assert_eq!(c.log, "debug");
        assert!(c
            .apply_env(|k| (k == "VIBE_QUEUE_CAPACITY").then(|| "lots".to_string()))
            .is_err());
    }

    #[test]
    fn queue_byte_limit_is_configurable_and_fits_a_request() {
        let mut c = Config::default();
        assert_eq!(c.queue_max_bytes, 64 * 1024 * 1024);
        c.apply_file(toml::from_str("queue_max_bytes = 2000000").unwrap())
            .unwrap();
        assert_eq!(c.queue_max_bytes, 2_000_000);
        c.apply_env(|k| (k == "VIBE_QUEUE_MAX_BYTES").then(|| "1000".to_string()))
            .unwrap();
        assert_eq!(c.queue_max_bytes, 1000);
        assert!(c.validate().is_err(), "smaller than one request body");
    }

    #[test]
    fn cookies_are_secure_by_default_over_https() {
        let mut c = Config::default();
        assert!(!c.secure_cookies());
        assert_eq!(c.session_cookie(), "vibe_session");
        c.public_url = Some("https://vibe.example.com".into());
        assert!(c.secure_cookies());
        assert_eq!(c.session_cookie(), "__Host-vibe_session");
        c.apply_env(|k| (k == "VIBE_COOKIE_SECURE").then(|| "false".to_string()))
            .unwrap();
        assert!(!c.secure_cookies(), "an explicit setting wins");
    }

    #[test]
    fn trusted_proxies_parse_addresses_and_ranges() {
        let mut c = Config::default();
        c.apply_file(toml::from_str("trusted_proxies = [\"10.0.0.0/8\", \"::1\"]").unwrap())
            .unwrap();
        assert_eq!(c.trusted_proxies.len(), 2);
        assert!(c
            .apply_env(|k| (k == "VIBE_TRUSTED_PROXIES").then(|| "10.0.0.0/99".to_string()))
            .is_err());
    }

    #[test]
    fn outbound_settings() {
        let mut c = Config::default();
        assert_eq!(
            (c.outbound_retry_base_ms, c.outbound_max_attempts),
            (10_000, 8)
        );
        c.apply_file(
            toml::from_str("outbound_rate_per_s = 5.0\noutbound_max_attempts = 3").unwrap(),
        )
        .unwrap();
        assert_eq!((c.outbound_rate_per_s, c.outbound_max_attempts), (5.0, 3));
        c.apply_env(|k| (k == "VIBE_OUTBOUND_RETRY_BASE_MS").then(|| "0".to_string()))
            .unwrap();
        assert!(c.validate().is_err());
    }

    #[test]
    fn unknown_file_keys_are_rejected() {
        assert!(toml::from_str::<FileConfig>("adr = \"x\"").is_err());
    }

    #[test]
    fn secrets_do_not_print() {
        let mut c = Config::default();
        c.apply_env(|k| (k == "DATABASE_URL").then(|| "postgres://u:hunter2@h/db".to_string()))
            .unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
        c.apply_env(|k| (k == "VIBE_SECRET_KEY").then(|| "c2VjcmV0LWtleS1ieXRlcw==".to_string()))
            .unwrap();
        assert_eq!(
            c.secret_key.as_ref().map(|k| k.expose()),
            Some("c2VjcmV0LWtleS1ieXRlcw==")
        );
        assert!(!format!("{c:?}").contains("c2VjcmV0"));
    }
}
