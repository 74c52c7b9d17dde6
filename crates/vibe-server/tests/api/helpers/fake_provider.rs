//! A local stand-in for the WhatsApp Graph API and Twilio's Messages API: an
//! axum server on port 0 that records every request (path, headers, body)
//! and answers what it is told — by default a success with a fresh id
//! (`wamid.N` on `…/messages`, `SM…` on `…/Messages.json`), or a scripted
//! status and body (the next requests in order, or every request).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use serde_json::{json, Value};

#[derive(Debug, Clone)]
pub struct ProviderRequest {
    pub path: String,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    pub body: String,
    /// What it was answered.
    pub status: u16,
    /// The id handed out with a success.
    pub id: Option<String>,
}

#[derive(Default)]
struct Inner {
    requests: Vec<ProviderRequest>,
    script: VecDeque<(u16, Value)>,
    /// Answer every request that has no scripted answer with this.
    default: Option<(u16, Value)>,
    next_id: u64,
}

#[derive(Clone)]
pub struct FakeProvider {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

impl FakeProvider {
    pub async fn start() -> Self {
        let inner: Arc<Mutex<Inner>> = Default::default();
        let app = axum::Router::new()
            .fallback(answer)
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, inner }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The next requests are answered these, in order.
    pub fn script(&self, answers: &[(u16, Value)]) {
        self.lock().script.extend(answers.iter().cloned());
    }

    /// `None`: successes again.
    pub fn default_answer(&self, answer: Option<(u16, Value)>) {
        self.lock().default = answer;
    }

    pub fn requests(&self) -> Vec<ProviderRequest> {
        self.lock().requests.clone()
    }

    /// Requests answered with a success.
    pub fn accepted(&self) -> Vec<ProviderRequest> {
        self.requests()
            .into_iter()
            .filter(|r| (200..300).contains(&r.status))
            .collect()
    }
}

async fn answer(
    State(inner): State<Arc<Mutex<Inner>>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let mut g = inner.lock().unwrap_or_else(|e| e.into_inner());
    let path = uri.path().to_owned();
    let scripted = g.script.pop_front().or_else(|| g.default.clone());
    let (status, out, id) = match scripted {
        Some((s, b)) => (s, b, None),
        None => {
            g.next_id += 1;
            let n = g.next_id;
            if path.ends_with("Messages.json") {
                let sid = format!("SM{n:032x}");
                (201, json!({"sid": sid, "status": "queued"}), Some(sid))
            } else {
                let wamid = format!("wamid.fake{n}");
                (
                    200,
                    json!({"messaging_product": "whatsapp",
                        "contacts": [{"input": "x", "wa_id": "x"}],
                        "messages": [{"id": wamid}]}),
                    Some(wamid),
                )
            }
        }
    };
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    g.requests.push(ProviderRequest {
        path,
        authorization: header("authorization"),
        content_type: header("content-type"),
        body: String::from_utf8_lossy(&body).into_owned(),
        status,
        id,
    });
    (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", "application/json")],
        out.to_string(),
    )
}
