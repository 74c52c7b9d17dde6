//! Campaigns (issue 14 items 2 and 3): CRUD with validation naming the
//! field, roles (viewers read, only admins write and send; non-members and
//! other projects get 404), the state machine's 409s; and sending against a
//! real `aiosmtpd` (`python/smtp_sink.py`, skipped loudly without it):
//! recipients materialised with the skipped ones by reason, each sent
//! exactly once with its rendered MIME message (headers, text and HTML
//! parts, `List-Unsubscribe`), a 550 a hard bounce that later campaigns
//! skip, pause/resume/cancel, the test send, and a restart that finds a
//! recipient left claimed and reports it `unknown` without resending it.

use std::collections::HashMap;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use vibe_store::campaigns::RecipientStatus;
use vibe_store::Role;

use crate::email::{email_channel, header, split_message, Sink};
use crate::helpers::*;
use crate::on_both_backends;
use crate::webhooks::configure;

pub(crate) fn fast(c: &mut vibe_server::config::Config) {
    c.outbound_poll_every = Duration::from_millis(50);
}

pub(crate) fn base(pid: &str) -> String {
    format!("/api/v1/projects/{pid}/campaigns")
}

pub(crate) fn inline(name: &str, segment: &str) -> Value {
    json!({
        "name": name,
        "channel": "email",
        "content": {
            "subject": "Hello {{ contact.name | default('there') }}",
            "body_html": "<p>Hi {{ contact.name }}, plan {{ contact.traits.plan | upper }}.</p>\n<p><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p>",
            "body_text": "Hi {{ contact.name }}, plan {{ contact.traits.plan | upper }}.\nUnsubscribe: {{ unsubscribe_url }}",
        },
        "segment": segment,
        "rate_per_minute": 6000,
    })
}

pub(crate) async fn person(app: &TestApp, write_key: &str, user: &str, traits: Value) {
    let anon = format!("{user}-anon");
    app.collect_ok(
        write_key,
        vec![identify(&anon, &format!("{user}-s"), user, traits)],
    )
    .await;
}

pub(crate) async fn create(app: &TestApp, who: &Session, pid: &str, body: Value) -> Value {
    created(app.post(who, &base(pid), body).await).await
}

pub(crate) async fn action(
    app: &TestApp,
    who: &Session,
    pid: &str,
    cid: &str,
    what: &str,
) -> Value {
    let res = app
        .post(who, &format!("{}/{cid}/{what}", base(pid)), json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::OK, "{what}");
    res.json().await.unwrap()
}

/// The campaign once its status is `status` (waits up to 10 s).
pub(crate) async fn until_status(
    app: &TestApp,
    who: &Session,
    pid: &str,
    cid: &str,
    status: &str,
) -> Value {
    for _ in 0..400 {
        let c = app.get_json(who, &format!("{}/{cid}", base(pid))).await;
        if c["status"] == status {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("campaign {cid} never became {status}");
}

async fn campaigns_crud_validation_and_roles(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let url = base(&p.id);
    let admin = app.as_role(Role::Admin).await;
    let supervisor = app.as_role(Role::Supervisor).await;
    let viewer = app.as_role(Role::Viewer).await;

    let c = create(&app, &admin, &p.id, inline("Spring sale", "all")).await;
    let cid = c["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (
            &c["status"],
            &c["kind"],
            &c["segment"],
            &c["rate_per_minute"]
        ),
        (
            &json!("draft"),
            &json!("segment"),
            &json!("all"),
            &json!(6000)
        )
    );
    assert_eq!(
        c["content"]["subject"],
        inline("", "")["content"]["subject"]
    );

    // Every member reads, with progress.
    let got = app.get_json(&viewer, &format!("{url}/{cid}")).await;
    assert_eq!(got["name"], "Spring sale");
    assert_eq!(got["progress"]["total"], 0);
    assert_eq!(got["progress"]["eta_seconds"], Value::Null);
    let list = app.get_json(&viewer, &url).await;
    assert_eq!(list["campaigns"].as_array().unwrap().len(), 1);

    // Below admin: 403 on every write.
    for who in [&viewer, &supervisor] {
        let res = app.post(who, &url, inline("x", "all")).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let res = app
            .put(who, &format!("{url}/{cid}"), inline("x", "all"))
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let res = app.delete(who, &format!("{url}/{cid}")).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        for what in ["send", "pause", "resume", "cancel", "test"] {
            let res = app
                .post(who, &format!("{url}/{cid}/{what}"), json!({}))
                .await;
            assert_eq!(res.status(), StatusCode::FORBIDDEN, "{what}");
        }
    }

    // A template of the project, of the campaign's channel.
    let t = created(
        app.post(
            &owner,
            &format!("/api/v1/projects/{}/templates", p.id),
            json!({"name": "Welcome", "channel": "email", "subject": "Hi", "body_text": "Hello"}),
        )
        .await,
    )
    .await;
    let tid = t["id"].as_str().unwrap();
    let push = created(
        app.post(
            &owner,
            &format!("/api/v1/projects/{}/templates", p.id),
            json!({"name": "Push", "channel": "push", "push": {"title": "T", "body": "B"}}),
        )
        .await,
    )
    .await;
    let by_template = json!({"name": "From template", "channel": "email", "template_id": tid,
        "segment": "active"});
    let from_t = create(&app, &owner, &p.id, by_template.clone()).await;
    assert_eq!(from_t["template_id"], tid);
    assert_eq!(from_t["content"], Value::Null);

    // Validation: each refusal names its field.
    let with = |k: &str, v: Value| {
        let mut b = inline("Bad", "all");
        if v.is_null() {
            b.as_object_mut().unwrap().remove(k);
        } else {
            b[k] = v;
        }
        b
    };
    let cases = vec![
        (with("name", Value::Null), 400, "name"),
        (with("name", json!(7)), 400, "name"),
        (with("channel", json!("fax")), 400, "channel"),
        (with("segment", Value::Null), 400, "segment"),
        (with("segment", json!("no-such-segment")), 400, "segment"),
        (with("rate_per_minute", json!(0)), 400, "rate_per_minute"),
        (
            with("rate_per_minute", json!(1_000_000)),
            400,
            "rate_per_minute",
        ),
        (with("send_at", json!("tomorrow")), 400, "send_at"),
        (with("extra", json!(1)), 400, "extra"),
        (with("template_id", json!(tid)), 400, "content"),
        (with("content", Value::Null), 400, "template_id"),
        (with("content", json!("text")), 400, "content"),
        (
            with("content", json!({"body_text": "x"})),
            400,
            "content.subject",
        ),
        (
            with(
                "content",
                json!({"subject": "s", "body_text": "x", "push": 1}),
            ),
            400,
            "content.push",
        ),
        (
            with(
                "content",
                json!({"subject": "s", "body_html": "<p>\n{{ contact.name }"}),
            ),
            422,
            "content.body_html",
        ),
        (
            json!({"name": "x", "channel": "email", "template_id": "nope", "segment": "all"}),
            400,
            "template_id",
        ),
        (
            json!({"name": "x", "channel": "email", "template_id": push["id"], "segment": "all"}),
            400,
            "template_id",
        ),
    ];
    for (body, status, field) in cases {
        let res = app.post(&owner, &url, body.clone()).await;
        assert_eq!(res.status().as_u16(), status, "{body}");
        let e: Value = res.json().await.unwrap();
        assert_eq!(e["error"]["field"], field, "{body}: {e}");
    }

    // Edits while draft; a custom segment by id.
    let seg = created(
        app.post(
            &owner,
            &format!("/api/v1/projects/{}/segments", p.id),
            json!({"name": "Pro", "criteria": {"field": "plan", "op": "eq", "value": "pro"}}),
        )
        .await,
    )
    .await;
    let mut edit = inline("Spring sale v2", seg["id"].as_str().unwrap());
    edit["send_at"] = json!(app.clock.now_ms() + 3_600_000);
    let res = app.put(&admin, &format!("{url}/{cid}"), edit.clone()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let got = app.get_json(&viewer, &format!("{url}/{cid}")).await;
    assert_eq!(
        (&got["name"], &got["segment"]),
        (&json!("Spring sale v2"), &seg["id"])
    );

    // The state machine: pausing a draft is 409; sending needs the email
    // channel; push cannot be sent yet.
    let res = app
        .post(&admin, &format!("{url}/{cid}/pause"), json!({}))
        .await;
    let e = assert_error(res, StatusCode::CONFLICT, "invalid_transition").await;
    assert!(e["message"].as_str().unwrap().contains("draft"), "{e}");
    let res = app
        .post(&admin, &format!("{url}/{cid}/send"), json!({}))
        .await;
    assert_error(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "channel_not_configured",
    )
    .await;
    // WhatsApp campaigns cannot be sent yet (push can: campaigns_channels.rs).
    let wa = created(
        app.post(
            &owner,
            &format!("/api/v1/projects/{}/templates", p.id),
            json!({"name": "WA", "channel": "whatsapp", "body_text": "B"}),
        )
        .await,
    )
    .await;
    let p_c = create(
        &app,
        &owner,
        &p.id,
        json!({"name": "WA c", "channel": "whatsapp", "template_id": wa["id"], "segment": "all"}),
    )
    .await;
    let res = app
        .post(
            &admin,
            &format!("{url}/{}/send", p_c["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_error(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "channel_not_supported",
    )
    .await;

    // Scheduled (send_at ahead): still editable, not deletable once sending.
    configure(&app, &owner, &p.id, "email", email_channel(1)).await;
    let c = action(&app, &admin, &p.id, &cid, "send").await;
    assert_eq!(c["status"], "scheduled");
    let res = app
        .post(&admin, &format!("{url}/{cid}/send"), json!({}))
        .await;
    assert_error(res, StatusCode::CONFLICT, "invalid_transition").await;
    let res = app.put(&admin, &format!("{url}/{cid}"), edit.clone()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let c = action(&app, &admin, &p.id, &cid, "cancel").await;
    assert_eq!(c["status"], "cancelled");
    let res = app.put(&admin, &format!("{url}/{cid}"), edit.clone()).await;
    assert_error(res, StatusCode::CONFLICT, "not_editable").await;
    let res = app
        .post(&admin, &format!("{url}/{cid}/resume"), json!({}))
        .await;
    assert_error(res, StatusCode::CONFLICT, "invalid_transition").await;

    // Another project: its admin sees none of ours, and ours not its.
    let other = app.create_project(&owner, "Other shop").await;
    let theirs = create(&app, &owner, &other.id, inline("Theirs", "all")).await;
    let tcid = theirs["id"].as_str().unwrap();
    for (method, path) in [
        ("GET", format!("{url}/{tcid}")),
        ("PUT", format!("{url}/{tcid}")),
        ("DELETE", format!("{url}/{tcid}")),
        ("POST", format!("{url}/{tcid}/send")),
        ("POST", format!("{url}/{tcid}/cancel")),
        ("POST", format!("{url}/{tcid}/test")),
    ] {
        let res = match method {
            "GET" => app.get(&owner, &path).await,
            "PUT" => app.put(&owner, &path, inline("x", "all")).await,
            "DELETE" => app.delete(&owner, &path).await,
            _ => {
                app.post(&owner, &path, json!({"addresses": ["a@example.com"]}))
                    .await
            }
        };
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{method} {path}");
    }
    // A non-member: 404 on the project's campaigns.
    let outsider = app.create_user("outsider@example.com", Role::Owner).await;
    let res = app
        .get(&outsider, &format!("{}/{tcid}", base(&other.id)))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // Deletes: the cancelled one goes; 404 after.
    let res = app.delete(&admin, &format!("{url}/{cid}")).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app.get(&viewer, &format!("{url}/{cid}")).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}

/// `(name, value)` headers, or `(content type, body)` parts.
pub(crate) type Pairs = Vec<(String, String)>;

/// A raw message's headers and parts: `(content type, decoded body)` of
/// each part of a multipart message, or of the single body.
pub(crate) fn parts(raw: &str) -> (Pairs, Pairs) {
    let (headers, body) = split_message(raw);
    let ct = header(&headers, "content-type").unwrap_or("").to_owned();
    let Some(boundary) = ct
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
        .map(|b| b.trim_matches('"').to_owned())
    else {
        let cte = header(&headers, "content-transfer-encoding").unwrap_or("");
        return (headers.clone(), vec![(ct, decode(cte, &body))]);
    };
    let mut out = Vec::new();
    for chunk in body.split(&format!("--{boundary}")).skip(1) {
        if chunk.starts_with("--") {
            break;
        }
        let chunk = chunk.trim_start_matches("\r\n");
        let (h, b) = split_message(chunk);
        let cte = header(&h, "content-transfer-encoding").unwrap_or("");
        out.push((
            header(&h, "content-type").unwrap_or("").to_owned(),
            decode(cte, b.trim_end_matches("\r\n")),
        ));
    }
    (headers, out)
}

/// Quoted-printable (soft breaks, `=XX`) or as is.
fn decode(cte: &str, body: &str) -> String {
    if !cte.eq_ignore_ascii_case("quoted-printable") {
        return body.replace("\r\n", "\n");
    }
    let joined = body.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap().replace("\r\n", "\n")
}

/// ana (pro), bob (free, unsubscribed), cy (no email), reject (a 550 at
/// the server), dan (pro, upper-case address).
async fn audience(app: &TestApp, p: &vibe_store::Project) {
    let wk = &p.write_key;
    person(
        app,
        wk,
        "ana",
        json!({"name": "Ana", "email": "ana@example.com", "plan": "pro"}),
    )
    .await;
    person(
        app,
        wk,
        "bob",
        json!({"name": "Bob", "email": "bob@example.com", "plan": "free"}),
    )
    .await;
    person(app, wk, "cy", json!({"name": "Cy"})).await;
    person(
        app,
        wk,
        "rej",
        json!({"name": "Rej", "email": "reject@example.com"}),
    )
    .await;
    person(
        app,
        wk,
        "dan",
        json!({"name": "Dan", "email": "DAN@Example.com", "plan": "pro"}),
    )
    .await;
    app.state
        .store
        .add_unsubscribe(&p.id, "email", "bob@example.com", None, None, 0)
        .await
        .unwrap();
}

async fn campaign_sends_each_recipient_once_over_smtp(backend: Backend) {
    let Some(sink) = Sink::start() else {
        return;
    };
    let Some((app, owner, p)) = signed_in_with(backend, fast).await else {
        return;
    };
    configure(&app, &owner, &p.id, "email", email_channel(sink.port)).await;
    audience(&app, &p).await;

    // The test send reaches only the given address and records nothing.
    let c = create(&app, &owner, &p.id, inline("Launch", "all")).await;
    let cid = c["id"].as_str().unwrap().to_owned();
    let res = app
        .post(
            &owner,
            &format!("{}/{cid}/test", base(&p.id)),
            json!({"addresses": ["qa@example.com"], "contact_id": "ana"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let out: Value = res.json().await.unwrap();
    assert_eq!(
        out["results"],
        json!([{"address": "qa@example.com", "status": "sent", "error": null}])
    );
    let got = sink.wait_for(1).await;
    assert_eq!(got[0].0["rcpt_tos"], json!(["qa@example.com"]));
    let (h, _) = split_message(&got[0].1);
    assert_eq!(header(&h, "subject"), Some("Hello Ana"));
    let c = app
        .get_json(&owner, &format!("{}/{cid}", base(&p.id)))
        .await;
    assert_eq!(
        (&c["status"], &c["progress"]["total"]),
        (&json!("draft"), &json!(0))
    );
    let res = app
        .post(
            &owner,
            &format!("{}/{cid}/test", base(&p.id)),
            json!({"addresses": ["nope"]}),
        )
        .await;
    assert_field_error(
        res,
        StatusCode::BAD_REQUEST,
        "invalid_field",
        "addresses[0]",
    )
    .await;

    // Send: materialised at once, the skipped ones by reason.
    let c = action(&app, &owner, &p.id, &cid, "send").await;
    assert_eq!(c["status"], "sending");
    assert_eq!(c["recipients"], 5);
    assert_eq!(
        c["progress"]["skipped"],
        json!({"total": 2, "no_address": 1, "unsubscribed": 1, "bounced": 0})
    );
    let done = until_status(&app, &owner, &p.id, &cid, "sent").await;
    let progress = &done["progress"];
    assert_eq!(
        (&progress["sent"], &progress["failed"]),
        (&json!(2), &json!(1)),
        "{done}"
    );
    assert_eq!(
        (&progress["queued"], &progress["unknown"]),
        (&json!(0), &json!(0))
    );
    assert!(done["finished_at"].is_i64());

    // Each recipient once, rendered for them.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got = sink.received();
    assert_eq!(got.len(), 3, "the test and two recipients");
    let store = &app.state.store;
    let recipients = store
        .campaign_recipients(&p.id, &cid, Some(RecipientStatus::Sent), None, 10)
        .await
        .unwrap();
    let by_address: HashMap<String, _> = recipients
        .iter()
        .map(|r| (r.address.clone().unwrap(), r.clone()))
        .collect();
    let mut seen = Vec::new();
    for (envelope, raw) in &got[1..] {
        let to = envelope["rcpt_tos"][0].as_str().unwrap().to_owned();
        let r = &by_address[&to];
        let name = if to.starts_with("ana") { "Ana" } else { "Dan" };
        let (h, bodies) = parts(raw);
        assert_eq!(
            header(&h, "from"),
            Some("\"Shop Support\" <help@shop.example>")
        );
        assert_eq!(header(&h, "to").unwrap(), format!("{name} <{to}>"));
        assert_eq!(header(&h, "subject").unwrap(), format!("Hello {name}"));
        assert_eq!(header(&h, "message-id"), r.message_id.as_deref());
        assert!(header(&h, "date").is_some());
        let token = r.token.as_deref().unwrap();
        assert_eq!(token.len(), 32);
        let unsub = header(&h, "list-unsubscribe").unwrap();
        assert!(
            unsub.contains(&format!(
                "<mailto:help@shop.example?subject=unsubscribe%20{token}>"
            )),
            "{unsub}"
        );
        assert!(unsub.contains(&format!("/unsubscribe/{token}>")), "{unsub}");
        assert_eq!(
            header(&h, "list-unsubscribe-post"),
            Some("List-Unsubscribe=One-Click")
        );
        assert!(header(&h, "content-type")
            .unwrap()
            .starts_with("multipart/alternative"));
        assert_eq!(bodies.len(), 2, "{raw}");
        assert!(bodies[0].0.starts_with("text/plain"), "{bodies:?}");
        assert!(bodies[1].0.starts_with("text/html"), "{bodies:?}");
        let text = &bodies[0].1;
        assert!(
            text.starts_with(&format!("Hi {name}, plan PRO.\nUnsubscribe: http")),
            "{text}"
        );
        assert!(text.contains(&format!("/unsubscribe/{token}")), "{text}");
        let html = &bodies[1].1;
        assert!(
            html.starts_with(&format!("<p>Hi {name}, plan PRO.</p>")),
            "{html}"
        );
        assert!(
            html.contains(&format!("&#x2f;unsubscribe&#x2f;{token}")),
            "{html}"
        );
        seen.push(to);
    }
    seen.sort();
    assert_eq!(seen, ["ana@example.com", "dan@example.com"]);

    // The recipients' pages: every row once, by status, without tokens.
    let rurl = format!("{}/{cid}/recipients", base(&p.id));
    let viewer = app.as_role(Role::Viewer).await;
    let first = app.get_json(&viewer, &format!("{rurl}?limit=3")).await;
    assert_eq!(first["recipients"].as_array().unwrap().len(), 3);
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest = app
        .get_json(&viewer, &format!("{rurl}?limit=3&cursor={cursor}"))
        .await;
    assert_eq!(rest["recipients"].as_array().unwrap().len(), 2);
    assert_eq!(rest["next_cursor"], Value::Null);
    assert!(!first
        .to_string()
        .contains(by_address["ana@example.com"].token.as_deref().unwrap()));
    let skipped = app
        .get_json(&viewer, &format!("{rurl}?status=skipped"))
        .await;
    let mut reasons: Vec<&str> = skipped["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["skip_reason"].as_str().unwrap())
        .collect();
    reasons.sort();
    assert_eq!(reasons, ["no_address", "unsubscribed"]);
    let res = app.get(&viewer, &format!("{rurl}?status=opened")).await;
    assert_field_error(res, StatusCode::BAD_REQUEST, "invalid_field", "status").await;
    let res = app.get(&viewer, &format!("{rurl}?cursor=zz")).await;
    assert_field_error(res, StatusCode::BAD_REQUEST, "invalid_field", "cursor").await;

    // The 550: failed as a hard bounce, with its event.
    let failed = store
        .campaign_recipients(&p.id, &cid, Some(RecipientStatus::Failed), None, 10)
        .await
        .unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].address.as_deref(), Some("reject@example.com"));
    assert!(
        failed[0].error.as_deref().unwrap().contains("550"),
        "{failed:?}"
    );
    let events = store
        .campaign_events(&p.id, &cid, &failed[0].person_id)
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, "bounced");

    // A later campaign skips the bounced address; segments still apply.
    let later = create(&app, &owner, &p.id, inline("Later", "all")).await;
    let lid = later["id"].as_str().unwrap().to_owned();
    let c = action(&app, &owner, &p.id, &lid, "send").await;
    assert_eq!(
        c["progress"]["skipped"],
        json!({"total": 3, "no_address": 1, "unsubscribed": 1, "bounced": 1})
    );
    until_status(&app, &owner, &p.id, &lid, "sent").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        sink.received().len(),
        5,
        "ana and dan once more, nobody else"
    );
    app.stop().await;
}

async fn campaign_pause_resume_and_cancel(backend: Backend) {
    let Some(sink) = Sink::start() else {
        return;
    };
    let Some((app, owner, p)) = signed_in_with(backend, fast).await else {
        return;
    };
    configure(&app, &owner, &p.id, "email", email_channel(sink.port)).await;
    for i in 0..4 {
        let u = format!("p{i}");
        person(
            &app,
            &p.write_key,
            &u,
            json!({"email": format!("{u}@example.com")}),
        )
        .await;
    }
    // 120 a minute: one every half second.
    let mut body = inline("Slow", "all");
    body["rate_per_minute"] = json!(120);
    let c = create(&app, &owner, &p.id, body.clone()).await;
    let cid = c["id"].as_str().unwrap().to_owned();
    action(&app, &owner, &p.id, &cid, "send").await;
    sink.wait_for(1).await;
    let paused = action(&app, &owner, &p.id, &cid, "pause").await;
    assert_eq!(paused["status"], "paused");
    assert!(paused["progress"]["eta_seconds"].is_i64());
    // A send already claimed may still finish; then nothing more.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let at_pause = sink.received().len();
    assert!(at_pause < 4, "{at_pause}");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        sink.received().len(),
        at_pause,
        "nothing is sent while paused"
    );
    let res = app
        .post(&owner, &format!("{}/{cid}/pause", base(&p.id)), json!({}))
        .await;
    assert_error(res, StatusCode::CONFLICT, "invalid_transition").await;
    action(&app, &owner, &p.id, &cid, "resume").await;
    let done = until_status(&app, &owner, &p.id, &cid, "sent").await;
    assert_eq!(done["progress"]["sent"], 4);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(sink.received().len(), 4, "each once");

    // Cancel mid-way: the rest is never sent.
    let c = create(&app, &owner, &p.id, body).await;
    let cid = c["id"].as_str().unwrap().to_owned();
    action(&app, &owner, &p.id, &cid, "send").await;
    sink.wait_for(5).await;
    let cancelled = action(&app, &owner, &p.id, &cid, "cancel").await;
    assert_eq!(cancelled["status"], "cancelled");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let c = app
        .get_json(&owner, &format!("{}/{cid}", base(&p.id)))
        .await;
    let (sent, cancelled) = (
        c["progress"]["sent"].as_i64().unwrap(),
        c["progress"]["cancelled"].as_i64().unwrap(),
    );
    assert!(cancelled >= 1, "{c}");
    assert_eq!(sent + cancelled, 4, "{c}");
    assert_eq!(sink.received().len() as i64, 4 + sent);
    app.stop().await;
}

/// A crash after a claim, before the outcome was stored: the restarted
/// server reports that recipient `unknown` and does not send to it; the
/// others go out once each.
async fn campaign_restart_reports_claimed_unknown(backend: Backend) {
    let Some(sink) = Sink::start() else {
        return;
    };
    // The first server's sender sleeps through the test (one round at start).
    let Some((app, owner, p)) = signed_in_with(backend, |c| {
        c.outbound_poll_every = Duration::from_secs(3600);
    })
    .await
    else {
        return;
    };
    configure(&app, &owner, &p.id, "email", email_channel(sink.port)).await;
    for u in ["r0", "r1", "r2"] {
        person(
            &app,
            &p.write_key,
            u,
            json!({"email": format!("{u}@example.com")}),
        )
        .await;
    }
    let c = create(&app, &owner, &p.id, inline("Restart", "all")).await;
    let cid = c["id"].as_str().unwrap().to_owned();
    let c = action(&app, &owner, &p.id, &cid, "send").await;
    assert_eq!(
        (&c["status"], &c["progress"]["queued"]),
        (&json!("sending"), &json!(3))
    );
    // What a sender does right before its SMTP exchange, then "crashes".
    let claimed = app
        .state
        .store
        .claim_recipient(
            &p.id,
            &cid,
            "crash-token-0000000000000000000000",
            app.clock.now_ms(),
        )
        .await
        .unwrap()
        .expect("a recipient to claim");
    let app = app.restart(fast).await;
    let owner = app.login_owner().await;
    let done = until_status(&app, &owner, &p.id, &cid, "sent").await;
    assert_eq!(
        (&done["progress"]["sent"], &done["progress"]["unknown"]),
        (&json!(2), &json!(1))
    );
    let unknown = app
        .state
        .store
        .campaign_recipients(&p.id, &cid, Some(RecipientStatus::Unknown), None, 10)
        .await
        .unwrap();
    assert_eq!(unknown.len(), 1);
    assert_eq!(unknown[0].person_id, claimed.person_id);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut to: Vec<String> = sink
        .received()
        .iter()
        .map(|(e, _)| e["rcpt_tos"][0].as_str().unwrap().to_owned())
        .collect();
    to.sort();
    let mut want: Vec<String> = ["r0", "r1", "r2"]
        .iter()
        .map(|u| format!("{u}@example.com"))
        .filter(|a| Some(a.as_str()) != claimed.address.as_deref())
        .collect();
    want.sort();
    assert_eq!(to, want, "the claimed one is not sent; the others once");
    app.stop().await;
}

/// `POST …/templates/{template_id}/send`: a direct campaign to the given
/// contacts (ids resolved, repeats once, strangers listed), `data`
/// rendered, each reached once; its refusals and roles.
async fn template_send_to_chosen_contacts(backend: Backend) {
    let Some(sink) = Sink::start() else {
        return;
    };
    let Some((app, owner, p)) = signed_in_with(backend, fast).await else {
        return;
    };
    audience(&app, &p).await;
    let templates = format!("/api/v1/projects/{}/templates", p.id);
    let t = created(
        app.post(
            &owner,
            &templates,
            json!({"name": "Receipt", "channel": "email", "subject": "Your code, {{ contact.name }}",
                "body_text": "Code {{ data.code }} for {{ contact.email }}"}),
        )
        .await,
    )
    .await;
    let send = format!("{templates}/{}/send", t["id"].as_str().unwrap());
    let body = json!({"user_ids": ["ana", "cy", "ana", "ghost"], "data": {"code": "X1"}});
    // Without an email channel: nothing is created.
    let res = app.post(&owner, &send, body.clone()).await;
    assert_error(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "channel_not_configured",
    )
    .await;
    configure(&app, &owner, &p.id, "email", email_channel(sink.port)).await;
    for (bad, field) in [
        (json!({"user_ids": []}), "user_ids"),
        (json!({"user_ids": "ana"}), "user_ids"),
        (json!({"user_ids": [7]}), "user_ids[0]"),
        (json!({"user_ids": ["ana"], "data": [1]}), "data"),
        (
            json!({"user_ids": ["ana"], "rate_per_minute": 0}),
            "rate_per_minute",
        ),
        (json!({"user_ids": ["ana"], "to": "x"}), "to"),
        (json!({"data": {}}), "user_ids"),
    ] {
        let res = app.post(&owner, &send, bad.clone()).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{bad}");
        let e: Value = res.json().await.unwrap();
        assert_eq!(e["error"]["field"], field, "{bad}: {e}");
    }
    let res = app
        .post(&owner, &send, json!({"user_ids": ["ghost"]}))
        .await;
    assert_field_error(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "no_recipients",
        "user_ids",
    )
    .await;
    let supervisor = app.as_role(Role::Supervisor).await;
    let res = app.post(&supervisor, &send, body.clone()).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let other = app.create_project(&owner, "Other").await;
    let res = app
        .post(
            &owner,
            &format!(
                "/api/v1/projects/{}/templates/{}/send",
                other.id,
                t["id"].as_str().unwrap()
            ),
            body.clone(),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    let res = app.post(&owner, &send, body).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let c: Value = res.json().await.unwrap();
    assert_eq!(
        (&c["kind"], &c["status"], &c["segment"]),
        (&json!("direct"), &json!("sending"), &Value::Null)
    );
    assert_eq!(c["not_found"], json!(["ghost"]));
    assert_eq!(c["data"], json!({"code": "X1"}));
    assert_eq!((&c["recipients"], &c["skipped"]), (&json!(2), &json!(1)));
    assert_eq!(c["progress"]["skipped"]["no_address"], 1);
    let cid = c["id"].as_str().unwrap().to_owned();
    let done = until_status(&app, &owner, &p.id, &cid, "sent").await;
    assert_eq!(done["progress"]["sent"], 1);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let got = sink.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0["rcpt_tos"], json!(["ana@example.com"]));
    let (h, bodies) = parts(&got[0].1);
    assert_eq!(header(&h, "subject"), Some("Your code, Ana"));
    assert!(header(&h, "list-unsubscribe").is_some());
    assert_eq!(bodies[0].1.trim_end(), "Code X1 for ana@example.com");
    // A direct campaign is listed like any, and not editable.
    let res = app
        .put(
            &owner,
            &format!("{}/{cid}", base(&p.id)),
            inline("x", "all"),
        )
        .await;
    assert_error(res, StatusCode::CONFLICT, "not_editable").await;
    app.stop().await;
}

/// The one recipient of `cid` in `status`.
async fn only(
    app: &TestApp,
    pid: &str,
    cid: &str,
    status: RecipientStatus,
) -> vibe_store::campaigns::Recipient {
    let rows = app
        .state
        .store
        .campaign_recipients(pid, cid, Some(status), None, 10)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "{status:?}: {rows:?}");
    rows[0].clone()
}

/// A 451 is retried after the backoff and, after `outbound_max_attempts`,
/// failed as a soft bounce (not remembered); a connection dropped after the
/// message is `unknown` and never resent, and the next recipient goes out on
/// a new connection; credentials the server refuses pause the campaign with
/// the reason, and `resume` after the fix finishes it.
async fn campaign_retries_unknown_and_setup_failures(backend: Backend) {
    let Some(sink) = Sink::start() else {
        return;
    };
    let Some((app, owner, p)) = signed_in_with(backend, |c| {
        fast(c);
        c.outbound_retry_base_ms = 100;
        c.outbound_max_attempts = 3;
    })
    .await
    else {
        return;
    };
    configure(&app, &owner, &p.id, "email", email_channel(sink.port)).await;
    for u in ["busy", "drop", "zed"] {
        person(
            &app,
            &p.write_key,
            u,
            json!({"email": format!("{u}@example.com")}),
        )
        .await;
    }
    let c = create(&app, &owner, &p.id, inline("Flaky", "all")).await;
    let cid = c["id"].as_str().unwrap().to_owned();
    action(&app, &owner, &p.id, &cid, "send").await;
    let done = until_status(&app, &owner, &p.id, &cid, "sent").await;
    let pr = &done["progress"];
    assert_eq!(
        (&pr["sent"], &pr["failed"], &pr["unknown"]),
        (&json!(1), &json!(1), &json!(1)),
        "{done}"
    );
    let store = &app.state.store;
    let busy = only(&app, &p.id, &cid, RecipientStatus::Failed).await;
    assert_eq!(
        (busy.address.as_deref(), busy.attempts),
        (Some("busy@example.com"), 3)
    );
    assert!(
        busy.error
            .as_deref()
            .unwrap()
            .starts_with("gave up after 3 attempts"),
        "{busy:?}"
    );
    let kinds: Vec<String> = store
        .campaign_events(&p.id, &cid, &busy.person_id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, ["deferred", "deferred", "failed"]);
    assert!(!store
        .address_bounced(&p.id, "email", "busy@example.com")
        .await
        .unwrap());
    let dropped = only(&app, &p.id, &cid, RecipientStatus::Unknown).await;
    assert_eq!(
        (dropped.address.as_deref(), dropped.attempts),
        (Some("drop@example.com"), 1)
    );
    let got = sink.received();
    assert_eq!(got.len(), 1, "only zed was accepted");
    assert_eq!(got[0].0["rcpt_tos"], json!(["zed@example.com"]));

    // Wrong credentials: paused with the server's answer, nobody lost.
    let mut bad = email_channel(sink.port);
    bad["username"] = json!("help");
    bad["password"] = json!("wrong-password");
    configure(&app, &owner, &p.id, "email", bad.clone()).await;
    let c = create(&app, &owner, &p.id, inline("Auth", "all")).await;
    let cid = c["id"].as_str().unwrap().to_owned();
    action(&app, &owner, &p.id, &cid, "send").await;
    let paused = until_status(&app, &owner, &p.id, &cid, "paused").await;
    assert!(
        paused["error"].as_str().unwrap().contains("535"),
        "{paused}"
    );
    assert_eq!(paused["progress"]["sent"], 0);
    bad["password"] = json!("smtp-password");
    configure(&app, &owner, &p.id, "email", bad).await;
    let resumed = action(&app, &owner, &p.id, &cid, "resume").await;
    assert_eq!(resumed["error"], Value::Null);
    until_status(&app, &owner, &p.id, &cid, "sent").await;
    app.stop().await;
}

on_both_backends!(
    campaigns_crud_validation_and_roles,
    campaign_sends_each_recipient_once_over_smtp,
    campaign_pause_resume_and_cancel,
    campaign_restart_reports_claimed_unknown,
    template_send_to_chosen_contacts,
    campaign_retries_unknown_and_setup_failures
);
