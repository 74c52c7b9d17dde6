use crate::helpers::*;

/// The demo history goes through the real write path, lands in its own project,
/// and its rollups match a rebuild from the stored data.
async fn demo_history_is_realistic_and_consistent(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let owner = app.login_owner().await;
    let store = app.state.store.as_ref();
    let now = app.clock.now_ms();
    let p = vibe_server::demo::demo_project(store, None, now + 1)
        .await
        .unwrap();
    let size = vibe_server::demo::DemoSize {
        users: 120,
        days: 21,
        events: 3000,
    };
    let stored = vibe_server::demo::generate(store, &p, size, now, false)
        .await
        .unwrap();
    assert!((2000..=3010).contains(&stored), "stored {stored}");

    // The owner signed up before the demo project existed; add them to it.
    store
        .add_member(
            &p.id,
            &app.state
                .store
                .account_by_email(OWNER_EMAIL)
                .await
                .unwrap()
                .unwrap()
                .account
                .id,
            vibe_store::Role::Owner,
            now,
        )
        .await
        .unwrap();
    let base = format!("/api/v1/projects/{}", p.id);
    let m = app.get_json(&owner, &format!("{base}/metrics")).await;
    // New people arrive through the period; today has only had its first hours.
    let total = m["total_users"]["value"].as_f64().unwrap();
    assert!((100.0..=120.0).contains(&total), "{total}");
    assert!(m["new_this_week"]["value"].as_f64().unwrap() > 0.0);
    let funnels = app.get_json(&owner, &format!("{base}/funnels")).await;
    let fid = funnels["funnels"][0]["id"].as_str().unwrap();
    let conversion = format!("{base}/funnels/{fid}/conversion");
    let users = step_users(&app.get_json(&owner, &conversion).await);
    assert!(
        users[0] > 0 && users.windows(2).all(|w| w[0] >= w[1]),
        "{users:?}"
    );
    let premium = app
        .get_json(&owner, &format!("{base}/users?segment=premium"))
        .await;
    assert!(!list(&premium, "users").is_empty());

    // Every CRM screen has data: revenue in two currencies, all converted.
    let r = app.get_json(&owner, &format!("{base}/revenue")).await;
    assert_eq!(r["currency"], "USD", "{r}");
    assert!(r["total"].as_i64().unwrap() > 0, "{r}");
    assert!(r["refunds"].as_i64().unwrap() > 0, "one refund: {r}");
    assert!(r["mrr"].as_i64().unwrap() > 0, "{r}");
    assert!(
        r["unconverted"].as_array().is_none_or(|u| u.is_empty()),
        "{r}"
    );
    assert!(list(&r, "by_plan").len() >= 2, "{r}");
    let months = app
        .get_json(&owner, &format!("{base}/revenue?interval=month"))
        .await;
    assert!(months["net"].as_i64().unwrap() > 0, "{months}");
    let retention = app.get_json(&owner, &format!("{base}/retention")).await;
    let cohorts = list(&retention, "cohorts");
    assert!(
        cohorts.iter().any(|c| c["size"].as_i64().unwrap() > 0),
        "{retention}"
    );
    assert!(
        cohorts
            .iter()
            .any(|c| c["retained"]["1"].as_i64().unwrap_or(0) > 0),
        "{retention}"
    );
    let features = app.get_json(&owner, &format!("{base}/features")).await;
    let names: Vec<&str> = list(&features, "features")
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    for name in [
        "assessment_completed",
        "vision_generated",
        "intensive_started",
        "intensive_completed",
    ] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    // The vision flow has attempts of every outcome.
    let flows = app.get_json(&owner, &format!("{base}/flows")).await;
    let vision = list(&flows, "flows")
        .iter()
        .find(|f| f["name"] == "Vision generation")
        .unwrap_or_else(|| panic!("{flows}"))
        .clone();
    let vision_stats = format!("{base}/flows/{}/stats", vision["id"].as_str().unwrap());
    let fs = app.get_json(&owner, &vision_stats).await;
    for k in ["started", "completed", "failed", "abandoned"] {
        assert!(fs[k].as_i64().unwrap() > 0, "{k}: {fs}");
    }
    assert!(fs["median_completion_s"].as_f64().unwrap() > 5.0, "{fs}");
    let ai = app.get_json(&owner, &format!("{base}/ai-usage")).await;
    assert_eq!(list(&ai, "by_model").len(), 3, "{ai}");
    assert!(ai["totals"]["total_tokens"].as_i64().unwrap() > 0, "{ai}");
    let tags = app.get_json(&owner, &format!("{base}/tags")).await;
    assert!(!list(&tags, "tags").is_empty(), "{tags}");
    let vip = app
        .get_json(&owner, &format!("{base}/users?priority=vip"))
        .await;
    assert!(!list(&vip, "users").is_empty(), "{vip}");
    let segments = app.get_json(&owner, &format!("{base}/segments")).await;
    let segments = list(&segments, "segments");
    assert_eq!(segments.len(), 2, "{segments:?}");
    assert!(
        segments
            .iter()
            .any(|s| s["user_count"].as_i64().unwrap() > 0),
        "{segments:?}"
    );
    for s in segments {
        let sid = s["id"].as_str().unwrap();
        let members = app
            .get_json(&owner, &format!("{base}/users?segment={sid}&limit=200"))
            .await;
        assert_eq!(
            list(&members, "users").len() as i64,
            s["user_count"].as_i64().unwrap(),
            "{s}"
        );
    }

    let tz = vibe_core::day::ProjectTz::or_utc(&p.timezone);
    let (from, to) = (tz.date_of(now - 30 * 86_400_000), tz.date_of(now));
    let before = store
        .daily_stats(&p.id, &from.to_string(), &to.to_string())
        .await
        .unwrap();
    vibe_store::rollup::rebuild(store, &p, from, to)
        .await
        .unwrap();
    assert_eq!(
        store
            .daily_stats(&p.id, &from.to_string(), &to.to_string())
            .await
            .unwrap(),
        before
    );
    // Revenue kept at ingest == revenue replayed from the stored events.
    store.rebuild_revenue(&p.id, &p.timezone).await.unwrap();
    assert_eq!(app.get_json(&owner, &format!("{base}/revenue")).await, r);
    // Flows kept at ingest == flows rebuilt from the stored events.
    assert_eq!(app.get_json(&owner, &vision_stats).await, fs);
}

crate::on_both_backends!(demo_history_is_realistic_and_consistent);
