//! Channel webhooks: the WhatsApp handshake, and WhatsApp and Twilio POSTs
//! with a valid signature, a tampered body, the wrong secret and no header.
//! Signatures are computed here with the RustCrypto primitives directly (not
//! the server's functions) and, in `third_party_signatures_are_accepted`, by
//! the official `twilio` Python library and Python's hmac.

use std::path::PathBuf;

use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::channels::*;
use crate::helpers::*;
use crate::on_both_backends;

pub(crate) fn wa_sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

pub(crate) fn tw_sign(token: &str, url: &str, params: &[(&str, &str)]) -> String {
    let mut sorted = params.to_vec();
    sorted.sort();
    let mut data = url.to_owned();
    for (k, v) in sorted {
        data.push_str(k);
        data.push_str(v);
    }
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(token.as_bytes()).unwrap();
    mac.update(data.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

pub(crate) fn form(params: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                b' ' => "+".into(),
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    params
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn wa_payload() -> String {
    json!({"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
            "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": "16505551234"}],
            "messages": [{"from": "16505551234", "id": "wamid.HBgLMTY1", "timestamp": "1749416383",
                "type": "text", "text": {"body": "Does it come in another color?"}}],
            "statuses": [{"id": "wamid.OUT1", "status": "delivered", "timestamp": "1750263773",
                "recipient_id": "16505551234"}]}}]}]})
    .to_string()
}

async fn metrics(app: &TestApp) -> String {
    app.request(Method::GET, "/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn counter(app: &TestApp, rejected: bool, channel: &str, label: &str) -> u64 {
    let m = &app.state.metrics;
    if rejected {
        m.webhook_rejected.get(channel, label)
    } else {
        m.webhook_parsed.get(channel, label)
    }
}

pub(crate) async fn configure(app: &TestApp, owner: &Session, pid: &str, kind: &str, body: Value) {
    let res = app
        .put(
            owner,
            &format!("/api/v1/projects/{pid}/channels/{kind}"),
            body,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

/// The bodies of every message of the project's conversations.
async fn stored_bodies(app: &TestApp, owner: &Session, pid: &str) -> Vec<String> {
    let base = format!("/api/v1/projects/{pid}/conversations");
    let list = app.get_json(owner, &base).await;
    let mut out = Vec::new();
    for c in list["conversations"].as_array().expect("a list") {
        let id = c["id"].as_str().unwrap();
        let msgs = app.get_json(owner, &format!("{base}/{id}/messages")).await;
        for m in msgs["messages"].as_array().expect("a list") {
            out.push(m["body"].as_str().unwrap().to_owned());
        }
    }
    out
}

async fn whatsapp_handshake(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let path = format!("/api/v1/webhooks/whatsapp/{}", p.id);
    // Not configured yet: nothing to verify against.
    let q = format!(
        "{path}?hub.mode=subscribe&hub.verify_token={WA_VERIFY_TOKEN}&hub.challenge=1158201444"
    );
    let res = app.bare(Method::GET, &q).send().await.unwrap();
    assert_error(res, StatusCode::NOT_FOUND, "not_found").await;

    configure(&app, &owner, &p.id, "whatsapp", whatsapp_body()).await;
    let res = app.bare(Method::GET, &q).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    assert_eq!(res.text().await.unwrap(), "1158201444");
    for bad in [
        format!("{path}?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1"),
        format!("{path}?hub.mode=unsubscribe&hub.verify_token={WA_VERIFY_TOKEN}&hub.challenge=1"),
        format!("{path}?hub.mode=subscribe&hub.challenge=1"),
        format!("{path}?hub.mode=subscribe&hub.verify_token={WA_VERIFY_TOKEN}"),
    ] {
        let res = app.bare(Method::GET, &bad).send().await.unwrap();
        assert_error(res, StatusCode::FORBIDDEN, "forbidden").await;
    }
    assert_eq!(counter(&app, true, "whatsapp", "bad_verify_token"), 4);
    app.stop().await;
}

async fn whatsapp_signatures(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    configure(&app, &owner, &p.id, "whatsapp", whatsapp_body()).await;
    let path = format!("/api/v1/webhooks/whatsapp/{}", p.id);
    let body = wa_payload();
    let post = |body: String, sig: Option<String>| {
        let mut req = app
            .bare(Method::POST, &path)
            .header("content-type", "application/json")
            .body(body);
        if let Some(s) = sig {
            req = req.header("x-hub-signature-256", s);
        }
        req.send()
    };

    let res = post(body.clone(), Some(wa_sign(WA_APP_SECRET, body.as_bytes())))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json_of(res).await, json!({"messages": 1, "statuses": 1}));
    assert_eq!(counter(&app, false, "whatsapp", "message"), 1);
    assert_eq!(counter(&app, false, "whatsapp", "status"), 1);

    let tampered = body.replace("another color", "another colour");
    let refused = [
        post(tampered, Some(wa_sign(WA_APP_SECRET, body.as_bytes()))),
        post(
            body.clone(),
            Some(wa_sign("not-the-app-secret", body.as_bytes())),
        ),
        post(body.clone(), None),
        post(body.clone(), Some("sha256=nothex".into())),
    ];
    for res in refused {
        let res = res.await.unwrap();
        assert_error(res, StatusCode::UNAUTHORIZED, "invalid_signature").await;
    }
    // Nothing of the refused requests was parsed or stored: the one
    // conversation holds the verified message only.
    assert_eq!(counter(&app, false, "whatsapp", "message"), 1);
    assert_eq!(
        stored_bodies(&app, &owner, &p.id).await,
        ["Does it come in another color?"]
    );
    assert_eq!(counter(&app, true, "whatsapp", "bad_signature"), 2);
    assert_eq!(counter(&app, true, "whatsapp", "missing_signature"), 1);
    assert_eq!(counter(&app, true, "whatsapp", "malformed_signature"), 1);
    let m = metrics(&app).await;
    assert!(
        m.contains(
            r#"vibe_channel_webhook_rejected_total{channel="whatsapp",reason="bad_signature"} 2"#
        ),
        "{m}"
    );
    assert!(m.contains(r#"vibe_channel_webhook_parsed_total{channel="whatsapp",kind="message"} 1"#));

    // A signed body that is not a notification: 400, counted, nothing parsed.
    let junk = "[1,2]";
    let res = post(junk.into(), Some(wa_sign(WA_APP_SECRET, junk.as_bytes())))
        .await
        .unwrap();
    assert_error(res, StatusCode::BAD_REQUEST, "invalid_payload").await;

    // Another project's channel secret does not open this one.
    let other = app.create_project(&owner, "Other").await;
    let mut theirs = whatsapp_body();
    theirs["app_secret"] = json!("other-project-secret");
    configure(&app, &owner, &other.id, "whatsapp", theirs).await;
    let res = app
        .bare(
            Method::POST,
            &format!("/api/v1/webhooks/whatsapp/{}", other.id),
        )
        .body(body.clone())
        .header(
            "x-hub-signature-256",
            wa_sign(WA_APP_SECRET, body.as_bytes()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // A disabled channel takes nothing.
    let mut off = whatsapp_body();
    off["enabled"] = json!(false);
    configure(&app, &owner, &p.id, "whatsapp", off).await;
    let res = post(body.clone(), Some(wa_sign(WA_APP_SECRET, body.as_bytes())))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(counter(&app, false, "whatsapp", "message"), 1);
    app.stop().await;
}

async fn twilio_signatures(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    configure(&app, &owner, &p.id, "twilio", twilio_body()).await;
    let path = format!("/api/v1/webhooks/twilio/{}", p.id);
    // Twilio signs the public URL: here the server's own (no public_url set).
    let url = app.url(&path);
    let inbound = [
        ("MessageSid", "SM0123456789abcdef0123456789abcdef"),
        ("AccountSid", TW_SID),
        ("From", "+15551234567"),
        ("To", "+15557654321"),
        ("Body", "Hi there & thanks!"),
        ("NumMedia", "0"),
    ];
    let status = [
        ("MessageSid", "SMfedcba9876543210fedcba9876543210"),
        ("MessageStatus", "undelivered"),
        ("ErrorCode", "30003"),
        ("To", "+15551234567"),
    ];
    let post = |body: String, sig: Option<String>| {
        let mut req = app
            .bare(Method::POST, &path)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(s) = sig {
            req = req.header("x-twilio-signature", s);
        }
        req.send()
    };

    for params in [&inbound[..], &status[..]] {
        let res = post(form(params), Some(tw_sign(TW_AUTH_TOKEN, &url, params)))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/xml"));
        assert!(res.text().await.unwrap().contains("<Response>"));
    }
    assert_eq!(counter(&app, false, "twilio", "message"), 1);
    assert_eq!(counter(&app, false, "twilio", "status"), 1);

    let mut tampered = inbound;
    tampered[4].1 = "Hi there & thanks!!";
    let refused = [
        post(
            form(&tampered),
            Some(tw_sign(TW_AUTH_TOKEN, &url, &inbound)),
        ),
        post(form(&inbound), Some(tw_sign("wrong-token", &url, &inbound))),
        post(form(&inbound), None),
        // Signed for another URL (the query is part of what Twilio signs).
        post(
            form(&inbound),
            Some(tw_sign(TW_AUTH_TOKEN, &format!("{url}?x=1"), &inbound)),
        ),
    ];
    for res in refused {
        let res = res.await.unwrap();
        assert_error(res, StatusCode::UNAUTHORIZED, "invalid_signature").await;
    }
    assert_eq!(counter(&app, false, "twilio", "message"), 1);
    assert_eq!(
        stored_bodies(&app, &owner, &p.id).await,
        ["Hi there & thanks!"]
    );
    assert_eq!(counter(&app, true, "twilio", "bad_signature"), 3);
    assert_eq!(counter(&app, true, "twilio", "missing_signature"), 1);

    // The query string is signed too: a URL with one verifies as requested.
    let res = app
        .bare(Method::POST, &format!("{path}?source=status"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header(
            "x-twilio-signature",
            tw_sign(TW_AUTH_TOKEN, &format!("{url}?source=status"), &status),
        )
        .body(form(&status))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(counter(&app, false, "twilio", "status"), 2);
    app.stop().await;
}

/// The Python of the venv `scripts/ensure-python-venv.sh` makes (or
/// `VIBE_TEST_PYTHON`), when it has the `twilio` library. Without it the test
/// is skipped loudly, and under CI it fails, as PostgreSQL's tests do.
fn venv_python() -> Option<PathBuf> {
    venv_python_with(
        "twilio.request_validator",
        "the twilio library",
        "the third-party signature test",
    )
}

fn python_sign(python: &PathBuf, request: Value) -> String {
    use std::io::Write;
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/api/python/sign.py");
    let mut child = std::process::Command::new(python)
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "sign.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

async fn third_party_signatures_are_accepted(backend: Backend) {
    let Some(python) = venv_python() else {
        return;
    };
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    configure(&app, &owner, &p.id, "twilio", twilio_body()).await;
    configure(&app, &owner, &p.id, "whatsapp", whatsapp_body()).await;

    let path = format!("/api/v1/webhooks/twilio/{}?via=python", p.id);
    let url = app.url(&path);
    let params = json!({"MessageSid": "SM99", "From": "whatsapp:+15551234567",
        "To": "whatsapp:+15557654321", "Body": "Ünïcödé + symbols &=?", "ProfileName": "Ana", "NumMedia": "0"});
    let sig = python_sign(
        &python,
        json!({"twilio": {"url": url, "auth_token": TW_AUTH_TOKEN, "params": params}}),
    );
    let pairs: Vec<(&str, &str)> = params
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str().unwrap()))
        .collect();
    let res = app
        .bare(Method::POST, &path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", &sig)
        .body(form(&pairs))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "twilio library's signature {sig}"
    );
    assert_eq!(counter(&app, false, "twilio", "message"), 1);
    // The same signature over a changed body is refused.
    let mut changed = pairs.clone();
    changed.retain(|(k, _)| *k != "ProfileName");
    let res = app
        .bare(Method::POST, &path)
        .header("x-twilio-signature", &sig)
        .body(form(&changed))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    let body = wa_payload();
    let sig = python_sign(
        &python,
        json!({"whatsapp": {"app_secret": WA_APP_SECRET, "body": body}}),
    );
    let res = app
        .bare(Method::POST, &format!("/api/v1/webhooks/whatsapp/{}", p.id))
        .header("x-hub-signature-256", sig)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(counter(&app, false, "whatsapp", "message"), 1);
    app.stop().await;
}

on_both_backends!(
    whatsapp_handshake,
    whatsapp_signatures,
    twilio_signatures,
    third_party_signatures_are_accepted
);
