import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { inboxQuery } from '../api/client';
import type { Account, Agent, Conversation, Message, Project } from '../api/types';
import { AgentStatus } from '../components/AgentStatus';
import { DeliveryTick, Thread } from '../components/inbox/Thread';
import { ReplyBox } from '../components/inbox/ReplyBox';
import { statusActions } from '../components/inbox/Controls';
import { mergeMessages } from '../components/inbox/ConversationView';
import { NewMessage } from '../components/inbox/NewMessage';
import { Inbox, readInboxFilters, viewQuery } from './Inbox';

const project = { id: 'p1', name: 'Shop', role: 'agent' } as Project;
const account = { id: 'acc_me', email: 'me@shop.example', role: 'agent', created_at: 1 } as Account;

interface Call {
  method: string;
  url: string;
  body: unknown;
}
type Answer = { status?: number; body?: unknown } | Promise<{ status?: number; body?: unknown }>;
let calls: Call[] = [];

/** Mocks fetch: `route` answers each request (method, path with query, JSON body). */
function mockFetch(route: (c: Call) => Answer) {
  calls = [];
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const url = String(input);
    const c = { method: init?.method ?? 'GET', url, body: init?.body ? JSON.parse(String(init.body)) : undefined };
    calls.push(c);
    const a = await route(c);
    const status = a.status ?? 200;
    return new Response(status === 204 ? null : JSON.stringify(a.body ?? {}), { status, headers: { 'Content-Type': 'application/json' } });
  });
}
const last = <T,>(xs: T[]): T | undefined => xs[xs.length - 1];
const gets = (prefix: string) => calls.filter((c) => c.method === 'GET' && c.url.startsWith(prefix)).map((c) => c.url);
const posts = (suffix: string) => calls.filter((c) => c.method === 'POST' && c.url.endsWith(suffix));

const conv = (id: string, extra: Partial<Conversation> = {}): Conversation => ({
  id, site_user_id: `su_${id}`, contact_name: `Ana ${id}`, contact_email: `${id}@shop.example`, channel: 'whatsapp', status: 'open',
  priority: 'medium', assignee_account_id: null, team_id: null, inbox_id: null, handled_by_bot: false, escalated_to_human: false,
  intent: null, csat: null, first_response_at: null, resolved_at: null, last_message_at: 1_700_000_000_000, unread_count: 0,
  created_at: 1, updated_at: 1, ...extra,
});
const msg = (id: string, extra: Partial<Message> = {}): Message => ({
  id, conversation_id: 'c1', channel: 'whatsapp', direction: 'out', sender: 'agent', sender_account_id: 'acc_me', body: `body ${id}`,
  private: false, attachments: [], delivery_status: 'sent', sent_at: null, delivered_at: null, read_at: null, failed_reason: null,
  created_at: 1_700_000_000_000 + Number(id.replace(/\D/g, '') || 0) * 1000, ...extra,
});
const agents: Agent[] = [
  { account_id: 'acc_me', email: 'me@shop.example', role: 'agent', teams: [], status: 'online', status_since: 1 },
  { account_id: 'acc_bo', email: 'bo@shop.example', role: 'supervisor', teams: [], status: 'away', status_since: 1 },
];
const CONVS = '/api/v1/projects/p1/conversations';
const contact = { id: 'su_c1', user_id: 'ana', email: 'c1@shop.example', name: 'Ana c1', plan: 'pro', tags: ['vip'], total_spent: 4900, currency: 'USD', total_sessions: 3, last_seen: 1 };

beforeEach(() => history.replaceState(null, '', '/inbox'));
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('Inbox filters', () => {
  it('reads the URL query and writes the list query', () => {
    expect(readInboxFilters('?status=pending&assignee=me&channel=email&priority=urgent&q=ana')).toEqual({
      status: 'pending', assignee: 'me', channel: 'email', priority: 'urgent', q: 'ana',
    });
    expect(readInboxFilters('?status=bogus&assignee=x y&channel=fax')).toEqual({ status: 'open', assignee: '', channel: '', priority: '', q: '' });
    // An agent's account id (the Support page's drill-down) is kept.
    expect(readInboxFilters('?assignee=acc_bo').assignee).toBe('acc_bo');
    // A heatmap cell needs all four parts, each valid.
    const cell = '?created_from=2026-12-01&created_to=2026-12-07&created_dow=0&created_hour=23';
    expect(readInboxFilters(cell).created).toEqual({ from: '2026-12-01', to: '2026-12-07', dow: 0, hour: 23 });
    expect(viewQuery(readInboxFilters(cell))).toBe(cell);
    for (const bad of [cell.replace('23', '24'), cell.replace('dow=0', 'dow=7'), cell.replace('2026-12-01', 'monday'), cell.replace('&created_hour=23', '')])
      expect(readInboxFilters(bad).created).toBeUndefined();
    expect(inboxQuery({ status: 'open', assignee: 'none', channel: '', priority: '', q: ' a ' }, 'c.1', 50)).toBe('?status=open&assignee=none&q=a&cursor=c.1&limit=50');
    expect(viewQuery({ status: 'open', assignee: '', channel: '', priority: '', q: '' })).toBe('');
    expect(viewQuery({ status: 'resolved', assignee: 'me', channel: 'sms', priority: 'low', q: 'x' })).toBe('?status=resolved&assignee=me&channel=sms&priority=low&q=x');
  });

  it('offers the status moves and merges message pages oldest first', () => {
    expect(statusActions('open').map((a) => a.to)).toEqual(['pending', 'resolved']);
    expect(statusActions('pending').map((a) => a.to)).toEqual(['open', 'resolved']);
    expect(statusActions('resolved').map((a) => a.to)).toEqual(['open']);
    const merged = mergeMessages([msg('m2'), msg('m1')], [msg('m3'), msg('m2', { delivery_status: 'read' })]);
    expect(merged.map((m) => m.id)).toEqual(['m1', 'm2', 'm3']);
    expect(merged[1].delivery_status).toBe('read');
  });
});

describe('Inbox list', () => {
  it('lists conversations with unread counts and refetches with each filter', async () => {
    mockFetch((c) => {
      if (c.url.startsWith('/api/v1/projects/p1/agents')) return { body: { agents } };
      return { body: { conversations: [conv('c1', { unread_count: 3 }), conv('c2', { priority: 'urgent', channel: 'email' })], next_cursor: null } };
    });
    render(<Inbox project={project} account={account} cid={null} />);
    expect(await screen.findByText('Ana c1')).toBeTruthy();
    const items = screen.getAllByTestId('conversation-item');
    expect(items).toHaveLength(2);
    expect(within(items[0]).getByTestId('unread-count').textContent).toBe('3');
    expect(within(items[0]).getByText('WhatsApp')).toBeTruthy();
    expect(within(items[1]).queryByTestId('unread-count')).toBeNull();
    expect(within(items[1]).getByText('urgent')).toBeTruthy();
    expect(gets(CONVS)).toEqual([`${CONVS}?status=open&limit=50`]);

    fireEvent.click(screen.getByRole('tab', { name: 'Pending' }));
    await waitFor(() => expect(last(gets(CONVS))).toBe(`${CONVS}?status=pending&limit=50`));
    expect(location.search).toBe('?status=pending');
    fireEvent.change(screen.getByLabelText('Assignee'), { target: { value: 'me' } });
    await waitFor(() => expect(last(gets(CONVS))).toBe(`${CONVS}?status=pending&assignee=me&limit=50`));
    fireEvent.change(screen.getByLabelText('Channel'), { target: { value: 'email' } });
    fireEvent.change(screen.getByLabelText('Priority'), { target: { value: 'high' } });
    await waitFor(() => expect(last(gets(CONVS))).toBe(`${CONVS}?status=pending&assignee=me&channel=email&priority=high&limit=50`));
    fireEvent.change(screen.getByLabelText('Search conversations'), { target: { value: 'refund' } });
    await waitFor(() => expect(last(gets(CONVS))).toBe(`${CONVS}?status=pending&assignee=me&channel=email&priority=high&q=refund&limit=50`));

    fireEvent.click(screen.getAllByTestId('conversation-item')[1]);
    expect(location.pathname).toBe('/inbox/c2');
  });

  it('opens filtered to one agent from a link (the Support drill-down) and offers each agent', async () => {
    history.replaceState(null, '', '/inbox?assignee=acc_bo&channel=whatsapp');
    mockFetch((c) => {
      if (c.url.startsWith('/api/v1/projects/p1/agents')) return { body: { agents } };
      return { body: { conversations: [conv('c1', { assignee_account_id: 'acc_bo' })], next_cursor: null } };
    });
    render(<Inbox project={project} account={account} cid={null} />);
    expect(await screen.findByText('Ana c1')).toBeTruthy();
    expect(gets(CONVS)).toEqual([`${CONVS}?status=open&assignee=acc_bo&channel=whatsapp&limit=50`]);
    await screen.findByRole('option', { name: 'bo@shop.example' });
    expect((screen.getByLabelText('Assignee') as HTMLSelectElement).value).toBe('acc_bo');
    fireEvent.change(screen.getByLabelText('Assignee'), { target: { value: 'acc_me' } });
    await waitFor(() => expect(last(gets(CONVS))).toBe(`${CONVS}?status=open&assignee=acc_me&channel=whatsapp&limit=50`));
    expect(location.search).toBe('?assignee=acc_me&channel=whatsapp');
  });

  it('opens filtered to a Support heatmap cell, shown as a chip that removes it', async () => {
    history.replaceState(null, '', '/inbox?channel=whatsapp&created_from=2026-12-01&created_to=2026-12-07&created_dow=1&created_hour=9');
    mockFetch((c) => {
      if (c.url.startsWith('/api/v1/projects/p1/agents')) return { body: { agents } };
      return { body: { conversations: [conv('c1')], next_cursor: null } };
    });
    render(<Inbox project={project} account={account} cid={null} />);
    expect(await screen.findByText('Ana c1')).toBeTruthy();
    const cell = 'created_from=2026-12-01&created_to=2026-12-07&created_dow=1&created_hour=9';
    expect(gets(CONVS)).toEqual([`${CONVS}?status=open&channel=whatsapp&${cell}&limit=50`]);
    const chip = screen.getByTestId('created-chip');
    expect(chip.textContent).toContain('Created Mon 09:00–10:00, 2026-12-01 – 2026-12-07');
    // Another filter keeps the cell.
    fireEvent.click(screen.getByRole('tab', { name: 'Resolved' }));
    await waitFor(() => expect(last(gets(CONVS))).toBe(`${CONVS}?status=resolved&channel=whatsapp&${cell}&limit=50`));
    expect(location.search).toBe(`?status=resolved&channel=whatsapp&${cell}`);
    fireEvent.click(within(chip).getByRole('button', { name: 'Remove the day and hour filter' }));
    await waitFor(() => expect(last(gets(CONVS))).toBe(`${CONVS}?status=resolved&channel=whatsapp&limit=50`));
    expect(screen.queryByTestId('created-chip')).toBeNull();
    expect(location.search).toBe('?status=resolved&channel=whatsapp');
  });

  it('says when there are no conversations, and shows an error with a retry', async () => {
    let fail = true;
    mockFetch((c) => {
      if (c.url.startsWith('/api/v1/projects/p1/agents')) return { body: { agents: [] } };
      if (fail) {
        fail = false;
        return { status: 500, body: { error: { code: 'internal', message: 'Boom.' } } };
      }
      return { body: { conversations: [], next_cursor: null } };
    });
    render(<Inbox project={project} account={account} cid={null} />);
    expect((await screen.findByRole('alert')).textContent).toContain('Boom.');
    fireEvent.click(screen.getByRole('button', { name: 'Retry' }));
    expect(await screen.findByText('No conversations yet')).toBeTruthy();
    fireEvent.click(screen.getByRole('tab', { name: 'Pending' }));
    expect(await screen.findByText('No pending conversations')).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Channel'), { target: { value: 'sms' } });
    expect(await screen.findByText('No conversations match these filters')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Clear filters' }));
    await waitFor(() => expect(last(gets(CONVS))).toBe(`${CONVS}?status=pending&limit=50`));
    expect(location.search).toBe('?status=pending');
  });

  it('shows viewers a no-access state instead of a broken page', async () => {
    mockFetch(() => ({ status: 403, body: { error: { code: 'forbidden', message: 'Needs the agent role.' } } }));
    render(<Inbox project={{ ...project, role: 'viewer' }} account={account} cid="c1" />);
    expect(await screen.findByText('No access to conversations')).toBeTruthy();
    expect(screen.getByTestId('inbox-forbidden')).toBeTruthy();
    expect(screen.queryByRole('alert')).toBeNull();
    expect(screen.queryByLabelText('Reply to the contact')).toBeNull();
  });

  it('polls the list every 5 s while visible', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    mockFetch((c) => (c.url.includes('/agents') ? { body: { agents } } : { body: { conversations: [conv('c1')], next_cursor: null } }));
    render(<Inbox project={project} account={account} cid={null} />);
    await screen.findByText('Ana c1');
    expect(gets(CONVS)).toHaveLength(1);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(5000);
    });
    await waitFor(() => expect(gets(CONVS)).toHaveLength(2));
  });
});

describe('Inbox thread', () => {
  it('shows the ticks of outbound messages and the failure reason', () => {
    const { rerender } = render(<DeliveryTick message={{ delivery_status: 'queued', failed_reason: null }} />);
    expect(screen.getByRole('img', { name: 'Queued' }).textContent).toBe('⏱');
    rerender(<DeliveryTick message={{ delivery_status: 'sent', failed_reason: null }} />);
    expect(screen.getByRole('img', { name: 'Sent' }).textContent).toBe('✓');
    rerender(<DeliveryTick message={{ delivery_status: 'delivered', failed_reason: null }} />);
    expect(screen.getByRole('img', { name: 'Delivered' }).textContent).toBe('✓✓');
    expect(screen.getByTestId('tick').className).not.toContain('tick-read');
    rerender(<DeliveryTick message={{ delivery_status: 'read', failed_reason: null }} />);
    expect(screen.getByRole('img', { name: 'Read' }).textContent).toBe('✓✓');
    expect(screen.getByTestId('tick').className).toContain('tick-read');
    rerender(<DeliveryTick message={{ delivery_status: 'failed', failed_reason: '131047 re-engagement window closed' }} />);
    expect(screen.getByRole('img', { name: 'Failed' }).textContent).toBe('⚠ Failed: 131047 re-engagement window closed');
  });

  it('aligns inbound and outbound, names senders and marks internal notes', () => {
    const messages = [
      msg('m1', { direction: 'in', sender: 'contact', sender_account_id: null, delivery_status: 'read' }),
      msg('m2', { delivery_status: 'delivered' }),
      msg('m3', { sender_account_id: 'acc_bo', private: true, body: 'check the refund' }),
      msg('m4', { sender: 'bot', sender_account_id: null, delivery_status: 'failed', failed_reason: 'timeout' }),
    ];
    render(<Thread conversation={conv('c1')} messages={messages} me="acc_me" agents={agents} hasOlder={false} loadingOlder={false} onOlder={() => undefined} />);
    const items = screen.getAllByTestId('message');
    expect(items.map((i) => i.className)).toEqual(['msg msg-in', 'msg msg-out', 'msg msg-note', 'msg msg-out']);
    expect(items[0].textContent).toContain('Ana c1');
    expect(within(items[0]).queryByTestId('tick')).toBeNull();
    expect(items[1].textContent).toContain('You');
    expect(within(items[1]).getByRole('img', { name: 'Delivered' })).toBeTruthy();
    expect(within(items[2]).getByText('Internal note')).toBeTruthy();
    expect(items[2].textContent).toContain('bo@shop.example');
    expect(within(items[2]).queryByTestId('tick')).toBeNull();
    expect(items[3].textContent).toContain('Bot');
    expect(within(items[3]).getByRole('img', { name: 'Failed' }).textContent).toContain('timeout');
  });

  it('opens a thread, marks it read up to the newest inbound message, and replies', async () => {
    const sent: Message[] = [];
    let unread = 2;
    mockFetch((c) => {
      if (c.url.startsWith('/api/v1/projects/p1/agents')) return { body: { agents } };
      if (c.url === '/api/v1/projects/p1/users/su_c1') return { body: contact };
      if (c.method === 'POST' && c.url.endsWith('/read')) {
        unread = 0;
        return { body: conv('c1', { unread_count: 0 }) };
      }
      if (c.method === 'POST' && c.url.endsWith('/messages')) {
        const m = msg('m9', { body: (c.body as { body: string }).body, private: (c.body as { private: boolean }).private });
        sent.push(m);
        return { status: 201, body: m };
      }
      if (c.method === 'PATCH') return { body: conv('c1', { status: 'resolved', assignee_account_id: 'acc_me' }) };
      if (c.url.startsWith(`${CONVS}/c1/messages`))
        return { body: { messages: [msg('m3', { direction: 'in', sender: 'contact', sender_account_id: null, delivery_status: 'delivered' }), msg('m2'), msg('m1', { direction: 'in', sender: 'contact', sender_account_id: null })], next_cursor: null } };
      if (c.url === `${CONVS}/c1`) return { body: conv('c1', { unread_count: unread }) };
      return { body: { conversations: [conv('c1', { unread_count: unread })], next_cursor: null } };
    });
    history.replaceState(null, '', '/inbox/c1');
    render(<Inbox project={project} account={account} cid="c1" />);
    await screen.findByTestId('conversation-view');
    await waitFor(() => expect(posts('/read')).toHaveLength(1));
    expect(posts('/read')[0].url).toBe(`${CONVS}/c1/messages/m3/read`);
    // The list's count follows the read answer.
    await waitFor(() => expect(screen.queryByTestId('unread-count')).toBeNull());
    // The contact beside the thread, with a link to the Contact page.
    expect(await screen.findByTestId('contact-summary-name')).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Open contact page →' }).getAttribute('href')).toBe('/people/su_c1');

    const box = screen.getByLabelText('Reply to the contact');
    fireEvent.change(box, { target: { value: 'Your refund is on its way' } });
    fireEvent.click(screen.getByRole('button', { name: 'Send reply' }));
    await waitFor(() => expect(screen.getAllByTestId('message')).toHaveLength(4));
    expect(last(posts('/messages'))!.body).toEqual({ body: 'Your refund is on its way', private: false });
    expect(within(last(screen.getAllByTestId('message'))!).getByRole('img', { name: 'Sent' })).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: 'Resolve' }));
    await waitFor(() => expect(screen.getByTestId('conversation-status').textContent).toBe('resolved'));
    expect(calls.find((c) => c.method === 'PATCH')!.body).toEqual({ status: 'resolved' });
    expect(screen.getByRole('button', { name: 'Reopen' })).toBeTruthy();
  });

  it('assigns to me or to an agent and changes the priority', async () => {
    mockFetch((c) => {
      if (c.url.startsWith('/api/v1/projects/p1/agents')) return { body: { agents } };
      if (c.url === '/api/v1/projects/p1/users/su_c1') return { body: contact };
      if (c.method === 'PATCH') {
        const b = c.body as { assignee?: string | null; priority?: Conversation['priority'] };
        return { body: conv('c1', { assignee_account_id: b.assignee === 'me' ? 'acc_me' : (b.assignee ?? null), priority: b.priority ?? 'medium' }) };
      }
      if (c.url.startsWith(`${CONVS}/c1/messages`)) return { body: { messages: [], next_cursor: null } };
      if (c.url === `${CONVS}/c1`) return { body: conv('c1') };
      return { body: { conversations: [conv('c1')], next_cursor: null } };
    });
    render(<Inbox project={project} account={account} cid="c1" />);
    expect(await screen.findByText('No messages yet')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Assign to me' }));
    await waitFor(() => expect(screen.queryByRole('button', { name: 'Assign to me' })).toBeNull());
    const select = screen.getByLabelText('Assignee of the conversation') as HTMLSelectElement;
    expect(select.value).toBe('acc_me');
    await waitFor(() => expect(within(select).getByText('bo@shop.example (away)')).toBeTruthy());
    fireEvent.change(select, { target: { value: 'acc_bo' } });
    await waitFor(() => expect((screen.getByLabelText('Assignee of the conversation') as HTMLSelectElement).value).toBe('acc_bo'));
    fireEvent.change(screen.getByLabelText('Priority of the conversation'), { target: { value: 'urgent' } });
    await waitFor(() => expect((screen.getByLabelText('Priority of the conversation') as HTMLSelectElement).value).toBe('urgent'));
    expect(calls.filter((c) => c.method === 'PATCH').map((c) => c.body)).toEqual([{ assignee: 'me' }, { assignee: 'acc_bo' }, { priority: 'urgent' }]);
  });
});

describe('Reply box', () => {
  it('sends a reply or a note, is disabled while sending and keeps the draft on error', async () => {
    let finish: (m: Message) => void = () => undefined;
    let fail: (e: Error) => void = () => undefined;
    const onSend = vi.fn(() => new Promise<Message>((res, rej) => {
      finish = res;
      fail = rej;
    }));
    render(<ReplyBox onSend={onSend} />);
    const send = () => screen.getByRole('button', { name: /Send reply|Add note|Sending…/ }) as HTMLButtonElement;
    expect(send().disabled).toBe(true);
    fireEvent.click(screen.getByRole('button', { name: 'Internal note' }));
    fireEvent.change(screen.getByLabelText('Internal note'), { target: { value: 'VIP, be quick' } });
    expect(send().textContent).toBe('Add note');
    fireEvent.click(send());
    expect(onSend).toHaveBeenCalledWith('VIP, be quick', true);
    expect(send().textContent).toBe('Sending…');
    expect(send().disabled).toBe(true);
    expect((screen.getByLabelText('Internal note') as HTMLTextAreaElement).disabled).toBe(true);
    await act(async () => fail(new Error('The server answered 500.')));
    expect(screen.getByRole('alert').textContent).toBe('The server answered 500.');
    expect((screen.getByLabelText('Internal note') as HTMLTextAreaElement).value).toBe('VIP, be quick');

    fireEvent.click(screen.getByRole('button', { name: 'Reply' }));
    fireEvent.click(send());
    expect(onSend).toHaveBeenLastCalledWith('VIP, be quick', false);
    await act(async () => finish(msg('m1')));
    expect((screen.getByLabelText('Reply to the contact') as HTMLTextAreaElement).value).toBe('');
    expect(screen.queryByRole('alert')).toBeNull();
  });
});

describe('Agent status and new message', () => {
  it('starts from the agents list and saves a change', async () => {
    mockFetch((c) => (c.method === 'PUT' ? { body: { status: 'away', started_at: 2 } } : { body: { agents } }));
    render(<AgentStatus projectId="p1" accountId="acc_me" />);
    const select = screen.getByLabelText('Agent status') as HTMLSelectElement;
    await waitFor(() => expect(select.value).toBe('online'));
    fireEvent.change(select, { target: { value: 'away' } });
    await waitFor(() => expect(calls.some((c) => c.method === 'PUT')).toBe(true));
    const put = calls.find((c) => c.method === 'PUT')!;
    expect(put.url).toBe('/api/v1/projects/p1/agents/me/status');
    expect(put.body).toEqual({ status: 'away' });
    await waitFor(() => expect(select.disabled).toBe(false));
    expect(select.value).toBe('away');
  });

  it('goes back to the old status when saving fails', async () => {
    mockFetch((c) => (c.method === 'PUT' ? { status: 400, body: { error: { code: 'invalid_field', message: 'Nope.', field: 'status' } } } : { body: { agents } }));
    render(<AgentStatus projectId="p1" accountId="acc_me" />);
    const select = screen.getByLabelText('Agent status') as HTMLSelectElement;
    await waitFor(() => expect(select.value).toBe('online'));
    fireEvent.change(select, { target: { value: 'offline' } });
    expect((await screen.findByRole('alert')).textContent).toBe('Nope. (status)');
    expect(select.value).toBe('online');
  });

  it('starts a conversation from a contact and opens it in the Inbox', async () => {
    history.replaceState(null, '', '/people/su_1');
    mockFetch(() => ({ status: 201, body: conv('c42') }));
    render(<NewMessage projectId="p1" uid="su_1" />);
    fireEvent.click(screen.getByRole('button', { name: 'New message' }));
    fireEvent.change(screen.getByLabelText('First message'), { target: { value: 'Hi Ana' } });
    fireEvent.click(screen.getByRole('button', { name: 'Send and open in Inbox' }));
    await waitFor(() => expect(location.pathname).toBe('/inbox/c42'));
    expect(calls[0]).toEqual({ method: 'POST', url: '/api/v1/projects/p1/users/su_1/conversations', body: { message: 'Hi Ana' } });
  });
});
