//! The dashboard: `web/dist` compiled into the binary by `build.rs`.
//! Hashed `/assets/*` are immutable; `index.html` is revalidated by ETag and
//! answers every other non-API GET path, so client-side routes survive a reload.

use std::sync::OnceLock;

use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};

use crate::static_file::StaticFile;

/// One embedded file. `etag` is quoted, ready for the header.
pub struct WebAsset {
    pub path: &'static str,
    pub bytes: &'static [u8],
    pub content_type: &'static str,
    pub etag: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));

const NOT_BUILT: &str = "<!doctype html><meta charset=utf-8><title>Vibe</title>\
<body style=\"font:16px system-ui;max-width:40em;margin:4em auto\">\
<h1>The dashboard is not built</h1>\
<p>This binary was compiled without <code>web/dist</code>. Run <code>make build</code> \
(or <code>make run</code>) to build the dashboard and embed it. The API, the collector \
and <code>/vibe.js</code> work without it.</p>";

pub fn is_built() -> bool {
    !WEB_ASSETS.is_empty()
}

/// Router fallback: everything that is not the API, the tracker or a probe.
pub async fn serve(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    respond(WEB_ASSETS, gzip_cache(), &method, uri.path(), &headers)
}

fn gzip_cache() -> &'static [OnceLock<Option<Vec<u8>>>] {
    static CACHE: OnceLock<Vec<OnceLock<Option<Vec<u8>>>>> = OnceLock::new();
    CACHE.get_or_init(|| WEB_ASSETS.iter().map(|_| OnceLock::new()).collect())
}

pub fn respond(
    table: &[WebAsset],
    gzip: &[OnceLock<Option<Vec<u8>>>],
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Response {
    // `/api/v1` has its own JSON 404; other `/api/…` paths are API typos, not pages.
    let api_path = path == "/api" || path.starts_with("/api/");
    if api_path || (method != Method::GET && method != Method::HEAD) {
        return crate::error::ApiError::not_found("page").into_response();
    }
    if table.is_empty() {
        return (StatusCode::OK, Html(NOT_BUILT)).into_response();
    }
    let found = table.iter().position(|a| a.path == path);
    let index = match found {
        Some(i) => i,
        // A missing hashed file is a stale page asking for an old build: a 404,
        // not index.html served as JavaScript.
        None if path.starts_with("/assets/") => {
            return (StatusCode::NOT_FOUND, "not found").into_response()
        }
        None => match table.iter().position(|a| a.path == "/index.html") {
            Some(i) => i,
            None => return (StatusCode::NOT_FOUND, "not found").into_response(),
        },
    };
    let asset = &table[index];
    let cache_control = if asset.path.starts_with("/assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim() == asset.etag || t.trim() == "*")
        });
    StaticFile {
        plain: asset.bytes,
        gzip: || {
            gzip.get(index)
                .and_then(|slot| slot.get_or_init(|| compress(asset)).as_deref())
        },
        content_type: asset.content_type,
        cache_control,
        etag: HeaderValue::from_static(asset.etag),
    }
    .respond(fresh, headers)
}

/// Gzip for text files worth compressing; `None` keeps the plain bytes.
fn compress(asset: &WebAsset) -> Option<Vec<u8>> {
    let texty = asset.content_type.starts_with("text/")
        || asset.content_type.starts_with("application/javascript")
        || asset.content_type.starts_with("application/json")
        || asset.content_type.starts_with("image/svg");
    if !texty || asset.bytes.len() < 1024 {
        return None;
    }
    crate::static_file::gzip(asset.bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const JS: &[u8] = b"console.log('hashed asset')";
    const TABLE: &[WebAsset] = &[
        WebAsset {
            path: "/index.html",
            bytes: b"<!doctype html><div id=root></div>",
            content_type: "text/html; charset=utf-8",
            etag: "\"index1\"",
        },
        WebAsset {
            path: "/assets/app-3f2a.js",
            bytes: JS,
            content_type: "application/javascript; charset=utf-8",
            etag: "\"js1\"",
        },
    ];

    fn get(path: &str, headers: &[(&'static str, &'static str)]) -> Response {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(*k, HeaderValue::from_static(v));
        }
        let gzip: Vec<_> = TABLE.iter().map(|_| OnceLock::new()).collect();
        respond(TABLE, &gzip, &Method::GET, path, &map)
    }

    fn header_of(res: &Response, name: header::HeaderName) -> &str {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    async fn body_of(res: Response) -> Vec<u8> {
        axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .expect("body")
            .to_vec()
    }

    #[tokio::test]
    async fn hashed_assets_are_immutable() {
        let res = get("/assets/app-3f2a.js", &[]);
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            header_of(&res, header::CACHE_CONTROL),
            "public, max-age=31536000, immutable"
        );
        assert_eq!(
            header_of(&res, header::CONTENT_TYPE),
            "application/javascript; charset=utf-8"
        );
        assert_eq!(header_of(&res, header::ETAG), "\"js1\"");
        assert_eq!(body_of(res).await, JS);
    }

    #[tokio::test]
    async fn index_is_revalidated_and_answers_304_on_a_matching_etag() {
        let res = get("/", &[]);
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(header_of(&res, header::CACHE_CONTROL), "no-cache");
        assert_eq!(header_of(&res, header::ETAG), "\"index1\"");
        let res = get("/", &[("if-none-match", "\"index1\"")]);
        assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(header_of(&res, header::ETAG), "\"index1\"");
        assert!(body_of(res).await.is_empty());
        let res = get("/", &[("if-none-match", "\"old\"")]);
        assert_eq!(res.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn client_routes_fall_back_to_index_but_missing_assets_do_not() {
        for path in ["/integration", "/settings", "/projects/p1/overview"] {
            let res = get(path, &[]);
            assert_eq!(res.status(), StatusCode::OK, "{path}");
            assert_eq!(header_of(&res, header::ETAG), "\"index1\"");
            assert_eq!(
                header_of(&res, header::CONTENT_TYPE),
                "text/html; charset=utf-8"
            );
        }
        assert_eq!(
            get("/assets/gone-1234.js", &[]).status(),
            StatusCode::NOT_FOUND
        );
    }

    #[tokio::test]
    async fn only_get_and_head_are_served() {
        let gzip: Vec<_> = TABLE.iter().map(|_| OnceLock::new()).collect();
        let res = respond(TABLE, &gzip, &Method::POST, "/", &HeaderMap::new());
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn without_a_build_every_page_says_how_to_build_it() {
        let res = respond(&[], &[], &Method::GET, "/anything", &HeaderMap::new());
        assert_eq!(res.status(), StatusCode::OK);
        let body = String::from_utf8(body_of(res).await).expect("utf8");
        assert!(body.contains("make build"), "{body}");
    }

    #[tokio::test]
    async fn large_text_is_gzipped_when_accepted() {
        static BIG: [u8; 4096] = [b'a'; 4096];
        let table = [WebAsset {
            path: "/assets/big-1.js",
            bytes: &BIG,
            content_type: "application/javascript; charset=utf-8",
            etag: "\"big\"",
        }];
        let gzip: Vec<_> = table.iter().map(|_| OnceLock::new()).collect();
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip, br"),
        );
        let res = respond(&table, &gzip, &Method::GET, "/assets/big-1.js", &headers);
        assert_eq!(header_of(&res, header::CONTENT_ENCODING), "gzip");
        assert!(body_of(res).await.len() < 200);
    }
}
