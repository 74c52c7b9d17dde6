//! Support analytics settings (`support_settings`, migration 0033): the
//! per-agent capacity the workload figures compare against and the hourly
//! agent cost of the time-saved and cost-per-conversation figures. One row
//! per project; none means the defaults.

use serde::Serialize;

use crate::db::Db;
use crate::StoreResult;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct SupportSettings {
    /// Concurrent open conversations one agent is expected to hold.
    pub agent_capacity: i64,
    /// Minor units of `currency` per agent hour.
    pub hourly_agent_cost: i64,
    /// ISO 4217 code.
    pub currency: String,
    pub updated_by_account_id: Option<String>,
    /// 0 = never set.
    pub updated_at: i64,
}

impl Default for SupportSettings {
    fn default() -> Self {
        Self {
            agent_capacity: 5,
            hourly_agent_cost: 0,
            currency: "USD".into(),
            updated_by_account_id: None,
            updated_at: 0,
        }
    }
}

pub async fn get(db: &Db, project_id: &str) -> StoreResult<SupportSettings> {
    let row: Option<SupportSettings> = db
        .optional(
            "SELECT agent_capacity, hourly_agent_cost, currency, updated_by_account_id, updated_at
             FROM support_settings WHERE project_id = $1",
            (project_id,),
        )
        .await?;
    Ok(row.unwrap_or_default())
}

pub async fn put(db: &Db, project_id: &str, s: &SupportSettings) -> StoreResult<()> {
    db.execute(
        "INSERT INTO support_settings
           (project_id, agent_capacity, hourly_agent_cost, currency, updated_by_account_id, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (project_id) DO UPDATE SET
           agent_capacity = excluded.agent_capacity,
           hourly_agent_cost = excluded.hourly_agent_cost,
           currency = excluded.currency,
           updated_by_account_id = excluded.updated_by_account_id,
           updated_at = excluded.updated_at",
        (
            project_id,
            s.agent_capacity,
            s.hourly_agent_cost,
            &s.currency,
            &s.updated_by_account_id,
            s.updated_at,
        ),
    )
    .await
    .map(drop)
}
