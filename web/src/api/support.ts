// Support analytics (issue 13): the response shapes of
// `/api/v1/projects/{id}/support/*` (docs/api.md, "Support analytics") and
// their client. Kept out of api/client.ts so they load with the Support page's
// chunk only. Timestamps may come as Unix ms or ISO strings (the seed's
// design used strings): `toMs` reads both.
import { request, qs } from './client';
import type { Channel } from './types';

export type TrendDirection = 'up' | 'down' | 'stable';
/** A figure against the previous period of the same length; `change` in percent. */
export interface Trend {
  value: number;
  trend: TrendDirection;
  change: number;
}
export type SlaStatus = 'good' | 'warning' | 'critical';
export type SupportScope = 'all' | 'team' | 'own';
export type Stamp = number | string;

interface Ranged {
  range?: { from: Stamp; to: Stamp; tz: string };
  scope?: SupportScope;
}

export interface SupportKpi extends Ranged {
  active_conversations: Trend;
  avg_response_time: Trend & { sla_status: SlaStatus };
  whatsapp_delivery_rate: Trend;
  open_tickets: Trend & { by_priority: { urgent: number; high: number; medium: number; low: number } };
  messages_today: Trend;
}

export interface ConversationEffectiveness extends Ranged {
  conversations_per_agent: { agent_id: string; agent_name: string; count: number; avg_response_time: number }[];
  avg_response_time_over_time: { timestamp: Stamp; avg_seconds: number }[];
  sla_compliance: {
    percentage: number;
    compliant: number;
    non_compliant: number;
    by_kind?: { first_response: number; next_response: number; resolution: number };
  };
  resolved_vs_open: { resolved: number; open: number; percentage: number };
}

export interface WhatsAppPerformance extends Ranged {
  message_funnel: { sent: number; delivered: number; read: number; failed: number };
  broadcast_success_rate: { total: number; successful: number; failed: number; percentage: number };
  failed_messages: { id: string; recipient: string; error: string; timestamp: Stamp }[];
  active_sessions: { session_id: string; phone_number: string; status: 'connected' | 'disconnected' | 'reconnecting'; last_seen: Stamp }[];
  /** `processing_rate`: messages per minute. */
  queue_metrics: { depth: number; processing_rate: number };
}

export interface CustomerLoad extends Ranged {
  incoming_chats_per_hour: { hour: Stamp; count: number }[];
  peak_hour: { hour: Stamp; count: number };
  new_vs_returning: { new: number; returning: number };
  avg_wait_time: { peak: number; off_peak: number };
  /** `day_of_week` 0 = Sunday … 6, `hour` 0–23 local to the project. */
  heatmap: { day_of_week: number; hour: number; count: number }[];
}

export type AgentPresence = 'online' | 'away' | 'offline';
export interface AgentProductivity extends Ranged {
  agent_metrics: {
    agent_id: string;
    agent_name: string;
    chats_handled: number;
    resolution_rate: number;
    idle_time: number;
    active_time: number;
    avg_handling_time: number;
    status: AgentPresence;
    status_duration: number;
  }[];
  workload_distribution: { balanced: number; overloaded: number; underutilized: number };
}

export interface AutomationImpact extends Ranged {
  chatbot_vs_human: { chatbot: number; human: number; percentage: number };
  auto_reply_success: { total: number; successful: number; percentage: number };
  drop_off_rate: { total: number; dropped: number; percentage: number };
  top_intents: { intent: string; count: number; success_rate: number }[];
  /** `estimated_cost` in minor units of the project currency. */
  time_saved: { hours: number; estimated_cost: number; currency?: string };
  escalation_rate: { total: number; escalated: number; percentage: number };
}

export interface BusinessImpact extends Ranged {
  leads_generated: Trend;
  tickets_resolved: { today: number; week: number; month: number };
  campaign_conversion: { campaign_id: string; campaign_name: string; sent: number; responded: number; converted: number; conversion_rate: number }[];
  repeat_customer_rate: { rate: number; trend: TrendDirection };
  /** Minor units of `currency`. */
  cost_per_conversation: { amount: number; savings: number; currency?: string };
}

/** `GET …/support/agent-activity?start_date&end_date`: presence bands (ms) per agent. */
export interface AgentActivity {
  agents: { agent_id: string; agent_name: string; bands: { status: AgentPresence; from: Stamp; to: Stamp }[] }[];
}

/** The sections the page loads, by their endpoint, with the realtime name of each. */
export const SECTIONS = {
  conversation: 'conversation-effectiveness',
  whatsapp: 'whatsapp-performance',
  customer: 'customer-load',
  agent: 'agent-productivity',
  automation: 'automation-impact',
  business: 'business-impact',
} as const;
export type SectionName = keyof typeof SECTIONS;
export interface SectionData {
  conversation: ConversationEffectiveness;
  whatsapp: WhatsAppPerformance;
  customer: CustomerLoad;
  agent: AgentProductivity;
  automation: AutomationImpact;
  business: BusinessImpact;
}

export type RangePreset = 'today' | 'week' | 'month';
/** The page's query: a preset or inclusive days, and the filters (empty = all). */
export interface SupportQuery {
  preset: RangePreset | null;
  from: string;
  to: string;
  agent: string;
  team: string;
  channel: Channel | '';
}

/** The API's query parameters of a page query (docs/api.md names), the empty ones left out. */
export function supportFields(q: SupportQuery): Record<string, string> {
  const all: Record<string, string | undefined> = {
    date_range: q.preset ?? undefined,
    start_date: q.preset ? undefined : q.from,
    end_date: q.preset ? undefined : q.to,
    agent_id: q.agent,
    team_id: q.team,
    channel: q.channel,
  };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(all)) if (v) out[k] = v;
  return out;
}

/** The API's query string for a page query. */
export function supportParams(q: SupportQuery): string {
  return qs(supportFields(q));
}

const base = (id: string) => `/projects/${encodeURIComponent(id)}/support`;

export const supportApi = {
  kpi: (id: string, q: SupportQuery) => request<SupportKpi>(`${base(id)}/kpi${supportParams(q)}`),
  section: <S extends SectionName>(id: string, s: S, q: SupportQuery) =>
    request<SectionData[S]>(`${base(id)}/${SECTIONS[s]}${supportParams(q)}`),
  /** The project's teams, for the team filter's names (docs/api.md, Inbox). */
  teams: (id: string) => request<{ teams: { id: string; name: string }[] }>(`/projects/${encodeURIComponent(id)}/teams`),
  /** Always by days (`start_date`/`end_date`), the bands being cut per day. */
  agentActivity: (id: string, q: SupportQuery) =>
    request<AgentActivity>(`${base(id)}/agent-activity${qs({ start_date: q.from, end_date: q.to, agent_id: q.agent, team_id: q.team })}`),
};

/** Same-origin CSV links (the cookie authenticates them); supervisors and above.
 * A section's file is named by its endpoint: `export/customer-load.csv`. */
export const supportExports = {
  section: (id: string, s: SectionName | 'kpi', q: SupportQuery) =>
    `/api/v1${base(id)}/export/${s === 'kpi' ? 'kpi' : SECTIONS[s]}.csv${supportParams(q)}`,
  conversations: (id: string, q: SupportQuery) => `/api/v1${base(id)}/export/conversations.csv${supportParams(q)}`,
};

/** A timestamp as Unix ms: numbers as they are, numeric strings and ISO strings parsed; NaN otherwise. */
export function toMs(v: Stamp | null | undefined): number {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string' || !v) return NaN;
  if (/^\d+$/.test(v)) return Number(v);
  return Date.parse(v);
}
