//! The documented error shape, `{"error": {"code", "message", "field"}}`.

use reqwest::{Response, StatusCode};
use serde_json::Value;

pub async fn json_of(res: Response) -> Value {
    let status = res.status();
    let text = res.text().await.expect("body");
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("HTTP {status}: not JSON: {text}"))
}

/// Asserts the documented error shape and returns it.
pub async fn assert_error(res: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(res.status(), status, "unexpected status");
    let body = json_of(res).await;
    assert_eq!(body["error"]["code"], code, "error body: {body}");
    assert!(body["error"]["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
    body["error"].clone()
}

/// [`assert_error`], and the error names `field`.
pub async fn assert_field_error(res: Response, status: StatusCode, code: &str, field: &str) {
    let err = assert_error(res, status, code).await;
    assert_eq!(err["field"], field, "error: {err}");
}

/// A 400 `invalid_field` naming `field`.
pub async fn assert_invalid(res: Response, field: &str) {
    assert_field_error(res, StatusCode::BAD_REQUEST, "invalid_field", field).await;
}

/// One call: `method path` and, when it has one, its body.
pub type Call = (reqwest::Method, String, Option<Value>);

/// Makes each call as `who` and asserts it is refused with `status` and `code`.
pub async fn assert_refused(
    app: &crate::helpers::TestApp,
    who: &crate::helpers::Session,
    (status, code): (StatusCode, &str),
    calls: Vec<Call>,
) {
    for (method, path, body) in calls {
        let what = format!("{method} {path}");
        let res = app.call(who, method, &path, body).await;
        assert_eq!(res.status(), status, "{what}");
        assert_error(res, status, code).await;
    }
}
