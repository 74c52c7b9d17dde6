use serde_json::Value;

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

    demo_inbox(&app, &owner, &base).await;
}

/// The Inbox has staff with statuses, SLA policies, inboxes with teams, and
/// conversations on each channel with the store's timers.
async fn demo_inbox(app: &TestApp, owner: &Session, base: &str) {
    let agents = app.get_json(owner, &format!("{base}/agents")).await;
    let agents = list(&agents, "agents");
    assert_eq!(
        agents.len(),
        vibe_server::demo::staff::STAFF.len(),
        "{agents:?}"
    );
    for role in ["agent", "supervisor"] {
        assert!(agents.iter().any(|a| a["role"] == role), "{agents:?}");
    }
    for a in agents {
        assert!(a["status_since"].as_i64().is_some(), "a status log: {a}");
        assert!(["online", "away", "offline"].contains(&a["status"].as_str().unwrap()));
        assert_eq!(list(a, "teams").len(), 1, "{a}");
    }
    let sla = app.get_json(owner, &format!("{base}/sla-policies")).await;
    let priorities: Vec<&str> = list(&sla, "policies")
        .iter()
        .map(|p| p["priority"].as_str().unwrap())
        .collect();
    assert_eq!(priorities, ["low", "medium", "high", "urgent"], "{sla}");
    let inboxes = app.get_json(owner, &format!("{base}/inboxes")).await;
    let inboxes = list(&inboxes, "inboxes");
    assert_eq!(inboxes.len(), 3, "{inboxes:?}");
    assert!(
        inboxes.iter().all(|i| i["team_id"].is_string()),
        "{inboxes:?}"
    );

    let mut all = Vec::new();
    for channel in ["in_app", "email", "whatsapp"] {
        let mut path = format!("{base}/conversations?channel={channel}&limit=100");
        let mut on_channel = 0;
        loop {
            let page = app.get_json(owner, &path).await;
            let items = list(&page, "conversations");
            on_channel += items.len();
            all.extend(items.iter().cloned());
            match page["next_cursor"].as_str() {
                Some(c) => {
                    path = format!("{base}/conversations?channel={channel}&limit=100&cursor={c}")
                }
                None => break,
            }
        }
        assert!(on_channel > 10, "{channel}: {on_channel}");
    }
    assert!(all.len() > 100, "{}", all.len());
    let count = |f: &dyn Fn(&Value) -> bool| all.iter().filter(|c| f(c)).count();
    let bot_only = count(&|c| {
        c["handled_by_bot"] == true
            && c["escalated_to_human"] == false
            && c["assignee_account_id"].is_null()
    });
    let escalated = count(&|c| c["handled_by_bot"] == true && c["escalated_to_human"] == true);
    let answered = count(&|c| c["first_response_s"].as_i64().is_some());
    let resolved = count(&|c| c["status"] == "resolved" && c["resolution_s"].as_i64().is_some());
    let reopened = count(&|c| c["opened_at"].as_i64() > c["created_at"].as_i64());
    let rated = count(&|c| c["csat"].as_i64().is_some_and(|v| (1..=5).contains(&v)));
    let leads = count(&|c| c["is_lead"] == true);
    let converted = count(&|c| c["converted"] == true && c["is_lead"] == true);
    let slow = count(&|c| c["first_response_s"].as_i64().is_some_and(|s| s > 3_600));
    for (what, n) in [
        ("bot only", bot_only),
        ("escalated", escalated),
        ("answered", answered),
        ("resolved", resolved),
        ("reopened", reopened),
        ("rated", rated),
        ("leads", leads),
        ("converted", converted),
        ("answered after an hour", slow),
    ] {
        assert!(n > 0, "{what}: none of {}", all.len());
    }
    assert!(
        resolved > all.len() / 2,
        "resolved {resolved} of {}",
        all.len()
    );
    for c in &all {
        // The store's timers: first response from the first inbound message.
        if let (Some(at), Some(s)) = (
            c["first_response_at"].as_i64(),
            c["first_response_s"].as_i64(),
        ) {
            let from = c["first_inbound_at"].as_i64().unwrap();
            assert_eq!(s, (at - from) / 1000, "{c}");
        }
        assert!(
            c["contact_email"].is_string(),
            "an identified customer: {c}"
        );
    }

    // Replies on email and WhatsApp: mostly delivered or read, some failed with a reason.
    let mut statuses = std::collections::BTreeMap::<String, usize>::new();
    let (mut notes, mut reasons) = (0, 0);
    for c in all.iter().filter(|c| c["channel"] != "in_app").take(120) {
        let id = c["id"].as_str().unwrap();
        let thread = app
            .get_json(
                owner,
                &format!("{base}/conversations/{id}/messages?limit=100"),
            )
            .await;
        for m in list(&thread, "messages") {
            if m["private"] == true {
                notes += 1;
            } else if m["direction"] == "out" {
                *statuses
                    .entry(m["delivery_status"].as_str().unwrap().into())
                    .or_default() += 1;
                reasons += usize::from(m["failed_reason"].is_string());
            }
        }
    }
    let of = |s: &str| statuses.get(s).copied().unwrap_or(0);
    assert!(
        of("read") > of("failed") && of("delivered") > 0,
        "{statuses:?}"
    );
    assert!(of("failed") > 0 && reasons == of("failed"), "{statuses:?}");
    assert!(notes > 0, "internal notes");

    // The staff sign in with the documented password; an agent sees only
    // theirs and their teams' unassigned ones.
    let email = vibe_server::demo::staff::STAFF
        .iter()
        .find(|(_, role, _)| *role == vibe_store::Role::Agent)
        .unwrap()
        .0;
    let agent = session_from(
        app.login(email, vibe_server::demo::staff::DEMO_STAFF_PASSWORD)
            .await,
    );
    let me = agents.iter().find(|a| a["email"] == email).unwrap();
    let mine = app
        .get_json(&agent, &format!("{base}/conversations?limit=100"))
        .await;
    let mine = list(&mine, "conversations");
    assert!(!mine.is_empty());
    for c in mine {
        assert!(
            c["assignee_account_id"] == me["account_id"] || c["assignee_account_id"].is_null(),
            "{c}"
        );
    }
}

crate::on_both_backends!(demo_history_is_realistic_and_consistent);
