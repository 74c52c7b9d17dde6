import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { peopleQuery } from '../api/client';
import type { ContactNote, ContactProfile, ListedPerson, Project, TimelineItem } from '../api/types';
import { UserModal } from '../components/UserModal';
import { Contact } from './Contact';
import { People, readFilters, retag } from './People';

const project = { id: 'p1', name: 'Shop', role: 'agent' } as Project;

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

const person = (id: string, tags: string[] = [], extra: Partial<ListedPerson> = {}): ListedPerson => ({
  id, user_id: id, anonymous_id: null, email: `${id}@shop.example`, name: null, plan: null, traits: {},
  first_seen: 1, last_seen: 1_700_000_000_000, total_events: 3, device: null, browser: null, os: null,
  total_sessions: 2, tags, priority: null, total_spent: 4900, unconverted_spent: [], ...extra,
});
const USERS = '/api/v1/projects/p1/users';
const common = (c: Call): Answer | null => {
  if (c.url === '/api/v1/projects/p1/tags') return { body: { tags: [{ tag: 'vip', count: 2 }, { tag: 'beta', count: 1 }] } };
  if (c.url === '/api/v1/projects/p1/segments') return { body: { segments: [{ id: 'seg_1', name: 'Big spenders', description: null, user_count: 7 }] } };
  return null;
};

beforeEach(() => history.replaceState(null, '', '/people'));
afterEach(() => vi.restoreAllMocks());

describe('People filters', () => {
  it('reads the URL query and writes the list query', () => {
    expect(readFilters('?q=ana&segment=seg_1&tag=vip&priority=vip')).toEqual({ q: 'ana', segment: 'seg_1', tag: 'vip', priority: 'vip' });
    expect(readFilters('?priority=urgent')).toEqual({ q: '', segment: 'all', tag: '', priority: '' });
    expect(peopleQuery({ q: ' ana ', segment: 'all', tag: '', priority: '' }, null, 50)).toBe('?q=ana&limit=50');
    expect(peopleQuery({ q: '', segment: 'trial', tag: 'a b', priority: 'high' }, 'c.1')).toBe('?segment=trial&tag=a+b&priority=high&cursor=c.1');
    expect(retag(['beta'], ' VIP ', true)).toEqual(['beta', 'vip']);
    expect(retag(['beta', 'vip'], 'vip', false)).toEqual(['beta']);
    expect(retag(['vip'], 'vip', true)).toEqual(['vip']);
  });

  it('starts from the URL, combines the filters in the request and keeps them in the URL', async () => {
    history.replaceState(null, '', '/people?tag=vip&priority=high');
    mockFetch((c) => common(c) ?? { body: { users: [person('ana', ['vip'], { priority: 'high' })], next_cursor: null, segment: 'all', currency: 'USD' } });
    render(<People project={project} />);
    expect(await screen.findByText('ana@shop.example')).toBeTruthy();
    expect(gets(USERS)).toEqual([`${USERS}?tag=vip&priority=high&limit=50`]);
    const row = screen.getByTestId('person-row');
    expect(within(row).getByText('vip', { selector: '.chip' })).toBeTruthy();
    expect(within(row).getByText('high')).toBeTruthy();
    expect(within(row).getByText('$49.00')).toBeTruthy();

    // The custom segment is offered with its count.
    const segment = screen.getByLabelText('Segment') as HTMLSelectElement;
    await waitFor(() => expect(within(segment).getByText('Big spenders (7)')).toBeTruthy());
    fireEvent.change(segment, { target: { value: 'seg_1' } });
    await waitFor(() => expect(last(gets(USERS))).toBe(`${USERS}?segment=seg_1&tag=vip&priority=high&limit=50`));
    expect(location.search).toBe('?segment=seg_1&tag=vip&priority=high');

    // The search applies after a pause in typing.
    fireEvent.change(screen.getByLabelText('Search people'), { target: { value: 'an' } });
    fireEvent.change(screen.getByLabelText('Search people'), { target: { value: 'ana' } });
    await waitFor(() => expect(last(gets(USERS))).toBe(`${USERS}?q=ana&segment=seg_1&tag=vip&priority=high&limit=50`));
    expect(gets(USERS).some((u) => u.includes('q=an&'))).toBe(false);
    expect(location.search).toBe('?q=ana&segment=seg_1&tag=vip&priority=high');
  });

  it('pages with the cursor and opens a contact on row click', async () => {
    mockFetch((c) => {
      const x = common(c);
      if (x) return x;
      return c.url.includes('cursor=')
        ? { body: { users: [person('bob')], next_cursor: null, segment: 'all', currency: 'EUR' } }
        : { body: { users: [person('ana')], next_cursor: 'cur.1', segment: 'all', currency: 'EUR' } };
    });
    render(<People project={project} />);
    fireEvent.click(await screen.findByRole('button', { name: 'Load more' }));
    expect(await screen.findByText('bob@shop.example')).toBeTruthy();
    expect(last(gets(USERS))).toBe(`${USERS}?cursor=cur.1&limit=50`);
    expect(screen.getAllByTestId('person-row')).toHaveLength(2);
    expect(screen.queryByRole('button', { name: 'Load more' })).toBeNull();
    fireEvent.click(screen.getByText('bob@shop.example'));
    expect(location.pathname).toBe('/people/bob');
  });

  it('says when nothing matches and clears the filters', async () => {
    history.replaceState(null, '', '/people?tag=gone');
    mockFetch((c) => common(c) ?? { body: { users: [], next_cursor: null, segment: 'all', currency: 'USD' } });
    render(<People project={project} />);
    expect(await screen.findByText('No people match these filters')).toBeTruthy();
    fireEvent.click(within(screen.getByText('No people match these filters').parentElement!).getByRole('button', { name: 'Clear filters' }));
    await waitFor(() => expect(last(gets(USERS))).toBe(`${USERS}?limit=50`));
    expect(location.search).toBe('');
    expect(await screen.findByText('No people yet')).toBeTruthy();
  });

  it('shows an error with a retry', async () => {
    let fail = true;
    mockFetch((c) => {
      const x = common(c);
      if (x) return x;
      if (fail) {
        fail = false;
        return { status: 500, body: { error: { code: 'internal', message: 'Boom.' } } };
      }
      return { body: { users: [person('ana')], next_cursor: null, segment: 'all', currency: 'USD' } };
    });
    render(<People project={project} />);
    expect((await screen.findByRole('alert')).textContent).toContain('Boom.');
    fireEvent.click(screen.getByRole('button', { name: 'Retry' }));
    expect(await screen.findByText('ana@shop.example')).toBeTruthy();
  });
});

describe('People bulk tagging', () => {
  it('tags each selected person with progress, reports errors per row and refreshes the list', async () => {
    const pending: (() => void)[] = [];
    mockFetch((c) => {
      const x = common(c);
      if (x) return x;
      if (c.method === 'PATCH') {
        const failing = c.url.endsWith('/users/bob');
        return new Promise((resolve) =>
          pending.push(() =>
            resolve(failing ? { status: 403, body: { error: { code: 'forbidden', message: 'Agents only.' } } } : { body: {} }),
          ),
        );
      }
      return { body: { users: [person('ana', ['beta']), person('bob'), person('cy', ['vip'])], next_cursor: null, segment: 'all', currency: 'USD' } };
    });
    render(<People project={project} />);
    await screen.findByText('ana@shop.example');
    fireEvent.click(screen.getByLabelText('Select all on this page'));
    expect(screen.getByText('3 selected')).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Tag to add or remove'), { target: { value: ' VIP' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add tag' }));

    for (let i = 1; i <= 3; i++) {
      expect((await screen.findByTestId('bulk-progress')).textContent).toBe(`Tagging ${i} of 3…`);
      await waitFor(() => expect(pending).toHaveLength(i));
      await act(async () => pending[i - 1]());
    }
    const done = await screen.findByTestId('bulk-done');
    expect(done.textContent).toBe('Tagged 2 of 3 people “vip”; 1 failed.');
    const patches = calls.filter((c) => c.method === 'PATCH');
    expect(patches.map((c) => [c.url.split('/').pop(), c.body])).toEqual([
      ['ana', { tags: ['beta', 'vip'] }],
      ['bob', { tags: ['vip'] }],
      ['cy', { tags: ['vip'] }],
    ]);
    // The failure stays on its row, which stays selected.
    await waitFor(() => expect(gets(USERS)).toHaveLength(2));
    const errors = screen.getAllByTestId('row-error');
    expect(errors).toHaveLength(1);
    expect(errors[0].closest('tr')!.getAttribute('data-uid')).toBe('bob');
    expect(errors[0].textContent).toBe('Agents only.');
    expect((screen.getByLabelText('Select bob@shop.example') as HTMLInputElement).checked).toBe(true);
    expect((screen.getByLabelText('Select ana@shop.example') as HTMLInputElement).checked).toBe(false);
  });

  it('removes a tag from the selected rows only', async () => {
    mockFetch((c) => common(c) ?? (c.method === 'PATCH' ? { body: {} } : { body: { users: [person('ana', ['beta', 'vip']), person('bob', ['vip'])], next_cursor: null, segment: 'all', currency: 'USD' } }));
    render(<People project={project} />);
    fireEvent.click(await screen.findByLabelText('Select ana@shop.example'));
    fireEvent.change(screen.getByLabelText('Tag to add or remove'), { target: { value: 'vip' } });
    fireEvent.click(screen.getByRole('button', { name: 'Remove tag' }));
    expect((await screen.findByTestId('bulk-done')).textContent).toBe('Untagged 1 of 1 person “vip”.');
    expect(calls.filter((c) => c.method === 'PATCH').map((c) => [c.url.split('/').pop(), c.body])).toEqual([['ana', { tags: ['beta'] }]]);
  });
});

const profile = (over: Partial<ContactProfile> = {}): ContactProfile => ({
  ...person('ana'), email: 'ana@shop.example', name: 'Ana', traits: { company: 'Acme' }, avg_session_s: 90, tags: ['beta'], priority: 'high',
  properties: { seats: 5 }, notes_count: 1, feature_usage: { export_pdf: 3 },
  token_usage: { calls: 1, prompt_tokens: 100, completion_tokens: 50, total_tokens: 150, cost_usd: 0.01, by_model: [{ model: 'gpt-4o', calls: 1, prompt_tokens: 100, completion_tokens: 50, total_tokens: 150, cost_usd: 0.01 }] },
  currency: 'USD', total_spent: 4900, unconverted_spent: [], subscription: { subscription_id: 's1', plan: 'pro', status: 'active', amount: 4900, currency: 'USD', interval: 'month', since: 1, canceled_at: null },
  payments: [{ payment_id: 'pay_1', amount: 4900, currency: 'USD', plan: 'pro', status: 'succeeded', paid_at: 2, day: '2026-12-01', refunded_at: null }],
  ...over,
});
const note = (id: string, body: string): ContactNote => ({ id, body, author_email: 'me@example.com', created_at: 1_700_000_000_000 });
const BASE = '/api/v1/projects/p1/users/ana';

function contactApi(extra: (c: Call) => Answer | null = () => null, tags = ['beta']) {
  let current = profile({ tags });
  mockFetch((c) => {
    const x = extra(c);
    if (x) return x;
    if (c.url === BASE && c.method === 'PATCH') {
      current = { ...current, ...(c.body as Partial<ContactProfile>) };
      return { body: current };
    }
    if (c.url === BASE) return { body: current };
    if (c.url === `${BASE}/notes` && c.method === 'GET') return { body: { notes: [note('n1', 'Called about the invoice')] } };
    if (c.url.startsWith(`${BASE}/timeline`)) return { body: { items: [], next_cursor: null } };
    return { status: 404, body: { error: { code: 'not_found', message: 'Not found.' } } };
  });
}

describe('Contact', () => {
  it('shows the profile, usage, subscription and payments', async () => {
    contactApi();
    render(<Contact project={project} uid="ana" />);
    expect(await screen.findByRole('heading', { name: 'ana@shop.example' })).toBeTruthy();
    expect(within(screen.getByTestId('stat-spent')).getByText('$49.00')).toBeTruthy();
    expect(within(screen.getByTestId('feature-usage')).getByText('export_pdf')).toBeTruthy();
    expect(within(screen.getByTestId('token-usage')).getByText('gpt-4o')).toBeTruthy();
    expect(within(screen.getByTestId('subscription')).getByText('$49.00 / month')).toBeTruthy();
    expect(within(screen.getByTestId('payments')).getByText('succeeded')).toBeTruthy();
    expect(screen.getByText('Acme')).toBeTruthy();
    expect(screen.getByText('5')).toBeTruthy();
  });

  it('adds and removes tags with PATCH and shows the server error', async () => {
    contactApi((c) =>
      c.method === 'PATCH' && (c.body as { tags?: string[] }).tags?.includes('bad tag!')
        ? { status: 400, body: { error: { code: 'invalid_field', message: 'Tags are at most 32 characters.', field: 'tags[1]' } } }
        : null,
    );
    render(<Contact project={project} uid="ana" />);
    const editor = await screen.findByTestId('tags-editor');
    fireEvent.change(within(editor).getByLabelText('New tag'), { target: { value: ' VIP ' } });
    fireEvent.click(within(editor).getByRole('button', { name: 'Add tag' }));
    await waitFor(() => expect(within(editor).getByText('vip')).toBeTruthy());
    expect(last(calls.filter((c) => c.method === 'PATCH'))!.body).toEqual({ tags: ['beta', 'vip'] });
    expect((within(editor).getByLabelText('New tag') as HTMLInputElement).value).toBe('');

    fireEvent.click(within(editor).getByRole('button', { name: 'Remove tag beta' }));
    await waitFor(() => expect(within(editor).queryByText('beta')).toBeNull());
    expect(last(calls.filter((c) => c.method === 'PATCH'))!.body).toEqual({ tags: ['vip'] });

    fireEvent.change(within(editor).getByLabelText('New tag'), { target: { value: 'bad tag!' } });
    fireEvent.click(within(editor).getByRole('button', { name: 'Add tag' }));
    expect((await within(editor).findByRole('alert')).textContent).toBe('Tags are at most 32 characters. (tags[1])');
    expect((within(editor).getByLabelText('New tag') as HTMLInputElement).value).toBe('bad tag!');

    fireEvent.change(screen.getByLabelText('Priority'), { target: { value: 'vip' } });
    await waitFor(() => expect(last(calls.filter((c) => c.method === 'PATCH'))!.body).toEqual({ priority: 'vip' }));
    fireEvent.change(screen.getByLabelText('Priority'), { target: { value: '' } });
    await waitFor(() => expect(last(calls.filter((c) => c.method === 'PATCH'))!.body).toEqual({ priority: null }));
  });

  it('is read-only for viewers', async () => {
    contactApi((c) => (c.url === '/api/v1/projects/p1' ? { body: { ...project, role: 'viewer' } } : null));
    render(<Contact project={{ ...project, role: undefined }} uid="ana" />);
    await screen.findByText('Viewers read contacts; agents and above edit them.');
    expect(screen.queryByLabelText('New tag')).toBeNull();
    expect(screen.queryByLabelText('New note')).toBeNull();
    expect(screen.queryByRole('button', { name: /Remove tag/ })).toBeNull();
    expect(screen.queryByLabelText('Priority')).toBeNull();
    expect(screen.getAllByText('high').length).toBeGreaterThan(0);
    expect(screen.queryByRole('button', { name: 'New message' })).toBeNull();
  });

  it('offers agents "New message", which starts a conversation and opens it in the Inbox; viewers do not get it', async () => {
    contactApi((c) => (c.url === `${BASE}/conversations` && c.method === 'POST' ? { status: 201, body: { id: 'c7', site_user_id: 'ana' } } : null));
    render(<Contact project={project} uid="ana" />);
    fireEvent.click(await screen.findByRole('button', { name: 'New message' }));
    fireEvent.change(screen.getByLabelText('First message'), { target: { value: 'Hi Ana' } });
    fireEvent.click(screen.getByRole('button', { name: 'Send and open in Inbox' }));
    await waitFor(() => expect(location.pathname).toBe('/inbox/c7'));
    expect(calls.find((c) => c.method === 'POST')!.body).toEqual({ message: 'Hi Ana' });
  });

  it('shows the refusal of "New message" and keeps the draft', async () => {
    contactApi((c) =>
      c.url === `${BASE}/conversations` && c.method === 'POST' ? { status: 400, body: { error: { code: 'invalid_field', message: 'Too long.', field: 'message' } } } : null,
    );
    render(<Contact project={project} uid="ana" />);
    fireEvent.click(await screen.findByRole('button', { name: 'New message' }));
    fireEvent.change(screen.getByLabelText('First message'), { target: { value: 'Hi Ana' } });
    fireEvent.click(screen.getByRole('button', { name: 'Send and open in Inbox' }));
    expect((await screen.findByRole('alert')).textContent).toBe('Too long. (message)');
    expect((screen.getByLabelText('First message') as HTMLTextAreaElement).value).toBe('Hi Ana');
    expect(location.pathname).toBe('/people');
  });

  it('adds a note, deletes one and shows the server refusing a delete', async () => {
    contactApi((c) => {
      if (c.url === `${BASE}/notes` && c.method === 'POST') return { status: 201, body: note('n2', (c.body as { body: string }).body) };
      if (c.url === `${BASE}/notes/n2` && c.method === 'DELETE') return { status: 204 };
      if (c.url === `${BASE}/notes/n1` && c.method === 'DELETE')
        return { status: 403, body: { error: { code: 'forbidden', message: 'Only its author or an admin deletes a note.' } } };
      return null;
    });
    render(<Contact project={project} uid="ana" />);
    const notes = await screen.findByTestId('notes');
    await within(notes).findByText('Called about the invoice');
    fireEvent.change(within(notes).getByLabelText('New note'), { target: { value: 'Wants a yearly plan' } });
    fireEvent.click(within(notes).getByRole('button', { name: 'Add note' }));
    await within(notes).findByText('Wants a yearly plan');
    expect(calls.find((c) => c.method === 'POST')!.body).toEqual({ body: 'Wants a yearly plan' });
    expect(within(notes).getAllByTestId('note').map((n) => n.querySelector('.note-body')!.textContent)).toEqual([
      'Wants a yearly plan',
      'Called about the invoice',
    ]);

    fireEvent.click(within(within(notes).getAllByTestId('note')[0]).getByRole('button', { name: /Delete/ }));
    await waitFor(() => expect(within(notes).queryByText('Wants a yearly plan')).toBeNull());
    fireEvent.click(within(within(notes).getAllByTestId('note')[0]).getByRole('button', { name: /Delete/ }));
    expect((await within(notes).findByRole('alert')).textContent).toBe('Only its author or an admin deletes a note.');
    expect(within(notes).getByText('Called about the invoice')).toBeTruthy();
  });

  it('says when there are no notes', async () => {
    contactApi((c) => (c.url === `${BASE}/notes` && c.method === 'GET' ? { body: { notes: [] } } : null));
    render(<Contact project={project} uid="ana" />);
    expect(await screen.findByText('No notes yet')).toBeTruthy();
  });

  it('pages the timeline with the cursor, newest first', async () => {
    const first: TimelineItem[] = [
      { type: 'payment', ts: 300, payment_id: 'pay_1', amount: 4900, currency: 'USD', plan: 'pro', status: 'succeeded', paid_at: 300, day: '2026-12-01', refunded_at: null },
      { type: 'event', ts: 200, id: 'e1', name: 'export_pdf', props: {}, session_id: null, path: null },
    ];
    const older: TimelineItem[] = [
      { type: 'note', ts: 150, id: 'n1', body: 'First call', author_email: null, created_at: 150 },
      { type: 'session', ts: 100, id: 's1', started_at: 100, last_seen_at: 160_100, ended_at: null, duration_s: 160, entry_url: null, referrer: null, page_count: 1, device: null, browser: null, os: null, pages: [{ path: '/pricing', url: null, title: 'Pricing', ts: 100 }] },
    ];
    contactApi((c) =>
      c.url.startsWith(`${BASE}/timeline`)
        ? { body: c.url.includes('cursor=c1') ? { items: older, next_cursor: null } : { items: first, next_cursor: 'c1' } }
        : null,
    );
    render(<Contact project={project} uid="ana" />);
    const timeline = await screen.findByTestId('timeline');
    await waitFor(() => expect(within(timeline).getAllByTestId('timeline-item')).toHaveLength(2));
    expect(gets(`${BASE}/timeline`)).toEqual([`${BASE}/timeline?limit=50`]);
    fireEvent.click(within(timeline).getByRole('button', { name: 'Load older' }));
    await waitFor(() => expect(within(timeline).getAllByTestId('timeline-item')).toHaveLength(4));
    expect(last(gets(`${BASE}/timeline`))).toBe(`${BASE}/timeline?cursor=c1&limit=50`);
    expect(within(timeline).getAllByTestId('timeline-item').map((i) => i.getAttribute('data-type'))).toEqual(['payment', 'event', 'note', 'session']);
    expect(within(timeline).getByRole('img', { name: 'Session' })).toBeTruthy();
    expect(within(timeline).getByText('/pricing')).toBeTruthy();
    expect(within(timeline).queryByRole('button', { name: 'Load older' })).toBeNull();
  });

  it('shows a contact that cannot be loaded with a retry', async () => {
    mockFetch(() => ({ status: 404, body: { error: { code: 'not_found', message: 'No such user.' } } }));
    render(<Contact project={project} uid="nobody" />);
    expect((await screen.findAllByRole('alert'))[0].textContent).toContain('No such user.');
    expect(screen.getByRole('button', { name: 'Retry' })).toBeTruthy();
  });
});

describe('The overview user modal', () => {
  it('links to the contact page', async () => {
    history.replaceState(null, '', '/');
    mockFetch((c) =>
      c.url.endsWith('/sessions?limit=20') ? { body: { sessions: [] } } : { body: { ...person('ana@x'), id: 'su/1' } },
    );
    const onClose = vi.fn();
    render(<UserModal projectId="p1" uid="su/1" onClose={onClose} />);
    const link = await screen.findByRole('link', { name: 'Open contact' });
    expect(link.getAttribute('href')).toBe('/people/su%2F1');
    fireEvent.click(link);
    expect(onClose).toHaveBeenCalled();
    expect(location.pathname).toBe('/people/su%2F1');
  });
});
