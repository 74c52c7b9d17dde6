//! The Support analytics routes below `/projects/{id}/support`. The
//! sections need `agent` (viewers 403, like the Inbox; agents see their
//! own figures, supervisors their teams'); business impact, the exports
//! and reading the settings need `supervisor`; changing the settings `admin`.

use vibe_store::Role::{Admin, Agent, Supervisor};

use super::{
    agent_activity, agent_productivity, automation_impact, business_impact,
    conversation_effectiveness, customer_load, export, kpi, settings, whatsapp_performance,
};
use crate::router::project_routes::{at, ProjectRoute, GET, PUT};

pub fn routes() -> Vec<ProjectRoute> {
    vec![
        at("/support/kpi").on(GET, Agent, kpi::kpi),
        at("/support/conversation-effectiveness").on(GET, Agent, conversation_effectiveness::get),
        at("/support/whatsapp-performance").on(GET, Agent, whatsapp_performance::get),
        at("/support/customer-load").on(GET, Agent, customer_load::get),
        at("/support/agent-productivity").on(GET, Agent, agent_productivity::get),
        at("/support/agent-activity").on(GET, Agent, agent_activity::get),
        at("/support/automation-impact").on(GET, Agent, automation_impact::get),
        at("/support/business-impact").on(GET, Supervisor, business_impact::get),
        at("/support/settings")
            .on(GET, Supervisor, settings::get)
            .on(PUT, Admin, settings::put),
        at("/support/export/kpi.csv").on(GET, Supervisor, export::kpi_csv),
        at("/support/export/conversation-effectiveness.csv").on(
            GET,
            Supervisor,
            export::conversation_effectiveness_csv,
        ),
        at("/support/export/whatsapp-performance.csv").on(
            GET,
            Supervisor,
            export::whatsapp_performance_csv,
        ),
        at("/support/export/customer-load.csv").on(GET, Supervisor, export::customer_load_csv),
        at("/support/export/agent-productivity.csv").on(
            GET,
            Supervisor,
            export::agent_productivity_csv,
        ),
        at("/support/export/automation-impact.csv").on(
            GET,
            Supervisor,
            export::automation_impact_csv,
        ),
        at("/support/export/business-impact.csv").on(GET, Supervisor, export::business_impact_csv),
        at("/support/export/conversations.csv").on(GET, Supervisor, export::conversations_csv),
    ]
}
