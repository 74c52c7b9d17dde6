//! `GET …/support/agent-activity`: each agent's online/away/offline bands,
//! clipped to the range's local days in the project's time zone (an open row
//! ending now), and scoped by role: agents themselves, supervisors their
//! teams' members, owners and admins everyone; viewers 403, non-members 404.

use reqwest::StatusCode;
use serde_json::{json, Value};
use vibe_store::inbox::AgentStatus;
use vibe_store::Role;

use crate::helpers::*;

/// 2025-03-10 13:00 UTC (22:00 in Tokyo, UTC+9).
const ONLINE: i64 = 1_741_611_600_000;
const H: i64 = 3_600_000;
/// Tokyo's midnight between 2025-03-10 and 2025-03-11 (15:00 UTC).
const MIDNIGHT: i64 = ONLINE + 2 * H;
const END_OF_11TH: i64 = MIDNIGHT + 24 * H;

async fn activity(app: &TestApp, who: &Session, pid: &str, q: &str) -> Value {
    app.get_json(
        who,
        &format!("/api/v1/projects/{pid}/support/agent-activity?{q}"),
    )
    .await
}

fn agent_ids(body: &Value) -> Vec<String> {
    let mut v: Vec<String> = list(body, "agents")
        .iter()
        .map(|a| a["agent_id"].as_str().unwrap().to_owned())
        .collect();
    v.sort_unstable();
    v
}

fn bands_of(body: &Value, agent: &str) -> Value {
    list(body, "agents")
        .iter()
        .find(|a| a["agent_id"] == agent)
        .map(|a| a["bands"].clone())
        .unwrap_or_else(|| panic!("{agent} absent: {body}"))
}

fn band(status: &str, from: i64, to: i64) -> Value {
    json!({"status": status, "from": from, "to": to})
}

async fn set(app: &TestApp, pid: &str, who: &str, status: AgentStatus, id: &str, at: i64) {
    app.state
        .store
        .set_agent_status(pid, who, status, id, at)
        .await
        .unwrap();
}

async fn bands_across_a_local_midnight(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let pid = &p.id;
    let res = app
        .patch(
            &owner,
            &format!("/api/v1/projects/{pid}"),
            json!({"timezone": "Asia/Tokyo"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let agent = app.as_role(Role::Agent).await;
    let a = app.account_id(&agent).await;
    // Online 22:00 on the 10th, away 01:00 and offline 03:00 on the 11th (Tokyo).
    set(&app, pid, &a, AgentStatus::Online, "l1", ONLINE).await;
    set(&app, pid, &a, AgentStatus::Away, "l2", ONLINE + 3 * H).await;
    set(&app, pid, &a, AgentStatus::Offline, "l3", ONLINE + 5 * H).await;

    let day10 = activity(
        &app,
        &owner,
        pid,
        "start_date=2025-03-10&end_date=2025-03-10",
    )
    .await;
    assert_eq!(
        bands_of(&day10, &a),
        json!([band("online", ONLINE, MIDNIGHT)])
    );
    let agent_row = &list(&day10, "agents")[0];
    assert_eq!(agent_row["agent_name"], "agent@example.com");

    let day11 = activity(
        &app,
        &owner,
        pid,
        "start_date=2025-03-11&end_date=2025-03-11",
    )
    .await;
    assert_eq!(
        bands_of(&day11, &a),
        json!([
            band("online", MIDNIGHT, ONLINE + 3 * H),
            band("away", ONLINE + 3 * H, ONLINE + 5 * H),
            band("offline", ONLINE + 5 * H, END_OF_11TH),
        ])
    );
    let both = activity(
        &app,
        &owner,
        pid,
        "start_date=2025-03-10&end_date=2025-03-11",
    )
    .await;
    assert_eq!(
        bands_of(&both, &a),
        json!([
            band("online", ONLINE, ONLINE + 3 * H),
            band("away", ONLINE + 3 * H, ONLINE + 5 * H),
            band("offline", ONLINE + 5 * H, END_OF_11TH),
        ])
    );
    // Before any status: no bands (the agent is still listed).
    let day9 = activity(
        &app,
        &owner,
        pid,
        "start_date=2025-03-09&end_date=2025-03-09",
    )
    .await;
    assert_eq!(bands_of(&day9, &a), json!([]));
    // The open row ends now.
    let before = app.clock.now_ms();
    set(&app, pid, &a, AgentStatus::Online, "l4", before - H).await;
    let today = activity(&app, &owner, pid, "date_range=today").await;
    let after = app.clock.now_ms();
    let bands = bands_of(&today, &a);
    let last = bands.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["status"], "online");
    // Clipped to today's start when the hour reaches back over Tokyo's
    // midnight (a run between 15:00 and 16:00 UTC).
    let tokyo_midnight =
        vibe_store::support_analytics::periods::Periods::new("Asia/Tokyo").day_start(before);
    assert_eq!(last["from"], (before - H).max(tokyo_midnight));
    let to = last["to"].as_i64().unwrap();
    assert!(before <= to && to <= after, "{last}");
    // Validation names the field.
    let res = app
        .get(
            &owner,
            &format!(
                "/api/v1/projects/{pid}/support/agent-activity?start_date=nope&end_date=2025-03-10"
            ),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

async fn scoped_by_role(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let pid = &p.id;
    let base = format!("/api/v1/projects/{pid}");
    let res = app.patch(&owner, &base, json!({"timezone": "UTC"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let agent = app.as_role(Role::Agent).await;
    let peer = app.create_user("peer@example.com", Role::Agent).await;
    let supervisor = app.as_role(Role::Supervisor).await;
    let viewer = app.as_role(Role::Viewer).await;
    let admin = app.as_role(Role::Admin).await;
    let (a, b, s) = (
        app.account_id(&agent).await,
        app.account_id(&peer).await,
        app.account_id(&supervisor).await,
    );
    // Team Sales: the agent and the supervisor; the peer in none.
    let t = created(
        app.post(&admin, &format!("{base}/teams"), json!({"name": "Sales"}))
            .await,
    )
    .await;
    let tid = string_at(&t, "id");
    for who in [&a, &s] {
        let res = app
            .put(
                &admin,
                &format!("{base}/teams/{tid}/members/{who}"),
                json!({}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
    }
    for (who, id) in [(&a, "la"), (&b, "lb"), (&s, "ls")] {
        set(&app, pid, who, AgentStatus::Online, id, ONLINE).await;
    }
    let q = "start_date=2025-03-10&end_date=2025-03-10";
    let sorted = |mut v: Vec<String>| {
        v.sort_unstable();
        v
    };
    let everyone = sorted(vec![a.clone(), b.clone(), s.clone()]);
    for who in [&owner, &admin] {
        let body = activity(&app, who, pid, q).await;
        assert_eq!(agent_ids(&body), everyone);
        assert_eq!(body["scope"], "all");
        assert_eq!(
            bands_of(&body, &b),
            json!([band("online", ONLINE, MIDNIGHT_UTC)])
        );
    }
    let sup = activity(&app, &supervisor, pid, q).await;
    assert_eq!(agent_ids(&sup), sorted(vec![a.clone(), s.clone()]));
    assert_eq!(sup["scope"], "team");
    let own = activity(&app, &agent, pid, q).await;
    assert_eq!(agent_ids(&own), vec![a.clone()]);
    assert_eq!(
        agent_ids(&activity(&app, &peer, pid, q).await),
        vec![b.clone()]
    );
    // Filters narrow; outside the scope they empty the list.
    let only_b = activity(&app, &owner, pid, &format!("{q}&agent_id={b}")).await;
    assert_eq!(agent_ids(&only_b), vec![b.clone()]);
    let sales = activity(&app, &owner, pid, &format!("{q}&team_id={tid}")).await;
    assert_eq!(agent_ids(&sales), sorted(vec![a.clone(), s.clone()]));
    for (who, filter) in [
        (&agent, format!("agent_id={b}")),
        (&supervisor, format!("agent_id={b}")),
        (&peer, format!("team_id={tid}")),
    ] {
        let body = activity(&app, who, pid, &format!("{q}&{filter}")).await;
        assert_eq!(agent_ids(&body), Vec::<String>::new(), "{filter}");
    }
    // Viewers 403; another project's members 404.
    let path = format!("{base}/support/agent-activity?{q}");
    assert_error(
        app.get(&viewer, &path).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let other = app.create_project(&owner, "Other").await;
    let res = app
        .get(
            &agent,
            &format!("/api/v1/projects/{}/support/agent-activity?{q}", other.id),
        )
        .await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
}

/// In UTC the 10th ends at midnight UTC.
const MIDNIGHT_UTC: i64 = ONLINE + 11 * H;

crate::on_both_backends!(bands_across_a_local_midnight, scoped_by_role);
