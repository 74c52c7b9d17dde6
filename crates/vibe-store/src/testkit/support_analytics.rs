//! Support snapshots answer what recomputation answers. A generated history
//! (conversations with reassignments, reopens, delivery statuses arriving
//! out of order, agents going online/away/offline, facts landing minutes
//! late but within the grace) is replayed in arrival order while the
//! snapshot job runs every 7 simulated minutes, in Europe/Stockholm across
//! the spring DST change (2027-03-28 has 23 local hours) and an ISO week
//! boundary. Then, for many ranges, every grouping and several scopes and
//! filters, the snapshot-backed `support_counters` must equal the raw fold;
//! a rebuild must change no snapshot; and a fact landing in an hour already
//! closed is ignored by the snapshots until that day is rebuilt.

use crate::db::{err, on_db};
use crate::support_analytics::periods::Periods;
use crate::support_analytics::{GroupBy, ReportFilter, ReportScope};
use crate::testkit::Fixture;

const TZ: &str = "Europe/Stockholm";
/// 2027-03-25 00:00 UTC, a Thursday; the history runs 8 days.
const START: i64 = 1_805_932_800_000;
const DAYS: i64 = 8;
const H: i64 = 3_600_000;
const MIN: i64 = 60_000;
const AGENTS: [&str; 3] = ["a1", "a2", "a3"];
const TEAMS: [Option<&str>; 3] = [Some("t1"), Some("t2"), None];
const CHANNELS: [&str; 3] = ["whatsapp", "email", "in_app"];

/// xorshift64*: a fixed history without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: i64) -> i64 {
        (self.next() % n.max(1) as u64) as i64
    }
    fn chance(&mut self, percent: i64) -> bool {
        self.below(100) < percent
    }
    fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        v[self.below(v.len() as i64) as usize]
    }
    /// Whole seconds, so handled stretches and holds line up to the second.
    fn secs(&mut self, lo_ms: i64, hi_ms: i64) -> i64 {
        (lo_ms + self.below(hi_ms - lo_ms)) / 1000 * 1000
    }
}

#[derive(Clone, Debug)]
struct Fact {
    name: &'static str,
    conversation: String,
    account: Option<String>,
    team: Option<&'static str>,
    channel: &'static str,
    value_s: Option<i64>,
    value_bh_s: Option<i64>,
    flag: i64,
    label: Option<String>,
    at: i64,
}

#[derive(Clone, Debug)]
enum Act {
    Fact(Fact),
    /// A conversation row: (id, channel, team, assignee, assigned_at, at).
    Open(
        String,
        &'static str,
        Option<&'static str>,
        Option<String>,
        i64,
    ),
    /// Status, assignee and assigned_at of a conversation change.
    Set(String, &'static str, Option<String>, Option<i64>),
    /// An agent status row opens: (id, account, status, started_at).
    LogOpen(String, &'static str, &'static str, i64),
    /// It closes at `ended_at` (possibly in the past: the presence sweep).
    LogClose(String, i64),
}

/// The generated history: `(arrival, sequence, act)`.
fn history(seed: u64) -> Vec<(i64, usize, Act)> {
    let mut r = Rng(seed);
    let mut acts: Vec<(i64, Act)> = Vec::new();
    let end = START + DAYS * 24 * H;
    for c in 0..70 {
        let id = format!("c{c}");
        let team = r.pick(&TEAMS);
        let channel = r.pick(&CHANNELS);
        let t = r.secs(START, end - 6 * H);
        let fact = |name, account: Option<&str>, at| Fact {
            name,
            conversation: id.clone(),
            account: account.map(str::to_owned),
            team,
            channel,
            value_s: None,
            value_bh_s: None,
            flag: 0,
            label: None,
            at,
        };
        let mut holder: Option<&str> = r.chance(70).then(|| r.pick(&AGENTS));
        let mut held_since = t;
        let mut created = fact("conversation_created", holder, t);
        created.flag = i64::from(r.chance(30));
        created.label = Some(r.pick(&["low", "medium", "high", "urgent"]).into());
        acts.push((t, Act::Fact(created)));
        acts.push((
            t,
            Act::Open(id.clone(), channel, team, holder.map(Into::into), t),
        ));
        let mut inbound = fact("message", holder, t);
        inbound.label = Some("contact".into());
        // Facts land up to 9 minutes late (within the grace), in any order.
        let late = |r: &mut Rng| r.below(9 * MIN);
        acts.push((t + late(&mut r), Act::Fact(inbound)));
        let first = r.secs(t + 30_000, t + 2 * H);
        if holder.is_none() {
            let a = r.pick(&AGENTS);
            let at = r.secs(t, first);
            acts.push((at, Act::Fact(fact("assigned", Some(a), at))));
            acts.push((at, Act::Set(id.clone(), "open", Some(a.into()), Some(at))));
            (holder, held_since) = (Some(a), at);
        }
        let bot = r.chance(20);
        let responder = if bot { None } else { holder };
        for name in ["first_response", "reply"] {
            let mut f = fact(name, responder, first);
            f.value_s = Some((first - t) / 1000);
            f.value_bh_s = r.chance(60).then(|| (first - t) / 2000);
            f.flag = i64::from(bot);
            acts.push((first + late(&mut r), Act::Fact(f)));
        }
        let mut out = fact("message", responder, first);
        out.flag = 1;
        out.label = Some(if bot { "bot" } else { "agent" }.into());
        acts.push((first, Act::Fact(out)));
        // Delivery statuses: read may arrive before delivered.
        let mut status_at = first;
        for name in ["sent", "delivered", "read"] {
            status_at += r.secs(1000, 5 * MIN);
            acts.push((
                status_at + late(&mut r),
                Act::Fact(fact(name, responder, status_at)),
            ));
        }
        let mut now = first;
        if r.chance(50) {
            // Reassignment: the first agent's stretch ends, another's starts.
            let b = r.pick(&AGENTS);
            let at = r.secs(now + MIN, now + 3 * H);
            let mut handled = fact("handled", holder, at);
            handled.value_s = Some((at - held_since) / 1000);
            let mut assigned = fact("assigned", Some(b), at);
            assigned.label = holder.map(Into::into);
            acts.push((at, Act::Fact(handled)));
            acts.push((at, Act::Fact(assigned)));
            acts.push((at, Act::Set(id.clone(), "open", Some(b.into()), Some(at))));
            (holder, held_since, now) = (Some(b), at, at);
            let mut f = fact("reply", holder, at + 90_000);
            f.value_s = Some(90);
            acts.push((at + 90_000 + late(&mut r), Act::Fact(f)));
        }
        let mut rounds = if r.chance(30) { 2 } else { 1 };
        while rounds > 0 && r.chance(75) {
            rounds -= 1;
            let at = r.secs(now + 10 * MIN, now + 20 * H);
            let mut handled = fact("handled", holder, at);
            handled.value_s = Some((at - held_since) / 1000);
            let mut resolved = fact("resolved", holder, at);
            resolved.value_s = Some((at - t) / 1000);
            resolved.value_bh_s = r.chance(50).then(|| (at - t) / 3000);
            resolved.flag = i64::from(bot);
            resolved.label = Some(r.pick(&["billing", "shipping"]).into());
            let mut sla = fact("sla", holder, at);
            sla.label = Some(r.pick(&["hit", "missed"]).into());
            let mut csat = fact("csat", holder, at + MIN);
            csat.value_s = Some(1 + r.below(5));
            acts.push((at, Act::Fact(handled)));
            acts.push((at, Act::Fact(resolved)));
            acts.push((
                at,
                Act::Set(id.clone(), "resolved", holder.map(Into::into), None),
            ));
            acts.push((at + late(&mut r), Act::Fact(sla)));
            acts.push((at + MIN + late(&mut r), Act::Fact(csat)));
            if r.chance(25) {
                let mut miss = fact("sla_miss", holder, at);
                miss.value_s = Some(600);
                miss.label = Some("resolution".into());
                acts.push((at, Act::Fact(miss)));
            }
            if rounds > 0 {
                // Reopened under the same agent, who holds it again.
                let back = r.secs(at + MIN, at + 6 * H);
                let mut f = fact("reopened", holder, back);
                f.value_s = Some((back - at) / 1000);
                // Within 6 h: a bot-only resolution's reopen is a failure.
                f.flag = i64::from(bot);
                acts.push((back, Act::Fact(f)));
                acts.push((
                    back,
                    Act::Set(id.clone(), "open", holder.map(Into::into), Some(back)),
                ));
                (held_since, now) = (back, back);
            }
        }
    }
    for (n, agent) in AGENTS.iter().enumerate() {
        let mut t = r.secs(START, START + 2 * H);
        let mut arrival = t;
        let mut i = 0;
        while t < end {
            let status = r.pick(&["online", "online", "online", "away", "offline"]);
            let id = format!("log-{n}-{i}");
            acts.push((arrival, Act::LogOpen(id.clone(), agent, status, t)));
            let ended = r.secs(t + 10 * MIN, t + 5 * H);
            // The presence sweep closes a row from the last seen moment, a
            // few minutes after it (within the online window).
            arrival = ended + if r.chance(30) { r.below(5 * MIN) } else { 0 };
            acts.push((arrival, Act::LogClose(id, ended)));
            (t, i) = (ended, i + 1);
        }
    }
    let mut out: Vec<(i64, usize, Act)> = acts
        .into_iter()
        .enumerate()
        .map(|(i, (at, a))| (at, i, a))
        .collect();
    out.sort_by_key(|(at, i, _)| (*at, *i));
    out
}

async fn apply(fx: &Fixture, project: &str, act: &Act) {
    let db = fx.db();
    match act {
        Act::Fact(f) => insert_fact(fx, project, f).await,
        Act::Open(id, channel, team, assignee, at) => {
            on_db!(db, pool => sqlx::query(
                "INSERT INTO conversations (project_id, id, site_user_id, channel, status, priority,
                   assignee_account_id, team_id, opened_at, last_message_at, created_at, updated_at,
                   assigned_at)
                 VALUES ($1, $2, 'u', $3, 'open', 'medium', $4, $5, $6, $6, $6, $6, $7)")
                .bind(project).bind(id).bind(*channel).bind(assignee.clone()).bind(*team)
                .bind(*at).bind(assignee.as_ref().map(|_| *at))
                .execute(pool).await.map(drop))
            .unwrap();
        }
        Act::Set(id, status, assignee, assigned_at) => {
            db.execute(
                "UPDATE conversations SET status = $3, assignee_account_id = $4,
                   assigned_at = COALESCE($5, assigned_at)
                 WHERE project_id = $1 AND id = $2",
                (
                    project,
                    id.as_str(),
                    *status,
                    assignee.clone(),
                    *assigned_at,
                ),
            )
            .await
            .unwrap();
        }
        Act::LogOpen(id, account, status, at) => {
            db.execute(
                "INSERT INTO agent_activity_logs (project_id, id, account_id, status, started_at)
                 VALUES ($1, $2, $3, $4, $5)",
                (project, id.as_str(), *account, *status, *at),
            )
            .await
            .unwrap();
        }
        Act::LogClose(id, ended) => {
            db.execute(
                "UPDATE agent_activity_logs SET ended_at = $3, duration_s = ($3 - started_at) / 1000
                 WHERE project_id = $1 AND id = $2",
                (project, id.as_str(), *ended),
            )
            .await
            .unwrap();
        }
    }
}

/// The test-only writer of facts (the inbox records them in production).
async fn insert_fact(fx: &Fixture, project: &str, f: &Fact) {
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let id = format!(
        "f{}",
        SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    on_db!(fx.db(), pool => sqlx::query(
        "INSERT INTO support_events (project_id, id, name, conversation_id, account_id, team_id,
           channel, value_s, value_bh_s, flag, label, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)")
        .bind(project).bind(id).bind(f.name).bind(&f.conversation).bind(f.account.clone())
        .bind(f.team).bind(f.channel).bind(f.value_s).bind(f.value_bh_s).bind(f.flag)
        .bind(f.label.clone()).bind(f.at)
        .execute(pool).await.map(drop).map_err(err))
    .unwrap();
}

async fn snapshot_rows(
    fx: &Fixture,
    project: &str,
) -> Vec<(String, String, i64, String, String, String, String)> {
    fx.db()
        .all(
            "SELECT snapshot_type, kept, period_start, account_id, team_id, channel, metrics
             FROM analytics_snapshots WHERE project_id = $1
             ORDER BY snapshot_type, kept, period_start, account_id, team_id, channel",
            (project,),
        )
        .await
        .unwrap()
}

fn cases() -> Vec<(ReportScope, ReportFilter)> {
    let f = |a: Option<&str>, t: Option<&str>, c: Option<&str>| ReportFilter {
        account_id: a.map(Into::into),
        team_id: t.map(Into::into),
        channel: c.map(Into::into),
    };
    vec![
        (ReportScope::All, f(None, None, None)),
        (ReportScope::All, f(Some("a2"), None, None)),
        (ReportScope::All, f(Some(""), None, Some("whatsapp"))),
        (ReportScope::All, f(None, Some("t2"), None)),
        (ReportScope::Agent("a1".into()), f(None, None, None)),
        (
            ReportScope::Teams(vec!["t1".into()], vec!["a2".into()]),
            f(None, None, None),
        ),
        (
            ReportScope::Teams(vec!["t1".into()], vec!["a2".into()]),
            f(None, None, Some("email")),
        ),
    ]
}

pub async fn snapshots_match_recomputation(fx: Fixture) {
    let p = fx.project_in("support", TZ).await;
    let periods = Periods::new(TZ);
    let end = START + DAYS * 24 * H;
    // Replay in arrival order, the job running every 7 minutes from day 2
    // (so its first run catches up on a backlog).
    let mut acts = history(0x5eed_cafe).into_iter().peekable();
    let mut tick = START + 2 * 24 * H;
    let mut kept = 0;
    while tick <= end {
        while let Some((_, _, act)) = acts.next_if(|(at, ..)| *at <= tick) {
            apply(&fx, &p.id, &act).await;
        }
        kept += fx.keep_support_snapshots(tick).await.unwrap().hours;
        tick += 7 * MIN;
    }
    let now = tick - 7 * MIN;
    assert!(
        kept > 150,
        "the job folded the hours as they closed ({kept})"
    );
    assert!(
        count(&fx, &p.id, "hourly").await > 100
            && count(&fx, &p.id, "daily").await >= 7
            && count(&fx, &p.id, "weekly").await >= 1
    );

    // The whole history is not trivial: every kind of fact and agent time.
    let everything = fx
        .support_counters_raw(
            &p.id,
            TZ,
            START - 24 * H,
            end + 24 * H,
            &ReportScope::All,
            &ReportFilter::default(),
            GroupBy::Total,
        )
        .await
        .unwrap();
    let total = &everything[0].counters;
    for name in [
        "conversation_created",
        "reopened",
        "handled",
        "assigned",
        "read",
        "sla:missed",
        "agent.online_s",
        "agent.away_s",
        "agent.busy_s",
        "reply.h10",
    ] {
        assert!(total.get(name) > 0, "{name} in {total:?}");
    }
    assert!(total.get("agent.busy_s") < total.get("agent.online_s"));

    // Ranges: whole local days (incl. the 23-hour one), weeks, the whole
    // history, and arbitrary instants; each reaching past the mark reads
    // the open tail raw.
    let day = |d: &str| periods.start_of_date(d.parse().unwrap());
    let mut ranges = vec![
        (START - 24 * H, end + 24 * H),
        (day("2027-03-28"), day("2027-03-29")),
        (day("2027-03-29"), day("2027-04-05")),
        (day("2027-03-26"), day("2027-04-02")),
        (day("2027-03-27"), now + 3 * H),
    ];
    let mut r = Rng(0xabcdef);
    for _ in 0..14 {
        let a = START - H + r.below(end - START + 4 * H);
        let b = a + r.below(5 * 24 * H);
        ranges.push((a, b));
    }
    for (from, to) in &ranges {
        for group in GroupBy::ALL {
            for (scope, filter) in cases() {
                let snap = fx
                    .support_counters(&p.id, TZ, *from, *to, &scope, &filter, group)
                    .await
                    .unwrap();
                let raw = fx
                    .support_counters_raw(&p.id, TZ, *from, *to, &scope, &filter, group)
                    .await
                    .unwrap();
                assert_eq!(snap, raw, "{from}..{to} {group:?} {scope:?} {filter:?}");
            }
        }
    }

    // A rebuild, of some days or of everything, changes no snapshot.
    let before = snapshot_rows(&fx, &p.id).await;
    let days = ("2027-03-27".parse().unwrap(), "2027-03-29".parse().unwrap());
    fx.rebuild_support_snapshots(Some(&p.id), Some(days), now)
        .await
        .unwrap();
    assert_eq!(snapshot_rows(&fx, &p.id).await, before);
    fx.rebuild_support_snapshots(Some(&p.id), None, now)
        .await
        .unwrap();
    assert_eq!(snapshot_rows(&fx, &p.id).await, before);

    // A fact landing in an hour closed long ago: the next keep does not
    // refold that hour, so the snapshot answer ignores it (the raw fold
    // has it) until the day is rebuilt.
    let (d27, d28) = (day("2027-03-27"), day("2027-03-28"));
    let week = (
        periods.week_start(d27),
        periods.next_week(periods.week_start(d27)),
    );
    let snap_day = created(&fx, &p.id, true, d27, d28).await;
    let snap_week = created(&fx, &p.id, true, week.0, week.1).await;
    let late = Fact {
        name: "conversation_created",
        conversation: "late".into(),
        account: Some("a1".into()),
        team: Some("t1"),
        channel: "email",
        value_s: None,
        value_bh_s: None,
        flag: 0,
        label: Some("low".into()),
        at: d27 + 14 * H + 30 * MIN,
    };
    insert_fact(&fx, &p.id, &late).await;
    fx.keep_support_snapshots(now + H).await.unwrap();
    assert_eq!(
        created(&fx, &p.id, true, d27, d28).await,
        snap_day,
        "a closed hour is not refolded"
    );
    assert_eq!(created(&fx, &p.id, false, d27, d28).await, snap_day + 1);
    fx.rebuild_support_snapshots(
        Some(&p.id),
        Some((periods.date_of(d27), periods.date_of(d27))),
        now + H,
    )
    .await
    .unwrap();
    assert_eq!(created(&fx, &p.id, true, d27, d28).await, snap_day + 1);
    assert_eq!(
        created(&fx, &p.id, true, week.0, week.1).await,
        snap_week + 1,
        "its week is rolled up again"
    );
    for group in GroupBy::ALL {
        for (scope, filter) in cases() {
            let snap = fx
                .support_counters(&p.id, TZ, week.0, week.1, &scope, &filter, group)
                .await
                .unwrap();
            let raw = fx
                .support_counters_raw(&p.id, TZ, week.0, week.1, &scope, &filter, group)
                .await
                .unwrap();
            assert_eq!(
                snap, raw,
                "after the rebuild: {group:?} {scope:?} {filter:?}"
            );
        }
    }

    // A changed project time zone refolds everything in the new zone.
    fx.db()
        .execute(
            "UPDATE projects SET timezone = 'America/New_York' WHERE id = $1",
            (p.id.as_str(),),
        )
        .await
        .unwrap();
    fx.keep_support_snapshots(now + H).await.unwrap();
    let ny = "America/New_York";
    let nyp = Periods::new(ny);
    let (a, b) = (
        nyp.start_of_date("2027-03-26".parse().unwrap()),
        nyp.start_of_date("2027-04-01".parse().unwrap()),
    );
    for group in [GroupBy::Total, GroupBy::Day] {
        let s = (ReportScope::All, ReportFilter::default());
        let snap = fx
            .support_counters(&p.id, ny, a, b, &s.0, &s.1, group)
            .await
            .unwrap();
        let raw = fx
            .support_counters_raw(&p.id, ny, a, b, &s.0, &s.1, group)
            .await
            .unwrap();
        assert_eq!(snap, raw, "new zone, {group:?}");
    }
}

async fn count(fx: &Fixture, project: &str, kind: &str) -> i64 {
    fx.db()
        .scalar(
            "SELECT COUNT(*) FROM analytics_snapshots WHERE project_id = $1 AND snapshot_type = $2",
            (project, kind),
        )
        .await
        .unwrap()
}

/// `conversation_created` of `[from, to)`, from the snapshots or raw.
async fn created(fx: &Fixture, project: &str, snap: bool, from: i64, to: i64) -> i64 {
    let (s, f) = (ReportScope::All, ReportFilter::default());
    let rows = if snap {
        fx.support_counters(project, TZ, from, to, &s, &f, GroupBy::Total)
            .await
    } else {
        fx.support_counters_raw(project, TZ, from, to, &s, &f, GroupBy::Total)
            .await
    };
    rows.unwrap()
        .first()
        .map_or(0, |r| r.counters.get("conversation_created"))
}
