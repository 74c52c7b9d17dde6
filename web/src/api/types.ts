// Shapes of the Vibe HTTP API (docs/api.md). Timestamps are Unix milliseconds.

export type Role = 'viewer' | 'agent' | 'supervisor' | 'admin' | 'owner';

/** Admins and owners change settings, members and funnels; agents work with contacts. */
export const canAdminister = (role: Role): boolean => role === 'admin' || role === 'owner';

export interface Account {
  id: string;
  email: string;
  role: Role;
  created_at: number;
}

export interface Project {
  id: string;
  name: string;
  write_key: string;
  allowed_origins: string[];
  timezone: string;
  online_window_s: number;
  created_at: number;
  role?: Role;
}

export interface Card {
  value: number;
  previous: number;
  trend_pct: number | null;
}

export interface Metrics {
  total_users: Card;
  online_now: Card;
  new_this_week: Card;
  churn_rate: Card;
}

export interface DailyStat {
  date: string;
  active_users: number;
  new_users: number;
  sessions: number;
  pageviews: number;
  events: number;
  avg_session_s: number;
  bounce_rate: number;
}

export interface Page {
  url: string | null;
  path: string | null;
  title: string | null;
}

export interface Visitor {
  session_id: string;
  site_user_id: string;
  anonymous_id: string | null;
  user_id: string | null;
  email: string | null;
  name: string | null;
  traits: Record<string, unknown> | null;
  current_page: Page | null;
  started_at: number;
  last_seen_at: number;
  page_entered_at: number;
  time_on_site_s: number;
  time_on_page_s: number;
  stuck: boolean;
  page_count: number;
  referrer: string | null;
  device: string | null;
  browser: string | null;
  os: string | null;
}

export interface SiteUser {
  id: string;
  user_id: string | null;
  anonymous_id: string | null;
  email: string | null;
  name: string | null;
  plan: string | null;
  traits: Record<string, unknown> | null;
  first_seen: number;
  last_seen: number;
  total_events: number;
  device: string | null;
  browser: string | null;
  os: string | null;
  total_sessions?: number;
}

export interface PageVisit {
  path: string | null;
  url: string | null;
  title: string | null;
  ts: number;
}

export interface UserSession {
  id: string;
  started_at: number;
  last_seen_at: number;
  ended_at: number | null;
  active: boolean;
  duration_s: number;
  entry_url: string | null;
  referrer: string | null;
  page_count: number;
  device: string | null;
  browser: string | null;
  os: string | null;
  pages: PageVisit[];
}

export type Segment = 'all' | 'active' | 'inactive' | 'premium' | 'trial' | 'churned';

export interface FunnelStepDef {
  match: 'page' | 'event';
  value: string;
  prefix?: boolean;
  name?: string | null;
}

export interface Funnel {
  id: string;
  name: string;
  steps: FunnelStepDef[];
  window_days: number;
  created_at: number;
  updated_at: number;
  /** `building` while the server builds the funnel's rollup in the background. */
  status?: 'building' | 'ready';
  progress_pct?: number;
}

export interface FunnelStepResult {
  name: string;
  users: number;
  conversion_pct: number;
  drop_off_pct: number;
  high_drop_off: boolean;
}

export interface Member {
  account_id: string;
  email: string;
  role: Role;
  created_at: number;
}

export interface ApiToken {
  id: string;
  name: string;
  prefix: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface StoredEvent {
  id: string;
  kind: string;
  name: string | null;
  anonymous_id: string | null;
  user_id: string | null;
  session_id: string | null;
  url: string | null;
  path: string | null;
  ts: number;
}

// ---- Revenue, retention, features, AI usage (issue 11) ----

export interface MoneyAmount {
  currency: string;
  amount: number;
}

export interface Revenue {
  currency: string;
  from: string;
  to: string;
  interval: 'day' | 'month';
  /** Minor units (cents) of `currency`, as are all amounts here. */
  total: number;
  refunds: number;
  net: number;
  mrr: number;
  arpu: number | null;
  paying_users: number;
  active_users: number;
  by_plan: { plan: string | null; revenue: number; mrr: number; subscribers: number }[];
  series: { period: string; revenue: number }[];
  subscription_churn: { active_at_start: number; canceled: number; rate_pct: number | null };
  unconverted: MoneyAmount[];
  unconverted_mrr: MoneyAmount[];
}

export type RetentionDay = '1' | '7' | '30';

export interface RetentionCohort {
  cohort: string;
  size: number;
  retained: Record<RetentionDay, number | null>;
  pct: Record<RetentionDay, number | null>;
}

export interface Retention {
  cohort: 'day' | 'week';
  from: string;
  to: string;
  timezone: string;
  cohorts: RetentionCohort[];
  overall: { day1: number | null; day7: number | null; day30: number | null };
}

export interface Feature {
  name: string;
  total: number;
  unique_people: number;
  share_of_active_pct: number | null;
  daily: { day: string; count: number }[];
}

export interface Features {
  from: string;
  to: string;
  timezone: string;
  active_people: number;
  features: Feature[];
}

export interface AiSums {
  calls: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cost_usd: number;
}

export interface AiUsage {
  from: string;
  to: string;
  timezone: string;
  totals: AiSums;
  by_model: (AiSums & { model: string })[];
  by_user: (AiSums & { user: { id: string; user_id: string | null; email: string | null; name: string | null } })[];
  users_total: number;
  limit: number;
  offset: number;
  daily: (AiSums & { day: string })[];
}

// ---- Custom segments (docs/api.md, "Segments") ----

/** A node of the criteria grammar: a group or a condition. */
export type CriteriaNode =
  | { all: CriteriaNode[] }
  | { any: CriteriaNode[] }
  | { not: CriteriaNode }
  | CriteriaCondition;

export interface CriteriaCondition {
  field: 'trait' | 'plan' | 'tag' | 'priority' | 'first_seen' | 'last_seen' | 'sessions' | 'event' | 'total_spent' | 'subscription_status';
  op: string;
  [key: string]: unknown;
}

export interface CustomSegment {
  id: string;
  name: string;
  description: string | null;
  criteria: CriteriaNode;
  user_count: number;
  counted_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface SegmentBody {
  name: string;
  description?: string;
  criteria: CriteriaNode;
}

// ---- Flows (notes: flows API contract) ----

export interface Flow {
  id: string;
  name: string;
  start: FunnelStepDef;
  complete: FunnelStepDef;
  fail: FunnelStepDef | null;
  window_hours: number;
  created_at: number;
  updated_at: number;
}

export interface FlowBody {
  name: string;
  start: FunnelStepDef;
  complete: FunnelStepDef;
  fail: FunnelStepDef | null;
  window_hours: number;
}

export interface FlowStats {
  flow: Flow;
  days: number;
  started: number;
  completed: number;
  failed: number;
  abandoned: number;
  completion_rate: number | null;
  success_rate: number | null;
  avg_completion_s: number | null;
  median_completion_s: number | null;
  daily: { day: string; started: number; completed: number; failed: number }[];
}

// ---- People and contacts (issue 11 item 8: the People and Contact pages) ----

export type Priority = 'low' | 'medium' | 'high' | 'vip';
export const PRIORITIES: Priority[] = ['low', 'medium', 'high', 'vip'];

/** Agents and above change contacts (tags, priority, notes); viewers read. */
export const canEditContacts = (role: Role): boolean => role !== 'viewer';

/** A row of the people list: the person plus the CRM and revenue columns. */
export interface ListedPerson extends SiteUser {
  total_sessions: number;
  tags: string[];
  priority: Priority | null;
  /** Minor units of the list's `currency`. */
  total_spent: number;
  unconverted_spent: MoneyAmount[];
}

export interface PeoplePage {
  users: ListedPerson[];
  next_cursor: string | null;
  segment: string;
  currency: string;
}

/** The people list's filters, as in its URL query (`segment` is a built-in or a custom segment id). */
export interface PeopleFilters {
  q?: string;
  segment?: string;
  tag?: string;
  priority?: Priority | '';
}

/** What the People page's segment picker needs of a custom segment. */
export interface TagCount {
  tag: string;
  count: number;
}

export interface ContactNote {
  id: string;
  body: string;
  author_email: string | null;
  created_at: number;
}

export interface PaymentRecord {
  payment_id: string;
  amount: number;
  currency: string;
  plan: string | null;
  status: string;
  paid_at: number;
  day: string;
  refunded_at: number | null;
}

export interface SubscriptionSummary {
  subscription_id: string;
  plan: string;
  status: string;
  amount: number;
  currency: string;
  interval: string;
  since: number;
  canceled_at: number | null;
}

/** `GET /users/{uid}`: the person with the CRM fields, usage and revenue. */
export interface ContactProfile extends SiteUser {
  total_sessions: number;
  avg_session_s: number;
  tags: string[];
  priority: Priority | null;
  properties: Record<string, unknown>;
  notes_count: number;
  feature_usage: Record<string, number>;
  token_usage: AiSums & { by_model: (AiSums & { model: string })[] };
  currency: string;
  total_spent: number;
  unconverted_spent: MoneyAmount[];
  subscription: SubscriptionSummary | null;
  payments: PaymentRecord[];
}

export type TimelineItem =
  | ({ type: 'session'; ts: number } & Omit<UserSession, 'active'>)
  | { type: 'event'; ts: number; id: string; name: string | null; props: Record<string, unknown> | null; session_id: string | null; path: string | null }
  | ({ type: 'note'; ts: number } & ContactNote)
  | ({ type: 'payment'; ts: number } & PaymentRecord);

export interface TimelinePage {
  items: TimelineItem[];
  next_cursor: string | null;
}

// ---- Inbox (issue 12 item 2: conversations, messages, agents) ----

export type ConversationStatus = 'open' | 'pending' | 'resolved' | 'closed';
export type ConversationPriority = 'low' | 'medium' | 'high' | 'urgent';
export type Channel = 'in_app' | 'email' | 'whatsapp' | 'sms' | 'api';
export type DeliveryStatus = 'queued' | 'sent' | 'delivered' | 'read' | 'failed';
export type AgentStatus = 'online' | 'away' | 'offline';
export const CONVERSATION_PRIORITIES: ConversationPriority[] = ['low', 'medium', 'high', 'urgent'];
export const CHANNELS: Channel[] = ['in_app', 'email', 'whatsapp', 'sms', 'api'];
export const AGENT_STATUSES: AgentStatus[] = ['online', 'away', 'offline'];

/** Conversations need the `agent` role; viewers see no conversation content. */
export const canWorkConversations = (role: Role): boolean => role !== 'viewer';

export interface Conversation {
  id: string;
  site_user_id: string;
  contact_name: string | null;
  contact_email: string | null;
  channel: Channel;
  status: ConversationStatus;
  priority: ConversationPriority;
  assignee_account_id: string | null;
  team_id: string | null;
  inbox_id: string | null;
  handled_by_bot: boolean;
  escalated_to_human: boolean;
  intent: string | null;
  csat: number | null;
  first_response_at: number | null;
  resolved_at: number | null;
  last_message_at: number;
  unread_count: number;
  created_at: number;
  updated_at: number;
}

export interface Message {
  id: string;
  conversation_id: string;
  channel: Channel;
  direction: 'in' | 'out';
  sender: 'contact' | 'agent' | 'bot' | 'system';
  sender_account_id: string | null;
  body: string;
  private: boolean;
  attachments: Record<string, unknown>[];
  delivery_status: DeliveryStatus;
  sent_at: number | null;
  delivered_at: number | null;
  read_at: number | null;
  failed_reason: string | null;
  created_at: number;
}

export interface Agent {
  account_id: string;
  email: string;
  role: Role;
  teams: string[];
  status: AgentStatus;
  status_since: number | null;
}

/** The Inbox list's filters, as in its URL query. `assignee` is `me`, `none`,
 * an agent's account id (the Support page drills down with it) or empty (all). */
/** Conversations created on local day of week `dow` (0 = Sunday) and hour `hour` of the
 * project's time zone, within the local days `from`..`to` (inclusive): a Support heatmap cell. */
export interface CreatedCell {
  from: string;
  to: string;
  dow: number;
  hour: number;
}

export interface InboxFilters {
  status: ConversationStatus;
  assignee: '' | 'me' | 'none' | (string & {});
  channel: Channel | '';
  priority: ConversationPriority | '';
  q: string;
  /** The Support heatmap's drill-down, when the link named one. */
  created?: CreatedCell | null;
}

export type ConversationPatch = Partial<{ status: ConversationStatus; priority: ConversationPriority; assignee: string | null }>;

// ---- Audit log (issue 13 item 4): GET /projects/{id}/audit-log ----

/** One recorded action; `params` is what the request asked, secrets redacted. */
export interface AuditEntry {
  id: string;
  actor: { account_id: string; email: string };
  action: string;
  resource: string;
  params: unknown;
  ip: string | null;
  at: number;
}

export interface AuditPage {
  entries: AuditEntry[];
  next_cursor: string | null;
}

/** Empty strings mean "any"; `from`/`to` are `YYYY-MM-DD` days in the browser's time zone. */
export interface AuditFilters {
  actor: string;
  action: string;
  from: string;
  to: string;
}

// ---- Message templates (issue 14 item 1): /projects/{id}/templates ----

export type TemplateChannel = 'email' | 'push' | 'in_app' | 'whatsapp';

/** Supervisors and above write templates (and, later, send campaigns). */
export const canSupervise = (role: Role): boolean => role === 'supervisor' || canAdminister(role);

export interface PushParts {
  title: string;
  body: string;
  url: string | null;
  icon: string | null;
}

/** A saved template: each part is template source (docs/templates.md); parts the channel does not use are null. */
export interface MessageTemplate {
  id: string;
  name: string;
  channel: TemplateChannel;
  subject: string | null;
  body_html: string | null;
  body_text: string | null;
  push: PushParts | null;
  created_by_account_id: string | null;
  created_at: number;
  updated_at: number;
}

/** What a create, a replace and a draft preview send. */
export interface TemplateBody {
  name: string;
  channel: TemplateChannel;
  subject?: string | null;
  body_html?: string | null;
  body_text?: string | null;
  push?: { title: string; body: string; url?: string | null; icon?: string | null } | null;
}

/** Whom a preview renders for: a contact of the project, a sample, or (neither) the built-in sample. */
export interface PreviewRequest {
  contact_id?: string;
  sample?: Record<string, unknown>;
  data?: Record<string, unknown>;
}

export interface RenderedTemplate {
  channel: TemplateChannel;
  subject: string | null;
  html: string | null;
  text: string | null;
  /** The email had no text part: `text` was derived from `html`. */
  text_derived: boolean;
  push: PushParts | null;
  contact: Record<string, unknown>;
  /** A placeholder in previews (`…/unsubscribe/preview`). */
  unsubscribe_url: string;
}

// ---- Campaigns (issue 14 items 2, 3, 7; docs/api.md "Campaigns") ----

export type CampaignStatus = 'draft' | 'scheduled' | 'sending' | 'paused' | 'sent' | 'cancelled';
export type RecipientStatus = 'queued' | 'claimed' | 'sent' | 'failed' | 'unknown' | 'skipped' | 'cancelled';

/** The live counts of `GET …/campaigns/{cid}` and the actions. */
/** `GET …/campaigns/{cid}/stats` (docs/api.md): rates 0–1, or null with nothing to divide by. */
export interface CampaignStats {
  campaign_id: string;
  counts: {
    recipients: number; skipped: number; sent: number; failed: number; unknown: number; delivered: number;
    bounced: number; opened: number; opened_machine: number; clicked: number; unsubscribed: number;
    opens: number; machine_opens: number; clicks: number;
  };
  rates: { delivery: number | null; open: number | null; click: number | null; click_to_open: number | null; bounce: number | null; unsubscribe: number | null };
  series: { at: number; sent: number; opened: number; clicked: number }[];
}

export interface CampaignProgress {
  total: number;
  to_send: number;
  queued: number;
  claimed: number;
  sent: number;
  failed: number;
  unknown: number;
  cancelled: number;
  skipped: { total: number; no_address: number; unsubscribed: number; bounced: number };
  rate_per_minute: number;
  sent_last_minute: number;
  eta_seconds: number | null;
}

export interface CampaignContent {
  subject?: string | null;
  body_html?: string | null;
  body_text?: string | null;
}

export interface Campaign {
  id: string;
  kind: 'segment' | 'direct';
  name: string;
  channel: TemplateChannel;
  template_id: string | null;
  content: CampaignContent | null;
  segment: string | null;
  send_at: number | null;
  rate_per_minute: number | null;
  status: CampaignStatus;
  recipients: number | null;
  skipped: number | null;
  error: string | null;
  created_by_account_id: string | null;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  finished_at: number | null;
  progress?: CampaignProgress;
}

/** `template_id` or `content`, not both (an inline campaign made through the API keeps its content). */
export interface CampaignBody {
  name: string;
  channel: TemplateChannel;
  template_id?: string;
  content?: CampaignContent;
  segment: string;
  send_at: number | null;
  rate_per_minute: number | null;
}

export interface CampaignRecipient {
  person_id: string;
  address: string | null;
  status: RecipientStatus;
  skip_reason: string | null;
  attempts: number;
  claimed_at: number | null;
  sent_at: number | null;
  error: string | null;
  message_id: string | null;
}

export interface TestSendResult {
  address: string;
  status: 'sent' | 'failed' | 'unknown';
  error: string | null;
}
