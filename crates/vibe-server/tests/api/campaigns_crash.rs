//! A real `vibe serve` process (the built binary) killed with SIGKILL in the
//! middle of a campaign, then started again over the same database and data
//! directory: every recipient ends `sent` or `unknown`, the SMTP server
//! (`aiosmtpd`) received no address twice, each `sent` one exactly once,
//! and the campaign finishes. `unknown` ones are those claimed when the
//! process died (at most one: a campaign sends one at a time).

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::email::{email_channel, Sink};
use crate::helpers::*;
use crate::on_both_backends;

const PEOPLE: usize = 30;

/// A `vibe serve` child process; killed on drop.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

async fn serve(dir: &std::path::Path, database_url: Option<&str>, port: u16) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vibe"));
    cmd.arg("serve")
        .env("VIBE_ADDR", format!("127.0.0.1:{port}"))
        .env("VIBE_DATA_DIR", dir)
        .env("VIBE_ADMIN_EMAIL", OWNER_EMAIL)
        .env("VIBE_ADMIN_PASSWORD", OWNER_PASSWORD)
        .env("VIBE_LOG", "warn")
        .env_remove("VIBE_CONFIG")
        .env_remove("VIBE_SECRET_KEY")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    match database_url {
        Some(url) => cmd.env("VIBE_DATABASE_URL", url),
        None => cmd
            .env_remove("VIBE_DATABASE_URL")
            .env_remove("DATABASE_URL"),
    };
    let child = cmd.spawn().expect("vibe starts");
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let client = reqwest::Client::new();
    for _ in 0..400 {
        if let Ok(r) = client.get(format!("{}/readyz", server.base)).send().await {
            if r.status() == StatusCode::OK {
                return server;
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("vibe serve did not become ready");
}

/// The dashboard's requests to a server process: its Origin and a cookie.
struct Remote {
    client: reqwest::Client,
    base: String,
    cookie: String,
}

impl Remote {
    async fn sign_in(base: &str) -> Remote {
        let mut origin = reqwest::header::HeaderMap::new();
        origin.insert(reqwest::header::ORIGIN, base.parse().unwrap());
        let client = reqwest::Client::builder()
            .default_headers(origin)
            .build()
            .unwrap();
        let res = client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"email": OWNER_EMAIL, "password": OWNER_PASSWORD}))
            .send()
            .await
            .unwrap();
        let cookie = session_from(res).0;
        Remote {
            client,
            base: base.to_owned(),
            cookie,
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self
            .client
            .request(method.clone(), format!("{}{path}", self.base))
            .header("cookie", &self.cookie);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        assert!(status.is_success(), "{method} {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }
}

async fn sigkill_mid_campaign_sends_each_recipient_once(backend: Backend) {
    let Some(sink) = Sink::start() else {
        return;
    };
    let url = match backend {
        Backend::Postgres => match pg_database_url().await {
            Some(u) => Some(u),
            None => return,
        },
        Backend::Sqlite => None,
    };
    let dir = std::env::temp_dir().join(format!("vibe-crash-{}", uuid()));
    std::fs::create_dir_all(&dir).unwrap();
    let _cleanup = TempDir(dir.clone());
    let port = free_port();
    let server = serve(&dir, url.as_deref(), port).await;
    let r = Remote::sign_in(&server.base).await;
    let projects = r.call(reqwest::Method::GET, "/api/v1/projects", None).await;
    let p = &projects["projects"][0];
    let pid = p["id"].as_str().unwrap().to_owned();
    let write_key = p["write_key"].as_str().unwrap().to_owned();
    r.call(
        reqwest::Method::PUT,
        &format!("/api/v1/projects/{pid}/channels/email"),
        Some(email_channel(sink.port)),
    )
    .await;
    let batch: Vec<Value> = (0..PEOPLE)
        .map(|i| {
            identify(
                &format!("a{i}"),
                &format!("s{i}"),
                &format!("u{i}"),
                json!({"email": format!("u{i}@example.com")}),
            )
        })
        .collect();
    let res = r
        .client
        .post(format!("{}/api/v1/collect", r.base))
        .header("content-type", "text/plain;charset=UTF-8")
        .header("user-agent", BROWSER_UA)
        .body(json!({"key": write_key, "batch": batch}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    // 600 a minute: one every 100 ms, so the kill lands mid-campaign.
    let campaigns = format!("/api/v1/projects/{pid}/campaigns");
    let c = r
        .call(
            reqwest::Method::POST,
            &campaigns,
            Some(
                json!({"name": "Crash", "channel": "email", "segment": "all",
                "rate_per_minute": 600,
                "content": {"subject": "Hi", "body_text": "Hello {{ contact.email }}"}}),
            ),
        )
        .await;
    let cid = c["id"].as_str().unwrap().to_owned();
    let started = r
        .call(
            reqwest::Method::POST,
            &format!("{campaigns}/{cid}/send"),
            None,
        )
        .await;
    assert_eq!(started["progress"]["queued"], PEOPLE);

    sink.wait_for(5).await;
    drop(server); // SIGKILL
    let before = sink.received().len();
    assert!(
        before < PEOPLE,
        "the campaign was still sending when killed"
    );

    let server = serve(&dir, url.as_deref(), free_port()).await;
    let r = Remote::sign_in(&server.base).await;
    let mut done = Value::Null;
    for _ in 0..600 {
        done = r
            .call(reqwest::Method::GET, &format!("{campaigns}/{cid}"), None)
            .await;
        if done["status"] == "sent" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(done["status"], "sent", "{done}");
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut at_server: HashMap<String, usize> = HashMap::new();
    for (envelope, _) in sink.received() {
        *at_server
            .entry(envelope["rcpt_tos"][0].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    assert!(
        at_server.values().all(|n| *n == 1),
        "an address got two: {at_server:?}"
    );
    let progress = &done["progress"];
    let (sent, unknown) = (
        progress["sent"].as_u64().unwrap() as usize,
        progress["unknown"].as_u64().unwrap() as usize,
    );
    assert_eq!(sent + unknown, PEOPLE, "{done}");
    assert!(
        unknown <= 1,
        "only the recipient in flight can be unknown: {done}"
    );
    // Every sent one arrived; an unknown one may or may not have.
    assert!(
        at_server.len() >= sent && at_server.len() <= PEOPLE,
        "{at_server:?}"
    );
    drop(server);
}

on_both_backends!(sigkill_mid_campaign_sends_each_recipient_once);
