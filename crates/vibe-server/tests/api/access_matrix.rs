//! The access matrix: every route the router registers under
//! `/api/v1/projects/{id}` (taken from the same table it is built from,
//! `vibe_server::router::project_routes`), each method called with no
//! credential (401), as a signed-in non-member (404, nothing of the project in
//! the body), as each role below the route's minimum (403), and at the minimum
//! (let through), and below the minimum with a malformed body (still 403: the
//! role is checked before the body). A route added to the table is walked
//! here automatically.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use vibe_server::router::project_routes::{project_routes, RouteMethod};
use vibe_store::Role;

use crate::helpers::*;

/// Real ids from project B, so a 404 is about membership and "no data" means
/// none of these leaked.
struct Target {
    project_id: String,
    key_id: String,
    member_id: String,
    funnel_id: String,
    user_id: String,
    note_id: String,
    segment_id: String,
    flow_id: String,
    conversation_id: String,
    message_id: String,
    team_id: String,
    inbox_id: String,
    broadcast_id: String,
    template_id: String,
    push_id: String,
    campaign_id: String,
    /// Strings only B's members may see.
    secrets: Vec<String>,
}

impl Target {
    fn path(&self, template: &str) -> String {
        let mut out = String::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let close = rest[open..].find('}').expect("closing brace") + open;
            out.push_str(match &rest[open + 1..close] {
                "id" => &self.project_id,
                "key_id" => &self.key_id,
                "account_id" => &self.member_id,
                "fid" => &self.funnel_id,
                "uid" => &self.user_id,
                "nid" => &self.note_id,
                "sid" => &self.segment_id,
                "flow_id" => &self.flow_id,
                "cid" => &self.conversation_id,
                "mid" => &self.message_id,
                "tid" => &self.team_id,
                "iid" => &self.inbox_id,
                "bid" => &self.broadcast_id,
                "template_id" => &self.template_id,
                "push_id" => &self.push_id,
                "campaign_id" => &self.campaign_id,
                "priority" => "high",
                "kind" => "whatsapp",
                other => panic!(
                    "{template}: give the path parameter {{{other}}} a real value from project B in access_matrix.rs"
                ),
            });
            rest = &rest[close + 1..];
        }
        out.push_str(rest);
        out
    }
}

/// A body the handler accepts, so the role check (not validation) answers.
fn valid_body(method: &Method, template: &str, member_email: &str) -> Option<Value> {
    if *method == Method::GET || *method == Method::DELETE {
        return None;
    }
    let funnel = json!({"name": "Checkout", "window_days": 7, "steps": [
        {"match": "page", "value": "/"}, {"match": "event", "value": "buy"}]});
    Some(match (method.as_str(), template) {
        ("PATCH", "") => json!({"timezone": "UTC"}),
        ("POST", "/keys") => json!({"name": "matrix"}),
        ("POST", "/identity-secret") => json!({}),
        ("POST", "/members") => json!({"email": member_email, "role": "viewer"}),
        ("PATCH", "/members/{account_id}") => json!({"role": "viewer"}),
        ("POST", "/funnels") | ("PUT", "/funnels/{fid}") => funnel,
        ("PATCH", "/users/{uid}") => json!({"tags": ["matrix"], "priority": "vip"}),
        ("POST", "/users/{uid}/notes") => json!({"body": "matrix note"}),
        ("PUT", "/exchange-rates") => {
            json!({"rates": [{"day": "2027-01-15", "currency": "USD", "rate": 1.08}]})
        }
        ("POST", "/segments") | ("PUT", "/segments/{sid}") => {
            json!({"name": "Matrix", "criteria": {"field": "tag", "op": "has", "value": "matrix"}})
        }
        ("POST", "/segments/preview") => json!({"criteria": {"all": []}}),
        ("POST", "/segments/{sid}/refresh") => json!({}),
        ("POST", "/flows") | ("PUT", "/flows/{flow_id}") => json!({"name": "Matrix flow",
            "start": {"match": "event", "value": "go"}, "complete": {"match": "event", "value": "done"}}),
        ("POST", "/conversations") => {
            json!({"contact_id": "bravo-user", "assignee": null, "message": "matrix hello"})
        }
        ("PATCH", "/conversations/{cid}") => json!({"priority": "high"}),
        ("POST", "/conversations/{cid}/messages") => json!({"body": "matrix reply"}),
        ("POST", "/broadcasts") => json!({"segment_id": "matrix",
            "template": {"name": "matrix", "language": "en"}, "body": "matrix broadcast"}),
        ("POST", "/conversations/{cid}/messages/{mid}/read") => json!({}),
        ("POST", "/conversations/{cid}/messages/{mid}/retry") => json!({}),
        ("POST", "/users/{uid}/conversations") => json!({"message": "matrix dm"}),
        ("PUT", "/agents/me/status") => json!({"status": "online"}),
        ("POST", "/teams") => json!({"name": "Matrix team"}),
        ("POST", "/inboxes") => json!({"name": "Matrix inbox", "channel": "email"}),
        ("PUT", "/inboxes/{iid}/automation") => json!({"rules": []}),
        ("PATCH", "/teams/{tid}") => json!({"name": "Matrix renamed"}),
        ("PUT", "/teams/{tid}/members/{account_id}") => json!({}),
        ("PUT", "/sla-policies/{priority}") => {
            json!({"first_response_target_s": 60, "resolution_target_s": 3600})
        }
        ("PUT", "/channels/{kind}") => json!({"phone_number_id": "987654321012"}),
        ("PUT", "/support/settings") => json!({"agent_capacity": 4}),
        ("POST", "/templates") | ("PUT", "/templates/{template_id}") => {
            json!({"name": format!("Matrix {}", uuid()), "channel": "in_app", "body_text": "matrix"})
        }
        ("POST", "/templates/preview") => {
            json!({"template": {"name": "Matrix", "channel": "in_app", "body_text": "matrix"}})
        }
        ("POST", "/templates/{template_id}/preview") => json!({}),
        ("POST", "/templates/{template_id}/send") => json!({"user_ids": ["bravo-user"]}),
        ("POST", "/campaigns") | ("PUT", "/campaigns/{campaign_id}") => json!({
            "name": "Matrix campaign", "channel": "email", "segment": "all",
            "content": {"subject": "matrix", "body_text": "matrix"}}),
        ("POST", "/campaigns/{campaign_id}/send")
        | ("POST", "/campaigns/{campaign_id}/pause")
        | ("POST", "/campaigns/{campaign_id}/resume")
        | ("POST", "/campaigns/{campaign_id}/cancel") => json!({}),
        ("POST", "/campaigns/{campaign_id}/test") => json!({"addresses": ["matrix@example.com"]}),
        _ => panic!(
            "{method} {template}: add a valid request body to valid_body() in access_matrix.rs"
        ),
    })
}

/// Status and body of one call; `who` is `None` for no credential.
async fn call(
    app: &TestApp,
    route: &RouteMethod,
    path: &str,
    body: Option<&Value>,
    who: Option<&Session>,
) -> (StatusCode, String) {
    if route.websocket {
        return upgrade(app, path, who).await;
    }
    let mut req = app.client.request(route.method.clone(), app.url(path));
    if let Some(s) = who {
        req = req.header("cookie", &s.0);
    }
    if let Some(b) = body {
        req = req.json(b);
    }
    let res = req.send().await.expect("request");
    let status = res.status();
    (status, res.text().await.expect("body"))
}

/// A real WebSocket handshake; `101` when it is accepted.
async fn upgrade(app: &TestApp, path: &str, who: Option<&Session>) -> (StatusCode, String) {
    let url = format!("{}{path}", app.base.replacen("http", "ws", 1));
    let mut req = url.into_client_request().unwrap();
    if let Some(s) = who {
        req.headers_mut().insert("cookie", s.0.parse().unwrap());
        // A cookie-authenticated socket must come from the dashboard's origin.
        req.headers_mut()
            .insert("origin", app.base.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok(_) => (StatusCode::SWITCHING_PROTOCOLS, String::new()),
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => (
            StatusCode::from_u16(res.status().as_u16()).unwrap(),
            String::from_utf8_lossy(res.body().as_deref().unwrap_or_default()).into_owned(),
        ),
        Err(e) => panic!("websocket handshake to {path} failed: {e}"),
    }
}

fn error_code(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v["error"]["code"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

async fn add_member(app: &TestApp, owner: &Session, project_id: &str, email: &str, role: &str) {
    let res = app
        .post(
            owner,
            &format!("/api/v1/projects/{project_id}/members"),
            json!({"email": email, "role": role}),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "adding {email} as {role}"
    );
}

/// Project B with a key, a funnel, an identified visitor (tagged, with a note,
/// a custom event, AI usage and a payment), a segment and members of every
/// role; `outsider` owns project A and is not in B.
async fn every_project_route_checks_access(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let owner = app.login_owner().await;
    let b = app.create_project(&owner, "Bravo confidential").await;
    let base = format!("/api/v1/projects/{}", b.id);

    let key = app.mint_key(&owner, &b.id, "b-key").await;
    let funnel = json!({"name": "Bravo funnel", "steps": [{"match": "page", "value": "/"}]});
    let funnel = created(app.post(&owner, &format!("{base}/funnels"), funnel).await).await;
    let buyer = json!({"email": "buyer@bravo.example"});
    let visit = vec![
        pageview("b-anon", "b-session", "https://bravo.example/pricing"),
        identify("b-anon", "b-session", "bravo-user", buyer),
        event("b-anon", "b-session", "bravo-feature"),
    ];
    app.collect_ok(&b.write_key, visit).await;
    let tagged = json!({"tags": ["bravo-tag"], "properties": {"deal": "bravo-deal"}});
    let res = app
        .patch(&owner, &format!("{base}/users/bravo-user"), tagged)
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    // AI usage, through a secret key (the reserved event is server-side only).
    let ai = json!({"id": uuid(), "user_id": "bravo-user", "name": "ai_usage",
        "props": {"model": "bravo-model", "prompt_tokens": 3, "completion_tokens": 4}});
    let res = app
        .post_bearer(key["secret"].as_str().unwrap(), "/api/v1/track", ai)
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);

    // Revenue: a payment through /track and a rate of an unusual currency.
    let sk = app.secret_key(&owner, &b.id, "b-billing").await;
    let paid = json!({"id": uuid(), "user_id": "bravo-user", "name": "payment",
        "props": {"payment_id": "bravo-charge", "amount": 9_876_543, "currency": "XAU"}});
    let res = app.post_bearer(&sk, "/api/v1/track", paid).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let rate = json!({"rates": [{"day": "2027-01-15", "currency": "XAU", "rate": 0.000_5}]});
    let res = app
        .put(&owner, &format!("{base}/exchange-rates"), rate)
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    let segment = json!({"name": "Bravo segment", "description": "bravo-description",
        "criteria": {"field": "tag", "op": "has", "value": "bravo-tag"}});
    let segment = created(app.post(&owner, &format!("{base}/segments"), segment).await).await;

    let flow = json!({"name": "Bravo flow", "start": {"match": "event", "value": "bravo-feature"},
        "complete": {"match": "page", "value": "/bravo-done"}});
    let flow = created(app.post(&owner, &format!("{base}/flows"), flow).await).await;

    // A WhatsApp channel (the `{kind}` of the channel routes).
    let channel = json!({"phone_number_id": "987654321012", "access_token": "bravo-access-token",
        "app_secret": "bravo-app-secret", "verify_token": "bravo-verify-token"});
    let res = app
        .put(&owner, &format!("{base}/channels/whatsapp"), channel)
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    let outsider = app.create_user("outsider@example.com", Role::Owner).await;
    let viewer = app.create_user("viewer@example.com", Role::Viewer).await;
    let agent = app.create_user("agent@example.com", Role::Viewer).await;
    let supervisor = app
        .create_user("supervisor@example.com", Role::Viewer)
        .await;
    let admin = app.create_user("admin@example.com", Role::Viewer).await;
    let target = app.create_user("target@example.com", Role::Viewer).await;
    add_member(&app, &owner, &b.id, "viewer@example.com", "viewer").await;
    add_member(&app, &owner, &b.id, "agent@example.com", "agent").await;
    add_member(&app, &owner, &b.id, "supervisor@example.com", "supervisor").await;
    add_member(&app, &owner, &b.id, "admin@example.com", "admin").await;
    add_member(&app, &owner, &b.id, "target@example.com", "viewer").await;
    let as_role = |role: Role| match role {
        Role::Viewer => &viewer,
        Role::Agent => &agent,
        Role::Supervisor => &supervisor,
        Role::Admin => &admin,
        Role::Owner => &owner,
    };
    // Written by the agent, so the agent (the least role that deletes notes)
    // may delete it below.
    let note = json!({"body": "bravo-note"});
    let note = created(
        app.post(&agent, &format!("{base}/users/bravo-user/notes"), note)
            .await,
    )
    .await;

    // A conversation every member who works conversations may see
    // (unassigned, no team: the shared queue), with a message, a team and an
    // SLA policy.
    let dm = json!({"assignee": null, "message": "bravo-message-body"});
    let conversation = created(
        app.post(
            &owner,
            &format!("{base}/users/bravo-user/conversations"),
            dm,
        )
        .await,
    )
    .await;
    let cid = conversation["id"].as_str().unwrap().to_owned();
    let thread = app
        .get_json(&owner, &format!("{base}/conversations/{cid}/messages"))
        .await;
    let mid = thread["messages"][0]["id"].as_str().unwrap().to_owned();
    let team = json!({"name": "Bravo team"});
    let team = created(app.post(&owner, &format!("{base}/teams"), team).await).await;
    let inbox = json!({"name": "Bravo inbox", "channel": "whatsapp"});
    let inbox = created(app.post(&owner, &format!("{base}/inboxes"), inbox).await).await;
    let broadcast = json!({"segment_id": segment["id"], "body": "bravo-broadcast-body",
        "template": {"name": "bravo_template", "language": "en_US"}});
    let res = app
        .post(&owner, &format!("{base}/broadcasts"), broadcast)
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let broadcast: Value = res.json().await.unwrap();
    let template = json!({"name": "Bravo template", "channel": "email",
        "subject": "bravo-subject", "body_text": "bravo-template-body"});
    let template = created(
        app.post(&owner, &format!("{base}/templates"), template)
            .await,
    )
    .await;
    let campaign = json!({"name": "Bravo campaign", "channel": "email", "segment": "all",
        "content": {"subject": "bravo-campaign-subject", "body_text": "bravo-campaign-body"}});
    let campaign = created(
        app.post(&owner, &format!("{base}/campaigns"), campaign)
            .await,
    )
    .await;
    let sla = json!({"first_response_target_s": 77, "resolution_target_s": 7777});
    let res = app
        .put(&owner, &format!("{base}/sla-policies/urgent"), sla)
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    // A browser subscribed to web push on bravo-user.
    let person = app
        .state
        .store
        .find_user(&b.id, "bravo-user")
        .await
        .unwrap()
        .unwrap();
    let push = vibe_store::push::NewPushSubscription {
        site_user_id: person.id,
        endpoint: "https://push.bravo.example/bravo-endpoint".into(),
        p256dh: "bravo-p256dh".into(),
        auth: "bravo-auth".into(),
        user_agent: None,
    };
    let push = app
        .state
        .store
        .upsert_push_subscription(&b.id, "bravo-push", &push, 0)
        .await
        .unwrap();

    let t = Target {
        project_id: b.id.clone(),
        key_id: key["key"]["id"].as_str().unwrap().to_owned(),
        member_id: app.account_id(&target).await,
        funnel_id: funnel["id"].as_str().unwrap().to_owned(),
        user_id: "bravo-user".into(),
        note_id: note["id"].as_str().unwrap().to_owned(),
        segment_id: segment["id"].as_str().unwrap().to_owned(),
        flow_id: flow["id"].as_str().unwrap().to_owned(),
        conversation_id: cid,
        message_id: mid,
        team_id: team["id"].as_str().unwrap().to_owned(),
        inbox_id: inbox["id"].as_str().unwrap().to_owned(),
        broadcast_id: broadcast["id"].as_str().unwrap().to_owned(),
        template_id: template["id"].as_str().unwrap().to_owned(),
        push_id: push.id,
        campaign_id: campaign["id"].as_str().unwrap().to_owned(),
        secrets: vec![
            "push.bravo.example".into(),
            "Bravo campaign".into(),
            "bravo-campaign-subject".into(),
            "bravo-campaign-body".into(),
            "Bravo template".into(),
            "bravo-subject".into(),
            "bravo-template-body".into(),
            "bravo-broadcast-body".into(),
            "bravo_template".into(),
            b.name.clone(),
            b.write_key.clone(),
            key["key"]["prefix"].as_str().unwrap().to_owned(),
            "Bravo funnel".into(),
            "bravo-user".into(),
            "buyer@bravo.example".into(),
            "b-anon".into(),
            "target@example.com".into(),
            "pricing".into(),
            "bravo-tag".into(),
            "bravo-deal".into(),
            "bravo-note".into(),
            "bravo-feature".into(),
            "bravo-model".into(),
            "9876543".into(),
            "XAU".into(),
            "Bravo segment".into(),
            "bravo-description".into(),
            "Bravo flow".into(),
            "bravo-done".into(),
            "bravo-message-body".into(),
            "Bravo team".into(),
            "Bravo inbox".into(),
            "7777".into(),
            "987654321012".into(),
            "bravo-access-token".into(),
            "bravo-app-secret".into(),
        ],
    };

    let routes = project_routes();
    let mut checked = 0;
    // Refusals first: they must change nothing, and the allowed calls below may.
    for route in &routes {
        let path = t.path(&route.full_path());
        for m in &route.methods {
            let what = format!("{} {}", m.method, route.full_path());
            let body = valid_body(&m.method, route.path, "target@example.com");

            let (status, text) = call(&app, m, &path, body.as_ref(), None).await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{what} without credentials: {text}"
            );
            assert_eq!(error_code(&text), "unauthorized", "{what}: {text}");

            let (status, text) = call(&app, m, &path, body.as_ref(), Some(&outsider)).await;
            assert_eq!(
                status,
                StatusCode::NOT_FOUND,
                "{what} as a non-member: {text}"
            );
            assert_eq!(error_code(&text), "not_found", "{what}: {text}");
            for secret in &t.secrets {
                assert!(
                    !text.contains(secret.as_str()),
                    "{what} leaked {secret:?}: {text}"
                );
            }

            for role in [
                Role::Viewer,
                Role::Agent,
                Role::Supervisor,
                Role::Admin,
                Role::Owner,
            ] {
                if role >= m.min_role {
                    continue;
                }
                let (status, text) = call(&app, m, &path, body.as_ref(), Some(as_role(role))).await;
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{what} as {}: {text}",
                    role.as_str()
                );
                assert_eq!(error_code(&text), "forbidden", "{what}: {text}");
                if body.is_some() {
                    // The role is checked before the body is read: a caller
                    // below it learns nothing of what the route expects.
                    let junk = json!(["not", "a", "valid", "body"]);
                    let (status, text) =
                        call(&app, m, &path, Some(&junk), Some(as_role(role))).await;
                    assert_eq!(
                        status,
                        StatusCode::FORBIDDEN,
                        "{what} as {} with a malformed body: {text}",
                        role.as_str()
                    );
                }
            }
            checked += 1;
        }
    }
    // The table is not stricter than the handlers: the minimum role gets past
    // the access check (a later 404 may only be about a sub-resource an
    // earlier call here deleted, never about the project).
    for route in &routes {
        let path = t.path(&route.full_path());
        for m in &route.methods {
            let what = format!(
                "{} {} as {}",
                m.method,
                route.full_path(),
                m.min_role.as_str()
            );
            let body = valid_body(&m.method, route.path, "target@example.com");
            let (status, text) =
                call(&app, m, &path, body.as_ref(), Some(as_role(m.min_role))).await;
            assert!(
                !matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
                    && !text.contains("project not found"),
                "{what}: HTTP {status}: {text}"
            );
            if m.websocket {
                assert_eq!(status, StatusCode::SWITCHING_PROTOCOLS, "{what}: {text}");
            }
        }
    }
    assert!(checked >= 26, "only {checked} route methods walked");
}

crate::on_both_backends!(every_project_route_checks_access);
