// The Support page's range and filters, kept in the URL like the other
// screens' (`?range=week`, `?from=2026-12-01&to=2026-12-06`, `&agent=…&team=…
// &channel=…`), and the Inbox links its drill-downs open.
import { useEffect, useState } from 'react';
import { CHANNELS, type Channel, type CreatedCell } from '../api/types';
import type { RangePreset, SupportQuery } from '../api/support';
import { isoDay } from './format';
import { navigate } from './router';

export const PRESETS: { id: RangePreset; label: string }[] = [
  { id: 'today', label: 'Today' },
  { id: 'week', label: 'Week' },
  { id: 'month', label: 'Month' },
];
const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

/** The inclusive days of a preset as the API counts them (week = the last 7 days incl. today, month = 30). */
export function presetDays(p: RangePreset, now = new Date()): { from: string; to: string } {
  const back = p === 'today' ? 0 : p === 'week' ? 6 : 29;
  return { from: isoDay(-back, now), to: isoDay(0, now) };
}

export function readSupportQuery(search: string, now = new Date()): SupportQuery {
  const s = new URLSearchParams(search);
  const channel = s.get('channel') ?? '';
  const filters = {
    agent: s.get('agent') ?? '',
    team: s.get('team') ?? '',
    channel: ((CHANNELS as string[]).includes(channel) ? channel : '') as Channel | '',
  };
  const range = s.get('range');
  const from = s.get('from');
  const to = s.get('to');
  if (!range && from && to && DAY_RE.test(from) && DAY_RE.test(to) && from <= to) return { preset: null, from, to, ...filters };
  const preset = PRESETS.some((p) => p.id === range) ? (range as RangePreset) : 'today';
  return { preset, ...presetDays(preset, now), ...filters };
}

/** The URL query of a page query; the defaults (today, no filters) are left out. */
export function supportSearch(q: SupportQuery): string {
  const s = new URLSearchParams();
  if (q.preset && q.preset !== 'today') s.set('range', q.preset);
  if (!q.preset) {
    s.set('from', q.from);
    s.set('to', q.to);
  }
  if (q.agent) s.set('agent', q.agent);
  if (q.team) s.set('team', q.team);
  if (q.channel) s.set('channel', q.channel);
  const str = s.toString();
  return str ? `?${str}` : '';
}

/** The query in the URL, and how to change it (replacing the history entry, like the other screens). */
export function useSupportQuery(): [SupportQuery, (q: SupportQuery) => void] {
  const [search, setSearch] = useState(location.search);
  useEffect(() => {
    const on = () => setSearch(location.search);
    window.addEventListener('popstate', on);
    return () => window.removeEventListener('popstate', on);
  }, []);
  const q = readSupportQuery(search);
  return [q, (next) => navigate(location.pathname + supportSearch(next), true)];
}

/**
 * The Inbox link of a drill-down, in the Inbox's own URL filters (screens/Inbox
 * `readInboxFilters`): `assignee` (`me` for the caller, else the agent's
 * account id), `channel`, `status`, and a heatmap cell (`created_from`,
 * `created_to`, `created_dow`, `created_hour`: created on that local weekday
 * and hour within the page's days). The Inbox has no team filter, so the
 * team narrows nothing there.
 */
export function inboxLink(opts: {
  agent?: string | null;
  me?: string;
  channel?: Channel | '';
  status?: 'open' | 'pending' | 'resolved';
  created?: CreatedCell;
}): string {
  const s = new URLSearchParams();
  if (opts.status && opts.status !== 'open') s.set('status', opts.status);
  if (opts.agent) s.set('assignee', opts.agent === opts.me ? 'me' : opts.agent);
  if (opts.channel) s.set('channel', opts.channel);
  if (opts.created) {
    s.set('created_from', opts.created.from);
    s.set('created_to', opts.created.to);
    s.set('created_dow', String(opts.created.dow));
    s.set('created_hour', String(opts.created.hour));
  }
  const str = s.toString();
  return `/inbox${str ? `?${str}` : ''}`;
}
