//! Every Support analytics figure that is more than one counter, defined
//! once (docs/metrics.md, "Support analytics"): rates, averages, trends,
//! peak hours, workload, automation and cost. Pure functions of the store's
//! [`Counters`] (sums of `support_events` facts and agent time), so each
//! endpoint and its CSV export say the same thing.

use serde_json::{json, Value};
use vibe_store::support_analytics::Counters;

/// Round to one decimal (percentages, hours).
pub fn round1(x: f64) -> f64 {
    if x.is_finite() {
        (x * 10.0).round() / 10.0
    } else {
        0.0
    }
}

/// `part` of `whole` in percent (0–100, one decimal); 0 when `whole` is 0.
pub fn pct(part: i64, whole: i64) -> f64 {
    if whole <= 0 {
        0.0
    } else {
        round1(part as f64 * 100.0 / whole as f64)
    }
}

/// Whole seconds of `sum / n`, 0 without any.
pub fn avg(sum: i64, n: i64) -> i64 {
    if n <= 0 {
        0
    } else {
        (sum as f64 / n as f64).round() as i64
    }
}

/// `|change| < 1 %` of the previous value is `stable`.
pub const STABLE_BELOW_PCT: f64 = 1.0;

/// `{value, trend, change}`: `change` is the percent change against the
/// previous period; previous 0 and current above 0 is +100 % (`up`), both
/// 0 is 0 (`stable`).
pub fn trend(value: f64, previous: f64) -> Value {
    let change = if previous == 0.0 {
        if value > 0.0 {
            100.0
        } else if value < 0.0 {
            -100.0
        } else {
            0.0
        }
    } else {
        round1((value - previous) * 100.0 / previous.abs())
    };
    let direction = if change.abs() < STABLE_BELOW_PCT {
        "stable"
    } else if change > 0.0 {
        "up"
    } else {
        "down"
    };
    json!({ "value": number(value), "trend": direction, "change": change })
}

/// Integers stay integers in JSON.
pub fn number(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9e15 {
        json!(x as i64)
    } else {
        json!(x)
    }
}

/// Average reply time: every agent or bot answer to a waiting contact,
/// seconds since the contact started waiting (`reply.s / reply`).
pub fn avg_response_s(c: &Counters) -> i64 {
    avg(c.get("reply.s"), c.get("reply"))
}

/// Average first response time (`first_response.s / first_response`).
pub fn avg_first_response_s(c: &Counters) -> i64 {
    avg(c.get("first_response.s"), c.get("first_response"))
}

/// The response target when no SLA policy sets one.
pub const DEFAULT_RESPONSE_TARGET_S: i64 = 300;

/// `good` at or under the target, `warning` up to twice it, `critical`
/// above; no replies at all is `good`.
pub fn sla_status(avg_s: i64, target_s: i64) -> &'static str {
    if avg_s <= target_s {
        "good"
    } else if avg_s <= 2 * target_s {
        "warning"
    } else {
        "critical"
    }
}

/// WhatsApp delivery rate: delivered ÷ sent (both first-time status
/// facts), percent.
pub fn delivery_rate(whatsapp: &Counters) -> f64 {
    pct(whatsapp.get("delivered"), whatsapp.get("sent"))
}

/// SLA compliance of the resolutions a policy applied to.
pub fn sla_compliance(c: &Counters) -> Value {
    let hit = c.get("sla:hit");
    let missed = c.get("sla:missed");
    json!({
        "percentage": pct(hit, hit + missed),
        "compliant": hit,
        "non_compliant": missed,
        "by_kind": {
            "first_response": c.get("sla_miss:first_response"),
            "next_response": c.get("sla_miss:next_response"),
            "resolution": c.get("sla_miss:resolution"),
        },
    })
}

/// The peak hours of a range: its busiest quarter of hour buckets by
/// incoming conversations (rounded up, at least one bucket with chats;
/// ties go to the earlier hour). `counts` are `(bucket, chats)` of EVERY
/// hour of the range, quiet ones included. Returns the peak buckets.
pub fn peak_hours(counts: &[(i64, i64)]) -> Vec<i64> {
    let n = counts.len().div_ceil(4);
    let mut by_load: Vec<&(i64, i64)> = counts.iter().filter(|(_, c)| *c > 0).collect();
    by_load.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    by_load.into_iter().take(n).map(|(h, _)| *h).collect()
}

/// An agent's workload against the per-agent capacity (max concurrent
/// conversations): the average number of open conversations they held
/// while online, `agent.held_online_s / agent.online_s` (conversation-seconds
/// held while online ÷ seconds online). Held counts every stretch inside
/// the range — finished ones (`handled` facts) and the conversations the
/// agent holds now, from `assigned_at` — each clipped to the range. An agent
/// never online in the range: `agent.held_s` over the range's seconds.
/// `overloaded` above `capacity`, `underutilized` below half of it,
/// `balanced` from half to capacity included.
pub fn workload(c: &Counters, range_s: i64, capacity: i64) -> &'static str {
    let online = c.get("agent.online_s");
    let concurrent = if online > 0 {
        c.get("agent.held_online_s") as f64 / online as f64
    } else {
        c.get("agent.held_s") as f64 / range_s.max(1) as f64
    };
    if concurrent > capacity as f64 {
        "overloaded"
    } else if concurrent < capacity as f64 * UNDERUTILIZED_BELOW {
        "underutilized"
    } else {
        "balanced"
    }
}

/// Underutilized below this share of the capacity.
pub const UNDERUTILIZED_BELOW: f64 = 0.5;

/// Bot-only resolutions (`resolved.flag`), and how many of them succeeded:
/// those minus the reopens within 24 h of a bot-only resolution
/// (`reopened.flag`: the fact carries the window,
/// `vibe_store::inbox::reporting::BOT_REOPEN_WINDOW_S`; a later reopen
/// does not undo the bot's success). Both are counted additively in their
/// own period, so a reopen lands in the period of the reopen, which may
/// not hold its resolution (one resolved late yesterday and reopened this
/// morning counts as a success yesterday and a failure today); successes
/// are therefore clamped at 0.
pub fn auto_reply_success(c: &Counters) -> (i64, i64) {
    let total = c.get("resolved.flag");
    let failed = c.get("reopened.flag");
    (total, (total - failed).max(0))
}

/// The average human handling time: seconds an agent held an open
/// conversation, per hand-off (`handled.s / handled`).
pub fn avg_handling_s(c: &Counters) -> i64 {
    avg(c.get("handled.s"), c.get("handled"))
}

/// Time saved: bot-only resolutions × the average human handling time of
/// the same scope and range, in seconds.
pub fn time_saved_s(c: &Counters) -> i64 {
    c.get("resolved.flag") * avg_handling_s(c)
}

/// Hours (one decimal) of seconds.
pub fn hours(s: i64) -> f64 {
    round1(s as f64 / 3600.0)
}

/// What `s` seconds of agent time cost at `hourly` (minor units per
/// hour), in minor units, rounded.
pub fn cost_of(s: i64, hourly: i64) -> i64 {
    (s as f64 * hourly as f64 / 3600.0).round() as i64
}

/// Cost per conversation: agent hours online × hourly cost ÷ conversations
/// created (minor units, rounded); 0 without conversations.
pub fn cost_per_conversation(c: &Counters, hourly: i64) -> i64 {
    let n = c.get("conversation_created");
    if n == 0 {
        0
    } else {
        (cost_of(c.get("agent.online_s"), hourly) as f64 / n as f64).round() as i64
    }
}

/// Conversations an agent took in the range: created with them as the
/// assignee or assigned to them later (`conversation_created` + `assigned`
/// of their facts).
pub fn agent_conversations(c: &Counters) -> i64 {
    c.get("conversation_created") + c.get("assigned")
}

/// A channel that has heard from its provider (an inbound message or a
/// delivery status) within this window is `connected`.
pub const SESSION_WINDOW_MS: i64 = 24 * 3_600_000;

/// A WhatsApp channel's status: disabled → `disconnected`; enabled with a
/// provider webhook within [`SESSION_WINDOW_MS`] → `connected`; enabled
/// without one → `reconnecting` (configured, waiting to hear from the
/// provider).
pub fn session_status(enabled: bool, last_webhook_at: Option<i64>) -> &'static str {
    match (enabled, last_webhook_at) {
        (false, _) => "disconnected",
        (true, Some(_)) => "connected",
        (true, None) => "reconnecting",
    }
}

/// Returning contacts' share of new conversations (percent).
pub fn repeat_customer_rate(c: &Counters) -> f64 {
    pct(
        c.get("conversation_created.flag"),
        c.get("conversation_created"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counters(pairs: &[(&str, i64)]) -> Counters {
        let mut c = Counters::default();
        for (k, v) in pairs {
            c.bump(*k, *v);
        }
        c
    }

    #[test]
    fn trends_follow_the_documented_rules() {
        assert_eq!(trend(0.0, 0.0)["trend"], "stable");
        assert_eq!(trend(3.0, 0.0)["change"], 100.0);
        assert_eq!(trend(3.0, 0.0)["trend"], "up");
        assert_eq!(trend(100.5, 100.0)["trend"], "stable");
        assert_eq!(trend(50.0, 100.0)["change"], -50.0);
        assert_eq!(trend(50.0, 100.0)["trend"], "down");
        assert_eq!(trend(4.0, 3.0)["change"], 33.3);
        assert_eq!(trend(4.0, 3.0)["value"], 4);
    }

    #[test]
    fn peak_is_the_busiest_quarter_of_hours() {
        let hours: Vec<(i64, i64)> = (0..8)
            .map(|h| (h, [0, 5, 1, 5, 0, 2, 0, 0][h as usize]))
            .collect();
        assert_eq!(peak_hours(&hours), vec![1, 3]);
        assert!(peak_hours(&[(0, 0), (1, 0)]).is_empty());
    }

    #[test]
    fn workload_thresholds() {
        let c = |held: i64| {
            counters(&[
                ("agent.online_s", 3600),
                ("agent.held_online_s", held),
                ("agent.held_s", 86_400 * 9),
            ])
        };
        assert_eq!(workload(&c(3600 * 6), 86_400, 5), "overloaded");
        assert_eq!(workload(&c(3600 * 5), 86_400, 5), "balanced");
        assert_eq!(workload(&c(9000), 86_400, 5), "balanced");
        assert_eq!(workload(&c(8999), 86_400, 5), "underutilized");
        // Never online: what they held over the whole range.
        let never = |held: i64| counters(&[("agent.held_s", held)]);
        assert_eq!(workload(&never(86_400 * 6), 86_400, 5), "overloaded");
        assert_eq!(workload(&never(86_400 * 3), 86_400, 5), "balanced");
        assert_eq!(workload(&never(0), 86_400, 5), "underutilized");
    }

    #[test]
    fn auto_reply_success_subtracts_reopens_within_a_day_clamped() {
        let c = counters(&[("resolved.flag", 3), ("reopened.flag", 1), ("reopened", 4)]);
        assert_eq!(auto_reply_success(&c), (3, 2));
        // Reopens of earlier periods' resolutions may outnumber this one's.
        let c = counters(&[("resolved.flag", 1), ("reopened.flag", 2)]);
        assert_eq!(auto_reply_success(&c), (1, 0));
    }

    #[test]
    fn costs() {
        let c = counters(&[
            ("agent.online_s", 7200),
            ("conversation_created", 4),
            ("resolved.flag", 2),
            ("handled", 2),
            ("handled.s", 1800),
        ]);
        assert_eq!(cost_per_conversation(&c, 3000), 1500);
        assert_eq!(time_saved_s(&c), 1800);
        assert_eq!(cost_of(time_saved_s(&c), 3000), 1500);
        assert_eq!(hours(1800), 0.5);
    }
}
