//! Revenue over HTTP: reserved events through `/track` (single and batched),
//! validation naming the field, refusal from the browser collector, the
//! report with a conversion and a missing rate, rates and currency settings,
//! roles and tenants, and the ECB file reader behind `vibe rates import`.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use vibe_store::Role;

use crate::helpers::*;

const TRACK: &str = "/api/v1/track";

fn pay(id: &str, user: &str, amount: Value, currency: &str, extra: Value) -> Value {
    let mut props = json!({"payment_id": id, "amount": amount, "currency": currency});
    if let Value::Object(m) = extra {
        for (k, v) in m {
            props[k] = v;
        }
    }
    json!({"type": "event", "id": uuid(), "user_id": user, "name": "payment", "props": props})
}

fn today(app: &TestApp) -> String {
    vibe_core::day::ProjectTz::or_utc("UTC").day_of(app.clock.now_ms())
}

async fn revenue_through_track_with_conversion(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let base = format!("/api/v1/projects/{}", p.id);
    let secret = app.secret_key(&owner, &p.id, "billing").await;
    let res = app.patch(&owner, &base, json!({"currency": "eur"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json_of(res).await["currency"], "EUR");
    assert_eq!(app.get_json(&owner, &base).await["currency"], "EUR");
    let day = today(&app);
    let res = app
        .put(
            &owner,
            &format!("{base}/exchange-rates"),
            json!({"rates": [{"day": day, "currency": "USD", "rate": 1.25}]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json_of(res).await["stored"], 1);

    // One payment alone, then a batch: a USD payment, one without a rate, a
    // yearly subscription.
    let single = pay("ch_1", "ana", json!(1000), "EUR", json!({"plan": "pro"}));
    let res = app.post_bearer(&secret, TRACK, single.clone()).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let sub = json!({"type": "event", "id": uuid(), "user_id": "ana", "name": "subscription",
        "props": {"subscription_id": "sub_1", "plan": "pro", "status": "active", "amount": 24000, "currency": "EUR", "interval": "year"}});
    let batch = json!({"batch": [
        pay("ch_2", "bob", json!(2500), "usd", json!({})),
        pay("ch_3", "cy", json!(700), "JPY", json!({})),
        sub,
    ]});
    let res = app.post_bearer(&secret, TRACK, batch).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED, "{:?}", res.text().await);
    // The retry is a duplicate; the replay (new message id) counts once too.
    let res = app.post_bearer(&secret, TRACK, single).await;
    assert_eq!(json_of(res).await["duplicates"], 1);
    let replay = pay("ch_1", "ana", json!(1000), "EUR", json!({"plan": "pro"}));
    app.post_bearer(&secret, TRACK, replay).await;
    let refund = pay(
        "ch_2",
        "bob",
        json!(2500),
        "USD",
        json!({"status": "refunded"}),
    );
    app.post_bearer(&secret, TRACK, refund).await;

    let r = app.get_json(&owner, &format!("{base}/revenue")).await;
    assert_eq!(r["currency"], "EUR");
    assert_eq!(
        (&r["total"], &r["refunds"], &r["net"]),
        (&json!(3000), &json!(2000), &json!(1000))
    );
    assert_eq!(r["mrr"], 2000);
    assert_eq!(
        r["unconverted"],
        json!([{"currency": "JPY", "amount": 700}])
    );
    assert_eq!(r["paying_users"], 2);
    assert_eq!(r["series"].as_array().unwrap().len(), 30);
    assert_eq!(
        r["by_plan"][0],
        json!({"plan": "pro", "revenue": 1000, "mrr": 2000, "subscribers": 1})
    );
    let months = app
        .get_json(&owner, &format!("{base}/revenue?interval=month"))
        .await;
    assert_eq!(months["net"], 1000);
    let rates = app
        .get_json(&owner, &format!("{base}/exchange-rates"))
        .await;
    assert_eq!(
        rates["rates"],
        json!([{"base": "EUR", "currency": "USD", "day": day, "rate": 1.25}])
    );

    // The profiles: what each spent in the reporting currency, the
    // subscription, the payments, feature and token usage; the timeline.
    let usage = json!({"batch": [
        {"type": "event", "id": uuid(), "user_id": "ana", "name": "assessment_completed"},
        {"type": "event", "id": uuid(), "user_id": "ana", "name": "assessment_completed"},
        {"type": "event", "id": uuid(), "user_id": "ana", "name": "ai_usage",
         "props": {"model": "gpt-x", "prompt_tokens": 120, "completion_tokens": 30, "cost_usd": 0.25}},
    ]});
    let res = app.post_bearer(&secret, TRACK, usage).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let ana = app.get_json(&owner, &format!("{base}/users/ana")).await;
    assert_eq!(
        (
            &ana["currency"],
            &ana["total_spent"],
            &ana["unconverted_spent"]
        ),
        (&json!("EUR"), &json!(1000), &json!([]))
    );
    assert_eq!(
        (
            &ana["subscription"]["plan"],
            &ana["subscription"]["status"],
            &ana["subscription"]["interval"]
        ),
        (&json!("pro"), &json!("active"), &json!("year"))
    );
    assert!(ana["subscription"]["since"].is_i64(), "{ana}");
    assert_eq!(ana["payments"].as_array().unwrap().len(), 1, "{ana}");
    assert_eq!(ana["payments"][0]["payment_id"], "ch_1");
    assert_eq!(ana["feature_usage"], json!({"assessment_completed": 2}));
    assert_eq!(
        (
            &ana["token_usage"]["total_tokens"],
            &ana["token_usage"]["calls"]
        ),
        (&json!(150), &json!(1))
    );
    assert_eq!(ana["token_usage"]["by_model"][0]["model"], "gpt-x");
    // bob's payment was refunded; cy's JPY has no rate.
    let bob = app.get_json(&owner, &format!("{base}/users/bob")).await;
    assert_eq!(bob["total_spent"], 0);
    assert_eq!(bob["payments"][0]["status"], "refunded");
    assert_eq!(bob["subscription"], Value::Null);
    let cy = app.get_json(&owner, &format!("{base}/users/cy")).await;
    assert_eq!(
        (&cy["total_spent"], &cy["unconverted_spent"]),
        (&json!(0), &json!([{"currency": "JPY", "amount": 700}]))
    );
    let timeline = app
        .get_json(&owner, &format!("{base}/users/ana/timeline"))
        .await;
    let types = sorted_strings(list(&timeline, "items"), "type");
    // Two feature events and the subscription change; the payment once, as a
    // payment; AI calls are summed on the profile, not listed.
    assert_eq!(types, ["event", "event", "event", "payment"], "{timeline}");
}

async fn validation_names_the_field(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let base = format!("/api/v1/projects/{}", p.id);
    let secret = app.secret_key(&owner, &p.id, "billing").await;
    let ok = pay("ch_1", "ana", json!(1), "EUR", json!({}));
    let batch = json!({"batch": [ok.clone(), ok.clone(), ok.clone(), pay("ch_4", "ana", json!(1.5), "EUR", json!({}))]});
    let res = app.post_bearer(&secret, TRACK, batch).await;
    assert_invalid(res, "batch[3].props.amount").await;
    let res = app
        .post_bearer(&secret, TRACK, pay("x", "ana", json!(-1), "EUR", json!({})))
        .await;
    assert_invalid(res, "body.props.amount").await;
    let res = app
        .post_bearer(&secret, TRACK, pay("x", "ana", json!(1), "EURO", json!({})))
        .await;
    assert_invalid(res, "body.props.currency").await;
    let res = app
        .post_bearer(
            &secret,
            TRACK,
            pay("x", "ana", json!(1), "EUR", json!({"status": "paid"})),
        )
        .await;
    assert_invalid(res, "body.props.status").await;
    let no_id = json!({"id": uuid(), "user_id": "ana", "name": "payment", "props": {"amount": 1, "currency": "EUR"}});
    let res = app.post_bearer(&secret, TRACK, no_id).await;
    assert_field_error(
        res,
        StatusCode::BAD_REQUEST,
        "missing_field",
        "body.props.payment_id",
    )
    .await;
    let sub = json!({"id": uuid(), "user_id": "ana", "name": "subscription", "props": {"subscription_id": "s",
        "plan": "pro", "status": "active", "amount": 1, "currency": "EUR", "interval": "week"}});
    let res = app.post_bearer(&secret, TRACK, sub).await;
    assert_invalid(res, "body.props.interval").await;
    // Nothing of a refused request is stored.
    assert_eq!(app.count_events(&p.id).await, 0);

    // The browser collector refuses reserved names: anyone has the write key.
    let forged = json!({"type": "event", "id": uuid(), "anonymous_id": "a1", "session_id": "s1",
        "name": "payment", "props": {"payment_id": "p", "amount": 100, "currency": "EUR"}});
    let res = app
        .collect(
            &p.write_key,
            vec![pageview("a1", "s1", "https://x.io/"), forged],
        )
        .await;
    assert_invalid(res, "batch[1].name").await;
    assert_eq!(app.count_events(&p.id).await, 0);

    // Settings and rates.
    let res = app.patch(&owner, &base, json!({"currency": "euro"})).await;
    assert_invalid(res, "currency").await;
    let rates = format!("{base}/exchange-rates");
    let bad = [
        (
            json!({"rates": [{"day": "2027-01-01", "currency": "USD", "rate": 1.1}, {"day": "2027-13-01", "currency": "USD", "rate": 1.1}]}),
            "rates[1].day",
        ),
        (
            json!({"rates": [{"day": "2027-01-01", "currency": "US", "rate": 1.1}]}),
            "rates[0].currency",
        ),
        (
            json!({"rates": [{"day": "2027-01-01", "currency": "USD", "rate": 0}]}),
            "rates[0].rate",
        ),
        (
            json!({"rates": [{"day": "2027-01-01", "currency": "EUR", "rate": 1}]}),
            "rates[0].currency",
        ),
        (json!({"base": "E", "rates": []}), "base"),
        (json!({"rates": 5}), "rates"),
    ];
    for (body, field) in bad {
        let res = app.put(&owner, &rates, body).await;
        assert_invalid(res, field).await;
    }
    let res = app
        .get(&owner, &format!("{base}/revenue?interval=week"))
        .await;
    assert_invalid(res, "interval").await;
    let res = app
        .get(
            &owner,
            &format!("{base}/revenue?from=2027-02-01&to=2027-01-01"),
        )
        .await;
    assert_invalid(res, "from").await;
}

async fn roles_and_tenants(backend: Backend) {
    let Some((app, owner, _p)) = signed_in(backend).await else {
        return;
    };
    let bravo_project = app.create_project(&owner, "Bravo").await;
    let bravo = format!("/api/v1/projects/{}", bravo_project.id);
    let secret = app.secret_key(&owner, &bravo_project.id, "billing").await;
    app.post_bearer(
        &secret,
        TRACK,
        pay(
            "secret-charge",
            "secret-user",
            json!(4242),
            "EUR",
            json!({}),
        ),
    )
    .await;
    let rate = json!({"rates": [{"day": "2027-01-01", "currency": "XAU", "rate": 0.0005}]});
    assert_eq!(
        app.put(&owner, &format!("{bravo}/exchange-rates"), rate.clone())
            .await
            .status(),
        StatusCode::OK
    );

    let outsider = app.create_user("outsider@example.com", Role::Owner).await;
    for (method, path, body) in [
        (Method::GET, format!("{bravo}/revenue"), None),
        (Method::GET, format!("{bravo}/exchange-rates"), None),
        (
            Method::PUT,
            format!("{bravo}/exchange-rates"),
            Some(rate.clone()),
        ),
    ] {
        let res = app.call(&outsider, method.clone(), &path, body).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{method} {path}");
        let text = res.text().await.unwrap();
        assert!(!text.contains("4242") && !text.contains("XAU"), "{text}");
    }

    // Viewers read revenue and rates, and cannot change rates or currency.
    let (_, base) = (
        &owner,
        format!("/api/v1/projects/{}", app.default_project(&owner).await.id),
    );
    let viewer = app.as_role(Role::Viewer).await;
    assert_eq!(
        app.get(&viewer, &format!("{base}/revenue")).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get(&viewer, &format!("{base}/exchange-rates"))
            .await
            .status(),
        StatusCode::OK
    );
    let res = app
        .put(&viewer, &format!("{base}/exchange-rates"), rate)
        .await;
    assert_error(res, StatusCode::FORBIDDEN, "forbidden").await;
    let res = app.patch(&viewer, &base, json!({"currency": "EUR"})).await;
    assert_error(res, StatusCode::FORBIDDEN, "forbidden").await;
}

/// `vibe rates import`'s reader on the ECB fixtures, stored through the API's store.
async fn ecb_files_import(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let csv = include_str!("../fixtures/ecb/eurofxref-hist.csv");
    let rows = vibe_server::api::revenue::ecb::parse(csv).unwrap();
    app.state
        .store
        .put_exchange_rates(&p.id, "EUR", &rows)
        .await
        .unwrap();
    let xml = include_str!("../fixtures/ecb/eurofxref-daily.xml");
    let rows = vibe_server::api::revenue::ecb::parse(xml).unwrap();
    app.state
        .store
        .put_exchange_rates(&p.id, "EUR", &rows)
        .await
        .unwrap();
    let base = format!("/api/v1/projects/{}", p.id);
    let rates = app
        .get_json(
            &owner,
            &format!("{base}/exchange-rates?from=2027-01-15&to=2027-01-15"),
        )
        .await;
    let got: Vec<(String, f64)> = list(&rates, "rates")
        .iter()
        .map(|r| {
            (
                r["currency"].as_str().unwrap().to_owned(),
                r["rate"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("GBP".into(), 0.86),
            ("JPY".into(), 160.12),
            ("USD".into(), 1.085)
        ]
    );
    let all = app
        .get_json(&owner, &format!("{base}/exchange-rates"))
        .await;
    assert_eq!(list(&all, "rates").len(), 9);
}

crate::on_both_backends!(
    revenue_through_track_with_conversion,
    validation_names_the_field,
    roles_and_tenants,
    ecb_files_import,
);
