//! What the tracker (`assets.rs`) and the dashboard (`web.rs`) answer alike:
//! 304 when the client's copy is current, otherwise the bytes (gzipped when
//! the client accepts it and a compressed copy exists), and on both the
//! caching headers that let the next request be a 304.

use std::io::Write;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use flate2::write::GzEncoder;
use flate2::Compression;

/// One embedded file as served.
pub struct StaticFile<'a, G: FnOnce() -> Option<&'a [u8]>> {
    pub plain: &'static [u8],
    /// Called only when the client accepts gzip; `None` sends `plain`.
    pub gzip: G,
    pub content_type: &'static str,
    pub cache_control: &'static str,
    pub etag: HeaderValue,
}

impl<'a, G: FnOnce() -> Option<&'a [u8]>> StaticFile<'a, G> {
    /// `fresh`: the request's `If-None-Match` names this file's ETag.
    pub fn respond(self, fresh: bool, headers: &HeaderMap) -> Response {
        let mut res = if fresh {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            match accepts_gzip(headers).then(self.gzip).flatten() {
                Some(body) => {
                    let mut res = body.to_vec().into_response();
                    res.headers_mut()
                        .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                    res
                }
                None => self.plain.into_response(),
            }
        };
        let h = res.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(self.cache_control),
        );
        h.insert(header::ETAG, self.etag);
        h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        res
    }
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("gzip"))
}

pub fn gzip(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::best());
    enc.write_all(bytes).ok()?;
    enc.finish().ok()
}
