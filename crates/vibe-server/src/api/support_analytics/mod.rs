//! Support analytics (issue 13): the effectiveness dashboard's seven
//! sections under `/api/v1/projects/{id}/support/` (`kpi.rs`,
//! `conversation_effectiveness.rs`, `whatsapp_performance.rs`,
//! `customer_load.rs`, `agent_productivity.rs`, `automation_impact.rs`,
//! `business_impact.rs`), the agent activity timeline
//! (`agent_activity.rs`), their CSV exports (`export.rs`) and settings
//! (`settings.rs`). Not `api/support/`, which is the server-side Support API.
//!
//! Every figure is a function ([`definitions`]) of the store's
//! `support_counters` (sums of `support_events` facts and agent time over a
//! period, in the caller's [`scope`]) plus a few reads of the state right
//! now (open conversations, agent status, channels, the outbound queue),
//! each indexed and bounded (`vibe_store::support_analytics::now`).
//! Every response carries `range` and `scope` (docs/api.md).

pub mod agent_activity;
pub mod agent_productivity;
pub mod automation_impact;
pub mod business_impact;
pub mod conversation_effectiveness;
pub mod customer_load;
pub mod definitions;
pub mod export;
pub mod kpi;
pub mod query;
pub mod routes;
pub mod scope;
pub mod settings;
pub mod whatsapp_performance;

use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Value};
use vibe_store::support_analytics::{
    fold::FoldCache, settings::SupportSettings, CounterRow, Counters, GroupBy, ReportFilter,
};
use vibe_store::Role;

use self::query::{Period, ReportQuery};
use self::scope::CallerScope;
use crate::auth::ProjectAccess;
use crate::error::ApiResult;
use crate::state::AppState;

/// One report request: who asks, for which range and filters, and when.
pub struct Report {
    pub state: AppState,
    pub access: ProjectAccess,
    pub query: ReportQuery,
    pub caller: CallerScope,
    pub now: i64,
    /// The raw folds of this report's windows (its reads share the tail).
    pub folds: FoldCache,
}

impl Report {
    pub async fn new(
        state: &AppState,
        access: ProjectAccess,
        q: &HashMap<String, String>,
    ) -> ApiResult<Self> {
        let now = state.clock.now_ms();
        let query = ReportQuery::parse(q, &access.project.timezone, now)?;
        let caller = CallerScope::of(state, &access, &query).await?;
        Ok(Self {
            state: state.clone(),
            access,
            query,
            caller,
            now,
            folds: FoldCache::default(),
        })
    }

    pub fn project(&self) -> &str {
        &self.access.project.id
    }

    /// Counters of `[from_ms, to_ms)` (clamped to now: the future holds no
    /// facts, and held conversations and open statuses count up to `to`).
    pub async fn rows_between(
        &self,
        from_ms: i64,
        to_ms: i64,
        group: GroupBy,
        filter: &ReportFilter,
    ) -> ApiResult<Vec<CounterRow>> {
        let to_ms = to_ms.min(self.now);
        if self.caller.blocked || to_ms <= from_ms {
            return Ok(Vec::new());
        }
        Ok(self
            .state
            .store
            .support_counters_in(
                &self.folds,
                self.project(),
                &self.query.tz_name,
                from_ms,
                to_ms,
                &self.caller.scope,
                filter,
                group,
            )
            .await?)
    }

    pub async fn rows(&self, period: &Period, group: GroupBy) -> ApiResult<Vec<CounterRow>> {
        self.rows_between(period.from_ms, period.to_ms, group, &self.query.filter)
            .await
    }

    /// All counters of a period in one.
    pub async fn total(&self, period: &Period) -> ApiResult<Counters> {
        Ok(sum(self.rows(period, GroupBy::Total).await?))
    }

    /// The counters of a period on one channel (empty when the `channel`
    /// filter names another).
    pub async fn total_on(&self, period: &Period, channel: &str) -> ApiResult<Counters> {
        if self
            .query
            .filter
            .channel
            .as_deref()
            .is_some_and(|c| c != channel)
        {
            return Ok(Counters::default());
        }
        let filter = ReportFilter {
            channel: Some(channel.to_owned()),
            ..self.query.filter.clone()
        };
        let rows = self
            .rows_between(period.from_ms, period.to_ms, GroupBy::Total, &filter)
            .await?;
        Ok(sum(rows))
    }

    /// `range`, `scope` and the section's own fields.
    pub fn envelope(&self, mut body: Value) -> Value {
        body["range"] = self.query.range_json();
        body["scope"] = json!(self.caller.label);
        body
    }

    pub async fn settings(&self) -> ApiResult<SupportSettings> {
        settings::of_project(&self.state, self.project()).await
    }

    /// Open and pending conversations now, in scope and filters:
    /// `(status, priority, n)`.
    pub async fn open_now(&self) -> ApiResult<Vec<(String, String, i64)>> {
        if self.caller.blocked {
            return Ok(Vec::new());
        }
        Ok(self
            .state
            .store
            .support_open_now(self.project(), &self.caller.scope, &self.query.filter)
            .await?)
    }

    /// The agents the caller may see, by account id: their name (the
    /// account's email, accounts having no display name), members who work
    /// conversations (agent and supervisor) plus anyone the rows name.
    pub async fn agents(&self, rows: &[CounterRow]) -> ApiResult<BTreeMap<String, String>> {
        let members = self.state.store.list_members(self.project()).await?;
        let mut out = BTreeMap::new();
        for m in &members {
            let works = matches!(m.role, Role::Agent | Role::Supervisor)
                || rows.iter().any(|r| r.key == m.account_id);
            let filtered_out = self
                .query
                .filter
                .account_id
                .as_ref()
                .is_some_and(|a| *a != m.account_id);
            if works && !filtered_out && self.caller.sees_agent(&m.account_id) {
                out.insert(m.account_id.clone(), m.email.clone());
            }
        }
        Ok(out)
    }

    /// Seconds of the period up to now.
    pub fn elapsed_s(&self, period: &Period) -> i64 {
        ((period.to_ms.min(self.now) - period.from_ms) / 1000).max(0)
    }
}

/// Rows summed into one set of counters.
pub fn sum(rows: Vec<CounterRow>) -> Counters {
    let mut c = Counters::default();
    for r in rows {
        c.add(&r.counters);
    }
    c
}

/// Rows by key.
pub fn by_key(rows: Vec<CounterRow>) -> BTreeMap<String, Counters> {
    rows.into_iter().map(|r| (r.key, r.counters)).collect()
}

/// ISO 8601 UTC of a Unix ms instant.
pub fn iso(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_default()
}
