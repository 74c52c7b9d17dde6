//! Agent time of a window: `agent.online_s` and `agent.away_s` from the
//! `agent_activity_logs` intervals, and `agent.busy_s`, the online time
//! during which the agent held at least one open assigned conversation.
//! Held intervals are the `handled` facts' `[at - value_s, at]` (one per
//! stretch an assignee held an open conversation) plus the conversations
//! held now (`conversations.assigned_at` to the window's end). Summed per
//! stretch instead of united, they are the conversation-seconds an agent
//! held in the window (`agent.held_s`) and, of those, while online
//! (`agent.held_online_s`): the workload's concurrent conversations.
//!
//! Everything is in whole seconds: each interval's ends are floored to the
//! second, and period boundaries are whole seconds, so the seconds of two
//! adjacent periods add up to the seconds of both (snapshots stay exact).
//! Agent time carries the agent only (no team, no channel): a team or
//! channel filter leaves it out.

use std::collections::BTreeMap;

use super::fold::{key_of, Groups};
use super::periods::Periods;
use super::{Dims, GroupBy};
use crate::db::Db;
use crate::StoreResult;

/// Status rows overlapping the window, in two parts so each walks
/// `agent_activity_ended` (the rows still open, those ended inside or after
/// it) instead of every row the agents ever had.
const LOGS: &str = "SELECT account_id, status, started_at, ended_at FROM agent_activity_logs
     WHERE project_id = $1 AND ended_at IS NULL AND started_at < $3
       AND status IN ('online', 'away')
     UNION ALL
     SELECT account_id, status, started_at, ended_at FROM agent_activity_logs
     WHERE project_id = $1 AND ended_at > $2 AND started_at < $3
       AND status IN ('online', 'away')";
/// Handled stretches overlapping the window (they may end after it).
const HANDLED: &str = "SELECT account_id, at - COALESCE(value_s, 0) * 1000, at
     FROM support_events
     WHERE project_id = $1 AND name = 'handled' AND account_id IS NOT NULL
       AND at > $2 AND at - COALESCE(value_s, 0) * 1000 < $3";
/// Conversations an agent holds now (open, assigned since `assigned_at`).
/// By status (`conversations_inbox`): the open and pending ones are few,
/// the assigned ones nearly all.
const HELD_NOW: &str = "SELECT assignee_account_id, assigned_at FROM conversations
     WHERE project_id = $1 AND status IN ('open', 'pending')
       AND assignee_account_id IS NOT NULL AND assigned_at IS NOT NULL AND assigned_at < $2";

type Intervals = Vec<(i64, i64)>;

fn sec(ms: i64) -> i64 {
    ms.div_euclid(1000) * 1000
}

/// Sorted, merged intervals.
fn union(mut v: Intervals) -> Intervals {
    v.sort_unstable();
    let mut out: Intervals = Vec::with_capacity(v.len());
    for (s, e) in v {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

fn intersect(a: &Intervals, b: &Intervals) -> Intervals {
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() && j < b.len() {
        let (s, e) = (a[i].0.max(b[j].0), a[i].1.min(b[j].1));
        if s < e {
            out.push((s, e));
        }
        if a[i].1 < b[j].1 {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// Calls `each(key, seconds)` for the pieces of `[s, e)` in `group`'s periods.
fn spread(
    p: &Periods,
    group: GroupBy,
    account: &str,
    (s, e): (i64, i64),
    each: &mut impl FnMut(String, i64),
) {
    let split = |at: i64| match group {
        GroupBy::Total | GroupBy::Agent => e,
        GroupBy::Day => p.next_day(p.day_start(at)),
        GroupBy::Hour | GroupBy::DayOfWeekHour => p.next_hour(p.hour_start(at)),
    };
    let mut at = s;
    while at < e {
        let end = split(at).min(e).max(at + 1000);
        each(key_of(p, group, at, account), (end - at) / 1000);
        at = end;
    }
}

#[derive(Default)]
struct Agent {
    online: Intervals,
    away: Intervals,
    held: Intervals,
}

pub async fn fold(
    db: &Db,
    project_id: &str,
    p: &Periods,
    from_ms: i64,
    to_ms: i64,
    group: GroupBy,
    groups: &mut Groups,
) -> StoreResult<()> {
    let (lo, hi) = (sec(from_ms), sec(to_ms));
    if hi <= lo {
        return Ok(());
    }
    let clip = |s: i64, e: i64| {
        let (s, e) = (sec(s).max(lo), sec(e).min(hi));
        (s < e).then_some((s, e))
    };
    let mut agents: BTreeMap<String, Agent> = BTreeMap::new();
    let logs: Vec<(String, String, i64, Option<i64>)> =
        db.all(LOGS, (project_id, from_ms, to_ms)).await?;
    for (account, status, start, end) in logs {
        if let Some(iv) = clip(start, end.unwrap_or(to_ms)) {
            let a = agents.entry(account).or_default();
            if status == "online" {
                a.online.push(iv)
            } else {
                a.away.push(iv)
            }
        }
    }
    let handled: Vec<(String, i64, i64)> = db.all(HANDLED, (project_id, from_ms, to_ms)).await?;
    let held_now: Vec<(String, i64)> = db.all(HELD_NOW, (project_id, to_ms)).await?;
    let held = handled
        .into_iter()
        .chain(held_now.into_iter().map(|(a, s)| (a, s, to_ms)));
    for (account, s, e) in held {
        if let Some(iv) = clip(s, e) {
            agents.entry(account).or_default().held.push(iv);
        }
    }
    for (account, a) in agents {
        let online = union(a.online);
        // Each stretch on its own: two conversations held at once count twice.
        let held_online: Intervals = a
            .held
            .iter()
            .flat_map(|iv| intersect(&online, &vec![*iv]))
            .collect();
        let busy = intersect(&online, &union(a.held.clone()));
        let dims = Dims {
            account_id: account.clone(),
            ..Dims::default()
        };
        for (name, ivs) in [
            ("agent.online_s", online),
            ("agent.away_s", union(a.away)),
            ("agent.busy_s", busy),
            ("agent.held_s", a.held),
            ("agent.held_online_s", held_online),
        ] {
            for iv in ivs {
                spread(p, group, &account, iv, &mut |key, secs| {
                    groups
                        .entry((key, dims.clone()))
                        .or_default()
                        .bump(name, secs);
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unions_and_intersections() {
        let u = union(vec![(5, 8), (0, 2), (1, 3), (8, 9)]);
        assert_eq!(u, vec![(0, 3), (5, 9)]);
        assert_eq!(
            intersect(&u, &vec![(2, 6), (8, 20)]),
            vec![(2, 3), (5, 6), (8, 9)]
        );
    }
}
