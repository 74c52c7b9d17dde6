//! Materialising a campaign's recipients: one `INSERT … SELECT` over
//! `site_users su` restricted to the audience (a built-in segment's
//! condition, a custom segment's compiled criteria, or chosen ids), run in
//! the transaction that moves the campaign to `sending`. Each row gets its
//! address and, when it cannot be sent to, `skipped` with the first reason
//! that applies: no address, unsubscribed, hard-bounced before. Later
//! changes to the segment or the people do not move the rows.
//!
//! What "address" means depends on the channel ([`addressing`]): email is
//! the lower-cased email; push is the contact's id (the browsers are its
//! push subscriptions, read at send time), and a contact without any
//! subscription has no address. `unsubscribes` and `bounced_addresses` are
//! keyed by that address on that channel.

use std::sync::Arc;

use super::model::SkipReason;
use crate::inbox::sql::{Tx, Val};
use crate::segments::{Dialect, Node};
use crate::users::{numbered_placeholders, Segment, SqlValue};
use crate::StoreResult;

/// Who a campaign is for.
#[derive(Debug, Clone)]
pub enum Audience {
    BuiltIn(Segment),
    Custom(Arc<Node>),
    /// Person ids (deduplicated, unknown ones simply match nobody).
    People(Vec<String>),
}

/// Ids bound per statement when the audience is a list.
const IDS_PER_STATEMENT: usize = 500;

/// The lower-cased, trimmed email of `su` (the address email campaigns use
/// and the key of `unsubscribes` and `bounced_addresses`).
const EMAIL_ADDRESS: &str = "lower(trim(su.email))";

/// A channel's address of `su` and the condition under which it has none
/// (SQL fragments of this module, never input).
fn addressing(channel: &str) -> (&'static str, &'static str) {
    match channel {
        "push" => (
            "su.id",
            "NOT EXISTS (SELECT 1 FROM push_subscriptions ps
                 WHERE ps.project_id = su.project_id AND ps.site_user_id = su.id)",
        ),
        // Every contact has the widget (it identifies them by anonymous id).
        "in_app" => ("su.id", "1 = 0"),
        _ => (
            EMAIL_ADDRESS,
            "su.email IS NULL OR lower(trim(su.email)) NOT LIKE '%_@_%'",
        ),
    }
}

/// Inserts the recipients of `audience` for `campaign_id` on `channel`;
/// rows inserted.
pub(crate) async fn materialise(
    tx: &mut Tx,
    dialect: Dialect,
    project_id: &str,
    campaign_id: &str,
    channel: &str,
    audience: &Audience,
    now_ms: i64,
) -> StoreResult<u64> {
    match audience {
        Audience::People(ids) => {
            let mut n = 0;
            for chunk in ids.chunks(IDS_PER_STATEMENT) {
                let mut cond = String::from(" AND su.id IN (");
                let mut args = Vec::new();
                for (i, id) in chunk.iter().enumerate() {
                    cond.push_str(if i == 0 { "?" } else { ", ?" });
                    args.push(SqlValue::Text(id.clone()));
                }
                cond.push(')');
                n += insert(tx, project_id, campaign_id, channel, &cond, args, now_ms).await?;
            }
            Ok(n)
        }
        Audience::BuiltIn(segment) => {
            let (mut cond, mut args) = (String::new(), Vec::new());
            segment.push_sql(now_ms, &mut cond, &mut args);
            insert(tx, project_id, campaign_id, channel, &cond, args, now_ms).await
        }
        Audience::Custom(node) => {
            let (mut cond, mut args) = (String::from(" AND "), Vec::new());
            node.push_sql(dialect, project_id, now_ms, &mut cond, &mut args);
            insert(tx, project_id, campaign_id, channel, &cond, args, now_ms).await
        }
    }
}

async fn insert(
    tx: &mut Tx,
    project_id: &str,
    campaign_id: &str,
    channel: &str,
    cond: &str,
    cond_args: Vec<SqlValue>,
    now_ms: i64,
) -> StoreResult<u64> {
    let (no_address, unsubscribed, bounced) = (
        SkipReason::NoAddress.as_str(),
        SkipReason::Unsubscribed.as_str(),
        SkipReason::Bounced.as_str(),
    );
    let (address, no_address_when) = addressing(channel);
    // `WHERE 1 = 1` keeps the outer SELECT plain for SQLite's parser; the
    // reasons are literals of this module, not input.
    let sql = format!(
        "INSERT INTO campaign_recipients (project_id, campaign_id, person_id, address, status,
             skip_reason, attempts, next_attempt_at, created_at, updated_at)
         SELECT ?, ?, m.pid, m.addr,
             CASE WHEN m.reason IS NULL THEN 'queued' ELSE 'skipped' END,
             m.reason, 0, 0, ?, ?
         FROM (SELECT su.id AS pid, {address} AS addr,
                 CASE WHEN {no_address_when} THEN '{no_address}'
                      WHEN EXISTS (SELECT 1 FROM unsubscribes u WHERE u.project_id = ?
                          AND u.channel = ? AND u.address = {address}) THEN '{unsubscribed}'
                      WHEN EXISTS (SELECT 1 FROM bounced_addresses b WHERE b.project_id = ?
                          AND b.channel = ? AND b.address = {address}) THEN '{bounced}'
                 END AS reason
               FROM site_users su WHERE su.project_id = ?{cond}) AS m
         WHERE 1 = 1"
    );
    let mut vals: Vec<Val> = vec![
        project_id.into(),
        campaign_id.into(),
        now_ms.into(),
        now_ms.into(),
        project_id.into(),
        channel.into(),
        project_id.into(),
        channel.into(),
        project_id.into(),
    ];
    vals.extend(cond_args.into_iter().map(Val::from));
    tx.exec(&numbered_placeholders(&sql), &vals).await
}
