//! Support page updates on the live feed (issue 13, item 5): the sections of
//! the Support page whose numbers an Inbox change may have moved, sent as
//! `{"type":"support","section":…,"data":…,"timestamp":…}`.
//!
//! The hub tags each Inbox event with its [`Sections`] ([`of_change`]); each
//! connection keeps them only when its scope may see the change (the same
//! `Audience` rule as the Inbox events) and its role may see the section
//! ([`Sections::visible_to`]), and a [`Throttle`] coalesces them so that a
//! section is sent at most once per [`MIN_GAP`] per connection: the first
//! change of a quiet section goes out at once, later ones wait for the end of
//! the gap and go out as one message.
//!
//! `data` is the section's body when the connection has told which range and
//! filters its page shows (`support_subscription.rs`): exactly what
//! `GET …/support/<section>` answers for that query and the account, with
//! the query echoed as `query`. Without a subscription (or when the body
//! could not be computed) it is null, and the page refetches the section.

use std::time::Duration;

use serde_json::{json, Value};
use tokio::time::Instant;
use vibe_store::inbox::Scope;

use super::record::InboxChange;

/// The least time between two messages of one section on one connection.
pub const MIN_GAP: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Kpi,
    Conversation,
    Whatsapp,
    Customer,
    Agent,
    Automation,
    Business,
}

impl Section {
    pub const ALL: [Section; 7] = [
        Self::Kpi,
        Self::Conversation,
        Self::Whatsapp,
        Self::Customer,
        Self::Agent,
        Self::Automation,
        Self::Business,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Kpi => "kpi",
            Self::Conversation => "conversation",
            Self::Whatsapp => "whatsapp",
            Self::Customer => "customer",
            Self::Agent => "agent",
            Self::Automation => "automation",
            Self::Business => "business",
        }
    }

    const fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// A set of sections.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sections(u8);

impl Sections {
    pub const NONE: Self = Self(0);
    pub const ALL: Self = Self::of(&Section::ALL);

    pub const fn of(sections: &[Section]) -> Self {
        let mut bits = 0;
        let mut i = 0;
        while i < sections.len() {
            bits |= sections[i].bit();
            i += 1;
        }
        Self(bits)
    }

    pub fn contains(self, s: Section) -> bool {
        self.0 & s.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    fn without(self, s: Section) -> Self {
        Self(self.0 & !s.bit())
    }

    /// What a scope may be told about: viewers nothing (like the Inbox), agents
    /// not `business` (its endpoint is for supervisors and above).
    pub fn visible_to(self, scope: &Scope) -> Self {
        match scope {
            Scope::All | Scope::Supervisor { .. } => self,
            Scope::Agent { .. } => self.without(Section::Business),
            Scope::Nobody => Self::NONE,
        }
    }

    pub fn iter(self) -> impl Iterator<Item = Section> {
        Section::ALL.into_iter().filter(move |s| self.contains(*s))
    }
}

/// A new message: volumes, waits and replies, the customers' load and bot
/// answers.
const MESSAGE: Sections = Sections::of(&[
    Section::Kpi,
    Section::Conversation,
    Section::Customer,
    Section::Automation,
]);
/// A conversation's status, assignee or priority: open/resolved counts, SLA,
/// agents' workload, bot outcomes, resolutions and leads.
const CONVERSATION: Sections = Sections::of(&[
    Section::Kpi,
    Section::Conversation,
    Section::Agent,
    Section::Automation,
    Section::Business,
]);
/// A delivery status: the funnel and the KPI delivery rate.
const DELIVERY: Sections = Sections::of(&[Section::Whatsapp, Section::Kpi]);
/// An agent's status: online/away time.
const AGENT: Sections = Sections::of(&[Section::Agent]);

/// The sections an Inbox change may move.
pub fn of_change(change: &InboxChange) -> Sections {
    match change {
        InboxChange::Message(_) => MESSAGE,
        InboxChange::Conversation(_) => CONVERSATION,
        InboxChange::Delivery(_) | InboxChange::DeliveryByChannelId(..) => DELIVERY,
        InboxChange::AgentStatus(_) => AGENT,
        // The unread count is on no Support section.
        InboxChange::Read(_) => Sections::NONE,
    }
}

/// One connection's pending sections and when each was last sent.
#[derive(Debug, Default)]
pub struct Throttle {
    pending: Sections,
    last: [Option<Instant>; Section::ALL.len()],
}

impl Throttle {
    pub fn note(&mut self, sections: Sections) {
        self.pending = self.pending.union(sections);
    }

    fn ready_at(&self, s: Section) -> Option<Instant> {
        self.last[s as usize].map(|t| t + MIN_GAP)
    }

    /// The pending sections that may be sent at `now`, marked as sent.
    pub fn take_due(&mut self, now: Instant) -> Vec<Section> {
        let due: Vec<Section> = self
            .pending
            .iter()
            .filter(|s| self.ready_at(*s).is_none_or(|t| t <= now))
            .collect();
        for s in &due {
            self.pending = self.pending.without(*s);
            self.last[*s as usize] = Some(now);
        }
        due
    }

    /// Marks `s` as sent at `at`: a body computed after [`Self::take_due`]
    /// goes out later than it was taken, and the gap counts from the socket.
    pub fn sent(&mut self, s: Section, at: Instant) {
        self.last[s as usize] = Some(at);
    }

    /// When the earliest pending section may be sent (`None`: nothing pending).
    pub fn next_due(&self) -> Option<Instant> {
        self.pending
            .iter()
            .map(|s| self.ready_at(s).unwrap_or_else(Instant::now))
            .min()
    }
}

/// The feed message for a section: `data` its body (null: refetch), and
/// with a subscription its `query`, as the client sent it.
pub fn message(section: Section, data: Value, query: Option<&Value>, now_ms: i64) -> Value {
    let mut m = json!({
        "type": "support",
        "section": section.as_str(),
        "data": data,
        "timestamp": now_ms,
    });
    if let Some(q) = query {
        m["query"] = q.clone();
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_follow_the_change_and_the_role() {
        let m = of_change(&InboxChange::Message("m".into()));
        let names: Vec<_> = m.iter().map(Section::as_str).collect();
        assert_eq!(names, ["kpi", "conversation", "customer", "automation"]);
        let c = of_change(&InboxChange::Conversation("c".into()));
        assert!(c.contains(Section::Business));
        let agent = Scope::Agent {
            account_id: "a".into(),
        };
        assert!(!c.visible_to(&agent).contains(Section::Business));
        assert!(c.visible_to(&Scope::Nobody).is_empty());
        assert_eq!(c.visible_to(&Scope::All), c);
        assert!(of_change(&InboxChange::Read("c".into())).is_empty());
    }

    #[test]
    fn a_section_goes_out_at_most_once_per_gap() {
        let mut t = Throttle::default();
        let start = Instant::now();
        t.note(DELIVERY);
        assert_eq!(t.take_due(start), [Section::Kpi, Section::Whatsapp]);
        assert_eq!(t.next_due(), None);
        // A burst inside the gap: coalesced, due when the gap ends.
        for _ in 0..20 {
            t.note(MESSAGE);
        }
        let half = start + MIN_GAP / 2;
        // Sections not sent yet go at once; kpi waits.
        assert_eq!(
            t.take_due(half),
            [
                Section::Conversation,
                Section::Customer,
                Section::Automation
            ]
        );
        assert_eq!(t.next_due(), Some(start + MIN_GAP));
        assert!(t
            .take_due(start + MIN_GAP - Duration::from_millis(1))
            .is_empty());
        assert_eq!(t.take_due(start + MIN_GAP), [Section::Kpi]);
        assert_eq!(t.next_due(), None);
    }

    #[test]
    fn a_body_sent_late_starts_its_gap_when_it_is_sent() {
        let mut t = Throttle::default();
        let start = Instant::now();
        t.note(AGENT);
        assert_eq!(t.take_due(start), [Section::Agent]);
        // Its body took 300 ms to compute.
        t.sent(Section::Agent, start + Duration::from_millis(300));
        t.note(AGENT);
        assert!(t.take_due(start + MIN_GAP).is_empty());
        assert_eq!(
            t.next_due(),
            Some(start + MIN_GAP + Duration::from_millis(300))
        );
    }
}
