import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { api, ApiError, auditQuery } from '../api/client';
import type { AuditEntry, AuditPage, Project } from '../api/types';
import { Audit, PAGE_SIZE, paramsText } from './Audit';

const project = { id: 'p1', name: 'Shop' } as Project;
afterEach(() => vi.restoreAllMocks());

const entry = (id: string, action: string, params: unknown = {}): AuditEntry => ({
  id,
  actor: { account_id: 'a1', email: 'owner@example.com' },
  action,
  resource: 'project',
  params,
  ip: '203.0.113.9',
  at: Date.UTC(2026, 11, 7, 9, 0),
});

const members = () =>
  vi.spyOn(api, 'members').mockResolvedValue({
    members: [{ account_id: 'a1', email: 'owner@example.com', role: 'owner', created_at: 0 }],
  });

describe('the audit query string', () => {
  it('sends only the filters given, days as local midnights, `to` through the end of its day', () => {
    const none = new URLSearchParams(auditQuery({ actor: '', action: '', from: '', to: '' }, null, 50));
    expect([...none.keys()]).toEqual(['limit']);
    const q = new URLSearchParams(auditQuery({ actor: 'a1', action: 'member.add', from: '2026-12-01', to: '2026-12-07' }, '5:x', 20));
    expect(q.get('actor')).toBe('a1');
    expect(q.get('action')).toBe('member.add');
    expect(q.get('from')).toBe(String(new Date(2026, 11, 1).getTime()));
    expect(q.get('to')).toBe(String(new Date(2026, 11, 8).getTime()));
    expect(q.get('cursor')).toBe('5:x');
    expect(q.get('limit')).toBe('20');
  });

  it('shows params on one line and nothing for an empty object', () => {
    expect(paramsText({})).toBe('');
    expect(paramsText({ name: 'Shop', password: '[redacted]' })).toBe('{"name":"Shop","password":"[redacted]"}');
  });
});

describe('Audit page', () => {
  it('lists entries, loads the next page with the cursor, and filters by action', async () => {
    members();
    const first: AuditPage = { entries: [entry('e2', 'project.update', { name: 'Shop 2' }), entry('e1', 'key.create')], next_cursor: 'c1' };
    const second: AuditPage = { entries: [entry('e0', 'member.add')], next_cursor: null };
    const log = vi.spyOn(api, 'auditLog').mockImplementation(async (_id, f, cursor) => {
      if (f.action === 'member.add') return { entries: [entry('e0', 'member.add')], next_cursor: null };
      return cursor === 'c1' ? second : first;
    });
    render(<Audit project={project} />);
    expect(screen.getByRole('status', { name: 'Loading the audit log' })).toBeTruthy();
    await waitFor(() => expect(screen.getAllByTestId('audit-row')).toHaveLength(2));
    expect(screen.getByText('{"name":"Shop 2"}')).toBeTruthy();
    expect(screen.getAllByText('203.0.113.9')).toHaveLength(2);
    expect(log).toHaveBeenLastCalledWith('p1', { actor: '', action: '', from: '', to: '' }, null, PAGE_SIZE);

    fireEvent.click(screen.getByRole('button', { name: 'Load more' }));
    await waitFor(() => expect(screen.getAllByTestId('audit-row')).toHaveLength(3));
    expect(log).toHaveBeenLastCalledWith('p1', expect.anything(), 'c1', PAGE_SIZE);
    // The last page has no cursor: no more button.
    expect(screen.queryByRole('button', { name: 'Load more' })).toBeNull();

    fireEvent.change(screen.getByLabelText('Action'), { target: { value: 'member.add' } });
    await waitFor(() => expect(screen.getAllByTestId('audit-row')).toHaveLength(1));
    expect(log).toHaveBeenLastCalledWith('p1', { actor: '', action: 'member.add', from: '', to: '' }, null, PAGE_SIZE);
    // The actor filter lists the members.
    await waitFor(() => expect(screen.getByLabelText('Actor')).toBeTruthy());
    fireEvent.change(screen.getByLabelText('Actor'), { target: { value: 'a1' } });
    await waitFor(() => expect(log).toHaveBeenLastCalledWith('p1', { actor: 'a1', action: 'member.add', from: '', to: '' }, null, PAGE_SIZE));
  });

  it('says so when nothing is recorded, and when filters match nothing', async () => {
    members();
    vi.spyOn(api, 'auditLog').mockResolvedValue({ entries: [], next_cursor: null });
    render(<Audit project={project} />);
    expect(await screen.findByText('Nothing recorded yet')).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Action'), { target: { value: 'key.revoke' } });
    expect(await screen.findByText('No entries match these filters')).toBeTruthy();
    fireEvent.click(screen.getAllByRole('button', { name: 'Clear filters' })[0]);
    expect(await screen.findByText('Nothing recorded yet')).toBeTruthy();
  });

  it('shows the error (a 403 for lower roles) and retries', async () => {
    members();
    const log = vi
      .spyOn(api, 'auditLog')
      .mockRejectedValueOnce(new ApiError(403, 'forbidden', 'this needs the admin role in this project'))
      .mockResolvedValue({ entries: [entry('e1', 'team.create')], next_cursor: null });
    render(<Audit project={project} />);
    expect((await screen.findByRole('alert')).textContent).toContain('this needs the admin role');
    fireEvent.click(screen.getByRole('button', { name: 'Retry' }));
    await waitFor(() => expect(screen.getAllByTestId('audit-row')).toHaveLength(1));
    expect(log).toHaveBeenCalledTimes(2);
  });
});
