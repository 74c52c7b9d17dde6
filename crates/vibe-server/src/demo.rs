//! `vibe demo`: a realistic, reproducible history for trying Vibe out and for
//! benchmarks. Visits follow the hour of day and the day of week, grow over time,
//! come back, walk a signup funnel, and identify with plans and devices. Messages
//! go through `Store::ingest`, the same transaction the collector's writer runs.

use std::time::Instant;

use serde_json::json;
use vibe_core::message::TimestampPolicy;
use vibe_core::Message;
use vibe_store::funnel::{Funnel, FunnelStep, StepMatch};
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
    producer
        .join()
        .map_err(|_| anyhow::anyhow!("the demo generator panicked"))
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
        let mut attempts = 0;
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
                    }
                }
            }
            if rng.chance(20) {
                ts += 3_000;
                msgs.extend(push("event", ts, json!({"name": "newsletter_signup"})));
            }
            msgs.extend(push("heartbeat", (ts + 30_000).min(now - 1), json!({})));
            stored += msgs.iter().filter(|m| m.kind.is_stored_event()).count() as u64;
            batch.extend(msgs);
            if batch.len() >= 2000 && !emit(std::mem::take(&mut batch)) {
                return stored;
            }
            if progress && stored * 10 / size.events.max(1) > reported {
                reported = stored * 10 / size.events.max(1);
                eprintln!(
                    "  {}%: {stored} events, {users_created} people ({:.0?})",
                    reported * 10,
                    started.elapsed()
                );
            }
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
