// Agent productivity: the agents' table (status and time in status; a row
// opens that agent's conversations in the Inbox), the workload distribution
// and the activity timeline (online / away / offline bands per agent for one
// day of the range, from `GET …/support/agent-activity`).
import { useState } from 'react';
import type { AgentActivity, AgentProductivity } from '../../api/support';
import { toMs } from '../../api/support';
import { fmtDuration, fmtInt } from '../../lib/format';
import { navigate } from '../../lib/router';
import { dayStart, daysBetween, pct } from './format';
import { Figure } from './Section';

export const isEmptyAgents = (d: AgentProductivity) => d.agent_metrics.length === 0;

export function AgentTable({ data, agentLink }: { data: AgentProductivity; agentLink: (agentId: string) => string }) {
  const w = data.workload_distribution;
  return (
    <>
      <div className="support-figures-row">
        <Figure label="Balanced" value={fmtInt(w.balanced)} testId="workload-balanced" />
        <Figure label="Overloaded" value={fmtInt(w.overloaded)} testId="workload-overloaded" />
        <Figure label="Underutilized" value={fmtInt(w.underutilized)} testId="workload-underutilized" />
      </div>
      <div className="table-scroll">
        <table className="data-table" data-testid="agent-table">
          <thead>
            <tr>
              <th>Agent</th><th>Status</th><th className="num">Chats</th><th className="num">Resolved</th>
              <th className="num">Avg handling</th><th className="num">Active</th><th className="num">Idle</th>
            </tr>
          </thead>
          <tbody>
            {data.agent_metrics.map((a) => {
              const href = agentLink(a.agent_id);
              return (
                <tr key={a.agent_id} className="clickable-row" data-testid="agent-row" data-agent={a.agent_id} onClick={() => navigate(href)}>
                  <td>
                    <a href={href} data-testid="agent-link" onClick={(e) => { e.preventDefault(); e.stopPropagation(); navigate(href); }}>
                      {a.agent_name || a.agent_id}
                    </a>
                  </td>
                  <td>
                    <span className={`status-dot status-${a.status}`} aria-hidden="true" /> {a.status}{' '}
                    <span className="muted small">for {fmtDuration(a.status_duration)}</span>
                  </td>
                  <td className="num">{fmtInt(a.chats_handled)}</td>
                  <td className="num">{pct(a.resolution_rate)}</td>
                  <td className="num">{fmtDuration(a.avg_handling_time)}</td>
                  <td className="num">{fmtDuration(a.active_time)}</td>
                  <td className="num">{fmtDuration(a.idle_time)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </>
  );
}

export interface BandBox {
  status: string;
  left: number;
  width: number;
  from: number;
  to: number;
}

/** The bands of `[start, end)` as percentages of that span; bands outside are dropped, cut ones clipped. */
export function bandsWithin(bands: AgentActivity['agents'][number]['bands'], start: number, end: number): BandBox[] {
  const span = end - start;
  const out: BandBox[] = [];
  for (const b of bands) {
    const f = Math.max(start, toMs(b.from));
    const t = Math.min(end, toMs(b.to));
    if (!Number.isFinite(f) || !Number.isFinite(t) || t <= f) continue;
    out.push({ status: b.status, from: f, to: t, left: ((f - start) / span) * 100, width: ((t - f) / span) * 100 });
  }
  return out;
}

const clock = (ms: number, tz?: string) => {
  try {
    return new Date(ms).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', timeZone: tz || undefined });
  } catch {
    return new Date(ms).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });
  }
};

export function ActivityTimeline({ data, from, to, tz }: { data: AgentActivity; from: string; to: string; tz?: string }) {
  const days = daysBetween(from, to);
  const [picked, setPicked] = useState<string | null>(null);
  const day = picked && days.includes(picked) ? picked : days[days.length - 1] ?? from;
  const start = dayStart(day, tz);
  const next = new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  const end = dayStart(next, tz);
  return (
    <div className="timeline" data-testid="activity-timeline">
      <div className="timeline-head">
        <h3>Activity</h3>
        {days.length > 1 && (
          <select aria-label="Day" value={day} onChange={(e) => setPicked(e.target.value)}>
            {days.map((d) => <option key={d} value={d}>{d}</option>)}
          </select>
        )}
        <span className="legend small">
          <span className="band band-online" /> online <span className="band band-away" /> away <span className="band band-offline" /> offline
        </span>
      </div>
      {data.agents.length === 0 ? (
        <p className="muted small">No agent activity recorded.</p>
      ) : (
        <div className="timeline-rows">
          <div className="timeline-scale muted small" aria-hidden="true">
            {[0, 6, 12, 18, 24].map((h) => <span key={h} style={{ left: `${(h / 24) * 100}%` }}>{h}</span>)}
          </div>
          {data.agents.map((a) => (
            <div key={a.agent_id} className="timeline-row" data-testid="timeline-row">
              <div className="timeline-name">{a.agent_name || a.agent_id}</div>
              <div className="timeline-track" role="list" aria-label={`${a.agent_name || a.agent_id} on ${day}`}>
                {bandsWithin(a.bands, start, end).map((b) => (
                  <span
                    key={b.from}
                    role="listitem"
                    className={`band band-${b.status}`}
                    style={{ left: `${b.left}%`, width: `${b.width}%` }}
                    title={`${b.status} ${clock(b.from, tz)}–${clock(b.to, tz)}`}
                    aria-label={`${b.status} ${clock(b.from, tz)}–${clock(b.to, tz)}`}
                  />
                ))}
              </div>
            </div>
          ))}
        </div>
      )}
    </div>
  );
}
