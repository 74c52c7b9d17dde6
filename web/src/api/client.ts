// The typed API client every screen uses. Errors carry the API's
// {"error":{"code","message","field"}} shape; a 401 on a signed-in call tells
// the app that the session is gone (see onSessionExpired).
import type {
  Account, AiUsage, ApiToken, DailyStat, Features, Retention, Revenue, Funnel, FunnelStepDef, FunnelStepResult, Member, Metrics,
  Project, Role, Segment, SiteUser, StoredEvent, UserSession, Visitor,
} from './types';
import type { CriteriaNode, CustomSegment, Flow, FlowBody, FlowStats, SegmentBody } from './types';
import type {
  ContactNote, ContactProfile, PeopleFilters, PeoplePage, Priority, TagCount, TimelinePage,
} from './types';
import type { Agent, AgentStatus, Conversation, ConversationPatch, InboxFilters, Message } from './types';
import type { AuditFilters, AuditPage } from './types';
import type { MessageTemplate, PreviewRequest, RenderedTemplate, TemplateBody } from './types';
import type { Campaign, CampaignBody, CampaignRecipient, CampaignStats, RecipientStatus, TestSendResult } from './types';

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public field?: string,
  ) {
    super(message);
  }
}

type Listener = (reason: string) => void;
const expiredListeners = new Set<Listener>();

/** Called when an authenticated request answers 401 (expired or revoked session). */
export function onSessionExpired(listener: Listener): () => void {
  expiredListeners.add(listener);
  return () => expiredListeners.delete(listener);
}

export function notifySessionExpired(reason: string) {
  expiredListeners.forEach((l) => l(reason));
}

interface Options {
  method?: string;
  body?: unknown;
  /** Sign-in calls expect 401 for a wrong password; it is not an expiry. */
  anonymous?: boolean;
}

export async function request<T>(path: string, opts: Options = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, {
      method: opts.method ?? 'GET',
      credentials: 'same-origin',
      headers: opts.body === undefined ? undefined : { 'Content-Type': 'application/json' },
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
  } catch {
    throw new ApiError(0, 'network', 'Cannot reach the Vibe server. Check that it is running.');
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const err = (data as { error?: { code?: string; message?: string; field?: string } })?.error;
    const error = new ApiError(
      res.status,
      err?.code ?? 'http_' + res.status,
      err?.message ?? `The server answered ${res.status}.`,
      err?.field,
    );
    if (res.status === 401 && !opts.anonymous) {
      notifySessionExpired(
        error.code === 'session_expired'
          ? 'Your session has expired. Please sign in again.'
          : 'You have been signed out. Please sign in again.',
      );
    }
    throw error;
  }
  return data as T;
}

const p = (id: string) => `/projects/${encodeURIComponent(id)}`;

/** The audit log's query: days become the browser's local midnights (Unix ms), `to` inclusive of its day. */
export function auditQuery(f: AuditFilters, cursor: string | null, limit: number): string {
  const q = new URLSearchParams();
  if (f.actor) q.set('actor', f.actor);
  if (f.action) q.set('action', f.action);
  const midnight = (day: string, plusDays = 0) => {
    const [y, m, d] = day.split('-').map(Number);
    return String(new Date(y, m - 1, d + plusDays).getTime());
  };
  if (f.from) q.set('from', midnight(f.from));
  if (f.to) q.set('to', midnight(f.to, 1));
  if (cursor) q.set('cursor', cursor);
  q.set('limit', String(limit));
  return q.toString();
}
export const qs = (params: Record<string, string | number | undefined | null>) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') s.set(k, String(v));
  const str = s.toString();
  return str ? `?${str}` : '';
};

export const api = {
  me: () => request<{ account: Account }>('/auth/me', { anonymous: true }),
  login: (email: string, password: string) =>
    request<{ account: Account }>('/auth/login', { method: 'POST', body: { email, password }, anonymous: true }),
  logout: () => request<void>('/auth/logout', { method: 'POST', anonymous: true }),
  setup: (token: string, email: string, password: string) =>
    request<{ account: Account }>('/setup', { method: 'POST', body: { token, email, password }, anonymous: true }),

  projects: (anonymous = false) => request<{ projects: Project[] }>('/projects', { anonymous }),
  createProject: (name: string) => request<Project>('/projects', { method: 'POST', body: { name } }),
  project: (id: string) => request<Project & { role: Role }>(p(id)),
  updateProject: (id: string, changes: Partial<Pick<Project, 'name' | 'allowed_origins' | 'timezone' | 'online_window_s'>>) =>
    request<Project>(p(id), { method: 'PATCH', body: changes }),
  snippet: (id: string) =>
    request<{ snippet: string; script_url: string; write_key: string; chat?: boolean; chat_script_url?: string }>(`${p(id)}/snippet`),
  /** Turns the in-app channel (the chat widget) on or off (admins). */
  setChat: (id: string, enabled: boolean) => request<unknown>(`${p(id)}/channels/in_app`, { method: 'PUT', body: { enabled } }),

  online: (id: string) => request<{ online_window_s: number; visitors: Visitor[] }>(`${p(id)}/online`),
  events: (id: string, limit = 50) => request<{ events: StoredEvent[] }>(`${p(id)}/events${qs({ limit })}`),
  metrics: (id: string) => request<Metrics>(`${p(id)}/metrics`),
  daily: (id: string, from: string, to: string) =>
    request<{ days: DailyStat[]; timezone: string }>(`${p(id)}/stats/daily${qs({ from, to })}`),

  funnels: (id: string) => request<{ funnels: Funnel[] }>(`${p(id)}/funnels`),
  createFunnel: (id: string, f: { name: string; steps: FunnelStepDef[]; window_days: number }) =>
    request<Funnel>(`${p(id)}/funnels`, { method: 'POST', body: f }),
  updateFunnel: (id: string, fid: string, f: { name: string; steps: FunnelStepDef[]; window_days: number }) =>
    request<Funnel>(`${p(id)}/funnels/${encodeURIComponent(fid)}`, { method: 'PUT', body: f }),
  deleteFunnel: (id: string, fid: string) =>
    request<void>(`${p(id)}/funnels/${encodeURIComponent(fid)}`, { method: 'DELETE' }),
  conversion: (id: string, fid: string, days = 30) =>
    request<{ steps: FunnelStepResult[] | null; days: number; status?: 'building' | 'ready'; progress_pct?: number }>(`${p(id)}/funnels/${encodeURIComponent(fid)}/conversion${qs({ days })}`),

  users: (id: string, segment: Segment, cursor?: string | null, limit = 100) =>
    request<{ users: SiteUser[]; next_cursor: string | null }>(`${p(id)}/users${qs({ segment, cursor, limit })}`),
  user: (id: string, uid: string) => request<SiteUser>(`${p(id)}/users/${encodeURIComponent(uid)}`),
  userSessions: (id: string, uid: string) =>
    request<{ sessions: UserSession[] }>(`${p(id)}/users/${encodeURIComponent(uid)}/sessions?limit=20`),

  revenue: (id: string, from?: string, to?: string, interval: 'day' | 'month' = 'month') =>
    request<Revenue>(`${p(id)}/revenue${qs({ from, to, interval })}`),
  retention: (id: string, cohort: 'day' | 'week' = 'day', from?: string, to?: string) =>
    request<Retention>(`${p(id)}/retention${qs({ cohort, from, to })}`),
  features: (id: string, from?: string, to?: string) => request<Features>(`${p(id)}/features${qs({ from, to })}`),
  aiUsage: (id: string, from?: string, to?: string, limit = 20, offset = 0) =>
    request<AiUsage>(`${p(id)}/ai-usage${qs({ from, to, limit, offset })}`),

  // ---- Custom segments ----
  segments: (id: string) => request<{ segments: CustomSegment[] }>(`${p(id)}/segments`),
  createSegment: (id: string, body: SegmentBody) =>
    request<CustomSegment>(`${p(id)}/segments`, { method: 'POST', body }),
  updateSegment: (id: string, sid: string, body: SegmentBody) =>
    request<CustomSegment>(`${p(id)}/segments/${encodeURIComponent(sid)}`, { method: 'PUT', body }),
  deleteSegment: (id: string, sid: string) =>
    request<void>(`${p(id)}/segments/${encodeURIComponent(sid)}`, { method: 'DELETE' }),
  refreshSegment: (id: string, sid: string) =>
    request<CustomSegment>(`${p(id)}/segments/${encodeURIComponent(sid)}/refresh`, { method: 'POST' }),
  previewSegment: (id: string, criteria: CriteriaNode) =>
    request<{ user_count: number; counted_at: number }>(`${p(id)}/segments/preview`, { method: 'POST', body: { criteria } }),

  // ---- Message templates (issue 14 item 1) ----
  templates: (id: string) => request<{ templates: MessageTemplate[] }>(`${p(id)}/templates`),
  createTemplate: (id: string, body: TemplateBody) => request<MessageTemplate>(`${p(id)}/templates`, { method: 'POST', body }),
  updateTemplate: (id: string, tid: string, body: TemplateBody) =>
    request<MessageTemplate>(`${p(id)}/templates/${encodeURIComponent(tid)}`, { method: 'PUT', body }),
  deleteTemplate: (id: string, tid: string) => request<void>(`${p(id)}/templates/${encodeURIComponent(tid)}`, { method: 'DELETE' }),
  previewTemplate: (id: string, tid: string, req: PreviewRequest) =>
    request<RenderedTemplate>(`${p(id)}/templates/${encodeURIComponent(tid)}/preview`, { method: 'POST', body: req }),
  /** An unsaved draft (supervisors and above); error fields come back as `template.<field>`. */
  previewDraft: (id: string, template: TemplateBody, req: PreviewRequest) =>
    request<RenderedTemplate>(`${p(id)}/templates/preview`, { method: 'POST', body: { ...req, template } }),

  // ---- Campaigns (issue 14 items 2, 3, 7) ----
  campaigns: (id: string) => request<{ campaigns: Campaign[] }>(`${p(id)}/campaigns`),
  campaign: (id: string, cid: string) => request<Campaign>(`${p(id)}/campaigns/${encodeURIComponent(cid)}`),
  createCampaign: (id: string, body: CampaignBody) => request<Campaign>(`${p(id)}/campaigns`, { method: 'POST', body }),
  updateCampaign: (id: string, cid: string, body: CampaignBody) =>
    request<Campaign>(`${p(id)}/campaigns/${encodeURIComponent(cid)}`, { method: 'PUT', body }),
  deleteCampaign: (id: string, cid: string) => request<void>(`${p(id)}/campaigns/${encodeURIComponent(cid)}`, { method: 'DELETE' }),
  /** send, pause, resume or cancel: answers the campaign with its progress. */
  campaignAction: (id: string, cid: string, action: 'send' | 'pause' | 'resume' | 'cancel') =>
    request<Campaign>(`${p(id)}/campaigns/${encodeURIComponent(cid)}/${action}`, { method: 'POST' }),
  testCampaign: (id: string, cid: string, addresses: string[]) =>
    request<{ results: TestSendResult[] }>(`${p(id)}/campaigns/${encodeURIComponent(cid)}/test`, { method: 'POST', body: { addresses } }),
  campaignStats: (id: string, cid: string) => request<CampaignStats>(`${p(id)}/campaigns/${encodeURIComponent(cid)}/stats`),
  campaignRecipients: (id: string, cid: string, status: RecipientStatus | '', cursor?: string | null, limit = 100) =>
    request<{ recipients: CampaignRecipient[]; next_cursor: string | null }>(
      `${p(id)}/campaigns/${encodeURIComponent(cid)}/recipients${qs({ status, cursor, limit })}`,
    ),

  // ---- Flows ----
  flows: (id: string) => request<{ flows: Flow[] }>(`${p(id)}/flows`),
  createFlow: (id: string, body: FlowBody) => request<Flow>(`${p(id)}/flows`, { method: 'POST', body }),
  updateFlow: (id: string, fid: string, body: FlowBody) =>
    request<Flow>(`${p(id)}/flows/${encodeURIComponent(fid)}`, { method: 'PUT', body }),
  deleteFlow: (id: string, fid: string) => request<void>(`${p(id)}/flows/${encodeURIComponent(fid)}`, { method: 'DELETE' }),
  flowStats: (id: string, fid: string, days = 30) =>
    request<FlowStats>(`${p(id)}/flows/${encodeURIComponent(fid)}/stats${qs({ days })}`),
  // ---- People and contacts (issue 11 item 8) ----
  people: (id: string, filters: PeopleFilters, cursor?: string | null, limit = 50) =>
    request<PeoplePage>(`${p(id)}/users${peopleQuery(filters, cursor, limit)}`),
  tags: (id: string) => request<{ tags: TagCount[] }>(`${p(id)}/tags`),
  contact: (id: string, uid: string) => request<ContactProfile>(`${p(id)}/users/${encodeURIComponent(uid)}`),
  updateContact: (id: string, uid: string, changes: { tags?: string[]; priority?: Priority | null; properties?: Record<string, unknown> }) =>
    request<ContactProfile>(`${p(id)}/users/${encodeURIComponent(uid)}`, { method: 'PATCH', body: changes }),
  notes: (id: string, uid: string) => request<{ notes: ContactNote[] }>(`${p(id)}/users/${encodeURIComponent(uid)}/notes`),
  addNote: (id: string, uid: string, body: string) =>
    request<ContactNote>(`${p(id)}/users/${encodeURIComponent(uid)}/notes`, { method: 'POST', body: { body } }),
  deleteNote: (id: string, uid: string, nid: string) =>
    request<void>(`${p(id)}/users/${encodeURIComponent(uid)}/notes/${encodeURIComponent(nid)}`, { method: 'DELETE' }),
  timeline: (id: string, uid: string, cursor?: string | null, limit = 50) =>
    request<TimelinePage>(`${p(id)}/users/${encodeURIComponent(uid)}/timeline${qs({ cursor, limit })}`),

  // ---- Inbox (issue 12 item 2) ----
  conversations: (id: string, f: InboxFilters, cursor?: string | null, limit = 50) =>
    request<{ conversations: Conversation[]; next_cursor: string | null }>(`${p(id)}/conversations${inboxQuery(f, cursor, limit)}`),
  conversation: (id: string, cid: string) => request<Conversation>(`${p(id)}/conversations/${encodeURIComponent(cid)}`),
  updateConversation: (id: string, cid: string, changes: ConversationPatch) =>
    request<Conversation>(`${p(id)}/conversations/${encodeURIComponent(cid)}`, { method: 'PATCH', body: changes }),
  messages: (id: string, cid: string, cursor?: string | null, limit = 50) =>
    request<{ messages: Message[]; next_cursor: string | null }>(`${p(id)}/conversations/${encodeURIComponent(cid)}/messages${qs({ cursor, limit })}`),
  sendMessage: (id: string, cid: string, body: string, isPrivate: boolean) =>
    request<Message>(`${p(id)}/conversations/${encodeURIComponent(cid)}/messages`, { method: 'POST', body: { body, private: isPrivate } }),
  markRead: (id: string, cid: string, mid: string) =>
    request<Conversation>(`${p(id)}/conversations/${encodeURIComponent(cid)}/messages/${encodeURIComponent(mid)}/read`, { method: 'POST' }),
  startConversation: (id: string, uid: string, message: string) =>
    request<Conversation>(`${p(id)}/users/${encodeURIComponent(uid)}/conversations`, { method: 'POST', body: { message } }),
  agents: (id: string) => request<{ agents: Agent[] }>(`${p(id)}/agents`),
  setAgentStatus: (id: string, status: AgentStatus) =>
    request<{ status: AgentStatus; started_at: number }>(`${p(id)}/agents/me/status`, { method: 'PUT', body: { status } }),

  members: (id: string) => request<{ members: Member[] }>(`${p(id)}/members`),
  addMember: (id: string, email: string, role: Role) =>
    request<Member>(`${p(id)}/members`, { method: 'POST', body: { email, role } }),
  changeRole: (id: string, accountId: string, role: Role) =>
    request<Member>(`${p(id)}/members/${encodeURIComponent(accountId)}`, { method: 'PATCH', body: { role } }),
  removeMember: (id: string, accountId: string) =>
    request<void>(`${p(id)}/members/${encodeURIComponent(accountId)}`, { method: 'DELETE' }),
  auditLog: (id: string, filters: AuditFilters, cursor: string | null, limit = 50) =>
    request<AuditPage>(`${p(id)}/audit-log?${auditQuery(filters, cursor, limit)}`),

  tokens: () => request<{ tokens: ApiToken[] }>('/tokens'),
  createToken: (name: string) => request<{ token: ApiToken; secret: string }>('/tokens', { method: 'POST', body: { name } }),
  revokeToken: (tid: string) => request<void>(`/tokens/${encodeURIComponent(tid)}`, { method: 'DELETE' }),
};

/** The people list's query string: the filters (empty ones left out), the cursor and the page size. */
export function peopleQuery(filters: PeopleFilters, cursor?: string | null, limit?: number): string {
  return qs({ q: filters.q?.trim(), segment: filters.segment === 'all' ? undefined : filters.segment, tag: filters.tag, priority: filters.priority, cursor, limit });
}

/** The Inbox list's query string: the filters (empty ones left out), the cursor and the page size. */
export function inboxQuery(f: InboxFilters, cursor?: string | null, limit?: number): string {
  const c = f.created;
  return qs({
    status: f.status, assignee: f.assignee, channel: f.channel, priority: f.priority, q: f.q.trim(),
    created_from: c?.from, created_to: c?.to, created_dow: c?.dow, created_hour: c?.hour, cursor, limit,
  });
}

/** Same-origin download URLs (the cookie authenticates them). */
export const downloads = {
  usersCsv: (id: string, segment: Segment) => `/api/v1${p(id)}/export/users.csv${qs({ segment })}`,
  metricsCsv: (id: string, from: string, to: string) => `/api/v1${p(id)}/export/metrics.csv${qs({ from, to })}`,
  liveSocket: (id: string) => {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${proto}//${location.host}/api/v1${p(id)}/live`;
  },
};
