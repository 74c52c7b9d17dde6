// The flows section against the flows API contract, with fetch mocked (the
// requests and bodies are checked at the HTTP level, not at the client).
import { fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Flow, FlowStats, Project } from '../api/types';
import { FlowsSection } from './Flows';

const project = { id: 'p1', name: 'Shop' } as Project;
afterEach(() => vi.restoreAllMocks());

const flow: Flow = {
  id: 'f1', name: 'Vision generation',
  start: { match: 'event', value: 'vision_started' }, complete: { match: 'event', value: 'vision_done' },
  fail: { match: 'event', value: 'vision_failed' }, window_hours: 2, created_at: 1, updated_at: 1,
};
const stats: FlowStats = {
  flow, days: 30, started: 120, completed: 80, failed: 10, abandoned: 30,
  completion_rate: 66.7, success_rate: 88.9, avg_completion_s: 42.5, median_completion_s: 30,
  daily: [{ day: '2026-12-01', started: 4, completed: 3, failed: 0 }, { day: '2026-12-02', started: 8, completed: 5, failed: 1 }],
};

type Handler = (method: string, url: string, body: unknown) => { status: number; json?: unknown };
function mockFetch(handler: Handler) {
  const calls: { method: string; url: string; body: unknown }[] = [];
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const url = String(input);
    const method = init?.method ?? 'GET';
    const body = init?.body ? JSON.parse(String(init.body)) : undefined;
    calls.push({ method, url, body });
    const r = handler(method, url, body);
    return new Response(r.status === 204 ? null : JSON.stringify(r.json ?? {}), { status: r.status, headers: { 'Content-Type': 'application/json' } });
  });
  return calls;
}

const role = (r: string) => ({ status: 200, json: { ...project, role: r } });

describe('the flows section', () => {
  it('renders each flow with its stats and a daily bar', async () => {
    const calls = mockFetch((m, url) => {
      if (url === '/api/v1/projects/p1') return role('viewer');
      if (url === '/api/v1/projects/p1/flows') return { status: 200, json: { flows: [flow] } };
      if (url === '/api/v1/projects/p1/flows/f1/stats?days=30') return { status: 200, json: stats };
      return { status: 404, json: { error: { code: 'not_found', message: `${m} ${url}` } } };
    });
    render(<FlowsSection project={project} days={30} />);
    const row = await screen.findByTestId('flow-f1');
    await within(row).findByTestId('flow-started');
    const cell = (id: string) => within(row).getByTestId(id).textContent;
    expect(cell('flow-started')).toBe('120');
    expect(cell('flow-completed')).toBe('80');
    expect(cell('flow-failed')).toBe('10');
    expect(cell('flow-completion')).toBe('66.7%');
    expect(cell('flow-success')).toBe('88.9%');
    expect(cell('flow-avg')).toBe('42s');
    expect(cell('flow-median')).toBe('30s');
    expect(within(row).getByText(/event vision_started → event vision_done/)).toBeTruthy();
    expect(within(row).getByText(/fails on event vision_failed/)).toBeTruthy();
    const bars = within(row).getByRole('list', { name: 'Vision generation started per day' });
    expect(within(bars).getAllByRole('listitem')).toHaveLength(2);
    // Viewers do not get the editing buttons.
    expect(screen.queryByRole('button', { name: 'New flow' })).toBeNull();
    expect(within(row).queryByRole('button', { name: /Edit/ })).toBeNull();
    expect(calls.every((c) => c.method === 'GET')).toBe(true);
  });

  it('shows – for rates and times when there are no attempts', async () => {
    mockFetch((_m, url) => {
      if (url === '/api/v1/projects/p1') return role('viewer');
      if (url.endsWith('/flows')) return { status: 200, json: { flows: [flow] } };
      return { status: 200, json: { ...stats, started: 0, completed: 0, failed: 0, completion_rate: null, success_rate: null, avg_completion_s: null, median_completion_s: null } };
    });
    render(<FlowsSection project={project} days={7} />);
    const row = await screen.findByTestId('flow-f1');
    expect((await within(row).findByTestId('flow-completion')).textContent).toBe('–');
    expect(within(row).getByTestId('flow-median').textContent).toBe('–');
  });

  it('shows the empty state and an admin creates a flow with the contract body', async () => {
    let flows: Flow[] = [];
    const calls = mockFetch((m, url, body) => {
      if (url === '/api/v1/projects/p1') return role('admin');
      if (url === '/api/v1/projects/p1/flows' && m === 'GET') return { status: 200, json: { flows } };
      if (url === '/api/v1/projects/p1/flows' && m === 'POST') {
        const b = body as Flow;
        if (b.complete.value === '') return { status: 400, json: { error: { code: 'missing_field', message: 'is required', field: 'complete.value' } } };
        flows = [{ ...flow, ...b, id: 'f2' }];
        return { status: 201, json: flows[0] };
      }
      if (url.startsWith('/api/v1/projects/p1/flows/f2/stats')) return { status: 200, json: stats };
      return { status: 404, json: {} };
    });
    render(<FlowsSection project={project} days={30} />);
    expect(await screen.findByText('No flows yet — a flow measures how often people who start something finish it')).toBeTruthy();
    fireEvent.click(await screen.findByRole('button', { name: 'New flow' }));
    const form = screen.getByRole('form', { name: 'New flow' });
    fireEvent.change(within(form).getByLabelText('Name'), { target: { value: '  Checkout ' } });
    fireEvent.change(within(form).getByLabelText('Start match'), { target: { value: 'page' } });
    fireEvent.change(within(form).getByLabelText('Start value'), { target: { value: '/checkout' } });
    fireEvent.click(within(form).getByLabelText('Start prefix'));
    fireEvent.click(within(form).getByRole('button', { name: 'Create flow' }));
    // The server's field error is shown at the step it names.
    const complete = within(form).getByRole('group', { name: 'Complete' });
    expect((await within(complete).findByRole('alert')).textContent).toBe('is required');
    fireEvent.change(within(form).getByLabelText('Complete value'), { target: { value: 'order_paid' } });
    fireEvent.click(within(form).getByLabelText(/marks the attempt as failed/));
    fireEvent.change(within(form).getByLabelText('Fail match'), { target: { value: 'page' } });
    fireEvent.change(within(form).getByLabelText('Fail value'), { target: { value: '/checkout/error' } });
    fireEvent.change(within(form).getByLabelText(/Window/), { target: { value: '48' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Create flow' }));
    expect(await screen.findByTestId('flow-f2')).toBeTruthy();
    const posts = calls.filter((c) => c.method === 'POST');
    expect(posts).toHaveLength(2);
    expect(posts[1].body).toEqual({
      name: 'Checkout',
      start: { match: 'page', value: '/checkout', prefix: true },
      complete: { match: 'event', value: 'order_paid' },
      fail: { match: 'page', value: '/checkout/error' },
      window_hours: 48,
    });
    expect(posts[0].body).toMatchObject({ fail: null, window_hours: 24 });
    expect(screen.queryByRole('form', { name: 'New flow' })).toBeNull();
  });

  it('edits with PUT and deletes after a confirm', async () => {
    const calls = mockFetch((m, url) => {
      if (url === '/api/v1/projects/p1') return role('owner');
      if (url === '/api/v1/projects/p1/flows') return { status: 200, json: { flows: [flow] } };
      if (url.includes('/stats')) return { status: 200, json: stats };
      if (url === '/api/v1/projects/p1/flows/f1' && m === 'PUT') return { status: 200, json: flow };
      if (url === '/api/v1/projects/p1/flows/f1' && m === 'DELETE') return { status: 204 };
      return { status: 404, json: {} };
    });
    render(<FlowsSection project={project} days={30} />);
    fireEvent.click(await screen.findByRole('button', { name: 'Edit Vision generation' }));
    const form = screen.getByRole('form', { name: 'Edit flow Vision generation' });
    expect((within(form).getByLabelText('Fail value') as HTMLInputElement).value).toBe('vision_failed');
    fireEvent.click(within(form).getByLabelText(/marks the attempt as failed/));
    fireEvent.click(within(form).getByRole('button', { name: 'Save flow' }));
    await vi.waitFor(() => expect(calls.some((c) => c.method === 'PUT')).toBe(true));
    expect(calls.find((c) => c.method === 'PUT')!.body).toEqual({
      name: 'Vision generation', start: flow.start, complete: flow.complete, fail: null, window_hours: 2,
    });
    fireEvent.click(await screen.findByRole('button', { name: 'Delete Vision generation' }));
    expect(calls.some((c) => c.method === 'DELETE')).toBe(false);
    fireEvent.click(screen.getByRole('button', { name: 'Confirm delete' }));
    await vi.waitFor(() => expect(calls.some((c) => c.method === 'DELETE' && c.url === '/api/v1/projects/p1/flows/f1')).toBe(true));
  });

  it('shows the error state with a retry', async () => {
    let fail = true;
    mockFetch((_m, url) => {
      if (url === '/api/v1/projects/p1') return role('viewer');
      if (url.endsWith('/flows')) return fail ? { status: 500, json: { error: { code: 'internal', message: 'Flows broke.' } } } : { status: 200, json: { flows: [] } };
      return { status: 404, json: {} };
    });
    render(<FlowsSection project={project} days={30} />);
    expect((await screen.findByRole('alert')).textContent).toContain('Flows broke.');
    fail = false;
    fireEvent.click(screen.getByRole('button', { name: 'Retry' }));
    expect(await screen.findByText(/No flows yet/)).toBeTruthy();
  });
});
