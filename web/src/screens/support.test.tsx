// The Support page against a mocked fetch answering the API contract's JSON
// (notes: support-design.md / docs/api.md "Support analytics"), and a fake
// live socket.
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type {
  AgentActivity, AgentProductivity, AutomationImpact, BusinessImpact, ConversationEffectiveness, CustomerLoad, SupportKpi, WhatsAppPerformance,
} from '../api/support';
import { supportExports, supportParams } from '../api/support';
import type { Account, Agent, Project, Role } from '../api/types';
import { bandsWithin } from '../components/support/Agents';
import { dayStart } from '../components/support/format';
import { KpiStrip } from '../components/support/KpiStrip';
import { queueTone } from '../components/support/WhatsApp';
import { inboxLink, readSupportQuery, supportSearch } from '../lib/supportQuery';
import { supportSection } from '../lib/supportLive';
import { filterAgents, Support } from './Support';

const project = { id: 'p1', name: 'Shop', timezone: 'UTC' } as Project;
const owner = { id: 'acc_own', email: 'own@shop.example', role: 'owner', created_at: 1 } as Account;
const agentAccount = { id: 'acc_me', email: 'me@shop.example', role: 'agent', created_at: 1 } as Account;
const T0 = Date.UTC(2026, 11, 7, 9, 0);
const range = { from: Date.UTC(2026, 11, 7), to: Date.UTC(2026, 11, 8), tz: 'UTC' };

const kpi: SupportKpi = {
  range, scope: 'all',
  active_conversations: { value: 12, trend: 'up', change: 20 },
  avg_response_time: { value: 95, trend: 'down', change: -12.5, sla_status: 'warning' },
  whatsapp_delivery_rate: { value: 97.5, trend: 'stable', change: 0.4 },
  open_tickets: { value: 7, trend: 'up', change: 100, by_priority: { urgent: 1, high: 2, medium: 3, low: 1 } },
  messages_today: { value: 340, trend: 'stable', change: 0 },
};
const conversation: ConversationEffectiveness = {
  range, scope: 'all',
  conversations_per_agent: [
    { agent_id: 'acc_me', agent_name: 'Mia', count: 8, avg_response_time: 60 },
    { agent_id: 'acc_bo', agent_name: 'Bo', count: 4, avg_response_time: 130 },
  ],
  avg_response_time_over_time: [{ timestamp: T0, avg_seconds: 90 }, { timestamp: T0 + 3_600_000, avg_seconds: 100 }],
  sla_compliance: { percentage: 83.3, compliant: 10, non_compliant: 2, by_kind: { first_response: 1, next_response: 0, resolution: 1 } },
  resolved_vs_open: { resolved: 9, open: 3, percentage: 75 },
};
const whatsapp: WhatsAppPerformance = {
  range, scope: 'all',
  message_funnel: { sent: 100, delivered: 90, read: 60, failed: 4 },
  broadcast_success_rate: { total: 50, successful: 48, failed: 2, percentage: 96 },
  failed_messages: [{ id: 'm1', recipient: '+15550001', error: 'not a WhatsApp number', timestamp: T0 }],
  active_sessions: [{ session_id: 's1', phone_number: '+15559999', status: 'connected', last_seen: T0 }],
  queue_metrics: { depth: 30, processing_rate: 10 },
};
const customer: CustomerLoad = {
  range, scope: 'all',
  incoming_chats_per_hour: [{ hour: T0, count: 5 }, { hour: T0 + 3_600_000, count: 9 }],
  peak_hour: { hour: T0 + 3_600_000, count: 9 },
  new_vs_returning: { new: 10, returning: 4 },
  avg_wait_time: { peak: 120, off_peak: 30 },
  heatmap: [{ day_of_week: 1, hour: 9, count: 5 }, { day_of_week: 1, hour: 10, count: 9 }],
};
const agentMetrics: AgentProductivity['agent_metrics'] = [
  { agent_id: 'acc_me', agent_name: 'Mia', chats_handled: 8, resolution_rate: 87.5, idle_time: 600, active_time: 7200, avg_handling_time: 900, status: 'online', status_duration: 3720 },
  { agent_id: 'acc_bo', agent_name: 'Bo', chats_handled: 4, resolution_rate: 50, idle_time: 1200, active_time: 3600, avg_handling_time: 1500, status: 'away', status_duration: 300 },
];
const agent: AgentProductivity = { range, scope: 'all', agent_metrics: agentMetrics, workload_distribution: { balanced: 1, overloaded: 1, underutilized: 0 } };
const automation: AutomationImpact = {
  range, scope: 'all',
  chatbot_vs_human: { chatbot: 6, human: 12, percentage: 33.3 },
  auto_reply_success: { total: 6, successful: 5, percentage: 83.3 },
  drop_off_rate: { total: 18, dropped: 1, percentage: 5.6 },
  top_intents: [{ intent: 'refund', count: 4, success_rate: 75 }],
  time_saved: { hours: 1.5, estimated_cost: 4500, currency: 'USD' },
  escalation_rate: { total: 6, escalated: 1, percentage: 16.7 },
};
const business: BusinessImpact = {
  range, scope: 'all',
  leads_generated: { value: 5, trend: 'up', change: 25 },
  tickets_resolved: { today: 9, week: 40, month: 150 },
  campaign_conversion: [],
  repeat_customer_rate: { rate: 28.6, trend: 'stable' },
  cost_per_conversation: { amount: 250, savings: 1200, currency: 'USD' },
};
const activity: AgentActivity = {
  agents: [{ agent_id: 'acc_me', agent_name: 'Mia', bands: [{ status: 'online', from: Date.UTC(2026, 11, 7, 8), to: Date.UTC(2026, 11, 7, 12) }, { status: 'away', from: Date.UTC(2026, 11, 7, 12), to: Date.UTC(2026, 11, 7, 13) }] }],
};
const agents: Agent[] = [
  { account_id: 'acc_me', email: 'me@shop.example', role: 'agent', teams: ['t1'], status: 'online', status_since: 1 },
  { account_id: 'acc_bo', email: 'bo@shop.example', role: 'agent', teams: ['t1'], status: 'away', status_since: 1 },
];
const BODIES: Record<string, unknown> = {
  kpi, 'conversation-effectiveness': conversation, 'whatsapp-performance': whatsapp, 'customer-load': customer,
  'agent-productivity': agent, 'automation-impact': automation, 'business-impact': business, 'agent-activity': activity,
};

type Answer = { status?: number; body?: unknown };
let urls: string[] = [];
/** Mocks fetch: `/support/{name}` answers BODIES[name] unless `route` answers first. */
function mockFetch(route: (name: string, url: string) => Answer | undefined = () => undefined) {
  urls = [];
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input) => {
    const url = String(input);
    urls.push(url);
    const name = /\/support\/([a-z-]+)/.exec(url)?.[1] ?? '';
    const a = route(name, url) ?? (url.includes('/agents') ? { body: { agents } } : url.endsWith('/teams') ? { body: { teams: [{ id: 't1', name: 'Billing', created_at: 1, members: [] }] } } : name in BODIES ? { body: BODIES[name] } : { status: 404, body: { error: { code: 'not_found', message: 'No such route.' } } });
    return new Response(JSON.stringify(a.body ?? {}), { status: a.status ?? 200, headers: { 'Content-Type': 'application/json' } });
  });
}
const last = <T,>(xs: T[]): T | undefined => xs[xs.length - 1];
const supportGets = (name: string) => urls.filter((u) => u.includes(`/support/${name}`));

class FakeSocket {
  static all: FakeSocket[] = [];
  onmessage: ((e: { data: string }) => void) | null = null;
  onclose: ((e: { code: number }) => void) | null = null;
  onopen: (() => void) | null = null;
  sent: unknown[] = [];
  constructor(public url: string) {
    FakeSocket.all.push(this);
  }
  send(text: string) {
    this.sent.push(JSON.parse(text));
  }
  close() {}
  emit(msg: unknown) {
    this.onmessage?.({ data: JSON.stringify(msg) });
  }
}

const renderPage = (role: Role, account: Account = owner) => render(<Support project={project} account={account} role={role} />);

beforeEach(() => {
  history.replaceState(null, '', '/support');
  FakeSocket.all = [];
  vi.stubGlobal('WebSocket', FakeSocket);
  // Recharts' ResponsiveContainer measures its box; jsdom has no layout (the charts stay empty).
  vi.stubGlobal('ResizeObserver', class { observe() {} unobserve() {} disconnect() {} });
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

describe('KPI strip', () => {
  it('shows the five values, their trends and the SLA colour', () => {
    render(<KpiStrip kpi={kpi} />);
    const card = (k: string) => screen.getByTestId(`kpi-${k}`);
    expect(within(card('active_conversations')).getByText('12')).toBeTruthy();
    expect(card('active_conversations').querySelector('[data-trend="up"]')?.textContent).toContain('+20.0%');
    // A rise in active conversations is neither good nor bad.
    expect(card('active_conversations').querySelector('[data-tone]')?.getAttribute('data-tone')).toBe('neutral');
    const rt = card('avg_response_time');
    expect(within(rt).getByText('1m 35s')).toBeTruthy();
    expect(rt.getAttribute('data-sla')).toBe('warning');
    expect(rt.className).toContain('sla-warning');
    expect(within(rt).getByText('Near the SLA target')).toBeTruthy();
    // Faster replies are good.
    const rtTrend = rt.querySelector('[data-trend]')!;
    expect(rtTrend.getAttribute('data-trend')).toBe('down');
    expect(rtTrend.getAttribute('data-tone')).toBe('good');
    expect(rtTrend.textContent).toContain('▼');
    expect(rtTrend.textContent).toContain('−12.5%');
    expect(within(card('whatsapp_delivery_rate')).getByText('97.5%')).toBeTruthy();
    expect(card('whatsapp_delivery_rate').querySelector('[data-trend]')?.getAttribute('data-tone')).toBe('neutral');
    const open = card('open_tickets');
    expect(within(open).getByText('7')).toBeTruthy();
    expect(open.querySelector('[data-trend]')?.getAttribute('data-tone')).toBe('bad');
    expect(within(open).getByTestId('kpi-by-priority').textContent).toBe('urgent 1 · high 2 · medium 3 · low 1');
    expect(within(card('messages_today')).getByText('340')).toBeTruthy();
    expect(card('messages_today').querySelector('[data-trend]')?.textContent).toContain('0%');
  });

  it('colours a critical SLA', () => {
    render(<KpiStrip kpi={{ ...kpi, avg_response_time: { ...kpi.avg_response_time, sla_status: 'critical' } }} />);
    expect(screen.getByTestId('kpi-avg_response_time').getAttribute('data-sla')).toBe('critical');
    expect(screen.getByText('Over the SLA target')).toBeTruthy();
  });

  it('shows skeletons while loading', () => {
    render(<KpiStrip kpi={undefined} />);
    expect(screen.getByRole('status', { name: 'Loading Avg response time' })).toBeTruthy();
  });
});

describe('Support page', () => {
  it('asks every section for the range and shows them, with exports for an owner', async () => {
    mockFetch();
    renderPage('owner');
    expect(await screen.findByText('1m 35s')).toBeTruthy();
    await screen.findByTestId('agent-table');
    for (const name of ['kpi', 'conversation-effectiveness', 'whatsapp-performance', 'customer-load', 'agent-productivity', 'automation-impact', 'business-impact'])
      expect(supportGets(name)).toEqual([`/api/v1/projects/p1/support/${name}?date_range=today`]);
    expect(supportGets('agent-activity')[0]).toMatch(/^\/api\/v1\/projects\/p1\/support\/agent-activity\?start_date=\d{4}-\d{2}-\d{2}&end_date=\d{4}-\d{2}-\d{2}$/);
    expect(within(screen.getByTestId('support-whatsapp')).getByTestId('failed-messages').textContent).toContain('not a WhatsApp number');
    expect(screen.getByTestId('queue-depth').getAttribute('data-tone')).toBe('warning');
    expect(screen.getByTestId('sla-gauge').getAttribute('aria-valuenow')).toBe('83.3');
    expect(within(screen.getByTestId('support-business')).getByTestId('leads').textContent).toContain('5');
    expect(screen.getByTestId('cost-per-conversation').textContent).toContain('$2.50');
    expect(screen.getByTestId('time-saved').textContent).toContain('$45.00');
    const rows = await screen.findAllByTestId('timeline-row');
    expect(rows).toHaveLength(1);
    const exports = screen.getAllByTestId('support-export').map((a) => a.getAttribute('href'));
    expect(exports).toContain('/api/v1/projects/p1/support/export/conversations.csv?date_range=today');
    expect(exports).toContain('/api/v1/projects/p1/support/export/customer-load.csv?date_range=today');
    expect(screen.getByLabelText('Agent')).toBeTruthy();
  });

  it('keeps the range and filters in the URL and asks again with them', async () => {
    mockFetch();
    renderPage('owner');
    await screen.findByText('1m 35s');
    fireEvent.click(screen.getByRole('button', { name: 'Week' }));
    await waitFor(() => expect(last(supportGets('kpi'))).toBe('/api/v1/projects/p1/support/kpi?date_range=week'));
    expect(location.search).toBe('?range=week');
    await screen.findByRole('option', { name: 'bo@shop.example' });
    fireEvent.change(screen.getByLabelText('Agent'), { target: { value: 'acc_bo' } });
    fireEvent.change(screen.getByLabelText('Channel'), { target: { value: 'whatsapp' } });
    await waitFor(() => expect(last(supportGets('kpi'))).toBe('/api/v1/projects/p1/support/kpi?date_range=week&agent_id=acc_bo&channel=whatsapp'));
    expect(location.search).toBe('?range=week&agent=acc_bo&channel=whatsapp');
    fireEvent.change(screen.getByLabelText('Team'), { target: { value: 't1' } });
    await waitFor(() => expect(last(supportGets('kpi'))).toBe('/api/v1/projects/p1/support/kpi?date_range=week&agent_id=acc_bo&team_id=t1&channel=whatsapp'));
    expect(screen.getByRole('option', { name: 'Billing' })).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Team'), { target: { value: '' } });
    fireEvent.change(screen.getByLabelText('Start date'), { target: { value: '2026-11-01' } });
    fireEvent.change(screen.getByLabelText('End date'), { target: { value: '2026-11-30' } });
    await waitFor(() => expect(last(supportGets('kpi'))).toBe('/api/v1/projects/p1/support/kpi?start_date=2026-11-01&end_date=2026-11-30&agent_id=acc_bo&channel=whatsapp'));
    expect(new URLSearchParams(location.search).get('from')).toBe('2026-11-01');
    expect(screen.getByRole('button', { name: 'Custom' }).getAttribute('aria-pressed')).toBe('true');
  });

  it('shows the empty state of sections with nothing in the period', async () => {
    const zero = { value: 0, trend: 'stable', change: 0 };
    mockFetch((name) => {
      if (name === 'kpi') return { body: { ...kpi, active_conversations: zero, messages_today: zero } };
      if (name === 'conversation-effectiveness')
        return { body: { ...conversation, conversations_per_agent: [], avg_response_time_over_time: [], resolved_vs_open: { resolved: 0, open: 0, percentage: 0 } } };
      if (name === 'agent-productivity') return { body: { ...agent, agent_metrics: [] } };
      if (name === 'customer-load')
        return { body: { ...customer, incoming_chats_per_hour: [], heatmap: [], new_vs_returning: { new: 0, returning: 0 } } };
      return undefined;
    });
    renderPage('owner');
    await waitFor(() => expect(within(screen.getByTestId('support-conversation')).getByText('Nothing in this period yet')).toBeTruthy());
    expect(within(screen.getByTestId('support-agent')).getByText('Nothing in this period yet')).toBeTruthy();
    expect(within(screen.getByTestId('support-customer')).getByText('Nothing in this period yet')).toBeTruthy();
    // Sections with data still show it.
    expect(await within(screen.getByTestId('support-whatsapp')).findByTestId('failed-messages')).toBeTruthy();
  });

  it('shows a section error with a retry that asks again', async () => {
    let fail = true;
    mockFetch((name) => {
      if (name === 'whatsapp-performance' && fail) {
        fail = false;
        return { status: 500, body: { error: { code: 'internal', message: 'Boom.' } } };
      }
      return undefined;
    });
    renderPage('owner');
    const section = screen.getByTestId('support-whatsapp');
    expect((await within(section).findByRole('alert')).textContent).toContain('Boom.');
    // The other sections are unaffected.
    expect(await screen.findByText('1m 35s')).toBeTruthy();
    fireEvent.click(within(section).getByRole('button', { name: 'Retry' }));
    expect(await within(section).findByTestId('failed-messages')).toBeTruthy();
    expect(supportGets('whatsapp-performance')).toHaveLength(2);
  });

  it('shows the KPI error', async () => {
    mockFetch((name) => (name === 'kpi' ? { status: 500, body: { error: { code: 'internal', message: 'KPI down.' } } } : undefined));
    renderPage('owner');
    expect((await screen.findAllByRole('alert')).some((a) => a.textContent?.includes('KPI down.'))).toBe(true);
  });

  it('an agent sees no business impact, no exports and no agent filter', async () => {
    mockFetch((name) => {
      if (name === 'kpi') return { body: { ...kpi, scope: 'own' } };
      if (name === 'agent-productivity') return { body: { ...agent, scope: 'own', agent_metrics: [agentMetrics[0]] } };
      return undefined;
    });
    renderPage('agent', agentAccount);
    await screen.findByTestId('agent-table');
    expect(screen.queryByTestId('support-business')).toBeNull();
    expect(screen.queryByText('Business impact')).toBeNull();
    expect(supportGets('business-impact')).toEqual([]);
    expect(screen.queryAllByTestId('support-export')).toHaveLength(0);
    expect(screen.queryByLabelText('Agent')).toBeNull();
    expect((await screen.findByTestId('support-scope')).textContent).toContain('Your own');
    expect(screen.getAllByTestId('agent-row')).toHaveLength(1);
  });

  it('a supervisor answered 403 on business impact gets a note, not an error', async () => {
    mockFetch((name) => (name === 'business-impact' ? { status: 403, body: { error: { code: 'forbidden', message: 'Supervisors only.' } } } : undefined));
    renderPage('supervisor');
    const note = await screen.findByTestId('support-business-forbidden');
    expect(note.textContent).toBe('Needs a supervisor or above.');
    expect(within(screen.getByTestId('support-business')).queryByRole('alert')).toBeNull();
  });

  it('a viewer gets the no-access state', async () => {
    mockFetch(() => ({ status: 403, body: { error: { code: 'forbidden', message: 'Viewers cannot.' } } }));
    renderPage('viewer');
    expect((await screen.findByTestId('support-forbidden')).textContent).toContain('No access to support analytics');
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('an agent row, an agent link and a heatmap cell open the Inbox filtered', async () => {
    mockFetch();
    history.replaceState(null, '', '/support?channel=whatsapp');
    renderPage('owner');
    const links = await screen.findAllByTestId('agent-link');
    expect(links.map((a) => a.getAttribute('href'))).toEqual(['/inbox?assignee=acc_me&channel=whatsapp', '/inbox?assignee=acc_bo&channel=whatsapp']);
    fireEvent.click(screen.getAllByTestId('agent-row')[1]);
    expect(location.pathname + location.search).toBe('/inbox?assignee=acc_bo&channel=whatsapp');
    history.replaceState(null, '', '/support?channel=whatsapp');
    const cell = screen.getAllByTestId('heat-cell').find((c) => c.getAttribute('data-day') === '1' && c.getAttribute('data-hour') === '10')!;
    expect(cell.getAttribute('aria-label')).toBe('Mon 10:00: 9 chats');
    expect(cell.className).toContain('sheat-4');
    // The cell's weekday and hour within the page's days (today).
    const { from, to } = readSupportQuery('?channel=whatsapp');
    const drill = `/inbox?channel=whatsapp&created_from=${from}&created_to=${to}&created_dow=1&created_hour=10`;
    expect(cell.getAttribute('href')).toBe(drill);
    fireEvent.click(cell);
    expect(location.pathname + location.search).toBe(drill);
  });

  it('an agent\'s own row and cells open "mine"', async () => {
    mockFetch((name) => (name === 'agent-productivity' ? { body: { ...agent, agent_metrics: [agentMetrics[0]] } } : undefined));
    renderPage('agent', agentAccount);
    expect((await screen.findByTestId('agent-link')).getAttribute('href')).toBe('/inbox?assignee=me');
    const { from, to } = readSupportQuery('');
    // The first cell drawn: Monday 00:00.
    expect(screen.getAllByTestId('heat-cell')[0].getAttribute('href')).toBe(
      `/inbox?assignee=me&created_from=${from}&created_to=${to}&created_dow=1&created_hour=0`,
    );
  });

  it('a support message on the live feed asks that section again; other messages are ignored', async () => {
    mockFetch();
    renderPage('owner');
    await screen.findByText('1m 35s');
    await waitFor(() => expect(FakeSocket.all.length).toBeGreaterThan(0));
    const socket = FakeSocket.all[FakeSocket.all.length - 1];
    expect(socket.url).toMatch(/\/api\/v1\/projects\/p1\/live$/);
    act(() => socket.emit({ type: 'snapshot', seq: 1, visitors: [] }));
    await waitFor(() => expect(screen.getByTestId('support-live').getAttribute('data-live')).toBe('true'));
    mockFetch((name) => (name === 'kpi' ? { body: { ...kpi, active_conversations: { value: 13, trend: 'up', change: 30 } } } : undefined));
    act(() => socket.emit({ type: 'support', section: 'kpi', data: {}, timestamp: Date.now() }));
    expect(await within(screen.getByTestId('kpi-active_conversations')).findByText('13')).toBeTruthy();
    act(() => socket.emit({ type: 'inbox.message', conversation: {}, message: {} }));
    expect(supportGets('kpi')).toHaveLength(1);
    expect(supportGets('whatsapp-performance')).toHaveLength(0);
  });

  it('subscribes with the page query and shows a pushed body without asking again', async () => {
    history.replaceState(null, '', '/support?range=week&channel=whatsapp');
    mockFetch();
    renderPage('owner');
    await screen.findByText('1m 35s');
    await waitFor(() => expect(FakeSocket.all.length).toBeGreaterThan(0));
    const socket = FakeSocket.all[FakeSocket.all.length - 1];
    act(() => {
      socket.onopen?.();
      socket.emit({ type: 'snapshot', seq: 1, visitors: [] });
    });
    const query = { date_range: 'week', channel: 'whatsapp' };
    expect(socket.sent).toEqual([{ type: 'support.subscribe', query }]);
    const asked = supportGets('kpi').length;
    act(() => socket.emit({ type: 'support', section: 'kpi', data: { ...kpi, active_conversations: { value: 14, trend: 'up', change: 40 } }, query, timestamp: Date.now() }));
    expect(await within(screen.getByTestId('kpi-active_conversations')).findByText('14')).toBeTruthy();
    expect(supportGets('kpi')).toHaveLength(asked);
    // Another range on the page: the socket is told.
    fireEvent.click(screen.getByRole('button', { name: 'Month' }));
    await waitFor(() => expect(socket.sent).toContainEqual({ type: 'support.subscribe', query: { date_range: 'month', channel: 'whatsapp' } }));
  });

  it('polls the KPI strip every 30 s without a socket', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    mockFetch();
    renderPage('owner');
    await screen.findByText('1m 35s');
    const before = supportGets('kpi').length;
    const others = supportGets('customer-load').length;
    await act(async () => {
      vi.advanceTimersByTime(30_000);
    });
    await waitFor(() => expect(supportGets('kpi').length).toBe(before + 1));
    // Only the KPI strip is polled.
    expect(supportGets('customer-load')).toHaveLength(others);
  });
});

describe('support helpers', () => {
  it('offers the listed agents, then anyone else the figures name', () => {
    const extra = { ...agent, agent_metrics: [...agentMetrics, { ...agentMetrics[0], agent_id: 'acc_own', agent_name: 'own@shop.example' }] };
    expect(filterAgents(agents, extra).map((a) => a.email)).toEqual(['me@shop.example', 'bo@shop.example', 'own@shop.example']);
    expect(filterAgents([], undefined)).toEqual([]);
  });

  it('reads and writes the URL query', () => {
    const q = readSupportQuery('?from=2026-11-01&to=2026-11-30&agent=a1&team=t1&channel=sms');
    expect(q).toEqual({ preset: null, from: '2026-11-01', to: '2026-11-30', agent: 'a1', team: 't1', channel: 'sms' });
    expect(supportSearch(q)).toBe('?from=2026-11-01&to=2026-11-30&agent=a1&team=t1&channel=sms');
    expect(supportParams(q)).toBe('?start_date=2026-11-01&end_date=2026-11-30&agent_id=a1&team_id=t1&channel=sms');
    const bad = readSupportQuery('?range=year&channel=fax&from=2026-12-05&to=2026-12-01');
    expect(bad.preset).toBe('today');
    expect(bad.channel).toBe('');
    expect(supportSearch(bad)).toBe('');
    expect(supportExports.section('p1', 'kpi', bad)).toBe('/api/v1/projects/p1/support/export/kpi.csv?date_range=today');
  });

  it('builds Inbox links in its own filters', () => {
    expect(inboxLink({ agent: 'acc_bo', me: 'acc_me' })).toBe('/inbox?assignee=acc_bo');
    expect(inboxLink({ agent: 'acc_me', me: 'acc_me', channel: 'email', status: 'resolved' })).toBe('/inbox?status=resolved&assignee=me&channel=email');
    expect(inboxLink({})).toBe('/inbox');
    expect(inboxLink({ created: { from: '2026-12-01', to: '2026-12-07', dow: 0, hour: 0 } })).toBe(
      '/inbox?created_from=2026-12-01&created_to=2026-12-07&created_dow=0&created_hour=0',
    );
  });

  it('recognises support messages in both shapes', () => {
    expect(supportSection({ type: 'support', section: 'agent', data: {}, timestamp: 1 })).toBe('agent');
    expect(supportSection({ type: 'kpi', data: {}, timestamp: '2026-12-07T10:00:00Z' })).toBe('kpi');
    expect(supportSection({ type: 'support', section: 'nope' })).toBeNull();
    expect(supportSection({ type: 'metrics', seq: 1 })).toBeNull();
    expect(supportSection(null)).toBeNull();
  });

  it('cuts activity bands to a day of the project time zone', () => {
    const start = dayStart('2026-12-07', 'Europe/Berlin');
    expect(start).toBe(Date.UTC(2026, 11, 6, 23));
    // A DST day: 2026-03-29 starts at +01:00 in Berlin.
    expect(dayStart('2026-03-29', 'Europe/Berlin')).toBe(Date.UTC(2026, 2, 28, 23));
    expect(dayStart('2026-03-30', 'Europe/Berlin')).toBe(Date.UTC(2026, 2, 29, 22));
    const end = start + 86_400_000;
    const boxes = bandsWithin([
      { status: 'online', from: start - 3_600_000, to: start + 6 * 3_600_000 },
      { status: 'away', from: start + 12 * 3_600_000, to: start + 18 * 3_600_000 },
      { status: 'offline', from: end, to: end + 1000 },
    ], start, end);
    expect(boxes.map((b) => [b.status, b.left, b.width])).toEqual([['online', 0, 25], ['away', 50, 25]]);
  });

  it('colours the queue by the time it takes to clear', () => {
    expect(queueTone(0, 0)).toBe('good');
    expect(queueTone(5, 10)).toBe('good');
    expect(queueTone(30, 10)).toBe('warning');
    expect(queueTone(100, 10)).toBe('critical');
    expect(queueTone(1, 0)).toBe('critical');
  });
});
