import { act, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { api, ApiError } from '../api/client';
import type { CriteriaNode, CustomSegment, Project } from '../api/types';
import { build, itemForPath, newGroup, newRow, parse, summarize, type CondRow, type Group } from '../lib/criteria';
import { peopleLink, SegmentEditor, Segments } from './Segments';

const project = { id: 'p1', name: 'Shop' } as Project;
afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

const row = (change: Partial<CondRow>): CondRow => ({ ...newRow(change.field ?? 'trait'), ...change });

describe('criteria from the builder tree', () => {
  it('builds the exact JSON of nested all/any/not groups with every kind of condition', () => {
    const tree: Group = newGroup('all', [
      row({ field: 'plan', op: 'neq', value: 'free' }),
      row({ field: 'last_seen', op: 'within_days', value: '7' }),
      row({ field: 'event', op: 'performed', name: 'export', count: '3', within: '30' }),
      row({ field: 'tag', op: 'has', value: 'churn-risk', negate: true }),
      newGroup('any', [
        row({ field: 'trait', key: 'company_size', op: 'gt', value: '50' }),
        row({ field: 'priority', op: 'eq', value: 'vip' }),
        { ...newGroup('all', [row({ field: 'subscription_status', op: 'eq', value: 'past_due' })]), negate: true },
      ]),
      row({ field: 'total_spent', op: 'gt', value: '49.5', currency: 'eur' }),
      row({ field: 'sessions', op: 'lt', value: '3' }),
      row({ field: 'trait', key: 'beta', op: 'eq', valueType: 'boolean', value: 'false' }),
      row({ field: 'trait', key: 'age', op: 'neq', valueType: 'number', value: '30' }),
      row({ field: 'trait', key: 'email', op: 'exists', value: 'ignored' }),
      row({ field: 'plan', op: 'exists' }),
      row({ field: 'event', op: 'performed', name: 'signup' }),
    ]);
    expect(build(tree).criteria).toEqual({
      all: [
        { field: 'plan', op: 'neq', value: 'free' },
        { field: 'last_seen', op: 'within_days', value: 7 },
        { field: 'event', op: 'performed', name: 'export', count: 3, within_days: 30 },
        { not: { field: 'tag', op: 'has', value: 'churn-risk' } },
        {
          any: [
            { field: 'trait', key: 'company_size', op: 'gt', value: 50 },
            { field: 'priority', op: 'eq', value: 'vip' },
            { not: { all: [{ field: 'subscription_status', op: 'eq', value: 'past_due' }] } },
          ],
        },
        { field: 'total_spent', op: 'gt', value: 4950, currency: 'EUR' },
        { field: 'sessions', op: 'lt', value: 3 },
        { field: 'trait', key: 'beta', op: 'eq', value: false },
        { field: 'trait', key: 'age', op: 'neq', value: 30 },
        { field: 'trait', key: 'email', op: 'exists' },
        { field: 'plan', op: 'exists' },
        { field: 'event', op: 'performed', name: 'signup' },
      ],
    });
  });

  it('sends a value that is not a number as typed, for the server to name', () => {
    const tree = newGroup('any', [row({ field: 'sessions', op: 'gt', value: 'three' })]);
    expect(build(tree).criteria).toEqual({ any: [{ field: 'sessions', op: 'gt', value: 'three' }] });
  });

  it('maps a server error path to the row or group it names', () => {
    const a = row({ field: 'plan', op: 'eq', value: 'pro' });
    const b = row({ field: 'tag', op: 'has', value: 'x', negate: true });
    const c = row({ field: 'trait', op: 'eq', key: '' });
    const inner = newGroup('any', [c]);
    const tree = newGroup('all', [a, b, inner]);
    const { paths } = build(tree);
    expect(itemForPath(paths, 'criteria.all[0].value')).toEqual({ id: a.id, rest: 'value' });
    expect(itemForPath(paths, 'criteria.all[1].not.op')).toEqual({ id: b.id, rest: 'op' });
    expect(itemForPath(paths, 'criteria.all[2].any[0].key')).toEqual({ id: c.id, rest: 'key' });
    expect(itemForPath(paths, 'criteria.all[2].any')).toEqual({ id: inner.id, rest: 'any' });
    expect(itemForPath(paths, 'criteria.all[2]')).toEqual({ id: inner.id, rest: '' });
    // `all[1]` is not a prefix of `all[10]`.
    expect(itemForPath(paths, 'criteria.all[10].op')).toEqual({ id: tree.id, rest: 'all[10].op' });
    expect(itemForPath(paths, 'name')).toBeNull();
  });

  it('reads saved criteria back into the same JSON', () => {
    const saved: CriteriaNode = {
      any: [
        { field: 'trait', key: 'plan', op: 'eq', value: 3 },
        { not: { field: 'tag', op: 'has', value: 'vip' } },
        { not: { not: { field: 'plan', op: 'exists' } } },
        { all: [{ field: 'total_spent', op: 'lt', value: 500, currency: 'JPY' }, { field: 'event', op: 'performed', name: 'x', within_days: 7 }] },
      ],
    };
    expect(build(parse(saved)).criteria).toEqual({
      any: [
        { field: 'trait', key: 'plan', op: 'eq', value: 3 },
        { not: { field: 'tag', op: 'has', value: 'vip' } },
        { not: { all: [{ not: { field: 'plan', op: 'exists' } }] } },
        { all: [{ field: 'total_spent', op: 'lt', value: 500, currency: 'JPY' }, { field: 'event', op: 'performed', name: 'x', within_days: 7 }] },
      ],
    });
    expect(summarize(saved)).toBe(
      'plan equals 3 or not tagged vip or not not plan is set or (spent less than 500 JPY and performed x within 7 days)',
    );
    expect(summarize({ all: [] })).toBe('everyone');
    expect(summarize({ all: [{ field: 'total_spent', op: 'gt', value: 4950, currency: 'EUR' }, { field: 'last_seen', op: 'before_days', value: 30 }] })).toBe(
      'spent more than 49.5 EUR and last seen more than 30 days ago',
    );
    // A bare condition at the root becomes an "all of" group around it.
    expect(build(parse({ field: 'plan', op: 'exists' })).criteria).toEqual({ all: [{ field: 'plan', op: 'exists' }] });
  });
});

const segment: CustomSegment = {
  id: 's1', name: 'VIPs', description: 'big spenders', criteria: { all: [{ field: 'tag', op: 'has', value: 'vip' }] },
  user_count: 1234, counted_at: Date.UTC(2026, 11, 2, 10, 0), created_at: 0, updated_at: 0,
};

async function advance(ms: number) {
  await act(async () => {
    await vi.advanceTimersByTimeAsync(ms);
  });
}

describe('the condition builder and its live count', () => {
  it('debounces the preview, shows a spinner while typing and then the count', async () => {
    vi.useFakeTimers();
    const preview = vi.spyOn(api, 'previewSegment').mockImplementation(async (_p, c) => ({
      user_count: JSON.stringify(c).includes('"pro"') ? 1234 : 5,
      counted_at: 0,
    }));
    render(<SegmentEditor project={project} segment={null} onSaved={() => undefined} onCancel={() => undefined} />);
    const count = screen.getByTestId('live-count');
    expect(within(count).getByRole('status', { name: 'Counting' })).toBeTruthy();
    await advance(399);
    expect(preview).not.toHaveBeenCalled();
    await advance(1);
    expect(preview).toHaveBeenCalledTimes(1);
    expect(preview).toHaveBeenLastCalledWith('p1', { all: [{ field: 'trait', key: '', op: 'eq', value: '' }] });
    expect(count.textContent).toBe('≈ 5 people match');

    fireEvent.change(screen.getByLabelText('Kind'), { target: { value: 'plan' } });
    const value = screen.getByLabelText('Value');
    for (const text of ['p', 'pr', 'pro']) {
      fireEvent.change(value, { target: { value: text } });
      await advance(200);
      expect(within(count).getByRole('status', { name: 'Counting' })).toBeTruthy();
    }
    expect(preview).toHaveBeenCalledTimes(1);
    await advance(200);
    expect(preview).toHaveBeenCalledTimes(2);
    expect(preview).toHaveBeenLastCalledWith('p1', { all: [{ field: 'plan', op: 'eq', value: 'pro' }] });
    expect(count.textContent).toBe('≈ 1,234 people match');
  });

  it('adds nested groups and rows and previews the nested criteria', async () => {
    vi.useFakeTimers();
    const preview = vi.spyOn(api, 'previewSegment').mockResolvedValue({ user_count: 42, counted_at: 0 });
    render(<SegmentEditor project={project} segment={null} onSaved={() => undefined} onCancel={() => undefined} />);
    const root = screen.getByTestId('cond-root');
    fireEvent.change(screen.getByLabelText('Kind'), { target: { value: 'last_seen' } });
    fireEvent.change(screen.getByLabelText('Days'), { target: { value: '7' } });
    fireEvent.click(within(root).getAllByRole('button', { name: '+ Group' }).slice(-1)[0]);
    const group = screen.getByTestId('cond-group');
    const rows = () => within(group).getAllByTestId('cond-row');
    fireEvent.change(within(rows()[0]).getByLabelText('Kind'), { target: { value: 'event' } });
    fireEvent.change(within(rows()[0]).getByLabelText('Event name'), { target: { value: 'export_pdf' } });
    fireEvent.change(within(rows()[0]).getByLabelText('At least (times)'), { target: { value: '2' } });
    fireEvent.click(within(group).getByRole('button', { name: '+ Condition' }));
    fireEvent.change(within(rows()[1]).getByLabelText('Kind'), { target: { value: 'priority' } });
    fireEvent.change(within(rows()[1]).getByLabelText('Value'), { target: { value: 'vip' } });
    fireEvent.click(within(rows()[1]).getByLabelText('Not'));
    fireEvent.click(within(group).getByLabelText('Not group'));
    await advance(400);
    expect(preview).toHaveBeenLastCalledWith('p1', {
      all: [
        { field: 'last_seen', op: 'within_days', value: 7 },
        { not: { any: [{ field: 'event', op: 'performed', name: 'export_pdf', count: 2 }, { not: { field: 'priority', op: 'eq', value: 'vip' } }] } },
      ],
    });
    expect(screen.getByTestId('live-count').textContent).toBe('≈ 42 people match');
    // Removing the group leaves the first row.
    fireEvent.click(within(group).getByRole('button', { name: 'Remove group' }));
    await advance(400);
    expect(preview).toHaveBeenLastCalledWith('p1', { all: [{ field: 'last_seen', op: 'within_days', value: 7 }] });
  });

  it('shows a 4xx message next to the row its field path names', async () => {
    vi.useFakeTimers();
    vi.spyOn(api, 'previewSegment').mockImplementation(async (_p, c) => {
      const all = (c as { all: CriteriaNode[] }).all;
      const i = all.findIndex((n) => 'field' in n && n.field === 'sessions' && typeof n.value !== 'number');
      if (i >= 0) throw new ApiError(400, 'invalid_field', 'must be an integer', `criteria.all[${i}].value`);
      return { user_count: 7, counted_at: 0 };
    });
    render(<SegmentEditor project={project} segment={{ ...segment, criteria: { all: [{ field: 'tag', op: 'has', value: 'vip' }, { field: 'tag', op: 'has', value: 'beta' }] } }} onSaved={() => undefined} onCancel={() => undefined} />);
    await advance(400);
    expect(screen.getByTestId('live-count').textContent).toBe('≈ 7 people match');
    const second = screen.getAllByTestId('cond-row')[1];
    fireEvent.change(within(second).getByLabelText('Kind'), { target: { value: 'sessions' } });
    fireEvent.change(within(second).getByLabelText('Sessions'), { target: { value: '' } });
    await advance(400);
    const rows = screen.getAllByTestId('cond-row');
    expect(within(rows[1]).getByRole('alert').textContent).toBe('value must be an integer');
    expect(within(rows[0]).queryByRole('alert')).toBeNull();
    expect(rows[1].className).toContain('cond-invalid');
    expect(screen.getByTestId('live-count').textContent).toContain('Fix the highlighted condition');
    fireEvent.change(within(rows[1]).getByLabelText('Sessions'), { target: { value: '4' } });
    await advance(400);
    expect(screen.queryAllByRole('alert')).toHaveLength(0);
    expect(screen.getByTestId('live-count').textContent).toBe('≈ 7 people match');
  });

  it('saves with name, description and the criteria (PUT for an existing segment)', async () => {
    vi.spyOn(api, 'previewSegment').mockResolvedValue({ user_count: 1, counted_at: 0 });
    const update = vi.spyOn(api, 'updateSegment').mockResolvedValue(segment);
    const saved = vi.fn();
    render(<SegmentEditor project={project} segment={segment} onSaved={saved} onCancel={() => undefined} delay={0} />);
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: ' Top VIPs ' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save segment' }));
    await vi.waitFor(() => expect(saved).toHaveBeenCalledWith(segment));
    expect(update).toHaveBeenCalledWith('p1', 's1', { name: 'Top VIPs', description: 'big spenders', criteria: { all: [{ field: 'tag', op: 'has', value: 'vip' }] } });
  });
});

describe('saving a segment', () => {
  it('POSTs a new one and shows a save error on the row or field it names', async () => {
    vi.spyOn(api, 'previewSegment').mockResolvedValue({ user_count: 1, counted_at: 0 });
    const create = vi
      .spyOn(api, 'createSegment')
      .mockRejectedValueOnce(new ApiError(400, 'invalid_field', 'must be at most 200 characters', 'criteria.all[0].value'))
      .mockRejectedValueOnce(new ApiError(400, 'missing_field', 'is required', 'name'))
      .mockResolvedValue(segment);
    const saved = vi.fn();
    render(<SegmentEditor project={project} segment={null} onSaved={saved} onCancel={() => undefined} delay={0} />);
    fireEvent.change(screen.getByLabelText('Kind'), { target: { value: 'tag' } });
    fireEvent.change(screen.getByLabelText('Value'), { target: { value: 'vip' } });
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'VIPs' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create segment' }));
    const row = screen.getByTestId('cond-row');
    expect((await within(row).findByRole('alert')).textContent).toBe('value must be at most 200 characters');
    fireEvent.click(screen.getByRole('button', { name: 'Create segment' }));
    expect((await screen.findByText('is required')).getAttribute('role')).toBe('alert');
    expect(within(row).queryByRole('alert')).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Create segment' }));
    await vi.waitFor(() => expect(saved).toHaveBeenCalledWith(segment));
    expect(create).toHaveBeenLastCalledWith('p1', { name: 'VIPs', description: undefined, criteria: { all: [{ field: 'tag', op: 'has', value: 'vip' }] } });
  });
});

describe('the Segments page', () => {
  it('lists segments with counts; admins get edit, refresh and delete with a confirm', async () => {
    vi.spyOn(api, 'project').mockResolvedValue({ ...project, role: 'admin' } as Project & { role: 'admin' });
    vi.spyOn(api, 'segments').mockResolvedValue({ segments: [segment] });
    const refresh = vi.spyOn(api, 'refreshSegment').mockResolvedValue({ ...segment, user_count: 99 });
    const del = vi.spyOn(api, 'deleteSegment').mockResolvedValue(undefined);
    render(<Segments project={project} />);
    const tr = await screen.findByTestId('segment-s1');
    expect(within(tr).getByTestId('segment-count').textContent).toBe('1,234');
    expect(within(tr).getByText('big spenders')).toBeTruthy();
    expect(within(tr).getByTestId('segment-summary').textContent).toBe('tagged vip');
    expect(within(tr).getByRole('link', { name: 'View people' }).getAttribute('href')).toBe('/people?segment=s1');
    fireEvent.click(await within(tr).findByRole('button', { name: 'Refresh VIPs' }));
    await vi.waitFor(() => expect(within(screen.getByTestId('segment-s1')).getByTestId('segment-count').textContent).toBe('99'));
    expect(refresh).toHaveBeenCalledWith('p1', 's1');
    fireEvent.click(within(screen.getByTestId('segment-s1')).getByRole('button', { name: 'Delete VIPs' }));
    expect(del).not.toHaveBeenCalled();
    fireEvent.click(screen.getByRole('button', { name: 'Confirm delete' }));
    await vi.waitFor(() => expect(del).toHaveBeenCalledWith('p1', 's1'));
    expect(peopleLink('a b')).toBe('/people?segment=a%20b');
  });

  it('is read-only for viewers', async () => {
    vi.spyOn(api, 'project').mockResolvedValue({ ...project, role: 'viewer' } as Project & { role: 'viewer' });
    vi.spyOn(api, 'segments').mockResolvedValue({ segments: [segment] });
    render(<Segments project={project} />);
    await screen.findByText('Read-only: an admin defines segments.');
    const tr = screen.getByTestId('segment-s1');
    expect(within(tr).getByRole('link', { name: 'View people' })).toBeTruthy();
    expect(within(tr).queryByRole('button')).toBeNull();
    expect(screen.queryByRole('button', { name: 'New segment' })).toBeNull();
  });

  it('has loading, empty and error states', async () => {
    vi.spyOn(api, 'project').mockResolvedValue({ ...project, role: 'owner' } as Project & { role: 'owner' });
    const list = vi.spyOn(api, 'segments').mockRejectedValueOnce(new ApiError(500, 'internal', 'Boom.')).mockResolvedValue({ segments: [] });
    render(<Segments project={project} />);
    expect(screen.getByRole('status', { name: 'Loading segments' })).toBeTruthy();
    expect((await screen.findByRole('alert')).textContent).toContain('Boom.');
    fireEvent.click(screen.getByRole('button', { name: 'Retry' }));
    expect(await screen.findByText('No segments yet')).toBeTruthy();
    expect(list).toHaveBeenCalledTimes(2);
    expect(await screen.findByRole('button', { name: 'New segment' })).toBeTruthy();
  });
});
