//! The demo's support staff: agent and supervisor accounts (members of the
//! demo project, password [`DEMO_STAFF_PASSWORD`]), two teams, one inbox per
//! channel with its team, an SLA policy per priority, and each agent's
//! online/away/offline log over the working days of the history. Made once by
//! name or email: a second run finds them.

use vibe_store::inbox::{AgentStatus, Channel, Inbox, Priority, SlaPolicy};
use vibe_store::{NewAccount, Project, Role, Store};

use super::Rng;

/// The demo staff's password, documented in the README: the demo is for
/// trying Vibe out, never for an instance with real data.
pub const DEMO_STAFF_PASSWORD: &str = "demo-agent-password";

const HOUR_MS: i64 = 3_600_000;
const MIN_MS: i64 = 60_000;

/// (email, role, team).
pub const STAFF: &[(&str, Role, &str)] = &[
    ("sofia.supervisor@shop.example", Role::Supervisor, "Support"),
    ("ana.agent@shop.example", Role::Agent, "Support"),
    ("ben.agent@shop.example", Role::Agent, "Support"),
    ("chloe.agent@shop.example", Role::Agent, "Support"),
    ("marco.supervisor@shop.example", Role::Supervisor, "Sales"),
    ("dev.agent@shop.example", Role::Agent, "Sales"),
    ("eva.agent@shop.example", Role::Agent, "Sales"),
];

/// (name, channel, team): support answers the chat and email, sales WhatsApp.
const INBOXES: &[(&str, Channel, &str)] = &[
    ("Website chat", Channel::InApp, "Support"),
    ("Support email", Channel::Email, "Support"),
    ("Sales WhatsApp", Channel::Whatsapp, "Sales"),
];

/// (priority, first response target, resolution target), in seconds.
const SLAS: &[(Priority, i64, i64)] = &[
    (Priority::Low, 8 * 3_600, 5 * 86_400),
    (Priority::Medium, 4 * 3_600, 3 * 86_400),
    (Priority::High, 3_600, 86_400),
    (Priority::Urgent, 15 * 60, 4 * 3_600),
];

/// One inbox and the accounts of its team, who take its conversations.
pub(super) struct DemoInbox {
    pub id: String,
    pub channel: Channel,
    pub agents: Vec<String>,
}

/// Finds or makes the staff, teams, inboxes and SLA policies; the inboxes
/// with their teams' account ids.
pub(super) async fn ensure(
    store: &dyn Store,
    project: &Project,
    since: i64,
) -> anyhow::Result<Vec<DemoInbox>> {
    let p = &project.id;
    // One argon2 hash for every demo account: they share the password, and
    // hashing is deliberately slow.
    let mut hash = None;
    let mut accounts = Vec::new();
    for (email, role, team) in STAFF {
        let id = match store.account_by_email(email).await? {
            Some(a) => a.account.id,
            None => {
                if hash.is_none() {
                    hash = Some(
                        crate::secrets::hash_password_async(DEMO_STAFF_PASSWORD.into()).await?,
                    );
                }
                let new = NewAccount {
                    id: uuid::Uuid::new_v4().to_string(),
                    email: (*email).into(),
                    password_hash: hash.clone().unwrap_or_default(),
                    role: *role,
                    created_at: since,
                };
                store.create_account(&new).await?.id
            }
        };
        store.add_member(p, &id, *role, since).await?;
        accounts.push((id, *team));
    }
    let mut teams = store.teams(p).await?;
    for name in ["Support", "Sales"] {
        if !teams.iter().any(|t| t.name == name) {
            let id = uuid::Uuid::new_v4().to_string();
            teams.push(store.create_team(p, &id, name, since).await?);
        }
    }
    let team_id = |name: &str| {
        teams
            .iter()
            .find(|t| t.name == name)
            .map(|t| t.id.clone())
            .unwrap_or_default()
    };
    for (id, team) in &accounts {
        store.add_team_member(p, &team_id(team), id, since).await?;
    }
    let existing = store.inboxes(p).await?;
    let mut inboxes = Vec::new();
    for (name, channel, team) in INBOXES {
        let inbox = match existing.iter().find(|i| i.name == *name) {
            Some(i) => i.clone(),
            None => {
                let new = Inbox {
                    id: uuid::Uuid::new_v4().to_string(),
                    name: (*name).into(),
                    channel: channel.as_str().into(),
                    team_id: Some(team_id(team)),
                    created_at: since,
                };
                store.create_inbox(p, &new).await?
            }
        };
        let agents = accounts
            .iter()
            .filter(|(_, t)| t == team)
            .map(|(id, _)| id.clone())
            .collect();
        inboxes.push(DemoInbox {
            id: inbox.id,
            channel: *channel,
            agents,
        });
    }
    let policies = store.sla_policies(p).await?;
    for (priority, first, resolution) in SLAS {
        if policies.iter().any(|s| s.priority == priority.as_str()) {
            continue;
        }
        let policy = SlaPolicy {
            priority: priority.as_str().into(),
            first_response_target_s: *first,
            resolution_target_s: *resolution,
            next_response_target_s: None,
            business_hours: None,
            updated_at: since,
        };
        store.put_sla_policy(p, &policy).await?;
    }
    Ok(inboxes)
}

/// Each account's working days from `first_day` (local midnight) to `now`:
/// online from about 8:30, away at lunch and for a short break, offline
/// from about 17:30; on weekends one person per team does a short shift.
/// Through `set_agent_status`, so each span gets its duration.
pub(super) async fn activity(
    store: &dyn Store,
    project: &Project,
    rng: &mut Rng,
    first_day: jiff::civil::Date,
    now: i64,
) -> anyhow::Result<()> {
    let tz = vibe_core::day::ProjectTz::or_utc(&project.timezone);
    let mut accounts = Vec::new();
    for (email, _, _) in STAFF {
        if let Some(a) = store.account_by_email(email).await? {
            accounts.push(a.account.id);
        }
    }
    let mut day = first_day;
    let mut n = 0;
    while tz.start_of(day) < now {
        let start = tz.start_of(day);
        let weekend = matches!(
            day.weekday(),
            jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday
        );
        for (i, account) in accounts.iter().enumerate() {
            // Weekends: the first agent of each team, in turn.
            let on_duty = !weekend || (i % 4 == 1 + n % 2);
            if !on_duty {
                continue;
            }
            let mut spans = Vec::new();
            if weekend {
                spans.push((
                    10 * HOUR_MS + rng.below(30) as i64 * MIN_MS,
                    AgentStatus::Online,
                ));
                spans.push((
                    15 * HOUR_MS + rng.below(60) as i64 * MIN_MS,
                    AgentStatus::Offline,
                ));
            } else {
                let lunch = 12 * HOUR_MS + rng.below(60) as i64 * MIN_MS;
                let (o, a) = (AgentStatus::Online, AgentStatus::Away);
                spans.push((8 * HOUR_MS + rng.below(75) as i64 * MIN_MS, o));
                if rng.chance(40) {
                    let brk = 10 * HOUR_MS + rng.below(60) as i64 * MIN_MS;
                    spans.push((brk, a));
                    spans.push((brk + (5 + rng.below(15) as i64) * MIN_MS, o));
                }
                spans.push((lunch, a));
                spans.push((lunch + (25 + rng.below(40) as i64) * MIN_MS, o));
                if rng.chance(30) {
                    let brk = 15 * HOUR_MS + rng.below(60) as i64 * MIN_MS;
                    spans.push((brk, a));
                    spans.push((brk + (5 + rng.below(20) as i64) * MIN_MS, o));
                }
                spans.push((
                    17 * HOUR_MS + rng.below(90) as i64 * MIN_MS,
                    AgentStatus::Offline,
                ));
            }
            for (at, status) in spans {
                let at = start + at;
                if at >= now {
                    break;
                }
                let id = uuid::Uuid::new_v4().to_string();
                store
                    .set_agent_status(&project.id, account, status, &id, at)
                    .await?;
            }
        }
        n += 1;
        let Ok(next) = day.tomorrow() else { break };
        day = next;
    }
    Ok(())
}
