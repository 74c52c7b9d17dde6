//! The email channel: SMTP round trips against a real `aiosmtpd` server
//! process (`python/smtp_sink.py`, from the `.venv` that
//! `scripts/ensure-python-venv.sh` makes; skipped loudly without it, failed
//! under `CI`), and the inbound-mail webhook: signatures (computed here with
//! the `hmac`/`sha2` crates, not the server's code), threading by
//! `In-Reply-To`/`References`, new conversations for unknown senders,
//! idempotent retries, size and shape refusals, disabled channels and other
//! projects.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use vibe_server::outbound::email::{send_smtp, OutgoingEmail, Security, SmtpConfig};
use vibe_server::outbound::SendError;
use vibe_store::inbox::{DeliveryStatus, Direction, NewMessage, Scope, Sender};

use crate::helpers::*;
use crate::on_both_backends;
use crate::webhooks::{configure, wa_sign};

const INBOUND_SECRET: &str = "inbound-mail-secret-4242";

// ---- the SMTP server -------------------------------------------------------

/// The venv's Python when it has aiosmtpd; `None` (a loud skip) without it,
/// a failure under CI.
fn smtp_python() -> Option<PathBuf> {
    venv_python_with("aiosmtpd.smtp", "aiosmtpd", "the SMTP round trip")
}

/// A running `smtp_sink.py`; killed on drop.
pub(crate) struct Sink {
    child: Child,
    pub(crate) port: u16,
    dir: TempDir,
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Sink {
    pub(crate) fn start() -> Option<Sink> {
        let python = smtp_python()?;
        let dir = std::env::temp_dir().join(format!("vibe-smtp-{}", uuid()));
        std::fs::create_dir_all(&dir).unwrap();
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/api/python/smtp_sink.py");
        let mut child = Command::new(python)
            .arg(script)
            .arg(&dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python starts");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port: u16 = line.trim().parse().unwrap_or_else(|_| {
            let _ = child.kill();
            panic!("smtp_sink.py did not print its port: {line:?}")
        });
        Some(Sink {
            child,
            port,
            dir: TempDir(dir),
        })
    }

    fn config(&self) -> SmtpConfig {
        SmtpConfig {
            host: "127.0.0.1".into(),
            port: self.port,
            security: Security::None,
            username: None,
            from_address: "help@shop.example".into(),
            from_name: Some("Shop Support".into()),
            timeout: Duration::from_secs(5),
        }
    }

    /// The messages received so far, oldest first: (envelope, raw message).
    pub(crate) fn received(&self) -> Vec<(Value, String)> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.dir.0)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| {
                let env = std::fs::read_to_string(p.with_extension("json")).unwrap();
                let raw = std::fs::read_to_string(p).unwrap();
                (serde_json::from_str(&env).unwrap(), raw)
            })
            .collect()
    }

    pub(crate) async fn wait_for(&self, n: usize) -> Vec<(Value, String)> {
        for _ in 0..200 {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the SMTP server did not receive {n} message(s)");
    }
}

/// The (unfolded) headers and the body of a raw message.
pub(crate) fn split_message(raw: &str) -> (Vec<(String, String)>, String) {
    let (head, body) = raw.split_once("\r\n\r\n").expect("headers and a body");
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            let last = headers.last_mut().expect("a folded line follows a header");
            last.1.push(' ');
            last.1.push_str(line.trim());
        } else if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    (headers, body.to_owned())
}

pub(crate) fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn email(to: &str) -> OutgoingEmail {
    OutgoingEmail {
        from: "Shop Support <help@shop.example>".parse().unwrap(),
        to: format!("Ann Lee <{to}>").parse().unwrap(),
        subject: "Re: Where is my order?".into(),
        text: "It ships today.\nTracking follows.".into(),
        message_id: "<m4@shop.example>".into(),
        in_reply_to: Some("<b@mail.example>".into()),
        references: vec!["<a@mail.example>".into(), "<b@mail.example>".into()],
    }
}

#[tokio::test]
async fn smtp_round_trip_against_aiosmtpd() {
    let Some(sink) = Sink::start() else {
        return;
    };
    let sent = send_smtp(&sink.config(), None, &email("ann@example.com"))
        .await
        .expect("the server accepts it");
    assert_eq!(sent.channel_message_id, "<m4@shop.example>");
    let got = sink.wait_for(1).await;
    let (envelope, raw) = &got[0];
    assert_eq!(envelope["mail_from"], "help@shop.example");
    assert_eq!(envelope["rcpt_tos"], json!(["ann@example.com"]));
    assert_eq!(envelope["authenticated"], false, "no username, no AUTH");
    let (h, body) = split_message(raw);
    assert_eq!(
        header(&h, "from"),
        Some("\"Shop Support\" <help@shop.example>")
    );
    assert_eq!(header(&h, "to"), Some("\"Ann Lee\" <ann@example.com>"));
    assert_eq!(header(&h, "subject"), Some("Re: Where is my order?"));
    assert_eq!(header(&h, "message-id"), Some("<m4@shop.example>"));
    assert_eq!(header(&h, "in-reply-to"), Some("<b@mail.example>"));
    assert_eq!(
        header(&h, "references"),
        Some("<a@mail.example> <b@mail.example>")
    );
    assert!(header(&h, "date").is_some());
    assert!(header(&h, "content-type")
        .unwrap()
        .starts_with("text/plain"));
    assert_eq!(body.trim_end(), "It ships today.\r\nTracking follows.");

    // Non-ASCII text and subject arrive encoded, not mangled.
    let mut e = email("ann@example.com");
    e.subject = "Grüße".into();
    e.text = "Schöne Grüße, your order ships today.".into();
    e.message_id = "<m5@shop.example>".into();
    send_smtp(&sink.config(), None, &e).await.unwrap();
    let (h, body) = split_message(&sink.wait_for(2).await[1].1);
    assert_eq!(header(&h, "subject"), Some("=?utf-8?b?R3LDvMOfZQ==?="));
    assert_eq!(
        header(&h, "content-transfer-encoding"),
        Some("quoted-printable")
    );
    assert_eq!(
        body.trim_end(),
        "Sch=C3=B6ne Gr=C3=BC=C3=9Fe, your order ships today."
    );

    // With a username the credentials are used (AUTH), and a wrong
    // password is refused for good (535).
    let mut auth = sink.config();
    auth.username = Some("help".into());
    e.message_id = "<m6@shop.example>".into();
    send_smtp(&auth, Some("smtp-password"), &e).await.unwrap();
    assert_eq!(sink.wait_for(3).await[2].0["authenticated"], true);
    let r = send_smtp(&auth, Some("wrong"), &e).await;
    assert!(
        matches!(&r, Err(SendError::Fail(m)) if m.contains("535")),
        "{r:?}"
    );
}

#[tokio::test]
async fn smtp_errors_are_classified() {
    let Some(sink) = Sink::start() else {
        return;
    };
    let config = sink.config();
    // 550 at RCPT: refused for good.
    let r = send_smtp(&config, None, &email("reject@example.com")).await;
    assert!(
        matches!(&r, Err(SendError::Fail(m)) if m.contains("550")),
        "{r:?}"
    );
    // 451 at RCPT: try again later.
    let r = send_smtp(&config, None, &email("busy@example.com")).await;
    assert!(
        matches!(&r, Err(SendError::Retry(m)) if m.contains("451")),
        "{r:?}"
    );
    // The connection drops after the message was sent: maybe delivered.
    let r = send_smtp(&config, None, &email("drop@example.com")).await;
    assert!(matches!(r, Err(SendError::Unknown(_))), "{r:?}");
    assert!(sink.received().is_empty(), "nothing was accepted");
    // STARTTLS required but the server does not offer it: a setting to fix.
    let mut tls = config.clone();
    tls.security = Security::StartTls;
    let r = send_smtp(&tls, None, &email("ann@example.com")).await;
    assert!(matches!(r, Err(SendError::Fail(_))), "{r:?}");

    // Nothing listening: a connection error, worth a retry.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let mut closed = config.clone();
    closed.port = port;
    let r = send_smtp(&closed, None, &email("ann@example.com")).await;
    assert!(matches!(r, Err(SendError::Retry(_))), "{r:?}");

    // A server that accepts the connection and never speaks: timeout, retry.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut quiet = config.clone();
    quiet.port = silent.local_addr().unwrap().port();
    quiet.timeout = Duration::from_millis(500);
    let r = send_smtp(&quiet, None, &email("ann@example.com")).await;
    assert!(matches!(r, Err(SendError::Retry(_))), "{r:?}");
    drop(silent);
}

// ---- the inbound-mail webhook ---------------------------------------------

pub(crate) fn email_channel(port: u16) -> Value {
    json!({"smtp_host": "127.0.0.1", "smtp_port": port, "tls": "none",
        "from_address": "help@shop.example", "from_name": "Shop Support",
        "inbound_secret": INBOUND_SECRET})
}

fn mail(message_id: &str, from: &str, subject: &str, text: &str) -> Value {
    json!({"from": from, "to": "help@shop.example", "subject": subject, "text": text,
        "message_id": message_id})
}

async fn post_mail(
    app: &TestApp,
    pid: &str,
    secret: Option<&str>,
    body: &str,
) -> reqwest::Response {
    let mut req = app
        .bare(Method::POST, &format!("/api/v1/webhooks/email/{pid}"))
        .header("content-type", "application/json");
    if let Some(s) = secret {
        req = req.header("x-vibe-signature", wa_sign(s, body.as_bytes()));
    }
    req.body(body.to_owned()).send().await.unwrap()
}

async fn deliver(app: &TestApp, pid: &str, body: &Value) -> Value {
    let res = post_mail(app, pid, Some(INBOUND_SECRET), &body.to_string()).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

async fn conversations(app: &TestApp, owner: &Session, pid: &str) -> Vec<Value> {
    let body = app
        .get_json(owner, &format!("/api/v1/projects/{pid}/conversations"))
        .await;
    body["conversations"].as_array().expect("a list").clone()
}

/// Oldest first.
async fn thread(app: &TestApp, owner: &Session, pid: &str, cid: &str) -> Vec<Value> {
    let body = app
        .get_json(
            owner,
            &format!("/api/v1/projects/{pid}/conversations/{cid}/messages"),
        )
        .await;
    let mut v = body["messages"].as_array().expect("a list").clone();
    v.reverse();
    v
}

/// An outbound reply already sent with `Message-ID` `mid`.
async fn sent_reply(app: &TestApp, pid: &str, cid: &str, mid: &str, at: i64) {
    let m = NewMessage {
        id: format!("out-{}", uuid()),
        conversation_id: cid.into(),
        direction: Direction::Out,
        sender: Sender::Agent,
        sender_account_id: None,
        body: "It ships today.".into(),
        private: false,
        attachments: "[]".into(),
        delivery_status: DeliveryStatus::Sent,
        channel_message_id: Some(mid.into()),
        created_at: at,
    };
    let added = app.state.store.add_message(pid, &Scope::All, &m).await;
    assert!(added.unwrap().is_some());
}

fn rejected(app: &TestApp, reason: &str) -> u64 {
    app.state.metrics.webhook_rejected.get("email", reason)
}

async fn email_webhook_signatures(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    // Without an inbound_secret nothing can be verified: 401.
    let mut no_secret = email_channel(25);
    no_secret.as_object_mut().unwrap().remove("inbound_secret");
    configure(&app, &owner, &p.id, "email", no_secret).await;
    let body = mail(
        "<x1@mail.example>",
        "Ann Lee <ann@example.com>",
        "Order",
        "Hi",
    )
    .to_string();
    let res = post_mail(&app, &p.id, Some(INBOUND_SECRET), &body).await;
    assert_error(res, StatusCode::UNAUTHORIZED, "invalid_signature").await;
    assert_eq!(rejected(&app, "no_inbound_secret"), 1);

    let put = app
        .put(
            &owner,
            &format!("/api/v1/projects/{}/channels/email", p.id),
            email_channel(25),
        )
        .await;
    let answer = json_of(put).await;
    assert_eq!(answer["secrets"]["inbound_secret"]["set"], true);
    assert_eq!(answer["secrets"]["inbound_secret"]["hint"], "…4242");
    assert!(!answer.to_string().contains(INBOUND_SECRET));
    assert_eq!(
        answer["webhook_url"],
        app.url(&format!("/api/v1/webhooks/email/{}", p.id))
    );

    // Tampered body, wrong secret, no header, malformed header: 401, counted.
    let tampered = body.replace("Hi", "Hj");
    let sig = wa_sign(INBOUND_SECRET, body.as_bytes());
    let res = app
        .bare(Method::POST, &format!("/api/v1/webhooks/email/{}", p.id))
        .header("x-vibe-signature", &sig)
        .body(tampered)
        .send()
        .await
        .unwrap();
    assert_error(res, StatusCode::UNAUTHORIZED, "invalid_signature").await;
    let res = post_mail(&app, &p.id, Some("not-the-secret"), &body).await;
    assert_error(res, StatusCode::UNAUTHORIZED, "invalid_signature").await;
    assert_eq!(rejected(&app, "bad_signature"), 2);
    let res = post_mail(&app, &p.id, None, &body).await;
    assert_error(res, StatusCode::UNAUTHORIZED, "invalid_signature").await;
    assert_eq!(rejected(&app, "missing_signature"), 1);
    let res = app
        .bare(Method::POST, &format!("/api/v1/webhooks/email/{}", p.id))
        .header("x-vibe-signature", "sha1=abcd")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_error(res, StatusCode::UNAUTHORIZED, "invalid_signature").await;
    assert_eq!(rejected(&app, "malformed_signature"), 1);
    assert!(conversations(&app, &owner, &p.id).await.is_empty());
    assert!(app
        .state
        .store
        .find_user(&p.id, "email:ann@example.com")
        .await
        .unwrap()
        .is_none());
    let metrics = app
        .request(Method::GET, "/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains(
        r#"vibe_channel_webhook_rejected_total{channel="email",reason="bad_signature"} 2"#
    ));

    // Signed right: stored.
    let out = deliver(&app, &p.id, &serde_json::from_str(&body).unwrap()).await;
    assert_eq!(out["stored"], true);
    assert_eq!(conversations(&app, &owner, &p.id).await.len(), 1);
    assert_eq!(app.state.metrics.webhook_parsed.get("email", "message"), 1);
    app.stop().await;
}

async fn email_webhook_threads_replies(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    configure(&app, &owner, &p.id, "email", email_channel(25)).await;
    // An unknown sender: a person by address, a new conversation with the subject.
    let first = mail(
        "<a1@mail.example>",
        "\"Lee, Ann\" <Ann@Example.com>",
        "Where is my order?",
        "Order 42 has not arrived.",
    );
    let out = deliver(&app, &p.id, &first).await;
    assert_eq!(
        (out["stored"].clone(), out["threaded"].clone()),
        (json!(true), json!(false))
    );
    let person = app
        .state
        .store
        .find_user(&p.id, "email:ann@example.com")
        .await
        .unwrap()
        .expect("a person for the address");
    assert_eq!(person.id, "uid:email:ann@example.com");
    assert_eq!(person.identity.name.as_deref(), Some("Lee, Ann"));
    assert_eq!(person.identity.email.as_deref(), Some("ann@example.com"));
    let convs = conversations(&app, &owner, &p.id).await;
    assert_eq!(convs.len(), 1);
    let c = &convs[0];
    let cid = c["id"].as_str().unwrap().to_owned();
    assert_eq!(out["conversation_id"], cid.as_str());
    assert_eq!(c["channel"], "email");
    assert_eq!(c["subject"], "Where is my order?");
    assert_eq!(c["contact_email"], "ann@example.com");
    assert_eq!(c["unread_count"], 1);
    let msgs = thread(&app, &owner, &p.id, &cid).await;
    assert_eq!(msgs[0]["channel_message_id"], "<a1@mail.example>");
    assert_eq!(msgs[0]["body"], "Order 42 has not arrived.");

    // The retry of that delivery stores nothing new.
    let again = deliver(&app, &p.id, &first).await;
    assert_eq!(
        (again["stored"].clone(), again["duplicate"].clone()),
        (json!(false), json!(true))
    );
    assert_eq!(again["conversation_id"], cid.as_str());
    assert_eq!(thread(&app, &owner, &p.id, &cid).await.len(), 1);
    assert_eq!(
        app.state
            .metrics
            .webhook_stored
            .get("email", "message_duplicate"),
        1
    );

    // Our reply went out as <r1@shop.example>; the contact answers it, from
    // another client (bare ids, no display name), after it was resolved.
    sent_reply(&app, &p.id, &cid, "<r1@shop.example>", app.clock.now_ms()).await;
    let res = app
        .patch(
            &owner,
            &format!("/api/v1/projects/{}/conversations/{cid}", p.id),
            json!({"status": "resolved"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let mut answer = mail(
        "a2@mail.example",
        "ann@example.com",
        "Re: Where is my order?",
        "Thanks!",
    );
    answer["in_reply_to"] = json!("r1@shop.example");
    answer["attachments"] =
        json!([{"filename": "receipt.pdf", "content_type": "application/pdf", "size": 1234}]);
    let out = deliver(&app, &p.id, &answer).await;
    assert_eq!(out["threaded"], true);
    assert_eq!(out["conversation_id"], cid.as_str());
    let convs = conversations(&app, &owner, &p.id).await;
    assert_eq!(convs.len(), 1, "threaded, not a new conversation");
    assert_eq!(convs[0]["status"], "open", "reopened");
    assert_eq!(
        convs[0]["subject"], "Where is my order?",
        "the first subject stays"
    );
    let msgs = thread(&app, &owner, &p.id, &cid).await;
    assert_eq!(msgs.len(), 3);
    assert_eq!(msgs[2]["channel_message_id"], "<a2@mail.example>");
    assert_eq!(
        msgs[2]["attachments"],
        json!([{"name": "receipt.pdf", "type": "application/pdf", "size": 1234}])
    );

    // Only References (a client that drops In-Reply-To): still threaded.
    let mut third = mail(
        "<a3@mail.example>",
        "ann@example.com",
        "Re: Where is my order?",
        "One more thing",
    );
    third["references"] = json!("<unknown@elsewhere> <a1@mail.example>");
    assert_eq!(
        deliver(&app, &p.id, &third).await["conversation_id"],
        cid.as_str()
    );

    // A new subject from the same person, no ids: a new conversation, same person.
    let other = mail(
        "<b1@mail.example>",
        "Ann <ann@example.com>",
        "Invoice",
        "Please resend it",
    );
    let out = deliver(&app, &p.id, &other).await;
    assert_eq!(out["threaded"], false);
    assert_ne!(out["conversation_id"], cid.as_str());
    let convs = conversations(&app, &owner, &p.id).await;
    assert_eq!(convs.len(), 2);
    assert!(convs
        .iter()
        .all(|c| c["site_user_id"] == "uid:email:ann@example.com"));

    // A tracked person with that email (identify traits) is found by address.
    let visit = vec![
        pageview("a9", "s-a9", "https://shop.example/"),
        identify("a9", "s-a9", "bob-42", json!({"email": "bob@shop.example"})),
    ];
    app.collect_ok(&p.write_key, visit).await;
    let bob = mail("<c1@mail.example>", "Bob <BOB@shop.example>", "Hello", "Hi");
    deliver(&app, &p.id, &bob).await;
    let bob_person = app
        .state
        .store
        .find_user(&p.id, "bob-42")
        .await
        .unwrap()
        .unwrap();
    let convs = conversations(&app, &owner, &p.id).await;
    assert!(convs
        .iter()
        .any(|c| c["site_user_id"] == bob_person.id.as_str()));
    assert!(app
        .state
        .store
        .find_user(&p.id, "email:bob@shop.example")
        .await
        .unwrap()
        .is_none());
    app.stop().await;
}

async fn email_webhook_refusals_and_tenants(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let body = mail("<x1@mail.example>", "ann@example.com", "Order", "Hi");
    // Not configured: 404.
    let res = post_mail(&app, &p.id, Some(INBOUND_SECRET), &body.to_string()).await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
    configure(&app, &owner, &p.id, "email", email_channel(25)).await;

    // Shapes: 400 naming the field, nothing stored.
    for (field, edit) in [
        ("from", json!({"from": null})),
        ("from", json!({"from": "Ann <not-an-address>"})),
        ("to", json!({"to": 5})),
        ("subject", json!({"subject": null})),
        ("text", json!({"text": ["x"]})),
        ("message_id", json!({"message_id": ""})),
        ("references", json!({"references": {"a": 1}})),
        (
            "attachments[0].filename",
            json!({"attachments": [{"size": 1}]}),
        ),
    ] {
        let mut b = body.clone();
        for (k, v) in edit.as_object().unwrap() {
            if v.is_null() {
                b.as_object_mut().unwrap().remove(k);
            } else {
                b[k] = v.clone();
            }
        }
        let res = post_mail(&app, &p.id, Some(INBOUND_SECRET), &b.to_string()).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{field}");
        let e = json_of(res).await;
        assert_eq!(e["error"]["field"], field, "{e}");
    }
    let res = post_mail(&app, &p.id, Some(INBOUND_SECRET), "not json").await;
    assert_error(res, StatusCode::BAD_REQUEST, "invalid_json").await;
    assert_eq!(rejected(&app, "bad_payload"), 9);

    // Too large: 413 before the signature is even looked at.
    let mut big = body.clone();
    big["text"] = json!("x".repeat(1024 * 1024 + 1));
    let res = post_mail(&app, &p.id, Some(INBOUND_SECRET), &big.to_string()).await;
    assert_error(res, StatusCode::PAYLOAD_TOO_LARGE, "too_large").await;
    assert!(conversations(&app, &owner, &p.id).await.is_empty());

    // A's outbound Message-ID, replied to in project B: B's own new
    // conversation, never A's; A's secret does not open B's webhook.
    let out = deliver(&app, &p.id, &body).await;
    let a_cid = out["conversation_id"].as_str().unwrap().to_owned();
    sent_reply(&app, &p.id, &a_cid, "<r1@shop.example>", app.clock.now_ms()).await;
    let b = app.create_project(&owner, "Other").await;
    let res = post_mail(&app, &b.id, Some(INBOUND_SECRET), &body.to_string()).await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
    let mut theirs = email_channel(25);
    theirs["inbound_secret"] = json!("other-project-secret");
    configure(&app, &owner, &b.id, "email", theirs).await;
    let mut reply = mail(
        "<x2@mail.example>",
        "ann@example.com",
        "Re: Order",
        "Thanks",
    );
    reply["in_reply_to"] = json!("<r1@shop.example>");
    let res = post_mail(&app, &b.id, Some(INBOUND_SECRET), &reply.to_string()).await;
    assert_error(res, StatusCode::UNAUTHORIZED, "invalid_signature").await;
    let res = post_mail(
        &app,
        &b.id,
        Some("other-project-secret"),
        &reply.to_string(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let out: Value = res.json().await.unwrap();
    assert_eq!(out["threaded"], false);
    assert_eq!(
        thread(&app, &owner, &p.id, &a_cid).await.len(),
        2,
        "A untouched"
    );
    assert_eq!(conversations(&app, &owner, &b.id).await.len(), 1);

    // Disabled: 404, nothing stored.
    let mut off = email_channel(25);
    off["enabled"] = json!(false);
    configure(&app, &owner, &p.id, "email", off).await;
    let late = mail("<x3@mail.example>", "ann@example.com", "Order", "Hello?");
    let res = post_mail(&app, &p.id, Some(INBOUND_SECRET), &late.to_string()).await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(thread(&app, &owner, &p.id, &a_cid).await.len(), 2);
    app.stop().await;
}

/// End to end through the outbound sender: an inbound email, an agent's
/// reply through the API delivered by the sender to the real SMTP server,
/// threaded under the contact's email, its `Message-ID` stored so the
/// contact's answer threads back; an agent-started conversation gets a
/// default subject; a disabled channel fails the reply and sends nothing.
async fn email_replies_go_out_threaded(backend: Backend) {
    let Some(sink) = Sink::start() else {
        return;
    };
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    configure(&app, &owner, &p.id, "email", email_channel(sink.port)).await;
    let first = mail(
        "<a1@mail.example>",
        "Ann Lee <ann@example.com>",
        "Where is my order?",
        "Order 42?",
    );
    let cid = deliver(&app, &p.id, &first).await["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let messages = format!("/api/v1/projects/{}/conversations/{cid}/messages", p.id);
    let reply = created(
        app.post(&owner, &messages, json!({"body": "It ships today."}))
            .await,
    )
    .await;
    assert_eq!(reply["delivery_status"], "queued");
    let rid = reply["id"].as_str().unwrap().to_owned();
    let store = &app.state.store;

    let got = sink.wait_for(1).await;
    let (envelope, raw) = &got[0];
    assert_eq!(envelope["rcpt_tos"], json!(["ann@example.com"]));
    let (h, body) = split_message(raw);
    let message_id = format!("<{rid}@shop.example>");
    assert_eq!(header(&h, "message-id"), Some(message_id.as_str()));
    assert_eq!(header(&h, "in-reply-to"), Some("<a1@mail.example>"));
    assert_eq!(header(&h, "references"), Some("<a1@mail.example>"));
    assert_eq!(header(&h, "subject"), Some("Re: Where is my order?"));
    assert_eq!(header(&h, "to"), Some("\"Ann Lee\" <ann@example.com>"));
    assert_eq!(body.trim_end(), "It ships today.");
    let sent = settled(&app, &p.id, &rid).await;
    assert_eq!(sent.delivery_status, "sent");
    assert_eq!(
        sent.channel_message_id.as_deref(),
        Some(message_id.as_str())
    );

    // The contact's answer to it threads back.
    let mut answer = mail(
        "<a2@mail.example>",
        "ann@example.com",
        "Re: Where is my order?",
        "Thanks",
    );
    answer["in_reply_to"] = json!(message_id);
    assert_eq!(
        deliver(&app, &p.id, &answer).await["conversation_id"],
        cid.as_str()
    );

    // An agent-started email conversation gets (and keeps) a default subject.
    let ann = store
        .find_user(&p.id, "email:ann@example.com")
        .await
        .unwrap()
        .unwrap();
    let res = app
        .post(
            &owner,
            &format!("/api/v1/projects/{}/conversations", p.id),
            json!({"contact_id": ann.id, "channel": "email", "message": "Hello from the shop"}),
        )
        .await;
    let scid = created(res).await["id"].as_str().unwrap().to_owned();
    let (h, _) = split_message(&sink.wait_for(2).await[1].1);
    assert_eq!(header(&h, "subject"), Some("Message from Shop Support"));
    assert_eq!(header(&h, "in-reply-to"), None);
    let conv2 = store
        .conversation(&p.id, &Scope::All, &scid)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(conv2.subject.as_deref(), Some("Message from Shop Support"));

    // Disabled: the reply fails for good, nothing more is sent.
    let mut off = email_channel(sink.port);
    off["enabled"] = json!(false);
    configure(&app, &owner, &p.id, "email", off).await;
    let late = created(
        app.post(&owner, &messages, json!({"body": "Anything else?"}))
            .await,
    )
    .await;
    let failed = settled(&app, &p.id, late["id"].as_str().unwrap()).await;
    assert_eq!(failed.delivery_status, "failed");
    assert!(failed.failed_reason.is_some());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sink.received().len(), 2, "each reply was sent once");
    app.stop().await;
}

/// The message once the sender has left `queued` (waits up to 5 s).
async fn settled(app: &TestApp, project: &str, id: &str) -> vibe_store::inbox::Message {
    for _ in 0..200 {
        let m = app
            .state
            .store
            .message_by_id(project, id)
            .await
            .unwrap()
            .unwrap();
        if m.delivery_status != "queued" {
            return m;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("message {id} is still queued");
}

on_both_backends!(
    email_webhook_signatures,
    email_webhook_threads_replies,
    email_webhook_refusals_and_tenants,
    email_replies_go_out_threaded
);
