//! Backend-independent half of ingestion: what a batch of messages does to people
//! and sessions, folded so each backend writes one row per person and per session
//! instead of one statement per message.

pub mod batch;
pub mod identities;
pub mod io;

use std::collections::HashMap;

use serde_json::{Map, Value};
use vibe_core::day::ProjectTz;
use vibe_core::{Message, MessageKind};

use crate::db::{Arg, TxExec, TxRead};
use crate::StoreResult;

/// Messages from one request, for one project, already validated.
#[derive(Debug, Clone)]
pub struct IngestJob {
    pub project_id: String,
    /// The project's IANA time zone, for bucketing rollups by local day.
    pub timezone: String,
    pub messages: Vec<Message>,
    pub received_at: i64,
}

impl IngestJob {
    /// A project's messages as jobs of at most `per_job` messages each, all
    /// received at `received_at` (bulk loads: demo data, benchmarks, tests).
    pub fn per_project(
        project: &crate::Project,
        messages: &[Message],
        per_job: usize,
        received_at: i64,
    ) -> Vec<Self> {
        messages
            .chunks(per_job)
            .map(|c| Self {
                project_id: project.id.clone(),
                timezone: project.timezone.clone(),
                messages: c.to_vec(),
                received_at,
            })
            .collect()
    }
}

/// Each project's time zone in a batch, parsed once per batch rather than once
/// per person or session.
pub struct TimeZones {
    by_project: HashMap<String, ProjectTz>,
    utc: ProjectTz,
}

impl TimeZones {
    pub fn of_jobs(jobs: &[IngestJob]) -> Self {
        let mut by_project = HashMap::new();
        for j in jobs {
            by_project
                .entry(j.project_id.clone())
                .or_insert_with(|| ProjectTz::or_utc(&j.timezone));
        }
        Self {
            by_project,
            utc: ProjectTz::or_utc("UTC"),
        }
    }

    pub fn get(&self, project_id: &str) -> &ProjectTz {
        self.by_project.get(project_id).unwrap_or(&self.utc)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestOutcome {
    pub accepted: u32,
    pub duplicates: u32,
}

/// A message that was not a retry, with the person it was resolved to.
#[derive(Debug, Clone, Copy)]
pub struct Resolved<'a> {
    pub project_id: &'a str,
    pub msg: &'a Message,
    pub person_id: &'a str,
}

/// The net effect of a batch on one person.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonUpsert {
    pub project_id: String,
    pub id: String,
    pub anonymous_id: Option<String>,
    pub user_id: Option<String>,
    pub first_seen: i64,
    pub last_seen: i64,
    /// Traits sent in this batch, later ones winning, as a JSON object text.
    pub traits_patch: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    pub plan: Option<String>,
    pub device: Option<String>,
    pub browser: Option<String>,
    pub os: Option<String>,
    /// Stored events (page views, events, identifies) in this batch.
    pub events: i64,
    /// Sessions this batch starts for the person (`site_users.session_count`).
    pub new_sessions: i64,
}

impl PersonUpsert {
    /// A person seen once, at `ts`, with nothing else known yet.
    pub fn new(project_id: &str, id: &str, ts: i64) -> Self {
        Self {
            project_id: project_id.to_owned(),
            id: id.to_owned(),
            anonymous_id: None,
            user_id: None,
            first_seen: ts,
            last_seen: ts,
            traits_patch: None,
            email: None,
            name: None,
            plan: None,
            device: None,
            browser: None,
            os: None,
            events: 0,
            new_sessions: 0,
        }
    }
}

/// The net effect of a batch on one session.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionUpsert {
    pub project_id: String,
    pub id: String,
    pub site_user_id: String,
    pub started_at: i64,
    pub last_seen_at: i64,
    /// Set when the newest message of the batch for this session is a leave.
    pub ended_at: Option<i64>,
    pub entry_url: Option<String>,
    pub referrer: Option<String>,
    /// The newest page view: url, path, title, time.
    pub last_page: Option<(String, String, Option<String>, i64)>,
    pub pageviews: i64,
    pub device: Option<String>,
    pub browser: Option<String>,
    pub os: Option<String>,
    pub screen: Option<String>,
}

fn set_if_some(slot: &mut Option<String>, v: &Option<String>) {
    if v.is_some() {
        slot.clone_from(v);
    }
}

/// A person being folded, with the traits merged so far.
type PersonAcc = (PersonUpsert, Map<String, Value>);

/// Folds resolved messages into one upsert per person, in timestamp order.
pub fn fold_people(resolved: &[Resolved<'_>]) -> Vec<PersonUpsert> {
    let mut sorted: Vec<&Resolved<'_>> = resolved.iter().collect();
    sorted.sort_by_key(|r| r.msg.ts);
    let mut order = Vec::new();
    let mut people: HashMap<(&str, &str), PersonAcc> = HashMap::new();
    for r in sorted {
        let m = r.msg;
        let (p, traits) = people
            .entry((r.project_id, r.person_id))
            .or_insert_with(|| {
                order.push((r.project_id, r.person_id));
                let person = PersonUpsert {
                    anonymous_id: m.anonymous_id.clone(),
                    user_id: m.user_id.clone(),
                    ..PersonUpsert::new(r.project_id, r.person_id, m.ts)
                };
                (person, Map::new())
            });
        p.first_seen = p.first_seen.min(m.ts);
        p.last_seen = p.last_seen.max(m.ts);
        set_if_some(&mut p.device, &m.client.device);
        set_if_some(&mut p.browser, &m.client.browser);
        set_if_some(&mut p.os, &m.client.os);
        if p.user_id.is_none() {
            p.user_id.clone_from(&m.user_id);
        }
        if m.kind.is_stored_event() {
            p.events += 1;
        }
        if let Some(t) = &m.traits {
            for (k, v) in t {
                traits.insert(k.clone(), v.clone());
            }
        }
    }
    order
        .into_iter()
        .filter_map(|k| people.remove(&k))
        .map(|(mut p, traits)| {
            if !traits.is_empty() {
                p.email = trait_str(&traits, "email");
                p.name = trait_str(&traits, "name").or_else(|| {
                    let first = trait_str(&traits, "first_name")?;
                    Some(match trait_str(&traits, "last_name") {
                        Some(last) => format!("{first} {last}"),
                        None => first,
                    })
                });
                p.plan = trait_str(&traits, "plan");
                p.traits_patch = Some(Value::Object(traits).to_string());
            }
            p
        })
        .collect()
}

fn trait_str(traits: &Map<String, Value>, key: &str) -> Option<String> {
    match traits.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        _ => None,
    }
}

/// Folds resolved messages into one upsert per session, in timestamp order.
pub fn fold_sessions(resolved: &[Resolved<'_>]) -> Vec<SessionUpsert> {
    let mut sorted: Vec<&Resolved<'_>> = resolved
        .iter()
        .filter(|r| r.msg.session_id.is_some())
        .collect();
    sorted.sort_by_key(|r| r.msg.ts);
    let mut order = Vec::new();
    let mut sessions: HashMap<(&str, &str), SessionUpsert> = HashMap::new();
    for r in sorted {
        let m = r.msg;
        let sid = m.session_id.as_deref().unwrap_or_default();
        let s = sessions.entry((r.project_id, sid)).or_insert_with(|| {
            order.push((r.project_id, sid));
            SessionUpsert {
                project_id: r.project_id.to_owned(),
                id: sid.to_owned(),
                site_user_id: r.person_id.to_owned(),
                started_at: m.ts,
                last_seen_at: m.ts,
                ended_at: None,
                entry_url: None,
                referrer: None,
                last_page: None,
                pageviews: 0,
                device: None,
                browser: None,
                os: None,
                screen: None,
            }
        });
        // Identification can move a session to another person mid-batch.
        r.person_id.clone_into(&mut s.site_user_id);
        s.last_seen_at = s.last_seen_at.max(m.ts);
        s.ended_at = (m.kind == MessageKind::Leave).then_some(m.ts);
        set_if_some(&mut s.device, &m.client.device);
        set_if_some(&mut s.browser, &m.client.browser);
        set_if_some(&mut s.os, &m.client.os);
        set_if_some(&mut s.screen, &m.screen);
        if m.kind == MessageKind::Pageview {
            let url = m.url.clone().unwrap_or_default();
            if s.entry_url.is_none() {
                s.entry_url = Some(url.clone());
                s.referrer.clone_from(&m.referrer);
            }
            s.pageviews += 1;
            s.last_page = Some((
                url,
                m.path.clone().unwrap_or_default(),
                m.title.clone(),
                m.ts,
            ));
        }
    }
    order
        .into_iter()
        .filter_map(|k| sessions.remove(&k))
        .collect()
}

/// Splits rows into chunks of a few fixed sizes (512, 64, 8, 1) so multi-row
/// statements come in a handful of shapes that the prepared-statement cache keeps,
/// instead of one new statement for every batch length.
pub fn shaped_chunks<T>(rows: &[T]) -> Vec<&[T]> {
    const SHAPES: [usize; 4] = [512, 64, 8, 1];
    let mut out = Vec::new();
    let mut rest = rows;
    for size in SHAPES {
        while rest.len() >= size {
            let (head, tail) = rest.split_at(size);
            out.push(head);
            rest = tail;
        }
    }
    out
}

/// A shared multi-row upsert (`head` VALUES … `tail`) with `$n`
/// placeholders, in the fixed shapes of [`shaped_chunks`]: both backends run
/// it through [`TxExec`], one statement per chunk instead of one per row.
pub struct MultiRow {
    head: &'static str,
    cols: usize,
    tail: &'static str,
    shapes: std::sync::OnceLock<[String; 4]>,
}

impl MultiRow {
    pub const fn new(head: &'static str, cols: usize, tail: &'static str) -> Self {
        Self {
            head,
            cols,
            tail,
            shapes: std::sync::OnceLock::new(),
        }
    }

    /// The statement for `rows` rows (one of the chunk shapes).
    fn sql(&self, rows: usize) -> &str {
        let shapes = self.shapes.get_or_init(|| {
            [512, 64, 8, 1].map(|n| {
                let values: Vec<String> = (0..n)
                    .map(|row| {
                        let cells: Vec<String> = (1..=self.cols)
                            .map(|c| format!("${}", row * self.cols + c))
                            .collect();
                        format!("({})", cells.join(", "))
                    })
                    .collect();
                format!("{}{}{}", self.head, values.join(", "), self.tail)
            })
        });
        &shapes[match rows {
            512 => 0,
            64 => 1,
            8 => 2,
            _ => 3,
        }]
    }

    /// Writes `rows`, each giving its `cols` values through `args`.
    pub async fn write<'a, E: TxExec + ?Sized, R>(
        &self,
        io: &mut E,
        rows: &'a [R],
        args: impl Fn(&'a R) -> Vec<Arg<'a>>,
    ) -> StoreResult<()> {
        for chunk in shaped_chunks(rows) {
            let values: Vec<Arg<'a>> = chunk.iter().flat_map(&args).collect();
            debug_assert_eq!(values.len(), chunk.len() * self.cols);
            io.execute(self.sql(chunk.len()), &values).await?;
        }
        Ok(())
    }

    /// Like [`Self::write`], for a statement that returns rows (`RETURNING`):
    /// every chunk's rows.
    pub async fn read<'a, T, E: TxRead<T> + ?Sized, R>(
        &self,
        io: &mut E,
        rows: &'a [R],
        args: impl Fn(&'a R) -> Vec<Arg<'a>>,
    ) -> StoreResult<Vec<T>> {
        let mut out = Vec::new();
        for chunk in shaped_chunks(rows) {
            let values: Vec<Arg<'a>> = chunk.iter().flat_map(&args).collect();
            debug_assert_eq!(values.len(), chunk.len() * self.cols);
            out.extend(io.all_rows(self.sql(chunk.len()), &values).await?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn chunks_come_in_fixed_shapes() {
        let rows: Vec<u32> = (0..1100).collect();
        let sizes: Vec<usize> = super::shaped_chunks(&rows)
            .iter()
            .map(|c| c.len())
            .collect();
        assert_eq!(sizes, [512, 512, 64, 8, 1, 1, 1, 1]);
        assert_eq!(sizes.iter().sum::<usize>(), 1100);
        assert!(super::shaped_chunks::<u8>(&[]).is_empty());
    }

    use super::*;
    use vibe_core::message::TimestampPolicy;

    /// The messages as resolved to person "a" of project "p".
    fn of_person_a(msgs: &[Message]) -> Vec<Resolved<'_>> {
        msgs.iter()
            .map(|m| Resolved {
                project_id: "p",
                msg: m,
                person_id: "a",
            })
            .collect()
    }

    fn msg(kind: &str, ts: i64, extra: Value) -> Message {
        let mut v = serde_json::json!({"type": kind, "id": uuid_like(ts), "anonymous_id": "a",
            "session_id": "s", "ts": ts});
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        Message::parse(&v, "m", 10_000, TimestampPolicy::AllowHistorical).unwrap()
    }

    fn uuid_like(n: i64) -> String {
        format!("00000000-0000-4000-8000-{n:012}")
    }

    #[test]
    fn sessions_fold_in_time_order() {
        let msgs = [
            msg("heartbeat", 3000, serde_json::json!({})),
            msg(
                "pageview",
                1000,
                serde_json::json!({"url": "https://x/a", "referrer": "https://g"}),
            ),
            msg("pageview", 2000, serde_json::json!({"url": "https://x/b"})),
        ];
        let resolved = of_person_a(&msgs);
        let s = &fold_sessions(&resolved)[0];
        assert_eq!((s.started_at, s.last_seen_at, s.pageviews), (1000, 3000, 2));
        assert_eq!(s.entry_url.as_deref(), Some("https://x/a"));
        assert_eq!(s.referrer.as_deref(), Some("https://g"));
        assert_eq!(s.last_page.as_ref().map(|p| p.1.as_str()), Some("/b"));
        assert_eq!(s.ended_at, None);
    }

    #[test]
    fn leave_only_ends_when_newest() {
        let msgs = [
            msg("leave", 2000, serde_json::json!({})),
            msg("heartbeat", 1000, serde_json::json!({})),
        ];
        let resolved = of_person_a(&msgs);
        assert_eq!(fold_sessions(&resolved)[0].ended_at, Some(2000));
    }

    #[test]
    fn traits_merge_and_name_fields() {
        let msgs = [
            msg(
                "identify",
                1000,
                serde_json::json!({"user_id": "u1", "traits": {"email": "a@x.io", "plan": "trial"}}),
            ),
            msg(
                "identify",
                2000,
                serde_json::json!({"user_id": "u1", "traits": {"plan": "premium", "first_name": "Ada", "last_name": "L"}}),
            ),
        ];
        let resolved = of_person_a(&msgs);
        let p = &fold_people(&resolved)[0];
        assert_eq!(p.plan.as_deref(), Some("premium"));
        assert_eq!(p.email.as_deref(), Some("a@x.io"));
        assert_eq!(p.name.as_deref(), Some("Ada L"));
        assert_eq!(p.events, 2);
    }
}
