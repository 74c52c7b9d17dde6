//! Static assets compiled into the binary: the tracking script, the chat
//! widget (a separate tag the snippet gains while the in-app channel is on;
//! docs/architecture.md, "Tracker") and the web push service worker (which
//! the site's own `/vibe-sw.js` imports; docs/push.md).

use std::sync::OnceLock;

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use sha2::{Digest, Sha256};

use crate::secrets::hex;
use crate::static_file::{gzip, StaticFile};

/// Built from `tracker/vibe.js` by `npm --prefix tracker run build`.
const VIBE_JS: &[u8] = include_bytes!("../assets/vibe.js");

/// Built from `tracker/vibe-chat.js` by the same build.
const VIBE_CHAT_JS: &[u8] = include_bytes!("../assets/vibe-chat.js");

/// Built from `tracker/vibe-sw.js` by the same build.
const VIBE_SW_JS: &[u8] = include_bytes!("../assets/vibe-sw.js");

struct Asset {
    gzip: Option<Vec<u8>>,
    etag: HeaderValue,
}

impl Asset {
    fn of(bytes: &[u8]) -> Self {
        let digest = Sha256::digest(bytes);
        let etag = format!("\"{}\"", hex(&digest[..8]));
        Asset {
            gzip: gzip(bytes),
            etag: HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"0\"")),
        }
    }
}

fn tracker() -> &'static Asset {
    static ASSET: OnceLock<Asset> = OnceLock::new();
    ASSET.get_or_init(|| Asset::of(VIBE_JS))
}

fn chat_widget() -> &'static Asset {
    static ASSET: OnceLock<Asset> = OnceLock::new();
    ASSET.get_or_init(|| Asset::of(VIBE_CHAT_JS))
}

fn service_worker() -> &'static Asset {
    static ASSET: OnceLock<Asset> = OnceLock::new();
    ASSET.get_or_init(|| Asset::of(VIBE_SW_JS))
}

/// `GET /vibe.js`: ETag-validated, cached for an hour (the URL is stable, so it
/// cannot be immutable), gzip when the client accepts it.
pub async fn vibe_js(headers: HeaderMap) -> Response {
    script(VIBE_JS, tracker(), headers)
}

/// `GET /vibe-chat.js`: the chat widget, served exactly like `vibe.js`.
pub async fn vibe_chat_js(headers: HeaderMap) -> Response {
    script(VIBE_CHAT_JS, chat_widget(), headers)
}

/// `GET /vibe-sw.js`: the push service worker, served exactly like `vibe.js`
/// (a site imports it with `importScripts`, which may cross origins).
pub async fn vibe_sw_js(headers: HeaderMap) -> Response {
    script(VIBE_SW_JS, service_worker(), headers)
}

fn script(plain: &'static [u8], asset: &'static Asset, headers: HeaderMap) -> Response {
    let fresh = headers.get(header::IF_NONE_MATCH) == Some(&asset.etag);
    let mut res = StaticFile {
        plain,
        gzip: || asset.gzip.as_deref(),
        content_type: "application/javascript; charset=utf-8",
        cache_control: "public, max-age=3600",
        etag: asset.etag.clone(),
    }
    .respond(fresh, &headers);
    res.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    res
}

/// Gzipped size of the tracker, reported at start-up and in tests.
pub fn tracker_gzip_len() -> usize {
    tracker().gzip.as_ref().map_or(0, Vec::len)
}

/// Gzipped size of the chat widget.
pub fn chat_gzip_len() -> usize {
    chat_widget().gzip.as_ref().map_or(0, Vec::len)
}
