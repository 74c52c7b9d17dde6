//! The demo's support history: conversations of identified customers on the
//! chat, email and WhatsApp, most in office hours. Each is a script planned
//! from the seeded RNG ([`plan`]: the contact writes, a bot may answer and
//! settle it or hand it to a person, an agent answers minutes or hours later,
//! replies are delivered, read or fail, the conversation is resolved, rated,
//! sometimes reopened) and then played through the `InboxStore` calls the
//! API makes, each at its historical time ([`play`]), so the first-response
//! and resolution timers are the store's own.

use vibe_store::inbox::{
    Channel, ConversationPatch, DeliveryStatus, Direction, NewConversation, NewMessage, Priority,
    Scope, Sender, Status,
};
use vibe_store::{Project, Store};

use super::staff::DemoInbox;
use super::{Rng, DAY_MS, HOURS};

const S: i64 = 1_000;
const MIN: i64 = 60_000;
const HOUR: i64 = 3_600_000;

/// (intent, the contact's question, the answer, a lead?).
const TOPICS: &[(&str, &str, &str, bool)] = &[
    (
        "billing",
        "I was charged twice this month, can you check?",
        "Sorry about that! The duplicate charge is refunded; it shows in 3–5 days.",
        false,
    ),
    (
        "bug",
        "The dashboard doesn't load since this morning.",
        "Thanks for the report. A fix is out; a reload should do it.",
        false,
    ),
    (
        "how_to",
        "How do I export my assessments?",
        "Open Assessments, then Export in the top right: you get a CSV.",
        false,
    ),
    (
        "pricing",
        "Do you have a team plan with SSO?",
        "Yes: Business includes SSO for up to 50 seats. Shall I set up a trial?",
        true,
    ),
    (
        "upgrade",
        "I'd like to move to the yearly plan.",
        "Done: you're on yearly from the next renewal, with two months free.",
        true,
    ),
    (
        "cancellation",
        "Please cancel my subscription.",
        "Your subscription ends at the close of this period. Sorry to see you go!",
        false,
    ),
    (
        "feature_request",
        "Could visions be exported as PDF?",
        "Good idea: it's on the roadmap; I've added your vote.",
        false,
    ),
];
const BOT_GREETING: &str = "Hi! I'm the shop's assistant. Here is what I found:";
const ASK_HUMAN: &str = "That doesn't help, can I talk to a person?";
const FOLLOW_UPS: &[&str] = &[
    "Thanks! One more question: does that apply to my team too?",
    "It still happens, see the screenshot.",
    "Great, and when does that take effect?",
];
const ANSWERS: &[&str] = &[
    "Yes, it applies to everyone on your account.",
    "Got it, I've passed it to engineering and will update you.",
    "Right away: you'll get a confirmation by email.",
];
const NOTES: &[&str] = &[
    "Customer since the beta, be generous.",
    "Checked Stripe: the second charge is a pending authorisation.",
    "Escalated to engineering, ticket ENG-4312.",
];
const FAILURES: &[(Channel, &str)] = &[
    (Channel::Email, "550 5.1.1 mailbox unavailable"),
    (Channel::Whatsapp, "131026: message undeliverable"),
];

/// What happens to an outbound message after it is stored.
#[derive(Debug, Clone, Copy)]
enum Fate {
    /// Read `s` seconds later (after being delivered).
    Read(i64),
    Delivered,
    Failed,
}

#[derive(Debug, Clone)]
enum Step {
    Inbound(&'static str),
    Bot(&'static str, Fate),
    /// An agent takes the conversation and reads the thread.
    Assign(usize),
    Escalate,
    Reply(&'static str, Fate),
    Note(&'static str),
    Status(Status),
    Csat(i64),
    Converted,
}

/// One conversation's script: steps at times, oldest first.
pub(super) struct Plan {
    person: String,
    inbox: usize,
    priority: Priority,
    intent: &'static str,
    lead: bool,
    steps: Vec<(i64, Step)>,
}

/// The local hour of `ts` (0–23), the day's local midnight, and whether it is a weekend day.
fn local(tz: &vibe_core::day::ProjectTz, ts: i64) -> (i64, i64, bool) {
    let date = tz.date_of(ts);
    let start = tz.start_of(date);
    let weekend = matches!(
        date.weekday(),
        jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday
    );
    ((ts - start) / HOUR, start, weekend)
}

fn fate(rng: &mut Rng, channel: Channel) -> Fate {
    match rng.below(100) {
        0..=4 if channel.is_external() => Fate::Failed,
        0..=14 => Fate::Delivered,
        _ => {
            let within = if rng.chance(70) { 600 } else { 4 * 3_600 };
            Fate::Read(5 + rng.below(within) as i64)
        }
    }
}

/// How long the contact waits for a person: minutes in office hours
/// (sometimes an hour or more, email slower), until the next morning after.
fn human_wait(rng: &mut Rng, tz: &vibe_core::day::ProjectTz, at: i64, channel: Channel) -> i64 {
    let (hour, midnight, weekend) = local(tz, at);
    if !(8..18).contains(&hour) || (weekend && !(10..15).contains(&hour)) {
        let next_morning = if hour < 8 {
            midnight
        } else {
            midnight + DAY_MS
        };
        return (next_morning + 8 * HOUR - at) + rng.below(90) as i64 * MIN;
    }
    let slow = if channel == Channel::Email { 3 } else { 1 };
    slow * match rng.below(100) {
        0..=64 => MIN + rng.below(19) as i64 * MIN,
        65..=89 => 20 * MIN + rng.below(70) as i64 * MIN,
        _ => 2 * HOUR + rng.below(4 * 60) as i64 * MIN,
    } + rng.below(60) as i64 * S
}

/// Plans `count` conversations over `[from, now)`, by day weight and hour of
/// day, each with an identified customer seen by then (`customers`: ids and
/// first-seen times, oldest first).
pub(super) fn plan(
    rng: &mut Rng,
    tz: &vibe_core::day::ProjectTz,
    customers: &[(String, i64)],
    inboxes: &[DemoInbox],
    from: jiff::civil::Date,
    now: i64,
    count: usize,
) -> Vec<Plan> {
    let mut days = Vec::new();
    let mut day = from;
    while tz.start_of(day) < now {
        days.push(day);
        let Ok(next) = day.tomorrow() else { break };
        day = next;
    }
    let hour_sum: u64 = HOURS.iter().sum();
    let mut plans = Vec::with_capacity(count);
    let mut attempts = 0;
    while plans.len() < count && attempts < count * 20 && !days.is_empty() {
        attempts += 1;
        let d = rng.below(days.len() as u64) as usize;
        // Busier over time, quieter at weekends (as the site's traffic).
        let (_, midnight, weekend) = local(tz, tz.start_of(days[d]) + HOUR);
        let weight = 40 + 60 * d as u64 / days.len() as u64;
        if rng.below(100) >= if weekend { weight / 2 } else { weight } {
            continue;
        }
        let mut pick = rng.below(hour_sum);
        let hour = HOURS
            .iter()
            .position(|h| {
                let hit = pick < *h;
                pick = pick.saturating_sub(*h);
                hit
            })
            .unwrap_or(12) as i64;
        let t0 = midnight + hour * HOUR + rng.below(HOUR as u64) as i64;
        let seen = customers.partition_point(|(_, first)| *first < t0);
        if seen == 0 || t0 >= now - MIN {
            continue;
        }
        let person = customers[rng.below(seen as u64) as usize].0.clone();
        plans.push(script(rng, tz, person, inboxes, t0));
    }
    plans
}

fn script(
    rng: &mut Rng,
    tz: &vibe_core::day::ProjectTz,
    person: String,
    inboxes: &[DemoInbox],
    t0: i64,
) -> Plan {
    let inbox = match rng.below(100) {
        0..=49 => 0,
        50..=79 => 1,
        _ => 2,
    }
    .min(inboxes.len().saturating_sub(1));
    let channel = inboxes.get(inbox).map_or(Channel::InApp, |i| i.channel);
    let agents = inboxes.get(inbox).map_or(1, |i| i.agents.len().max(1));
    let (intent, question, answer, lead) = TOPICS[rng.below(TOPICS.len() as u64) as usize];
    let priority = match rng.below(100) {
        0..=29 => Priority::Low,
        30..=74 => Priority::Medium,
        75..=94 => Priority::High,
        _ => Priority::Urgent,
    };
    let mut steps = vec![(t0, Step::Inbound(question))];
    let mut t = t0;
    // The bot answers the chat and WhatsApp at once, day and night; half of
    // those it settles alone, the others ask for a person.
    if channel != Channel::Email && rng.chance(55) {
        t += (3 + rng.below(15) as i64) * S;
        steps.push((t, Step::Bot(BOT_GREETING, fate(rng, channel))));
        if rng.chance(50) {
            if rng.chance(50) {
                t += (20 + rng.below(240) as i64) * S;
                steps.push((t, Step::Inbound("Perfect, thanks!")));
            }
            t += (1 + rng.below(15) as i64) * MIN;
            steps.push((t, Step::Status(Status::Resolved)));
            if rng.chance(30) {
                steps.push((t + 30 * S, Step::Csat(3 + rng.below(3) as i64)));
            }
            return Plan {
                person,
                inbox,
                priority,
                intent,
                lead,
                steps,
            };
        }
        t += (30 + rng.below(90) as i64) * S;
        steps.push((t, Step::Inbound(ASK_HUMAN)));
        steps.push((t + S, Step::Escalate));
    }
    t += human_wait(rng, tz, t, channel);
    let agent = rng.below(agents as u64) as usize;
    steps.push((t - 20 * S, Step::Assign(agent)));
    steps.push((t, Step::Reply(answer, fate(rng, channel))));
    if rng.chance(15) {
        let note = NOTES[rng.below(NOTES.len() as u64) as usize];
        steps.push((t + MIN, Step::Note(note)));
    }
    for _ in 0..rng.below(3) {
        let i = rng.below(FOLLOW_UPS.len() as u64) as usize;
        t += (2 + rng.below(40) as i64) * MIN;
        steps.push((t, Step::Inbound(FOLLOW_UPS[i])));
        t += (1 + rng.below(20) as i64) * MIN;
        steps.push((t - 10 * S, Step::Assign(agent)));
        steps.push((t, Step::Reply(ANSWERS[i], fate(rng, channel))));
    }
    if lead && rng.chance(35) {
        t += (5 + rng.below(120) as i64) * MIN;
        steps.push((t, Step::Converted));
    }
    // Most are resolved; some wait for the contact (pending), some stay open.
    let outcome = rng.below(100);
    if outcome >= 80 {
        if outcome < 90 {
            steps.push((t + MIN, Step::Status(Status::Pending)));
        }
        return Plan {
            person,
            inbox,
            priority,
            intent,
            lead,
            steps,
        };
    }
    t += if rng.chance(85) {
        (2 + rng.below(180) as i64) * MIN
    } else {
        DAY_MS + rng.below(DAY_MS as u64) as i64
    };
    steps.push((t, Step::Status(Status::Resolved)));
    let mut resolved = true;
    // A few come back: the contact writes again, which reopens it.
    if rng.chance(8) {
        t += HOUR + rng.below(2 * DAY_MS as u64) as i64;
        steps.push((t, Step::Inbound("Sorry, it's back again.")));
        t += human_wait(rng, tz, t, channel);
        steps.push((t - 20 * S, Step::Assign(agent)));
        steps.push((t, Step::Reply(ANSWERS[1], fate(rng, channel))));
        resolved = rng.chance(80);
        if resolved {
            t += (10 + rng.below(120) as i64) * MIN;
            steps.push((t, Step::Status(Status::Resolved)));
        }
    }
    if resolved && rng.chance(45) {
        let csat = match rng.below(100) {
            0..=4 => 1,
            5..=11 => 2,
            12..=24 => 3,
            25..=54 => 4,
            _ => 5,
        };
        steps.push((t + (1 + rng.below(60) as i64) * MIN, Step::Csat(csat)));
    }
    Plan {
        person,
        inbox,
        priority,
        intent,
        lead,
        steps,
    }
}

/// Plays `plan` up to `now` (later steps have not happened yet).
pub(super) async fn play(
    store: &dyn Store,
    project: &Project,
    inboxes: &[DemoInbox],
    plan: &Plan,
    now: i64,
) -> anyhow::Result<()> {
    let p = &project.id;
    let all = Scope::All;
    let inbox = &inboxes[plan.inbox];
    let t0 = plan.steps.first().map_or(now, |(t, _)| *t);
    let new = NewConversation {
        id: uuid::Uuid::new_v4().to_string(),
        site_user_id: plan.person.clone(),
        channel: inbox.channel,
        status: Status::Open,
        priority: plan.priority,
        assignee_account_id: None,
        team_id: None,
        inbox_id: Some(inbox.id.clone()),
        handled_by_bot: false,
        intent: Some(plan.intent.into()),
        is_lead: plan.lead,
        external_id: None,
        created_by_account_id: None,
        created_at: t0,
    };
    let (conv, _) = store.create_conversation(p, &new).await?;
    let mut agent: Option<String> = None;
    let mut last_inbound: Option<String> = None;
    let message = |direction, sender, account: Option<String>, body: &str, status, at| NewMessage {
        id: uuid::Uuid::new_v4().to_string(),
        conversation_id: conv.id.clone(),
        direction,
        sender,
        sender_account_id: account,
        body: body.into(),
        private: false,
        attachments: "[]".into(),
        delivery_status: status,
        channel_message_id: None,
        created_at: at,
    };
    // The history's replies went out already: stored `sent` (a `queued` one
    // would enter the outbox and be sent now), then moved on by `deliver`.
    let out_status = DeliveryStatus::Sent;
    for (at, step) in &plan.steps {
        let at = *at;
        if at >= now - MIN {
            break;
        }
        let mut patch = ConversationPatch::default();
        match step {
            Step::Inbound(body) => {
                let m = message(
                    Direction::In,
                    Sender::Contact,
                    None,
                    body,
                    DeliveryStatus::Delivered,
                    at,
                );
                store.add_message(p, &all, &m).await?;
                last_inbound = Some(m.id);
            }
            Step::Bot(body, f) => {
                let m = message(Direction::Out, Sender::Bot, None, body, out_status, at);
                store.add_message(p, &all, &m).await?;
                deliver(store, p, &m.id, inbox.channel, *f, at, now).await?;
            }
            Step::Escalate => patch.escalated_to_human = Some(true),
            Step::Assign(i) => {
                let id = inbox.agents.get(*i).cloned();
                if agent != id {
                    agent = id.clone();
                    patch.assignee_account_id = Some(id);
                }
                if let Some(m) = last_inbound.take() {
                    store.mark_read(p, &all, &conv.id, &m, at).await?;
                }
            }
            Step::Reply(body, f) => {
                let m = message(
                    Direction::Out,
                    Sender::Agent,
                    agent.clone(),
                    body,
                    out_status,
                    at,
                );
                store.add_message(p, &all, &m).await?;
                deliver(store, p, &m.id, inbox.channel, *f, at, now).await?;
            }
            Step::Note(body) => {
                let mut m = message(
                    Direction::Out,
                    Sender::Agent,
                    agent.clone(),
                    body,
                    DeliveryStatus::Sent,
                    at,
                );
                m.private = true;
                store.add_message(p, &all, &m).await?;
            }
            Step::Status(s) => patch.status = Some(*s),
            Step::Csat(v) => patch.csat = Some(Some(*v)),
            Step::Converted => patch.converted = Some(true),
        }
        if patch != ConversationPatch::default() {
            store
                .update_conversation(p, &all, &conv.id, &patch, at)
                .await?;
        }
    }
    Ok(())
}

/// The provider's callbacks for an outbound message: sent, then delivered
/// and maybe read, or failed with the channel's reason; none after `now`.
async fn deliver(
    store: &dyn Store,
    project_id: &str,
    id: &str,
    channel: Channel,
    fate: Fate,
    at: i64,
    now: i64,
) -> anyhow::Result<()> {
    // `delivered` also stamps `sent_at` (the store fills the earlier
    // timestamps), so an external reply needs two callbacks, not three.
    let mut updates = Vec::new();
    match fate {
        Fate::Failed => {
            updates.push((DeliveryStatus::Sent, at + S));
            updates.push((DeliveryStatus::Failed, at + 3 * S));
        }
        Fate::Delivered => updates.push((DeliveryStatus::Delivered, at + 2 * S)),
        Fate::Read(s) => {
            if channel.is_external() {
                updates.push((DeliveryStatus::Delivered, at + 2 * S));
            }
            updates.push((DeliveryStatus::Read, at + 2 * S + s * S));
        }
    }
    let reason = FAILURES
        .iter()
        .find(|(c, _)| *c == channel)
        .map(|(_, r)| *r);
    for (status, ts) in updates {
        if ts >= now {
            break;
        }
        store
            .set_delivery_status(project_id, id, status, ts, reason)
            .await?;
    }
    Ok(())
}
