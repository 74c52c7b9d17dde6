//! Static assets compiled into the binary: the tracking script.

use std::sync::OnceLock;

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use sha2::{Digest, Sha256};

use crate::secrets::hex;
use crate::static_file::{gzip, StaticFile};

/// Built from `tracker/vibe.js` by `npm --prefix tracker run build`.
const VIBE_JS: &[u8] = include_bytes!("../assets/vibe.js");

struct Asset {
    gzip: Option<Vec<u8>>,
    etag: HeaderValue,
}

fn tracker() -> &'static Asset {
    static ASSET: OnceLock<Asset> = OnceLock::new();
    ASSET.get_or_init(|| {
        let digest = Sha256::digest(VIBE_JS);
        let etag = format!("\"{}\"", hex(&digest[..8]));
        Asset {
            gzip: gzip(VIBE_JS),
            etag: HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"0\"")),
        }
    })
}

/// `GET /vibe.js`: ETag-validated, cached for an hour (the URL is stable, so it
/// cannot be immutable), gzip when the client accepts it.
pub async fn vibe_js(headers: HeaderMap) -> Response {
    let asset = tracker();
    let fresh = headers.get(header::IF_NONE_MATCH) == Some(&asset.etag);
    let mut res = StaticFile {
        plain: VIBE_JS,
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
