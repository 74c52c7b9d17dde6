//! Campaign tracking and compliance (issue 14 items 4-6) against a real
//! `aiosmtpd` sink: the received HTML's links are signed redirects and it
//! carries an open pixel; fetching them records `opened` (machine opens
//! marked) and `clicked`; the redirect refuses forged tokens, foreign
//! indexes and foreign URLs; the unsubscribe page is plain HTML with a form
//! and the RFC 8058 one-click POST works without cookies, idempotently; a
//! later campaign skips the unsubscribed contact; the stats and their
//! roles (viewers read, non-members and other projects 404).

use reqwest::StatusCode;
use serde_json::{json, Value};
use vibe_store::campaigns::RecipientStatus;
use vibe_store::Role;

use crate::campaigns::{action, base, create, fast, parts, person, until_status};
use crate::email::{email_channel, Sink};
use crate::helpers::*;
use crate::on_both_backends;
use crate::webhooks::configure;

fn content() -> Value {
    json!({
        "name": "Sale",
        "channel": "email",
        "content": {
            "subject": "Sale for {{ contact.name }}",
            "body_html": "<html><body><p>Hi {{ contact.name }}</p>\
                <p><a href=\"https://shop.example/sale?x=1&y={{ contact.name }}\">Sale</a>\
                <a href='mailto:help@shop.example'>Mail us</a>\
                <a href=\"http://shop.example/faq\">FAQ</a></p>\
                <p><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p></body></html>",
            "body_text": "Hi {{ contact.name }}",
        },
        "segment": "all",
        "rate_per_minute": 6000,
    })
}

/// The path and query of an absolute URL (the emails name the bind
/// address, port 0 in tests), `&amp;` decoded.
fn local(url: &str) -> String {
    let url = url.replace("&amp;", "&");
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(&url);
    rest.find('/')
        .map(|i| rest[i..].to_owned())
        .unwrap_or_default()
}

/// Every `href="…"` and `src="…"` value of `html`.
fn attrs(html: &str, name: &str) -> Vec<String> {
    html.split(&format!("{name}=\""))
        .skip(1)
        .filter_map(|s| s.split('"').next().map(str::to_owned))
        .collect()
}

/// A client with no cookies and no redirects followed, like a mail client.
fn bare() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn stats(app: &TestApp, who: &Session, pid: &str, cid: &str) -> Value {
    app.get_json(who, &format!("{}/{cid}/stats", base(pid)))
        .await
}

async fn campaign_tracks_opens_clicks_and_unsubscribes(backend: Backend) {
    let Some(sink) = Sink::start() else {
        return;
    };
    let Some((app, owner, p)) = signed_in_with(backend, fast).await else {
        return;
    };
    configure(&app, &owner, &p.id, "email", email_channel(sink.port)).await;
    let wk = &p.write_key;
    person(
        &app,
        wk,
        "ana",
        json!({"name": "Ana", "email": "ana@example.com"}),
    )
    .await;
    person(
        &app,
        wk,
        "bob",
        json!({"name": "Bob", "email": "bob@example.com"}),
    )
    .await;

    let c = create(&app, &owner, &p.id, content()).await;
    let cid = c["id"].as_str().unwrap().to_owned();
    action(&app, &owner, &p.id, &cid, "send").await;
    until_status(&app, &owner, &p.id, &cid, "sent").await;
    let got = sink.wait_for(2).await;
    let store = &app.state.store;
    let sent = store
        .campaign_recipients(&p.id, &cid, Some(RecipientStatus::Sent), None, 10)
        .await
        .unwrap();
    let row_of = |address: &str| {
        sent.iter()
            .find(|r| r.address.as_deref() == Some(address))
            .map(|r| (r.token.clone().unwrap(), r.person_id.clone()))
            .unwrap()
    };
    let (ana, ana_id) = row_of("ana@example.com");
    let (bob, bob_id) = row_of("bob@example.com");
    let html_of = |to: &str| {
        let (envelope, raw) = got.iter().find(|(e, _)| e["rcpt_tos"][0] == to).unwrap();
        assert_eq!(envelope["rcpt_tos"][0], to);
        let (_, bodies) = parts(raw);
        bodies
            .into_iter()
            .find(|(ct, _)| ct.starts_with("text/html"))
            .unwrap()
            .1
    };
    let html = html_of("ana@example.com");

    // The links: the two web links (numbered 0, 1) signed redirects, mailto and the
    // unsubscribe link left alone; the pixel before </body>.
    let hrefs = attrs(&html, "href");
    assert_eq!(hrefs.len(), 3, "{html}");
    assert!(hrefs[0].contains(&format!("/r/{ana}/0?u=")), "{html}");
    assert!(hrefs[1].contains(&format!("/r/{ana}/1?u=")), "{html}");
    assert!(html.contains("href='mailto:help@shop.example'"), "{html}");
    assert!(
        hrefs[2].contains(&format!("&#x2f;unsubscribe&#x2f;{ana}")),
        "{html}"
    );
    let pixel = attrs(&html, "src")
        .into_iter()
        .find(|s| s.contains("/o/"))
        .unwrap();
    assert!(pixel.ends_with(&format!("/o/{ana}.gif")), "{pixel}");
    assert!(html.find(&pixel).unwrap() < html.find("</body>").unwrap());

    let client = bare();
    let get = |path: String| client.get(app.url(&path)).send();

    // The pixel right after the send: an open marked machine.
    let res = get(local(&pixel)).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/gif");
    assert!(res.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("no-store"));
    assert_eq!(&res.bytes().await.unwrap()[..6], b"GIF89a");
    let s = stats(&app, &owner, &p.id, &cid).await;
    assert_eq!(
        (&s["counts"]["opened"], &s["counts"]["opened_machine"]),
        (&json!(1), &json!(1)),
        "{s}"
    );
    // A minute later a person's open; a proxy's is marked machine.
    app.clock.advance_ms(60_000);
    get(local(&pixel)).await.unwrap();
    client
        .get(app.url(&local(&pixel)))
        .header("user-agent", "Mozilla/5.0 (via ggpht.com GoogleImageProxy)")
        .send()
        .await
        .unwrap();
    let events = store.campaign_events(&p.id, &cid, &ana_id).await.unwrap();
    let opens: Vec<Option<&str>> = events
        .iter()
        .filter(|e| e.kind == "opened")
        .map(|e| e.detail.as_deref())
        .collect();
    assert_eq!(opens, [Some("machine"), None, Some("machine")]);
    // An unknown token still gets the GIF and records nothing.
    let res = get("/o/ffffffffffffffffffffffffffffffff.gif".into())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // The click: 302 to the original URL (entities decoded), recorded.
    let link = local(&hrefs[0]);
    let res = get(link.clone()).await.unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(
        res.headers()["location"],
        "https://shop.example/sale?x=1&y=Ana"
    );
    // Forged: another token, another index, another URL, bob's token with
    // ana's signature, no signature — each 404, never a redirect.
    let foreign_url = link.replace("shop.example", "evil.example");
    for bad in [
        link.replace(&ana, &"0".repeat(32)),
        link.replace(&format!("/{ana}/0?"), &format!("/{ana}/1?")),
        foreign_url,
        link.replace(&ana, &bob),
        link.split("&s=").next().unwrap().to_owned(),
        format!("/r/{ana}/x?u=https%3A%2F%2Fevil.example&s=00"),
    ] {
        let res = get(bad.clone()).await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{bad}");
        assert!(res.headers().get("location").is_none());
    }
    let s = stats(&app, &owner, &p.id, &cid).await;
    assert_eq!(s["counts"]["clicked"], 1, "{s}");
    assert_eq!(s["counts"]["clicks"], 1, "{s}");

    // Bob clicks without loading images: clicked and opened.
    let bob_html = html_of("bob@example.com");
    let bob_link = local(&attrs(&bob_html, "href")[1]);
    let res = get(bob_link).await.unwrap();
    assert_eq!(res.headers()["location"], "http://shop.example/faq");

    // Unsubscribe: a plain page with a form, no script; then the one-click
    // POST without cookies; twice is the same.
    let page_url = format!("/unsubscribe/{bob}");
    let res = get(page_url.clone()).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let page = res.text().await.unwrap();
    assert!(
        page.contains(&format!(
            "<form method=\"post\" action=\"/unsubscribe/{bob}\">"
        )),
        "{page}"
    );
    assert!(page.contains("bob@example.com"), "{page}");
    assert!(!page.to_lowercase().contains("<script"), "{page}");
    for _ in 0..2 {
        let res = client
            .post(app.url(&page_url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.text().await.unwrap().contains("You are unsubscribed"));
    }
    // (Same instant: the events' order by time, then kind.)
    let mut kinds: Vec<String> = store
        .campaign_events(&p.id, &cid, &bob_id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    kinds.sort();
    assert_eq!(kinds, ["clicked", "opened", "sent", "unsubscribed"]);
    for path in ["/unsubscribe/nope", "/unsubscribe/test"] {
        let res = get(path.into()).await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let res = client.post(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }

    // The stats: counts, rates, the hourly series.
    let viewer = app.as_role(Role::Viewer).await;
    let s = stats(&app, &viewer, &p.id, &cid).await;
    let counts = &s["counts"];
    assert_eq!(
        json!([
            counts["sent"],
            counts["delivered"],
            counts["opened"],
            counts["opened_machine"],
            counts["clicked"],
            counts["unsubscribed"],
            counts["opens"],
            counts["machine_opens"],
            counts["bounced"]
        ]),
        json!([2, 2, 2, 1, 2, 1, 4, 2, 0]),
        "{s}"
    );
    assert_eq!(
        s["rates"],
        json!({"delivery": 1.0, "open": 1.0, "click": 1.0, "click_to_open": 1.0,
            "bounce": 0.0, "unsubscribe": 0.5})
    );
    let series = s["series"].as_array().unwrap();
    let total = |k: &str| series.iter().map(|p| p[k].as_i64().unwrap()).sum::<i64>();
    assert_eq!(
        (total("sent"), total("opened"), total("clicked")),
        (2, 2, 2)
    );
    assert!(series
        .iter()
        .all(|p| p["at"].as_i64().unwrap() % 3_600_000 == 0));

    // A later campaign skips bob.
    let c2 = create(&app, &owner, &p.id, content()).await;
    let c2 = action(&app, &owner, &p.id, c2["id"].as_str().unwrap(), "send").await;
    assert_eq!(c2["progress"]["skipped"]["unsubscribed"], 1, "{c2}");

    // Stats roles: another project's campaign and non-members get 404.
    let other = app.create_project(&owner, "Other shop").await;
    let theirs = create(&app, &owner, &other.id, content()).await;
    let tcid = theirs["id"].as_str().unwrap();
    let res = app
        .get(&owner, &format!("{}/{tcid}/stats", base(&p.id)))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // (`create_user` makes a member of the default project only.)
    let outsider = app.create_user("outsider@example.com", Role::Owner).await;
    let res = app
        .get(&outsider, &format!("{}/{tcid}/stats", base(&other.id)))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}

on_both_backends!(campaign_tracks_opens_clicks_and_unsubscribes);
