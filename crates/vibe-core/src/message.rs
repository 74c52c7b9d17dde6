//! The tracking message: what `vibe.js` and the server-side SDKs send. Every message
//! is parsed from JSON into a typed [`Message`] at the edge; inner code never
//! re-validates. The shape is close to Segment's so a compatible API can reuse it.

use serde_json::{Map, Value};

use crate::FieldError;

pub const MAX_ID_LEN: usize = 200;
pub const MAX_NAME_LEN: usize = 200;
pub const MAX_URL_LEN: usize = 2048;
pub const MAX_TITLE_LEN: usize = 512;
pub const MAX_SHORT_LEN: usize = 64;
/// Serialized size limit for `props` and `traits` each.
pub const MAX_OBJECT_BYTES: usize = 8 * 1024;
/// Client clocks further than this from the server's are not trusted.
pub const MAX_CLOCK_SKEW_MS: i64 = 10 * 60 * 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    Pageview,
    Event,
    Identify,
    Heartbeat,
    Leave,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pageview => "pageview",
            Self::Event => "event",
            Self::Identify => "identify",
            Self::Heartbeat => "heartbeat",
            Self::Leave => "leave",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pageview" => Self::Pageview,
            "event" => Self::Event,
            "identify" => Self::Identify,
            "heartbeat" => Self::Heartbeat,
            "leave" => Self::Leave,
            _ => return None,
        })
    }

    /// Page views, custom events and identifies are kept in `user_events`;
    /// heartbeats and leaves only move presence and session state.
    pub fn is_stored_event(self) -> bool {
        matches!(self, Self::Pageview | Self::Event | Self::Identify)
    }
}

/// Device, browser and OS of the sender, from the message or its User-Agent.
/// Stored people and sessions keep it too, read back from the same three columns.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct ClientInfo {
    pub device: Option<String>,
    pub browser: Option<String>,
    pub os: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Client-chosen UUID; a retry with the same id is stored once.
    pub id: String,
    pub kind: MessageKind,
    pub anonymous_id: Option<String>,
    pub user_id: Option<String>,
    pub session_id: Option<String>,
    /// UTC Unix milliseconds, already corrected for clock skew.
    pub ts: i64,
    pub url: Option<String>,
    /// Path part of `url`, used for page matching and presence.
    pub path: Option<String>,
    pub referrer: Option<String>,
    pub title: Option<String>,
    pub name: Option<String>,
    pub props: Option<Map<String, Value>>,
    pub traits: Option<Map<String, Value>>,
    pub screen: Option<String>,
    pub client: ClientInfo,
}

/// How timestamps from the sender are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampPolicy {
    /// Browsers: a `ts` further than ±10 min from `now` is replaced by `now`.
    ClampToNow,
    /// Server-side SDKs and imports: any past `ts` is kept; the future is clamped.
    AllowHistorical,
}

impl Message {
    /// Parses one message; `field` is its path in the request (e.g. `batch[3]`),
    /// used to name the offending field in errors.
    pub fn parse(
        value: &Value,
        field: &str,
        now_ms: i64,
        policy: TimestampPolicy,
    ) -> Result<Self, FieldError> {
        let obj = value
            .as_object()
            .ok_or_else(|| FieldError::invalid(field, "each message must be a JSON object"))?;
        let f = |name: &str| format!("{field}.{name}");

        let kind_str = req_str(obj, "type", &f("type"), MAX_SHORT_LEN)?;
        let kind = MessageKind::parse(kind_str).ok_or_else(|| {
            FieldError::invalid(
                f("type"),
                "must be one of pageview, event, identify, heartbeat, leave",
            )
        })?;
        let id = parse_uuid(req_str(obj, "id", &f("id"), MAX_ID_LEN)?, &f("id"))?;
        let anonymous_id = opt_str(obj, "anonymous_id", &f("anonymous_id"), MAX_ID_LEN)?;
        let user_id = opt_str(obj, "user_id", &f("user_id"), MAX_ID_LEN)?;
        if anonymous_id.is_none() && user_id.is_none() {
            return Err(FieldError::missing(f("anonymous_id")));
        }
        let session_id = opt_str(obj, "session_id", &f("session_id"), MAX_ID_LEN)?;
        if session_id.is_none() && matches!(kind, MessageKind::Heartbeat | MessageKind::Leave) {
            return Err(FieldError::missing(f("session_id")));
        }
        let ts = match obj.get("ts") {
            None | Some(Value::Null) => now_ms,
            Some(v) => {
                let ts = v
                    .as_i64()
                    .or_else(|| v.as_f64().filter(|x| x.is_finite()).map(|x| x as i64))
                    .ok_or_else(|| {
                        FieldError::invalid(f("ts"), "must be a Unix timestamp in milliseconds")
                    })?;
                correct_ts(ts, now_ms, policy)
            }
        };

        let url = opt_str(obj, "url", &f("url"), MAX_URL_LEN)?;
        if kind == MessageKind::Pageview && url.is_none() {
            return Err(FieldError::missing(f("url")));
        }
        let path = url.map(url_path);
        let name = opt_str(obj, "name", &f("name"), MAX_NAME_LEN)?;
        if kind == MessageKind::Event && name.is_none() {
            return Err(FieldError::missing(f("name")));
        }
        let traits = opt_object(obj, "traits", &f("traits"))?;
        if kind == MessageKind::Identify && user_id.is_none() {
            return Err(FieldError::missing(f("user_id")));
        }

        Ok(Self {
            id,
            kind,
            anonymous_id: anonymous_id.map(str::to_owned),
            user_id: user_id.map(str::to_owned),
            session_id: session_id.map(str::to_owned),
            ts,
            path,
            url: url.map(str::to_owned),
            referrer: opt_str(obj, "referrer", &f("referrer"), MAX_URL_LEN)?
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            title: opt_str(obj, "title", &f("title"), MAX_TITLE_LEN)?.map(str::to_owned),
            name: name.map(str::to_owned),
            props: opt_object(obj, "props", &f("props"))?,
            traits,
            screen: parse_screen(obj.get("screen"), &f("screen"))?,
            client: ClientInfo {
                device: opt_str(obj, "device", &f("device"), MAX_SHORT_LEN)?.map(str::to_owned),
                browser: opt_str(obj, "browser", &f("browser"), MAX_SHORT_LEN)?.map(str::to_owned),
                os: opt_str(obj, "os", &f("os"), MAX_SHORT_LEN)?.map(str::to_owned),
            },
        })
    }

    /// Roughly how many bytes of memory the message holds, for bounding queues by
    /// size (`vibe-server`'s ingest queue). Counts string contents and a fixed
    /// overhead per JSON node; an estimate, not an allocator measurement.
    pub fn approx_bytes(&self) -> usize {
        fn opt(s: &Option<String>) -> usize {
            s.as_ref().map_or(0, String::len)
        }
        fn value(v: &Value) -> usize {
            const NODE: usize = 32;
            NODE + match v {
                Value::String(s) => s.len(),
                Value::Array(items) => items.iter().map(value).sum(),
                Value::Object(m) => object(m),
                _ => 0,
            }
        }
        fn object(m: &Map<String, Value>) -> usize {
            m.iter().map(|(k, v)| k.len() + 32 + value(v)).sum()
        }
        std::mem::size_of::<Self>()
            + self.id.len()
            + opt(&self.anonymous_id)
            + opt(&self.user_id)
            + opt(&self.session_id)
            + opt(&self.url)
            + opt(&self.path)
            + opt(&self.referrer)
            + opt(&self.title)
            + opt(&self.name)
            + self.props.as_ref().map_or(0, object)
            + self.traits.as_ref().map_or(0, object)
            + opt(&self.screen)
            + opt(&self.client.device)
            + opt(&self.client.browser)
            + opt(&self.client.os)
    }

    /// The person this message is about, for grouping within one batch.
    pub fn visitor_key(&self) -> &str {
        self.anonymous_id
            .as_deref()
            .or(self.user_id.as_deref())
            .unwrap_or_default()
    }
}

fn correct_ts(ts: i64, now_ms: i64, policy: TimestampPolicy) -> i64 {
    let too_far_ahead = ts > now_ms + MAX_CLOCK_SKEW_MS;
    let too_far_behind = ts < now_ms - MAX_CLOCK_SKEW_MS;
    match policy {
        TimestampPolicy::ClampToNow if too_far_ahead || too_far_behind => now_ms,
        TimestampPolicy::AllowHistorical if too_far_ahead || ts < 0 => now_ms,
        _ => ts,
    }
}

fn req_str<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    field: &str,
    max: usize,
) -> Result<&'a str, FieldError> {
    opt_str(obj, key, field, max)?.ok_or_else(|| FieldError::missing(field))
}

fn opt_str<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    field: &str,
    max: usize,
) -> Result<Option<&'a str>, FieldError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.len() > max => Err(FieldError::too_large(
            field,
            format!("must be at most {max} bytes"),
        )),
        Some(Value::String(s)) if s.contains('\0') => Err(nul_error(field)),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(FieldError::invalid(field, "must be a string")),
    }
}

fn opt_object(
    obj: &Map<String, Value>,
    key: &str,
    field: &str,
) -> Result<Option<Map<String, Value>>, FieldError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => {
            if let Some(path) = nul_path(m) {
                return Err(nul_error(&format!("{field}.{path}")));
            }
            let size = serde_json::to_string(m)
                .map(|s| s.len())
                .unwrap_or(usize::MAX);
            if size > MAX_OBJECT_BYTES {
                return Err(FieldError::too_large(
                    field,
                    format!("must serialize to at most {MAX_OBJECT_BYTES} bytes"),
                ));
            }
            Ok(Some(m.clone()))
        }
        Some(_) => Err(FieldError::invalid(field, "must be a JSON object")),
    }
}

/// PostgreSQL refuses NUL in `TEXT` and `\u0000` in `JSONB` (SQLite would store
/// it), so one such string would fail a whole ingest transaction there. It is
/// refused here, for every backend alike, naming the field.
fn nul_error(field: &str) -> FieldError {
    FieldError::invalid(field, "must not contain NUL (\\u0000) characters")
}

/// The path (`key.inner[2]`) of the first key or string in `m` containing NUL.
fn nul_path(m: &Map<String, Value>) -> Option<String> {
    fn in_value(v: &Value) -> Option<String> {
        match v {
            Value::String(s) if s.contains('\0') => Some(String::new()),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, v)| in_value(v).map(|rest| format!("[{i}]{rest}"))),
            Value::Object(m) => nul_path(m).map(|p| format!(".{p}")),
            _ => None,
        }
    }
    m.iter().find_map(|(k, v)| {
        if k.contains('\0') {
            // The key itself cannot be printed usefully; name its object.
            return Some(k.replace('\0', "\\u0000"));
        }
        in_value(v).map(|rest| format!("{k}{rest}"))
    })
}

fn parse_uuid(s: &str, field: &str) -> Result<String, FieldError> {
    uuid::Uuid::parse_str(s)
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| FieldError::invalid(field, "must be a UUID"))
}

fn parse_screen(v: Option<&Value>, field: &str) -> Result<Option<String>, FieldError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.contains('\0') => Err(nul_error(field)),
        Some(Value::String(s)) if s.len() <= MAX_SHORT_LEN => Ok(Some(s.clone())),
        Some(Value::Object(o)) => match (
            o.get("w").and_then(Value::as_u64),
            o.get("h").and_then(Value::as_u64),
        ) {
            (Some(w), Some(h)) if w <= 100_000 && h <= 100_000 => Ok(Some(format!("{w}x{h}"))),
            _ => Err(FieldError::invalid(
                field,
                "must be {\"w\": int, \"h\": int} or a short string",
            )),
        },
        Some(_) => Err(FieldError::invalid(
            field,
            "must be {\"w\": int, \"h\": int} or a short string",
        )),
    }
}

/// The path of a URL (`https://a.b/x/y?q#h` → `/x/y`); a bare path is kept as is.
pub fn url_path(url: &str) -> String {
    let rest = match url.find("://") {
        Some(i) => {
            let after = &url[i + 3..];
            match after.find('/') {
                Some(j) => &after[j..],
                None => "/",
            }
        }
        None => url,
    };
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    let path = &rest[..end];
    if path.is_empty() {
        "/".to_owned()
    } else {
        path.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000_000;
    const ID: &str = "0b6f7c1e-8f0a-4a57-9a53-2f1e6f0c9d11";

    fn parse(v: Value) -> Result<Message, FieldError> {
        Message::parse(&v, "batch[0]", NOW, TimestampPolicy::ClampToNow)
    }

    #[test]
    fn parses_a_pageview() {
        let m = parse(
            json!({"type":"pageview","id":ID,"anonymous_id":"a1","session_id":"s1",
            "ts": NOW - 1000, "url":"https://x.io/pricing?a=1#top","screen":{"w":390,"h":844}}),
        )
        .unwrap();
        assert_eq!(m.kind, MessageKind::Pageview);
        assert_eq!(m.path.as_deref(), Some("/pricing"));
        assert_eq!(m.ts, NOW - 1000);
        assert_eq!(m.screen.as_deref(), Some("390x844"));
    }

    #[test]
    fn names_the_offending_field() {
        let e = parse(json!({"type":"pageview","id":ID,"anonymous_id":"a"})).unwrap_err();
        assert_eq!(
            (e.code, e.field.as_str()),
            ("missing_field", "batch[0].url")
        );
        let e = parse(json!({"type":"click","id":ID,"anonymous_id":"a"})).unwrap_err();
        assert_eq!(e.field, "batch[0].type");
        let e =
            parse(json!({"type":"event","id":"nope","anonymous_id":"a","name":"x"})).unwrap_err();
        assert_eq!(e.field, "batch[0].id");
        let e = parse(json!({"type":"event","id":ID,"anonymous_id":5,"name":"x"})).unwrap_err();
        assert_eq!(
            (e.code, e.field.as_str()),
            ("invalid_field", "batch[0].anonymous_id")
        );
        let e = parse(json!({"type":"event","id":ID,"anonymous_id":"a","name":"x","props":[1]}))
            .unwrap_err();
        assert_eq!(e.field, "batch[0].props");
        let big = "x".repeat(MAX_OBJECT_BYTES);
        let e =
            parse(json!({"type":"event","id":ID,"anonymous_id":"a","name":"x","props":{"k":big}}))
                .unwrap_err();
        assert_eq!((e.code, e.field.as_str()), ("too_large", "batch[0].props"));
        let e = parse(json!({"type":"heartbeat","id":ID,"anonymous_id":"a"})).unwrap_err();
        assert_eq!(e.field, "batch[0].session_id");
        let e = parse(json!({"type":"identify","id":ID,"anonymous_id":"a"})).unwrap_err();
        assert_eq!(e.field, "batch[0].user_id");
    }

    #[test]
    fn refuses_nul_characters_naming_the_field() {
        let e =
            parse(json!({"type":"event","id":ID,"anonymous_id":"a","name":"x\u{0}y"})).unwrap_err();
        assert_eq!(
            (e.code, e.field.as_str()),
            ("invalid_field", "batch[0].name")
        );
        let e = parse(json!({"type":"pageview","id":ID,"anonymous_id":"a","url":"/\u{0}"}))
            .unwrap_err();
        assert_eq!(e.field, "batch[0].url");
        let e = parse(json!({"type":"event","id":ID,"anonymous_id":"a","name":"x",
            "props":{"plan":"pro","tags":["ok",{"deep":"\u{0}"}]}}))
        .unwrap_err();
        assert_eq!(e.field, "batch[0].props.tags[1].deep");
        let e = parse(
            json!({"type":"identify","id":ID,"anonymous_id":"a","user_id":"u",
            "traits":{"k\u{0}":1}}),
        )
        .unwrap_err();
        assert_eq!(e.field, "batch[0].traits.k\\u0000");
        // Other control characters are stored fine by both backends.
        assert!(
            parse(json!({"type":"event","id":ID,"anonymous_id":"a","name":"x\u{1}\ty"})).is_ok()
        );
    }

    #[test]
    fn distrusts_skewed_client_clocks() {
        let m = parse(
            json!({"type":"event","id":ID,"anonymous_id":"a","name":"x","ts": NOW - 11*60_000}),
        )
        .unwrap();
        assert_eq!(m.ts, NOW);
        let v = json!({"type":"event","id":ID,"user_id":"u","name":"x","ts": NOW - 86_400_000});
        let m = Message::parse(&v, "m", NOW, TimestampPolicy::AllowHistorical).unwrap();
        assert_eq!(m.ts, NOW - 86_400_000);
    }

    #[test]
    fn url_paths() {
        assert_eq!(url_path("https://a.b"), "/");
        assert_eq!(url_path("https://a.b/x/y?q=1"), "/x/y");
        assert_eq!(url_path("/docs#intro"), "/docs");
    }
}
