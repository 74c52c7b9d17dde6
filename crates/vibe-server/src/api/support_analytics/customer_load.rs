//! `GET …/support/customer-load`: incoming conversations per local hour of
//! day and the peak hour, new vs returning contacts, the wait for a first
//! answer at peak vs off-peak hours, and the day-of-week × hour heatmap.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::Json;
use serde_json::{json, Value};
use vibe_store::support_analytics::{periods::Periods, GroupBy};

use super::definitions as d;
use super::{by_key, Report};
use crate::auth::ProjectAccess;
use crate::error::ApiResult;
use crate::state::AppState;

pub async fn get(
    State(state): State<AppState>,
    access: ProjectAccess,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let r = Report::new(&state, access, &q).await?;
    Ok(Json(r.envelope(data(&r).await?)))
}

fn hour_label(h: usize) -> String {
    format!("{h:02}:00")
}

pub async fn data(r: &Report) -> ApiResult<Value> {
    let p = &r.query.period;
    // One read per local hour serves both the heatmap (each hour is one
    // day-of-week × hour cell; the store's own grouping would read the
    // same hourly rows again) and the peak hours below.
    let hours = by_key(r.rows(p, GroupBy::Hour).await?);
    let periods = Periods::new(&r.query.tz_name);
    let mut cells = [[0i64; 24]; 7];
    for (k, c) in &hours {
        let at: i64 = k.parse().unwrap_or_default();
        let (dow, hour) = (periods.day_of_week(at), periods.hour_of_day(at));
        cells[dow as usize % 7][hour as usize % 24] += c.get("conversation_created");
    }
    let mut heatmap = Vec::with_capacity(7 * 24);
    let mut per_hour = [0i64; 24];
    for (dow, row) in cells.iter().enumerate() {
        for (hour, slot) in per_hour.iter_mut().enumerate() {
            let n = row[hour];
            *slot += n;
            heatmap.push(json!({ "day_of_week": dow, "hour": hour, "count": n }));
        }
    }
    let chats: Vec<Value> = per_hour
        .iter()
        .enumerate()
        .map(|(h, n)| json!({ "hour": hour_label(h), "count": n }))
        .collect();
    // The earliest of the busiest hours of day; none without chats.
    let peak = per_hour
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 0)
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0)));
    let peak_hour = match peak {
        Some((h, n)) => json!({ "hour": hour_label(h), "count": n }),
        None => json!({ "hour": null, "count": 0 }),
    };

    // Peak hours: the busiest quarter of the range's hours (docs).
    let n_hours = ((p.to_ms - p.from_ms) / 3_600_000).max(1) as usize;
    let mut load: Vec<(i64, i64)> = hours
        .iter()
        .map(|(k, c)| (k.parse().unwrap_or_default(), c.get("conversation_created")))
        .collect();
    // Quiet hours without any row count too (they make the quarter).
    let quiet = n_hours.saturating_sub(load.len());
    load.extend((0..quiet).map(|i| (i64::MAX - i as i64, 0)));
    let peak_set = d::peak_hours(&load);
    let (mut peak_s, mut peak_n, mut off_s, mut off_n) = (0, 0, 0, 0);
    for (k, c) in &hours {
        let at: i64 = k.parse().unwrap_or_default();
        let (s, n) = (c.get("first_response.s"), c.get("first_response"));
        if peak_set.contains(&at) {
            peak_s += s;
            peak_n += n;
        } else {
            off_s += s;
            off_n += n;
        }
    }

    let total = r.total(p).await?;
    let returning = total.get("conversation_created.flag");
    Ok(json!({
        "incoming_chats_per_hour": chats,
        "peak_hour": peak_hour,
        "new_vs_returning": {
            "new": total.get("conversation_created") - returning,
            "returning": returning,
        },
        "avg_wait_time": { "peak": d::avg(peak_s, peak_n), "off_peak": d::avg(off_s, off_n) },
        "heatmap": heatmap,
    }))
}
