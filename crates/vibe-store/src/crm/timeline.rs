//! A contact's timeline: their sessions (with pages), custom events, notes and
//! payments,
//! newest first, one keyset page at a time.
//!
//! Each kind of item is read by its own indexed query, at most one page of
//! each, and the pages are merged here. The order is `(ts DESC, kind, id
//! DESC)`; within one kind and one millisecond the database's order of ids is
//! the order (its collation may differ from Rust's, so ties are never
//! re-sorted here), and the cursor's id is compared by the database too.

use serde::Serialize;

use crate::db::Db;
use crate::people::{with_pages, EVENT_COLUMNS, SESSION_COLUMNS};
use crate::revenue::{PaymentRow, PAYMENT_COLUMNS};
use crate::users::SessionWithPages;
use crate::{SiteSession, StoreResult, StoredEvent};

use super::Note;

/// What a timeline item is; the order of the variants breaks ties of equal
/// timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TimelineKind {
    Session,
    Event,
    /// A backend's event without a session, found by the person's user id.
    ServerEvent,
    Note,
    Payment,
}

impl TimelineKind {
    const ALL: [Self; 5] = [
        Self::Session,
        Self::Event,
        Self::ServerEvent,
        Self::Note,
        Self::Payment,
    ];

    fn rank(self) -> u8 {
        self as u8
    }

    fn from_rank(rank: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.rank() == rank)
    }
}

/// Where the previous page ended: its last item's time, kind and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineCursor {
    pub ts: i64,
    pub kind: TimelineKind,
    pub id: String,
}

impl TimelineCursor {
    /// `ts:rank:id`, as [`Self::encode`] writes it.
    pub fn parse(s: &str) -> Option<Self> {
        let mut parts = s.splitn(3, ':');
        let ts = parts.next()?.parse().ok()?;
        let kind = TimelineKind::from_rank(parts.next()?.parse().ok()?)?;
        let id = parts.next()?.to_owned();
        Some(Self { ts, kind, id })
    }

    pub fn encode(&self) -> String {
        format!("{}:{}:{}", self.ts, self.kind.rank(), self.id)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TimelineItem {
    Session(SessionWithPages),
    Event(StoredEvent),
    Note(Note),
    Payment(PaymentRow),
}

impl TimelineItem {
    pub fn ts(&self) -> i64 {
        match self {
            Self::Session(s) => s.session.started_at,
            Self::Event(e) => e.ts,
            Self::Note(n) => n.created_at,
            Self::Payment(p) => p.paid_at,
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Self::Session(s) => &s.session.id,
            Self::Event(e) => &e.id,
            Self::Note(n) => &n.id,
            Self::Payment(p) => &p.payment_id,
        }
    }
}

/// One page of the timeline and the cursor of the next, if there is more.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelinePage {
    pub items: Vec<TimelineItem>,
    pub next_cursor: Option<TimelineCursor>,
}

/// The keyset condition shared by every kind: `$3` the cursor's time, `$4` 1
/// when every row of that millisecond still comes (its kind sorts after the
/// cursor's), `$5` the cursor's id for rows of the cursor's own kind.
fn after(ts: &str, id: &str) -> String {
    format!("({ts} < $3 OR ({ts} = $3 AND ($4 = 1 OR {id} < $5)))")
}

/// Custom events only: page views are inside their sessions, identifies are
/// not news, payments are items of their own, and AI calls (one per prompt)
/// would bury everything else; the profile sums them instead.
const EVENT_FILTER: &str =
    "e.kind = 'event' AND (e.name IS NULL OR e.name NOT IN ('payment', 'ai_usage'))";

/// The page after `cursor` (the first without one) of `limit` items.
pub(crate) async fn timeline(
    db: &Db,
    project_id: &str,
    site_user_id: &str,
    user_id: Option<&str>,
    cursor: Option<&TimelineCursor>,
    limit: i64,
) -> StoreResult<TimelinePage> {
    let bound = |kind: TimelineKind| -> (i64, i64, String) {
        match cursor {
            None => (i64::MAX, 1, String::new()),
            Some(c) if kind > c.kind => (c.ts, 1, String::new()),
            Some(c) if kind < c.kind => (c.ts, 0, String::new()),
            Some(c) => (c.ts, 0, c.id.clone()),
        }
    };
    let fetch = limit + 1;
    let mut items: Vec<(TimelineKind, TimelineItem)> = Vec::new();

    let (ts, all, id) = bound(TimelineKind::Session);
    let sql = format!(
        "SELECT {SESSION_COLUMNS} FROM site_sessions s
         WHERE s.project_id = $1 AND s.site_user_id = $2 AND {}
         ORDER BY s.started_at DESC, s.id DESC LIMIT $6",
        after("s.started_at", "s.id")
    );
    let sessions: Vec<SiteSession> = db
        .all(&sql, (project_id, site_user_id, ts, all, id, fetch))
        .await?;
    for s in with_pages(db, project_id, sessions).await? {
        items.push((TimelineKind::Session, TimelineItem::Session(s)));
    }

    // In the person's sessions: each probed through (project_id, session_id, ts).
    let (ts, all, id) = bound(TimelineKind::Event);
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM user_events e
         WHERE e.project_id = $1 AND e.session_id IN
             (SELECT id FROM site_sessions WHERE project_id = $1 AND site_user_id = $2)
           AND {EVENT_FILTER} AND {}
         ORDER BY e.ts DESC, e.id DESC LIMIT $6",
        after("e.ts", "e.id")
    );
    let events: Vec<StoredEvent> = db
        .all(&sql, (project_id, site_user_id, ts, all, id, fetch))
        .await?;
    items.extend(
        events
            .into_iter()
            .map(|e| (TimelineKind::Event, TimelineItem::Event(e))),
    );

    // A backend's events carry the user id and no session (index
    // `user_events_sessionless`, which holds only those).
    if let Some(user_id) = user_id {
        let (ts, all, id) = bound(TimelineKind::ServerEvent);
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM user_events e
             WHERE e.project_id = $1 AND e.user_id = $2 AND e.session_id IS NULL
               AND {EVENT_FILTER} AND {}
             ORDER BY e.ts DESC, e.id DESC LIMIT $6",
            after("e.ts", "e.id")
        );
        let events: Vec<StoredEvent> = db
            .all(&sql, (project_id, user_id, ts, all, id, fetch))
            .await?;
        items.extend(
            events
                .into_iter()
                .map(|e| (TimelineKind::ServerEvent, TimelineItem::Event(e))),
        );
    }

    let (ts, all, id) = bound(TimelineKind::Note);
    let sql = format!(
        "{} WHERE n.project_id = $1 AND n.site_user_id = $2 AND {}
         ORDER BY n.created_at DESC, n.id DESC LIMIT $6",
        super::NOTE_COLS,
        after("n.created_at", "n.id")
    );
    let notes: Vec<Note> = db
        .all(&sql, (project_id, site_user_id, ts, all, id, fetch))
        .await?;
    items.extend(
        notes
            .into_iter()
            .map(|n| (TimelineKind::Note, TimelineItem::Note(n))),
    );

    let (ts, all, id) = bound(TimelineKind::Payment);
    let sql = format!(
        "SELECT {PAYMENT_COLUMNS} FROM payments p
         WHERE p.project_id = $1 AND p.site_user_id = $2 AND {}
         ORDER BY p.paid_at DESC, p.payment_id DESC LIMIT $6",
        after("p.paid_at", "p.payment_id")
    );
    let payments: Vec<PaymentRow> = db
        .all(&sql, (project_id, site_user_id, ts, all, id, fetch))
        .await?;
    items.extend(
        payments
            .into_iter()
            .map(|p| (TimelineKind::Payment, TimelineItem::Payment(p))),
    );

    // Stable: each kind's rows keep the database's order within a millisecond.
    items.sort_by(|(ka, a), (kb, b)| b.ts().cmp(&a.ts()).then(ka.cmp(kb)));
    let more = items.len() as i64 > limit;
    items.truncate(limit.max(0) as usize);
    let next_cursor = if more {
        items.last().map(|(kind, item)| TimelineCursor {
            ts: item.ts(),
            kind: *kind,
            id: item.id().to_owned(),
        })
    } else {
        None
    };
    Ok(TimelinePage {
        items: items.into_iter().map(|(_, item)| item).collect(),
        next_cursor,
    })
}
