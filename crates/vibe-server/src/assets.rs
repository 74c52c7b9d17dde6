//! Static assets compiled into the binary: the tracking script.

use std::sync::OnceLock;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use flate2::write::GzEncoder;
use flate2::Compression;
use sha2::{Digest, Sha256};

/// Built from `tracker/vibe.js` by `npm --prefix tracker run build`.
const VIBE_JS: &[u8] = include_bytes!("../assets/vibe.js");

struct Asset {
    plain: &'static [u8],
    gzip: Vec<u8>,
    etag: HeaderValue,
}

fn tracker() -> &'static Asset {
    static ASSET: OnceLock<Asset> = OnceLock::new();
    ASSET.get_or_init(|| {
        use std::io::Write;
        let mut enc = GzEncoder::new(Vec::new(), Compression::best());
        let _ = enc.write_all(VIBE_JS);
        let gzip = enc.finish().unwrap_or_default();
        let digest = Sha256::digest(VIBE_JS);
        let etag = format!(
            "\"{}\"",
            digest
                .iter()
                .take(8)
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        Asset {
            plain: VIBE_JS,
            gzip,
            etag: HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"0\"")),
        }
    })
}

/// `GET /vibe.js`: ETag-validated, cached for an hour (the URL is stable, so it
/// cannot be immutable), gzip when the client accepts it.
pub async fn vibe_js(headers: HeaderMap) -> Response {
    let asset = tracker();
    let mut res = if headers.get(header::IF_NONE_MATCH) == Some(&asset.etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let gzip = headers
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("gzip"));
        let mut res = if gzip {
            asset.gzip.clone().into_response()
        } else {
            asset.plain.into_response()
        };
        if gzip {
            res.headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        res
    };
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/javascript; charset=utf-8"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    h.insert(header::ETAG, asset.etag.clone());
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    res
}

/// Gzipped size of the tracker, reported at start-up and in tests.
pub fn tracker_gzip_len() -> usize {
    tracker().gzip.len()
}
