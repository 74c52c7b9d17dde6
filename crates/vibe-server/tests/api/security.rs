//! Hardening: CSRF and origin checks, sign-in and setup throttling, the setup
//! claim, session cookies and clean-up, response headers, error texts, and
//! identity verification.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use vibe_server::identity::user_hash;
use vibe_server::secrets::sha256_hex;
use vibe_store::Role;

use crate::helpers::*;
use crate::on_both_backends;

const EVIL: &str = "https://evil.example";

fn cookie_token(s: &Session) -> String {
    s.0.split_once('=').expect("name=value").1.to_owned()
}

async fn cross_origin_writes_with_the_cookie_are_refused(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let owner = app.login_owner().await;
    // Not the default project, which new accounts join.
    let project = app.create_project(&owner, "Shop").await;
    app.add_account("ana@example.com", Role::Viewer).await;
    let members = format!("/api/v1/projects/{}/members", project.id);
    let before = app.members(&owner, &project.id).await;
    let add = r#"{"email":"ana@example.com","role":"admin"}"#;
    let cookie = |req: reqwest::RequestBuilder| req.header("cookie", &owner.0);
    let refused = [
        // What an HTML form on another site can send: text/plain, the cookie
        // attached by the browser, the other site's Origin.
        (
            cookie(app.client.post(app.url(&members)))
                .header("origin", EVIL)
                .header("content-type", "text/plain")
                .body(add),
            StatusCode::FORBIDDEN,
            "cross_origin",
        ),
        // Newer browsers say where a request comes from without an Origin.
        (
            cookie(app.bare(Method::POST, &members))
                .header("sec-fetch-site", "cross-site")
                .json(&json!({"email": "ana@example.com", "role": "admin"})),
            StatusCode::FORBIDDEN,
            "cross_origin",
        ),
        // A cookie request must say where it comes from.
        (
            cookie(app.bare(Method::DELETE, &format!("{members}/x"))),
            StatusCode::FORBIDDEN,
            "cross_origin",
        ),
        // Same origin but not JSON: a text/plain body is no longer parsed as JSON.
        (
            cookie(app.client.post(app.url(&members)))
                .header("content-type", "text/plain")
                .body(add),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
    ];
    for (req, status, code) in refused {
        assert_error(req.send().await.unwrap(), status, code).await;
    }
    assert_eq!(app.members(&owner, &project.id).await, before);

    // The dashboard itself: its Origin, or Sec-Fetch-Site: same-origin.
    let res = cookie(app.bare(Method::POST, &members))
        .header("sec-fetch-site", "same-origin")
        .json(&json!({"email": "ana@example.com", "role": "viewer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = app
        .post(
            &owner,
            "/api/v1/projects",
            json!({"name": "From the dashboard"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);

    // Token requests are not cookie-authenticated and need no Origin.
    let token = app.api_token(&owner, "ci").await;
    let res = app
        .bare(Method::POST, "/api/v1/projects")
        .bearer_auth(&token)
        .header("origin", EVIL)
        .json(&json!({"name": "From a script"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);

    // Signing in from another site is refused (login CSRF); curl still works.
    let login = json!({"email": OWNER_EMAIL, "password": OWNER_PASSWORD});
    let res = app
        .bare(Method::POST, "/api/v1/auth/login")
        .header("origin", EVIL)
        .json(&login)
        .send()
        .await
        .unwrap();
    assert_error(res, StatusCode::FORBIDDEN, "cross_origin").await;
    let res = app
        .bare(Method::POST, "/api/v1/auth/login")
        .json(&login)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // The collector is not cookie-authenticated: text/plain from any site.
    let batch =
        json!({"key": project.write_key, "batch": [pageview("a", "s", "https://shop.example/")]});
    let res = cookie(app.collect_request(batch.to_string()))
        .header("origin", EVIL)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
}

async fn ws(
    app: &TestApp,
    project_id: &str,
    cookie: Option<&Session>,
    token: Option<&str>,
    origin: Option<&str>,
) -> u16 {
    let mut url = format!(
        "{}/api/v1/projects/{project_id}/live",
        app.base.replacen("http", "ws", 1)
    );
    if let Some(t) = token {
        url.push_str(&format!("?token={t}"));
    }
    let mut req = url.into_client_request().unwrap();
    if let Some(s) = cookie {
        req.headers_mut().insert("cookie", s.0.parse().unwrap());
    }
    if let Some(o) = origin {
        req.headers_mut().insert("origin", o.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((_, res)) => res.status().as_u16(),
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => res.status().as_u16(),
        Err(e) => panic!("websocket connect failed: {e}"),
    }
}

async fn cross_origin_sockets_are_refused(backend: Backend) {
    let Some((app, owner, project)) = signed_in(backend).await else {
        return;
    };
    assert_eq!(
        ws(&app, &project.id, Some(&owner), None, Some(EVIL)).await,
        403
    );
    assert_eq!(ws(&app, &project.id, Some(&owner), None, None).await, 403);
    assert_eq!(
        ws(&app, &project.id, Some(&owner), None, Some(&app.base)).await,
        101
    );
    // A token is not ambient: any origin (or none) may use it.
    let token = app.api_token(&owner, "ws").await;
    assert_eq!(
        ws(&app, &project.id, None, Some(&token), Some(EVIL)).await,
        101
    );
}

async fn login_from(app: &TestApp, ip: &str, email: &str, password: &str) -> reqwest::Response {
    app.bare(Method::POST, "/api/v1/auth/login")
        .header("x-forwarded-for", ip)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

fn retry_after(res: &reqwest::Response) -> u64 {
    res.headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After")
}

async fn sign_in_is_throttled_per_ip_and_per_account(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |c| {
        c.trusted_proxies = vec![vibe_server::client_ip::IpNet::parse("127.0.0.1").unwrap()];
    })
    .await
    else {
        return;
    };
    app.as_role(Role::Viewer).await;
    // Ten wrong passwords for one account, each from another address.
    for i in 0..10 {
        let res = login_from(&app, &format!("10.0.0.{i}"), OWNER_EMAIL, "wrong-password").await;
        assert_error(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }
    let res = login_from(&app, "10.0.1.1", OWNER_EMAIL, OWNER_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        (895..=900).contains(&retry_after(&res)),
        "{}",
        retry_after(&res)
    );
    assert_error(res, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts").await;
    // Other accounts are not affected.
    let res = login_from(&app, "10.0.1.1", "viewer@example.com", OWNER_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);

    // Ten failures from one address, each for another (unknown) account.
    for i in 0..10 {
        let res = login_from(&app, "10.0.2.2", &format!("x{i}@example.com"), "nope-nope").await;
        assert_error(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }
    let res = login_from(&app, "10.0.2.2", "viewer@example.com", OWNER_PASSWORD).await;
    assert_error(res, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts").await;
    let res = login_from(&app, "10.0.3.3", "viewer@example.com", OWNER_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);

    // Fifteen minutes later both are free again.
    app.clock.advance_ms(15 * 60 * 1000);
    let res = login_from(&app, "10.0.2.2", OWNER_EMAIL, OWNER_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
}

async fn forwarded_for_is_ignored_without_trusted_proxies(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    // Every attempt claims another address; the peer is what counts.
    for i in 0..10 {
        let res = login_from(
            &app,
            &format!("10.0.0.{i}"),
            &format!("x{i}@example.com"),
            "nope-nope",
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = login_from(&app, "10.9.9.9", OWNER_EMAIL, OWNER_PASSWORD).await;
    assert_error(res, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts").await;
}

async fn setup_is_throttled(backend: Backend) {
    let Some(app) = spawn_app_with(backend, without_admin).await else {
        return;
    };
    let token = app.setup_token();
    for _ in 0..10 {
        let res = app.setup_as("guess", "me@example.com").await;
        assert_error(res, StatusCode::BAD_REQUEST, "invalid_token").await;
    }
    let res = app.setup_as(&token, "me@example.com").await;
    assert!(retry_after(&res) > 0);
    assert_error(res, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts").await;
    app.clock.advance_ms(15 * 60 * 1000);
    assert_eq!(
        app.setup_as(&token, "me@example.com").await.status(),
        StatusCode::OK
    );
}

async fn setup_token_is_claimed_once(backend: Backend) {
    let Some(app) = spawn_app_with(backend, without_admin).await else {
        return;
    };
    let token = app.setup_token();
    // An account with that email exists (made with `vibe user create`): a
    // conflict, answered without the database's words, and the token stays usable.
    app.add_account("taken@example.com", Role::Admin).await;
    let res = app.setup_as(&token, "taken@example.com").await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let text = res.text().await.unwrap();
    for leak in ["accounts", "constraint", "UNIQUE", "duplicate", "_key"] {
        assert!(!text.contains(leak), "{leak} in {text}");
    }
    // Racing requests with the one token: exactly one owner.
    let racers: Vec<_> = (0..6)
        .map(|i| {
            let (client, url, token) = (app.client.clone(), app.url("/api/v1/setup"), token.clone());
            tokio::spawn(async move {
                client
                    .post(url)
                    .json(&json!({"token": token, "email": format!("me{i}@example.com"), "password": "long-enough"}))
                    .send()
                    .await
                    .unwrap()
                    .status()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for r in racers {
        statuses.push(r.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    assert!(statuses
        .iter()
        .all(|s| *s == StatusCode::OK || *s == StatusCode::GONE));
    assert_eq!(app.state.store.count_owners().await.unwrap(), 1);
}

async fn setup_on_one_node_ends_it_on_the_others(backend: Backend) {
    if let Backend::Sqlite = backend {
        return; // SQLite is single-node.
    }
    let Some(first) = spawn_app_with(backend, without_admin).await else {
        return;
    };
    let second = spawn_second_node(&first, |_| {}).await;
    let (t1, t2) = (first.setup_token(), second.setup_token());
    assert_ne!(t1, t2, "each node prints its own link");
    assert_eq!(
        second.setup_as(&t2, "me@example.com").await.status(),
        StatusCode::OK
    );
    let res = first.setup_as(&t1, "two@example.com").await;
    assert_error(res, StatusCode::GONE, "setup_done").await;
}

async fn https_public_url_means_secure_host_cookies(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |c| {
        c.public_url = Some("https://vibe.example.com".into());
    })
    .await
    else {
        return;
    };
    // The Origin must now be public_url's.
    let login = |origin: &'static str| {
        app.bare(Method::POST, "/api/v1/auth/login")
            .header("origin", origin)
            .json(&json!({"email": OWNER_EMAIL, "password": OWNER_PASSWORD}))
            .send()
    };
    let res = login("http://127.0.0.1").await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = login("https://vibe.example.com").await.unwrap();
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("__Host-vibe_session="), "{cookie}");
    assert!(
        cookie.contains("; Secure") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(!cookie.contains("Domain"), "{cookie}");
    let session = session_from(res);
    let me = app.get(&session, "/api/v1/auth/me").await;
    assert_eq!(me.status(), StatusCode::OK);
    // The unprefixed name is not read: a sibling subdomain could have set it.
    let plain = Session(format!("vibe_session={}", cookie_token(&session)));
    assert_eq!(
        app.get(&plain, "/api/v1/auth/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let res = app
        .bare(Method::POST, "/api/v1/auth/logout")
        .header("cookie", &session.0)
        .header("origin", "https://vibe.example.com")
        .send()
        .await
        .unwrap();
    let cleared = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cleared.starts_with("__Host-vibe_session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
}

async fn expired_sessions_are_purged(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let session = app.login_owner().await;
    let hash = sha256_hex(&cookie_token(&session));
    let store = app.state.store.clone();
    vibe_server::run_maintenance(&app.state).await.unwrap();
    assert!(store.account_for_session(&hash, 0).await.unwrap().is_some());
    app.clock.advance_ms(30 * 24 * 3600 * 1000);
    vibe_server::run_maintenance(&app.state).await.unwrap();
    // Gone from the table, not merely expired.
    assert!(store.account_for_session(&hash, 0).await.unwrap().is_none());
}

async fn sign_out_everywhere(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let laptop = app.login_owner().await;
    let phone = app.login_owner().await;
    let other = app.as_role(Role::Viewer).await;
    let token = app.api_token(&laptop, "ci").await;
    let res = app
        .post(&laptop, "/api/v1/auth/logout-all", json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    for s in [&laptop, &phone] {
        assert_error(
            app.get(s, "/api/v1/auth/me").await,
            StatusCode::UNAUTHORIZED,
            "session_expired",
        )
        .await;
    }
    assert_eq!(
        app.get(&other, "/api/v1/auth/me").await.status(),
        StatusCode::OK
    );
    let res = app
        .call_bearer(&token, Method::GET, "/api/v1/auth/me", None)
        .await;
    assert_eq!(res.status(), StatusCode::OK, "API tokens are not sessions");
    let res = app
        .bare(Method::POST, "/api/v1/auth/logout-all")
        .send()
        .await
        .unwrap();
    assert_error(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

async fn responses_carry_security_headers(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    for path in ["/", "/settings", "/setup", "/api/v1/auth/me", "/vibe.js"] {
        let res = app.bare(Method::GET, path).send().await.unwrap();
        let h = res.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("script-src 'self';"), "{path}: {csp}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
    }
    let js = app.bare(Method::GET, "/setup.js").send().await.unwrap();
    assert!(js.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/javascript"));
}

fn signed_identify(anon: &str, user_id: &str, hash: Option<&str>) -> Value {
    let mut m = identify(anon, "s-1", user_id, json!({"plan": "pro"}));
    if let Some(h) = hash {
        m["user_hash"] = json!(h);
    }
    m
}

async fn identity_verification_rejects_unsigned_identifies(backend: Backend) {
    let Some((app, owner, project)) = signed_in(backend).await else {
        return;
    };
    let viewer = app.as_role(Role::Viewer).await;
    let p = format!("/api/v1/projects/{}", project.id);
    let secret_path = format!("{p}/identity-secret");
    assert_eq!(
        app.get_json(&owner, &p).await["identity_verification"],
        false
    );
    // Unsigned identifies are accepted while verification is off.
    app.collect_ok(
        &project.write_key,
        vec![signed_identify("a-0", "user-0", None)],
    )
    .await;

    // Viewers may not read or change it; other projects' members see nothing.
    assert_error(
        app.get(&viewer, &secret_path).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_error(
        app.post(&viewer, &secret_path, json!({})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let verification = |on: bool| json!({ "identity_verification": on });
    assert_error(
        app.patch(&viewer, &p, verification(true)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let stranger = app.create_user("stranger@example.com", Role::Viewer).await;
    // create_user joins the default project; a stranger owns only their own.
    let theirs = app.create_project(&stranger, "Theirs").await;
    assert_error(
        app.get(
            &owner,
            &format!("/api/v1/projects/{}/identity-secret", theirs.id),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    let res = app.patch(&owner, &p, verification(true)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json_of(res).await["identity_verification"], true);
    let got = app.get_json(&owner, &secret_path).await;
    assert_eq!(got["identity_verification"], true);
    let secret = got["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("vis_"), "{secret}");
    assert!(!app.get_json(&owner, &p).await.to_string().contains(&secret));

    let before = app.count_events(&project.id).await;
    for hash in [
        None,
        Some("00".repeat(32)),
        Some(user_hash(&secret, "user-2")),
    ] {
        let res = app
            .collect(
                &project.write_key,
                vec![signed_identify("a-1", "user-1", hash.as_deref())],
            )
            .await;
        let (status, code) = (StatusCode::UNAUTHORIZED, "invalid_user_hash");
        assert_field_error(res, status, code, "batch[0].user_hash").await;
    }
    assert_eq!(
        app.count_events(&project.id).await,
        before,
        "nothing stored"
    );
    let signed = user_hash(&secret, "user-1");
    app.collect_ok(
        &project.write_key,
        vec![signed_identify("a-1", "user-1", Some(&signed))],
    )
    .await;
    let store = app.state.store.clone();
    let person = store
        .site_user_for_anonymous_id(&project.id, "a-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(person.identity.user_id.as_deref(), Some("user-1"));

    // Someone else's browser claiming user-1 on a page view: counted, but
    // not as user-1.
    let mut claim = pageview("a-evil", "s-evil", "https://shop.example/");
    claim["user_id"] = json!("user-1");
    app.collect_ok(&project.write_key, vec![claim]).await;
    let evil = store
        .site_user_for_anonymous_id(&project.id, "a-evil")
        .await
        .unwrap()
        .unwrap();
    assert_ne!(evil.id, person.id);
    assert_eq!(evil.identity.user_id, None);

    // Rotating: the old signature stops working.
    let rotated = app.post_json(&owner, &secret_path, json!({})).await;
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    let res = app
        .collect(
            &project.write_key,
            vec![signed_identify("a-1", "user-1", Some(&signed))],
        )
        .await;
    assert_error(res, StatusCode::UNAUTHORIZED, "invalid_user_hash").await;
    app.collect_ok(
        &project.write_key,
        vec![signed_identify(
            "a-1",
            "user-1",
            Some(&user_hash(&new_secret, "user-1")),
        )],
    )
    .await;

    // Backends with a secret key need no signature.
    let sk = app.secret_key(&owner, &project.id, "backend").await;
    let identify_body = json!({"id": uuid(), "user_id": "user-9"});
    let res = app
        .call_bearer(&sk, Method::POST, "/api/v1/identify", Some(identify_body))
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);

    // Off again: unsigned identifies are accepted.
    let res = app.patch(&owner, &p, verification(false)).await;
    assert_eq!(json_of(res).await["identity_verification"], false);
    app.collect_ok(
        &project.write_key,
        vec![signed_identify("a-3", "user-3", None)],
    )
    .await;
}

on_both_backends!(
    cross_origin_writes_with_the_cookie_are_refused,
    cross_origin_sockets_are_refused,
    sign_in_is_throttled_per_ip_and_per_account,
    forwarded_for_is_ignored_without_trusted_proxies,
    setup_is_throttled,
    setup_token_is_claimed_once,
    setup_on_one_node_ends_it_on_the_others,
    https_public_url_means_secure_host_cookies,
    expired_sessions_are_purged,
    sign_out_everywhere,
    responses_carry_security_headers,
    identity_verification_rejects_unsigned_identifies,
);
