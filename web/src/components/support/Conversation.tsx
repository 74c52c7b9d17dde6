// Conversation effectiveness: conversations per agent (bars; a click opens
// that agent's conversations in the Inbox), response time over time (line),
// resolved vs open (pie) and SLA compliance (a semicircle gauge).
import { Bar, BarChart, CartesianGrid, Cell, Line, LineChart, Pie, PieChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { ConversationEffectiveness } from '../../api/support';
import { fmtDuration, fmtInt } from '../../lib/format';
import { navigate } from '../../lib/router';
import { daysBetween, pct, stampLabel } from './format';
import { Figure } from './Section';

export const isEmptyConversation = (d: ConversationEffectiveness) =>
  d.conversations_per_agent.length === 0 && d.resolved_vs_open.resolved + d.resolved_vs_open.open === 0 &&
  d.avg_response_time_over_time.every((p) => !p.avg_seconds);

/** The SLA gauge: the compliant share of conversations a policy applied to, as half a ring. */
export function SlaGauge({ value }: { value: number }) {
  const v = Math.max(0, Math.min(100, Number.isFinite(value) ? value : 0));
  const tone = v >= 95 ? 'good' : v >= 80 ? 'warning' : 'critical';
  return (
    <div className={`gauge gauge-${tone}`} role="meter" aria-label="SLA compliance" aria-valuemin={0} aria-valuemax={100} aria-valuenow={v} data-testid="sla-gauge" data-tone={tone}>
      <PieChart width={220} height={120}>
        <Pie
          data={[{ v }, { v: 100 - v }]}
          dataKey="v"
          startAngle={180}
          endAngle={0}
          cx={110}
          cy={110}
          innerRadius={70}
          outerRadius={100}
          stroke="none"
          isAnimationActive={false}
        >
          <Cell fill={`var(--gauge-${tone})`} />
          <Cell fill="var(--border)" />
        </Pie>
      </PieChart>
      <div className="gauge-value">{pct(value)}</div>
    </div>
  );
}

export function ConversationSection({ data, tz, from, to, agentLink }: {
  data: ConversationEffectiveness;
  tz?: string;
  from: string;
  to: string;
  /** The Inbox link of an agent's conversations (the drill-down). */
  agentLink: (agentId: string) => string;
}) {
  const oneDay = daysBetween(from, to).length <= 1;
  const line = data.avg_response_time_over_time.map((p) => ({
    label: stampLabel(p.timestamp, tz, oneDay ? 'hour' : 'day'),
    minutes: Math.round((p.avg_seconds / 60) * 10) / 10,
  }));
  const rvo = data.resolved_vs_open;
  const sla = data.sla_compliance;
  const bars = data.conversations_per_agent.map((a) => ({ ...a, name: a.agent_name || a.agent_id }));
  return (
    <div className="support-grid">
      <div className="support-chart" aria-label="Conversations per agent">
        <h3>Conversations per agent</h3>
        {bars.length === 0 ? (
          <p className="muted small">No conversation was handled by an agent.</p>
        ) : (
          <>
            <ResponsiveContainer width="100%" height={220}>
              <BarChart data={bars} margin={{ top: 8, right: 8, left: 0, bottom: 0 }}>
                <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" vertical={false} />
                <XAxis dataKey="name" tick={{ fontSize: 11 }} interval={0} />
                <YAxis tick={{ fontSize: 11 }} width={36} allowDecimals={false} />
                <Tooltip formatter={(v: number) => fmtInt(v)} />
                <Bar
                  dataKey="count"
                  name="Conversations"
                  fill="var(--accent)"
                  cursor="pointer"
                  isAnimationActive={false}
                  onClick={(d: { agent_id?: string }) => d.agent_id && navigate(agentLink(d.agent_id))}
                />
              </BarChart>
            </ResponsiveContainer>
            <p className="muted small">A bar opens that agent's open conversations in the Inbox.</p>
          </>
        )}
      </div>
      <div className="support-chart" aria-label="Response time over time">
        <h3>Avg response time</h3>
        {line.length === 0 ? (
          <p className="muted small">No replies yet.</p>
        ) : (
          <ResponsiveContainer width="100%" height={220}>
            <LineChart data={line} margin={{ top: 8, right: 8, left: 0, bottom: 0 }}>
              <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" vertical={false} />
              <XAxis dataKey="label" tick={{ fontSize: 11 }} minTickGap={12} />
              <YAxis tick={{ fontSize: 11 }} width={36} unit="m" />
              <Tooltip formatter={(v: number) => fmtDuration(v * 60)} />
              <Line type="monotone" dataKey="minutes" name="Avg response" stroke="var(--accent)" strokeWidth={2} dot={false} isAnimationActive={false} />
            </LineChart>
          </ResponsiveContainer>
        )}
      </div>
      <div className="support-chart" aria-label="Resolved vs open">
        <h3>Resolved vs open</h3>
        <div className="pie-row">
          <PieChart width={150} height={150}>
            <Pie data={[{ name: 'Resolved', v: rvo.resolved }, { name: 'Open', v: rvo.open }]} dataKey="v" innerRadius={40} outerRadius={68} stroke="none" isAnimationActive={false}>
              <Cell fill="var(--good)" />
              <Cell fill="var(--warn)" />
            </Pie>
            <Tooltip />
          </PieChart>
          <div className="stack-tight">
            <Figure label="Resolved" value={fmtInt(rvo.resolved)} testId="resolved-count" />
            <Figure label="Open" value={fmtInt(rvo.open)} />
            <Figure label="Resolution rate" value={pct(rvo.percentage)} />
          </div>
        </div>
      </div>
      <div className="support-chart" aria-label="SLA compliance">
        <h3>SLA compliance</h3>
        <SlaGauge value={sla.percentage} />
        <div className="muted small" data-testid="sla-counts">
          {fmtInt(sla.compliant)} within target · {fmtInt(sla.non_compliant)} missed
          {sla.by_kind && (
            <> · misses: first response {fmtInt(sla.by_kind.first_response)}, next response {fmtInt(sla.by_kind.next_response)}, resolution {fmtInt(sla.by_kind.resolution)}</>
          )}
        </div>
      </div>
    </div>
  );
}
