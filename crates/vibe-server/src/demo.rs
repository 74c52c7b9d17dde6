//! `vibe demo`: a realistic, reproducible history for trying Vibe out and for
//! benchmarks. Visits follow the hour of day and the day of week, grow over time,
//! come back, walk a signup funnel, and identify with plans and devices. Identified
//! customers then live a subscription business's life (`Lifecycles`): trials,
//! conversions, upgrades, cancellations, payments in USD and EUR (one refunded),
//! AI usage over three models, feature events and two flows (`demo_flows`:
//! vision generations that succeed, fail or are abandoned); `crm_extras` adds EUR→USD rates,
//! tags, priorities, notes and two custom segments. Messages go through
//! `Store::ingest`, the same transaction the collector's writer runs; the
//! reserved events are built and checked as server-side `POST /api/v1/track`
//! messages (`vibe_core::reserved::validate`). The Inbox gets its staff
//! (`staff`: agents, supervisors, teams, inboxes, SLA policies, status logs)
//! and a support history (`conversations`) through the `InboxStore` calls the
//! API makes, at their historical times.

mod conversations;
pub mod staff;

use std::collections::{BTreeMap, HashSet};
use std::time::Instant;

use futures_util::TryStreamExt;
use serde_json::json;
use vibe_core::message::TimestampPolicy;
use vibe_core::Message;
use vibe_store::crm::{ContactPatch, NewNote, Priority};
use vibe_store::flows::model::Flow;
use vibe_store::funnel::{Funnel, FunnelStep, StepMatch};
use vibe_store::inbox::{ConversationQuery, Scope};
use vibe_store::segments::Segment;
use vibe_store::{IngestJob, NewProject, Project, Store};

pub const DEMO_PROJECT_NAME: &str = "Demo shop";

#[derive(Debug, Clone, Copy)]
pub struct DemoSize {
    pub users: u64,
    pub days: i64,
    /// Upper bound on stored messages (page views, events, identifies).
    pub events: u64,
}

/// xorshift64*: fast, reproducible, good enough for fake traffic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
    fn uuid(&mut self) -> String {
        let (a, b) = (self.next(), self.next());
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            b >> 52,
            b & 0xffff_ffff_ffff
        )
    }
}

const PAGES: &[(&str, &str)] = &[
    ("/", "Home"),
    ("/features", "Features"),
    ("/blog/realtime-analytics", "Realtime analytics"),
    ("/blog/churn", "Reducing churn"),
    ("/docs", "Docs"),
    ("/docs/install", "Install"),
    ("/about", "About"),
];
const REFERRERS: &[&str] = &[
    "https://www.google.com/",
    "https://news.ycombinator.com/",
    "https://twitter.com/",
    "",
    "",
    "",
];
const DEVICES: &[(&str, &str, &str)] = &[
    ("desktop", "Chrome", "Windows"),
    ("desktop", "Chrome", "macOS"),
    ("desktop", "Safari", "macOS"),
    ("desktop", "Firefox", "Linux"),
    ("mobile", "Safari", "iOS"),
    ("mobile", "Chrome", "Android"),
    ("tablet", "Safari", "iOS"),
];
const FIRST_NAMES: &[&str] = &[
    "Ada", "Bram", "Chen", "Dana", "Emre", "Femke", "Gus", "Hana", "Ivo", "Jade", "Kofi", "Lena",
];
const LAST_NAMES: &[&str] = &[
    "de Vries", "Jansen", "Okafor", "Smith", "Tanaka", "Novak", "Garcia", "Bakker",
];

/// Hour-of-day weights (local time of the site), busiest in office hours.
const HOURS: [u64; 24] = [
    1, 1, 1, 1, 1, 2, 3, 5, 8, 10, 11, 11, 10, 11, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2,
];

const DAY_MS: i64 = 86_400_000;
/// AI models with their price per 1,000 prompt / completion tokens, in USD.
const MODELS: &[(&str, f64, f64)] = &[
    ("gpt-4o", 0.0025, 0.01),
    ("claude-3-5-sonnet", 0.003, 0.015),
    ("llama-3.1-70b", 0.0006, 0.0008),
];
const AI_FEATURES: &[&str] = &["vision", "assessment", "coach"];

/// The customers' server-side history (subscriptions, payments, AI usage),
/// planned at their first identify and handed out day by day, so messages
/// still reach the store in about time order.
struct Lifecycles {
    pending: BTreeMap<(i64, u64), Message>,
    seq: u64,
    enrolled: HashSet<u64>,
    /// One payment of the demo is refunded (the first converted customer's).
    refunded: bool,
}

impl Lifecycles {
    /// Messages due before `ts`, oldest first.
    fn due_before(&mut self, ts: i64) -> Vec<Message> {
        let later = self.pending.split_off(&(ts, 0));
        std::mem::replace(&mut self.pending, later)
            .into_values()
            .collect()
    }

    /// A message as a backend sends it to `POST /api/v1/track` (by user id,
    /// trusted), checked as that route checks it; dropped unless before `now`.
    fn server_event(
        &mut self,
        ids: &mut Rng,
        user: u64,
        ts: i64,
        now: i64,
        name: &str,
        props: serde_json::Value,
    ) {
        if ts >= now - 60_000 {
            return;
        }
        let v = json!({"type": "event", "id": ids.uuid(), "user_id": format!("cust-{user}"),
            "ts": ts, "name": name, "props": props});
        let Ok(m) = Message::parse(&v, "demo", now, TimestampPolicy::AllowHistorical) else {
            return;
        };
        if let Err(e) = vibe_core::reserved::validate(&m, "demo", true) {
            debug_assert!(false, "the demo made an invalid {name}: {e:?}");
            return;
        }
        self.seq += 1;
        self.pending.insert((ts, self.seq), m);
    }

    /// Plans customer `user`'s life from `t0` (their first identify): a 7-day
    /// trial of `pro` (monthly, or yearly for some), then conversion or
    /// cancellation, monthly renewals with payments, upgrades to `business`,
    /// a late payment, later cancellations; and AI usage over three models.
    /// A third of the customers pay in EUR, the others in USD.
    fn schedule(&mut self, seed: u64, run: u64, user: u64, t0: i64, now: i64) {
        let mut c = Rng((seed ^ user.wrapping_mul(0x9e37_79b9_7f4a_7c15)) | 1);
        let mut ids = Rng((run ^ user.wrapping_mul(0xd1b5_4a32_d192_ed03)) | 1);
        let currency = if user % 3 == 1 { "EUR" } else { "USD" };
        let eur = currency == "EUR";
        let yearly = c.chance(20);
        let (interval, mut plan, mut amount) = if yearly {
            ("year", "pro", if eur { 17_000 } else { 19_000 })
        } else {
            ("month", "pro", if eur { 1_700 } else { 1_900 })
        };
        let sub_id = format!("sub_{run:x}_{user}");
        let mut payments = 0;
        let sub = |this: &mut Self,
                   ids: &mut Rng,
                   ts: i64,
                   plan: &str,
                   status: &str,
                   amount: i64| {
            this.server_event(ids, user, ts, now, "subscription", json!({"subscription_id": sub_id,
                "plan": plan, "status": status, "amount": amount, "currency": currency, "interval": interval}));
        };
        sub(self, &mut ids, t0, plan, "trialing", amount);
        // AI usage from the trial on.
        for _ in 0..2 + c.below(6) {
            let ts = t0 + c.below((now - t0).max(1) as u64) as i64;
            let (model, p_price, c_price) = MODELS[match c.below(10) {
                0..=4 => 0,
                5..=7 => 1,
                _ => 2,
            }];
            let prompt = 200 + c.below(3_000) as i64;
            let completion = 50 + c.below(1_500) as i64;
            let cost = (prompt as f64 * p_price + completion as f64 * c_price) / 1_000.0;
            let feature = AI_FEATURES[c.below(AI_FEATURES.len() as u64) as usize];
            self.server_event(
                &mut ids,
                user,
                ts,
                now,
                "ai_usage",
                json!({"model": model,
                "prompt_tokens": prompt, "completion_tokens": completion,
                "cost_usd": (cost * 1e6).round() / 1e6, "feature": feature}),
            );
        }
        if c.chance(25) {
            let ts = t0 + (1 + c.below(6) as i64) * DAY_MS;
            sub(self, &mut ids, ts, plan, "canceled", amount);
            return;
        }
        let converted = t0 + 7 * DAY_MS;
        let upgrade_at =
            (!yearly && c.chance(30)).then(|| converted + (3 + c.below(20) as i64) * DAY_MS);
        let cancel_at = c
            .chance(20)
            .then(|| converted + (5 + c.below(40) as i64) * DAY_MS);
        let late_renewal = c.chance(15);
        let period = if yearly { 365 * DAY_MS } else { 30 * DAY_MS };
        let pay = |this: &mut Self,
                   ids: &mut Rng,
                   ts: i64,
                   plan: &str,
                   amount: i64,
                   payments: &mut u32| {
            *payments += 1;
            let payment_id = format!("pay_{run:x}_{user}_{payments}");
            this.server_event(
                ids,
                user,
                ts,
                now,
                "payment",
                json!({"payment_id": payment_id,
                "amount": amount, "currency": currency, "plan": plan, "status": "succeeded"}),
            );
            payment_id
        };
        sub(self, &mut ids, converted, plan, "active", amount);
        let first = pay(
            self,
            &mut ids,
            converted + 1_000,
            plan,
            amount,
            &mut payments,
        );
        if !self.refunded && converted + 3 * DAY_MS < now - 60_000 {
            // A customer who asked for their money back and left.
            self.refunded = true;
            let ts = converted + 3 * DAY_MS;
            self.server_event(
                &mut ids,
                user,
                ts,
                now,
                "payment",
                json!({"payment_id": first,
                "amount": amount, "currency": currency, "plan": plan, "status": "refunded"}),
            );
            sub(self, &mut ids, ts + 1_000, plan, "canceled", amount);
            return;
        }
        let mut renewal = converted + period;
        let mut upgraded = false;
        while renewal < now {
            if let Some(at) = upgrade_at
                .filter(|at| !upgraded && *at < renewal && *at < cancel_at.unwrap_or(i64::MAX))
            {
                upgraded = true;
                (plan, amount) = ("business", if eur { 4_500 } else { 4_900 });
                sub(self, &mut ids, at, plan, "active", amount);
                pay(
                    self,
                    &mut ids,
                    at + 1_000,
                    plan,
                    amount - if eur { 1_700 } else { 1_900 },
                    &mut payments,
                );
                continue;
            }
            if cancel_at.is_some_and(|at| at < renewal) {
                break;
            }
            let mut ts = renewal;
            if late_renewal && payments == 1 {
                sub(self, &mut ids, ts, plan, "past_due", amount);
                ts += 2 * DAY_MS;
                sub(self, &mut ids, ts, plan, "active", amount);
            }
            pay(self, &mut ids, ts + 1_000, plan, amount, &mut payments);
            renewal += period;
        }
        if let Some(at) = upgrade_at.filter(|at| !upgraded && *at < cancel_at.unwrap_or(i64::MAX)) {
            (plan, amount) = ("business", if eur { 4_500 } else { 4_900 });
            sub(self, &mut ids, at, plan, "active", amount);
            pay(
                self,
                &mut ids,
                at + 1_000,
                plan,
                amount - if eur { 1_700 } else { 1_900 },
                &mut payments,
            );
        }
        if let Some(at) = cancel_at {
            sub(self, &mut ids, at, plan, "canceled", amount);
        }
    }
}

/// The project demo data goes into: `--project`, or "Demo shop" (created once).
pub async fn demo_project(
    store: &dyn Store,
    id: Option<&str>,
    now: i64,
) -> anyhow::Result<Project> {
    let projects = store.list_projects().await?;
    if let Some(id) = id {
        return projects
            .into_iter()
            .find(|p| p.id == id)
            .ok_or_else(|| anyhow::anyhow!("no project with id {id}"));
    }
    if let Some(p) = projects.into_iter().find(|p| p.name == DEMO_PROJECT_NAME) {
        return Ok(p);
    }
    let project = store
        .create_project(
            &NewProject {
                id: uuid::Uuid::new_v4().to_string(),
                name: DEMO_PROJECT_NAME.into(),
                write_key: crate::api::projects::new_write_key(),
                allowed_origins: vec![],
                timezone: "Europe/Amsterdam".into(),
                online_window_s: 300,
                created_at: now,
            },
            None,
        )
        .await?;
    let steps = [
        (StepMatch::Page, "/", false, "Visited home"),
        (StepMatch::Page, "/pricing", false, "Saw pricing"),
        (StepMatch::Event, "signup_click", false, "Clicked sign up"),
        (StepMatch::Page, "/app", true, "Used the app"),
    ]
    .into_iter()
    .map(|(kind, value, prefix, name)| FunnelStep {
        kind,
        value: value.into(),
        prefix,
        name: Some(name.into()),
    })
    .collect();
    let funnel = Funnel {
        id: uuid::Uuid::new_v4().to_string(),
        name: "Signup".into(),
        steps,
        window_days: 7,
        created_at: now,
        updated_at: now,
    };
    store.create_funnel(&project.id, &funnel).await?;
    // The project has no events yet, so its build is two tiny chunks; ingest keeps
    // the rollup from here on, and the demo's conversion is readable at once.
    while store
        .build_funnel_chunk(&project.id, &funnel.id, 1_000)
        .await?
        .state
        .is_some_and(|s| !s.is_ready())
    {}
    Ok(project)
}

/// The demo's flows, made once by name (a second run keeps them): "Vision
/// generation" (`vision_started` → `vision_generated`, or `vision_failed`,
/// within an hour) and "Intensive" (`intensive_started` →
/// `intensive_completed` within a day). Ingest keeps their rollups.
pub async fn demo_flows(store: &dyn Store, project: &Project, now: i64) -> anyhow::Result<()> {
    let event = |v: &str| FunnelStep {
        kind: StepMatch::Event,
        value: v.into(),
        prefix: false,
        name: None,
    };
    let flows = [
        (
            "Vision generation",
            "vision_started",
            "vision_generated",
            Some("vision_failed"),
            1,
        ),
        (
            "Intensive",
            "intensive_started",
            "intensive_completed",
            None,
            24,
        ),
    ];
    let existing = store.list_flows(&project.id).await?;
    for (i, (name, start, complete, fail, hours)) in flows.into_iter().enumerate() {
        if existing.iter().any(|f| f.name == name) {
            continue;
        }
        let flow = Flow {
            id: uuid::Uuid::new_v4().to_string(),
            name: name.into(),
            start: event(start),
            complete: event(complete),
            fail: fail.map(event),
            window_hours: hours,
            created_at: now + i as i64,
            updated_at: now + i as i64,
        };
        store
            .create_flow(&project.id, &project.timezone, &flow)
            .await?;
    }
    Ok(())
}

/// Generates the history ending at `now`; returns the number of stored messages.
/// Messages are made on a thread of their own while the previous batch is being
/// written, so generating and storing overlap.
pub async fn generate(
    store: &dyn Store,
    project: &Project,
    size: DemoSize,
    now: i64,
    progress: bool,
) -> anyhow::Result<u64> {
    // Before the events, so ingest keeps the flows' rollups as they arrive.
    demo_flows(store, project, now).await?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Message>>(2);
    let timezone = project.timezone.clone();
    let producer = std::thread::Builder::new()
        .name("demo-generator".into())
        .spawn(move || {
            produce(size, &timezone, now, progress, &mut |batch| {
                tx.blocking_send(batch).is_ok()
            })
        })?;
    while let Some(batch) = rx.recv().await {
        flush(store, project, batch, now).await?;
    }
    let stored = producer
        .join()
        .map_err(|_| anyhow::anyhow!("the demo generator panicked"))?;
    crm_extras(store, project, size, now).await?;
    let started = Instant::now();
    let made = inbox_history(store, project, size, now).await?;
    if progress && made > 0 {
        eprintln!("  inbox: {made} conversations ({:.0?})", started.elapsed());
    }
    Ok(stored)
}

/// A support team's few months, whatever the size of the history (a
/// million-person benchmark history keeps the same Inbox).
pub const MAX_CONVERSATIONS: usize = 3_000;

/// The Inbox's demo: the staff, teams, inboxes and SLA policies, the staff's
/// status logs over the history, and three conversations per person asked
/// for (`--users`), at most six per identified customer and
/// [`MAX_CONVERSATIONS`] in all (the first customers to identify, at most
/// half as many as conversations). Made once: a
/// project that already has conversations keeps its inbox as it is.
async fn inbox_history(
    store: &dyn Store,
    project: &Project,
    size: DemoSize,
    now: i64,
) -> anyhow::Result<usize> {
    let p = &project.id;
    let query = ConversationQuery {
        limit: 1,
        ..Default::default()
    };
    if !store
        .list_conversations(p, &Scope::All, &query)
        .await?
        .items
        .is_empty()
    {
        return Ok(0);
    }
    let tz = vibe_core::day::ProjectTz::or_utc(&project.timezone);
    let today = tz.date_of(now);
    let first_day = today
        .checked_sub(jiff::Span::new().days(size.days - 1))
        .unwrap_or(today);
    let inboxes = staff::ensure(store, project, tz.start_of(first_day)).await?;
    let mut rng = Rng((0x6a09_e667_f3bc_c909 ^ size.users ^ (size.days as u64) << 32) | 1);
    staff::activity(store, project, &mut rng, first_day, now).await?;
    let count = (size.users as usize * 3).min(MAX_CONVERSATIONS);
    let mut customers = Vec::new();
    for user in 0..size.users {
        if customers.len() >= count / 2 {
            break;
        }
        if let Some(u) = store.find_user(p, &format!("cust-{user}")).await? {
            customers.push((u.id, u.first_seen));
        }
    }
    customers.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    // About six per customer over the history: a busy but believable queue.
    let count = count.min(customers.len() * 6);
    let plans = conversations::plan(&mut rng, &tz, &customers, &inboxes, first_day, now, count);
    // Conversations are independent: several at once keep PostgreSQL busy
    // (each plays its own steps in order, so the result does not depend on
    // how they interleave).
    // SQLite writes one at a time, and there several at once only wait on
    // each other's locks.
    let parallel = if store.backend() == "postgres" { 8 } else { 1 };
    futures_util::stream::iter(plans.iter().map(Ok::<_, anyhow::Error>))
        .try_for_each_concurrent(parallel, |plan| {
            conversations::play(store, project, &inboxes, plan, now)
        })
        .await?;
    Ok(plans.len())
}

/// Tags, priorities and notes on some customers.
const CONTACTS: &[(&[&str], Option<Priority>, &str)] = &[
    (
        &["vip", "beta"],
        Some(Priority::Vip),
        "Asked for an annual invoice; send it by the 1st.",
    ),
    (
        &["churn-risk"],
        Some(Priority::High),
        "Usage dropped after the trial. Offer a call.",
    ),
    (
        &["beta", "agency"],
        Some(Priority::Medium),
        "Runs workshops with the intensive flow.",
    ),
    (
        &["newsletter"],
        Some(Priority::Low),
        "Found us through the churn blog post.",
    ),
    (
        &["vip"],
        Some(Priority::High),
        "Wants SSO before upgrading the team.",
    ),
    (&["agency"], None, "Referred two clients."),
];

/// What the CRM screens need beside events: EUR→USD rates over the span (so
/// EUR payments convert to the USD reporting currency), tags, priorities and
/// notes on some customers, and two custom segments. Safe to run again:
/// rates are replaced, notes only go to contacts without any, segments are
/// made once by name.
async fn crm_extras(
    store: &dyn Store,
    project: &Project,
    size: DemoSize,
    now: i64,
) -> anyhow::Result<()> {
    let tz = vibe_core::day::ProjectTz::or_utc(&project.timezone);
    let today = tz.date_of(now);
    let rates: Vec<(String, String, f64)> = (0..=size.days)
        .filter_map(|back| today.checked_sub(jiff::Span::new().days(back)).ok())
        .map(|day| {
            let wobble = ((day.day_of_year() as f64) / 9.0).sin() * 0.02;
            let rate = ((1.08 + wobble) * 10_000.0).round() / 10_000.0;
            (day.to_string(), "USD".to_owned(), rate)
        })
        .collect();
    store.put_exchange_rates(&project.id, "EUR", &rates).await?;

    let mut customers = Vec::new();
    for user in 0..size.users {
        if customers.len() == CONTACTS.len() {
            break;
        }
        if let Some(person) = store
            .find_user(&project.id, &format!("cust-{user}"))
            .await?
        {
            customers.push(person.id);
        }
    }
    for (i, (person, (tags, priority, note))) in customers.iter().zip(CONTACTS).enumerate() {
        let patch = ContactPatch {
            tags: Some(tags.iter().map(|t| t.to_string()).collect()),
            priority: Some(*priority),
            properties: None,
        };
        let contact = store
            .update_contact(&project.id, person, &patch, now)
            .await?;
        if contact.notes_count == 0 {
            let note = NewNote {
                id: uuid::Uuid::new_v4().to_string(),
                site_user_id: person.clone(),
                body: (*note).to_owned(),
                author_account_id: None,
                created_at: now - (i as i64 + 1) * 3_600_000,
            };
            store.add_note(&project.id, &note).await?;
        }
    }

    let segments = [
        (
            "Paying customers",
            "Active subscription, not flagged as a churn risk",
            json!({"all": [
                {"field": "subscription_status", "op": "eq", "value": "active"},
                {"not": {"field": "tag", "op": "has", "value": "churn-risk"}}
            ]}),
        ),
        (
            "Engaged this week",
            "Completed an assessment and came back in the last 7 days",
            json!({"all": [
                {"field": "event", "op": "performed", "name": "assessment_completed"},
                {"field": "last_seen", "op": "within_days", "value": 7}
            ]}),
        ),
    ];
    let existing = store.list_segments(&project.id).await?;
    for (name, description, criteria) in segments {
        if existing.iter().any(|s| s.name == name) {
            continue;
        }
        let parsed = vibe_store::segments::Node::parse(&criteria, "criteria")
            .map_err(|e| anyhow::anyhow!("demo segment {name}: {e}"))?;
        let segment = Segment {
            id: uuid::Uuid::new_v4().to_string(),
            name: name.into(),
            description: Some(description.into()),
            criteria: criteria.to_string(),
            user_count: store.count_matching(&project.id, &parsed, now).await?,
            counted_at: Some(now),
            created_at: now,
            updated_at: now,
        };
        store.create_segment(&project.id, &segment).await?;
    }
    Ok(())
}

/// The history as batches of about 2,000 messages, handed to `emit` (which
/// answers false to stop); returns the number of stored messages made.
fn produce(
    size: DemoSize,
    timezone: &str,
    now: i64,
    progress: bool,
    emit: &mut dyn FnMut(Vec<Message>) -> bool,
) -> u64 {
    let started = Instant::now();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ size.users ^ (size.days as u64) << 32);
    // Message ids differ on every run, so a second run adds events instead of
    // repeating the first run's (which would all be duplicates).
    let mut ids = Rng(0x2545_f491_4f6c_dd1d ^ now as u64);
    let tz = vibe_core::day::ProjectTz::or_utc(timezone);
    let today = tz.date_of(now);
    // Each day gets a share of the event budget and of the new people by its
    // weight: weekends are quieter, and the site grows over the period.
    let weights: Vec<f64> = (0..size.days)
        .map(|d| {
            let date = today
                .checked_sub(jiff::Span::new().days(size.days - 1 - d))
                .unwrap_or(today);
            let weekend = matches!(
                date.weekday(),
                jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday
            );
            let growth = 0.6 + 0.8 * (d as f64 / size.days.max(1) as f64);
            growth * if weekend { 0.55 } else { 1.0 }
        })
        .collect();
    let weight_sum: f64 = weights.iter().sum();
    let hour_sum: u64 = HOURS.iter().sum();

    // Server-side ids (payments, subscriptions) carry the run too, so a second
    // run's payments are new payments, as its events are new events.
    let run = ids.next();
    let seed = rng.0;
    let mut life = Lifecycles {
        pending: BTreeMap::new(),
        seq: 0,
        enrolled: HashSet::new(),
        refunded: false,
    };
    let mut users_created: u64 = 0;
    let mut stored: u64 = 0;
    let mut batch: Vec<Message> = Vec::with_capacity(2048);
    let mut reported = 0;
    let mut cumulative = 0.0;
    for (d, w) in weights.iter().enumerate() {
        let date = today
            .checked_sub(jiff::Span::new().days(size.days - 1 - d as i64))
            .unwrap_or(today);
        let day_start = tz.start_of(date);
        cumulative += w / weight_sum;
        // Today only as far as it has gone.
        let elapsed = ((now - day_start) as f64 / 86_400_000.0).clamp(0.0, 1.0);
        let day_budget = stored + (size.events as f64 * w / weight_sum * elapsed).round() as u64;
        let people_by_tonight = (size.users as f64 * cumulative).round() as u64;
        // Server-side messages due before tonight take their share of the day.
        let tonight = tz.start_of(date.tomorrow().unwrap_or(date));
        for m in life.due_before(tonight.max(day_start + 1)) {
            if stored < size.events {
                stored += 1;
                batch.push(m);
            }
        }
        let mut attempts = 0;
        // A day's visits are made at random hours; they are sent in time
        // order, as a collector would receive them (so the rollups that
        // follow a person's order of events, such as flows, see them so).
        let mut day_msgs: Vec<Message> = Vec::new();
        while stored < day_budget.min(size.events) && attempts < 100_000 {
            attempts += 1;
            // Pick an hour by weight, then a minute.
            let mut pick = rng.below(hour_sum);
            let hour = HOURS
                .iter()
                .position(|h| {
                    if pick < *h {
                        true
                    } else {
                        pick -= h;
                        false
                    }
                })
                .unwrap_or(12) as i64;
            let mut ts = day_start + hour * 3_600_000 + rng.below(3_600_000) as i64;
            if ts >= now - 60_000 {
                continue;
            }
            // New people arrive through the period; the rest of the visits are returns.
            let is_new = users_created < size.users.min(people_by_tonight.max(1))
                && (users_created < 3 || rng.chance(50));
            let user = if is_new {
                users_created += 1;
                users_created - 1
            } else {
                rng.below(users_created.max(1))
            };
            let anon = format!("demo-{user}");
            let (device, browser, os) = DEVICES[(user % DEVICES.len() as u64) as usize];
            let sid = rng.uuid();
            let mut push = |kind: &str, ts: i64, extra: serde_json::Value| {
                let mut v = json!({"type": kind, "id": ids.uuid(), "anonymous_id": anon, "session_id": sid, "ts": ts,
                    "device": device, "browser": browser, "os": os});
                for (k, x) in extra.as_object().into_iter().flatten() {
                    v[k] = x.clone();
                }
                Message::parse(&v, "demo", now, TimestampPolicy::AllowHistorical).ok()
            };
            let referrer = REFERRERS[rng.below(REFERRERS.len() as u64) as usize];
            let mut msgs = Vec::new();
            msgs.extend(push(
                "pageview",
                ts,
                json!({"url": "https://shop.example/", "title": "Home", "referrer": referrer}),
            ));
            for _ in 0..rng.below(4) {
                ts += 5_000 + rng.below(90_000) as i64;
                let (path, title) = PAGES[rng.below(PAGES.len() as u64) as usize];
                msgs.extend(push(
                    "pageview",
                    ts,
                    json!({"url": format!("https://shop.example{path}"), "title": title}),
                ));
            }
            // The signup funnel: pricing → sign-up click → the app (identified).
            if rng.chance(35) {
                ts += 10_000 + rng.below(60_000) as i64;
                msgs.extend(push(
                    "pageview",
                    ts,
                    json!({"url": "https://shop.example/pricing", "title": "Pricing"}),
                ));
                if rng.chance(40) {
                    ts += 5_000 + rng.below(30_000) as i64;
                    msgs.extend(push("event", ts, json!({"name": "signup_click", "props": {"plan": if rng.chance(30) { "premium" } else { "trial" }}})));
                    if rng.chance(70) {
                        ts += 20_000 + rng.below(60_000) as i64;
                        let plan = match rng.below(10) {
                            0..=4 => "trial",
                            5..=7 => "premium",
                            8 => "free",
                            _ => "churned",
                        };
                        let first = FIRST_NAMES[(user % FIRST_NAMES.len() as u64) as usize];
                        let last = LAST_NAMES[(user / 7 % LAST_NAMES.len() as u64) as usize];
                        msgs.extend(push("identify", ts, json!({"user_id": format!("cust-{user}"),
                            "traits": {"email": format!("{}.{user}@example.com", first.to_lowercase()), "name": format!("{first} {last}"), "plan": plan}})));
                        msgs.extend(push("pageview", ts + 1_000, json!({"url": "https://shop.example/app/dashboard", "title": "Dashboard"})));
                        if life.enrolled.insert(user) {
                            life.schedule(seed, run, user, ts + 2_000, now);
                        }
                    }
                }
            }
            if rng.chance(20) {
                ts += 3_000;
                msgs.extend(push("event", ts, json!({"name": "newsletter_signup"})));
            }
            // Customers use the product: the features of the CRM's Features page.
            if life.enrolled.contains(&user) {
                if rng.chance(45) {
                    ts += 60_000 + rng.below(300_000) as i64;
                    let kind = ["career", "health", "money"][rng.below(3) as usize];
                    msgs.extend(push(
                        "event",
                        ts,
                        json!({"name": "assessment_completed", "props": {"kind": kind}}),
                    ));
                }
                // The "Vision generation" flow: a start, then (8 s … 1.5 min
                // later) the vision, or a failure; a few never finish.
                if rng.chance(30) {
                    ts += 20_000 + rng.below(120_000) as i64;
                    let style = if rng.chance(50) { "board" } else { "story" };
                    msgs.extend(push(
                        "event",
                        ts,
                        json!({"name": "vision_started", "props": {"style": style}}),
                    ));
                    match rng.below(100) {
                        0..=83 => {
                            ts += 8_000
                                + rng.below(40_000) as i64
                                + rng.below(4) as i64 * rng.below(15_000) as i64;
                            msgs.extend(push(
                                "event",
                                ts.min(now - 61_000),
                                json!({"name": "vision_generated", "props": {"style": style}}),
                            ));
                        }
                        84..=94 => {
                            ts += 5_000 + rng.below(35_000) as i64;
                            let reason = if rng.chance(60) {
                                "timeout"
                            } else {
                                "content_filter"
                            };
                            msgs.extend(push(
                                "event",
                                ts.min(now - 61_000),
                                json!({"name": "vision_failed", "props": {"reason": reason}}),
                            ));
                        }
                        _ => {}
                    }
                }
                if rng.chance(15) {
                    ts += 10_000 + rng.below(60_000) as i64;
                    msgs.extend(push("event", ts, json!({"name": "intensive_started"})));
                    if rng.chance(60) {
                        ts += 300_000 + rng.below(1_200_000) as i64;
                        msgs.extend(push(
                            "event",
                            ts.min(now - 61_000),
                            json!({"name": "intensive_completed"}),
                        ));
                    }
                }
            }
            msgs.extend(push("heartbeat", (ts + 30_000).min(now - 1), json!({})));
            stored += msgs.iter().filter(|m| m.kind.is_stored_event()).count() as u64;
            day_msgs.extend(msgs);
            if progress && stored * 10 / size.events.max(1) > reported {
                reported = stored * 10 / size.events.max(1);
                eprintln!(
                    "  {}%: {stored} events, {users_created} people ({:.0?})",
                    reported * 10,
                    started.elapsed()
                );
            }
        }
        day_msgs.sort_by_key(|m| m.ts);
        batch.append(&mut day_msgs);
        if batch.len() >= 2000 && !emit(std::mem::take(&mut batch)) {
            return stored;
        }
    }
    for m in life.due_before(now) {
        if stored < size.events {
            stored += 1;
            batch.push(m);
        }
    }
    if !batch.is_empty() {
        emit(batch);
    }
    stored
}

async fn flush(
    store: &dyn Store,
    project: &Project,
    batch: Vec<Message>,
    now: i64,
) -> anyhow::Result<()> {
    let jobs: Vec<IngestJob> = batch
        .chunks(200)
        .map(|c| IngestJob {
            project_id: project.id.clone(),
            timezone: project.timezone.clone(),
            messages: c.to_vec(),
            received_at: now,
        })
        .collect();
    store.ingest(&jobs).await?;
    Ok(())
}
