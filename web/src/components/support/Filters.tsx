// The Support page's range (today / week / month / custom days) and its
// agent, team and channel filters. Agents see only their own figures, so
// they get no agent or team filter.
import { useEffect, useState } from 'react';
import type { SupportQuery } from '../../api/support';
import { CHANNELS, type Agent, type Channel } from '../../api/types';
import { PRESETS, presetDays } from '../../lib/supportQuery';
import { CHANNEL_LABEL } from '../inbox/format';

const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

export function SupportFilters({ query, onChange, agents, teams, showPeople }: {
  query: SupportQuery;
  onChange: (q: SupportQuery) => void;
  /** The filter's agents: `GET …/agents`, plus anyone else the figures name (owners and admins holding conversations). */
  agents: Pick<Agent, 'account_id' | 'email'>[];
  teams: { id: string; name: string }[];
  /** Agent and team filters (supervisors and above). */
  showPeople: boolean;
}) {
  const [from, setFrom] = useState(query.from);
  const [to, setTo] = useState(query.to);
  useEffect(() => {
    setFrom(query.from);
    setTo(query.to);
  }, [query.from, query.to]);
  const apply = (f: string, t: string) => {
    if (DAY_RE.test(f) && DAY_RE.test(t) && f <= t) onChange({ ...query, preset: null, from: f, to: t });
  };
  return (
    <div className="support-filters" role="group" aria-label="Range and filters">
      <div className="segmented" role="group" aria-label="Date range">
        {PRESETS.map((p) => (
          <button
            key={p.id}
            type="button"
            className={query.preset === p.id ? 'active' : ''}
            aria-pressed={query.preset === p.id}
            onClick={() => onChange({ ...query, preset: p.id, ...presetDays(p.id) })}
          >
            {p.label}
          </button>
        ))}
        <button type="button" className={query.preset === null ? 'active' : ''} aria-pressed={query.preset === null} onClick={() => apply(from, to)}>
          Custom
        </button>
      </div>
      <label className="date-field">
        <span className="sr-only">Start date</span>
        <input type="date" aria-label="Start date" value={from} max={to || undefined} onChange={(e) => { setFrom(e.target.value); apply(e.target.value, to); }} />
      </label>
      <span className="muted small" aria-hidden="true">–</span>
      <label className="date-field">
        <span className="sr-only">End date</span>
        <input type="date" aria-label="End date" value={to} min={from || undefined} onChange={(e) => { setTo(e.target.value); apply(from, e.target.value); }} />
      </label>
      {from > to && <span className="drop-high small" role="alert">The start is after the end.</span>}
      {showPeople && (
        <>
          <select aria-label="Agent" value={query.agent} onChange={(e) => onChange({ ...query, agent: e.target.value })}>
            <option value="">All agents</option>
            {agents.map((a) => <option key={a.account_id} value={a.account_id}>{a.email}</option>)}
            {query.agent && !agents.some((a) => a.account_id === query.agent) && <option value={query.agent}>Agent {query.agent}</option>}
          </select>
          {(teams.length > 0 || query.team) && (
            <select aria-label="Team" value={query.team} onChange={(e) => onChange({ ...query, team: e.target.value })}>
              <option value="">All teams</option>
              {teams.map((t) => <option key={t.id} value={t.id}>{t.name}</option>)}
              {query.team && !teams.some((t) => t.id === query.team) && <option value={query.team}>{query.team}</option>}
            </select>
          )}
        </>
      )}
      <select aria-label="Channel" value={query.channel} onChange={(e) => onChange({ ...query, channel: e.target.value as Channel | '' })}>
        <option value="">All channels</option>
        {CHANNELS.map((c) => <option key={c} value={c}>{CHANNEL_LABEL[c] ?? c}</option>)}
      </select>
    </div>
  );
}
