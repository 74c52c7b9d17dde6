// The four headline numbers with their week-over-week trend.
import type { Card, Metrics } from '../api/types';
import { fmtInt, trendOf } from '../lib/format';
import { Skeleton } from './ui';

interface CardDef {
  key: keyof Metrics;
  title: string;
  goodWhenUp: boolean;
  format: (v: number) => string;
  hint: string;
}

const CARDS: CardDef[] = [
  { key: 'total_users', title: 'Total Users', goodWhenUp: true, format: fmtInt, hint: 'people ever seen' },
  { key: 'online_now', title: 'Online Now', goodWhenUp: true, format: fmtInt, hint: 'sessions right now' },
  { key: 'new_this_week', title: 'New This Week', goodWhenUp: true, format: fmtInt, hint: 'first seen this week' },
  { key: 'churn_rate', title: 'Churn Rate', goodWhenUp: false, format: (v) => `${v.toFixed(1)}%`, hint: 'active last week, not this week' },
];

const ARROW = { up: '▲', down: '▼', flat: '■' } as const;

export function MetricCard({ def, card, live }: { def: CardDef; card: Card; live?: boolean }) {
  const trend = trendOf(card, def.goodWhenUp);
  return (
    <section className="card metric" aria-label={def.title} data-testid={`metric-${def.key}`}>
      <div className="metric-title">
        {def.title}
        {live && <span className="live-dot" title="Live" aria-label="live" />}
      </div>
      <div className="metric-value">{def.format(card.value)}</div>
      <div className={`trend trend-${trend.tone}`} data-tone={trend.tone}>
        <span aria-hidden="true">{ARROW[trend.direction]}</span> {trend.label}
        <span className="muted"> vs previous week</span>
      </div>
      <div className="muted small">{def.hint}</div>
    </section>
  );
}

export function MetricCards({ metrics, loading, live }: { metrics: Metrics | null | undefined; loading?: boolean; live?: boolean }) {
  return (
    <div className="metric-grid">
      {CARDS.map((def) =>
        metrics ? (
          <MetricCard key={def.key} def={def} card={metrics[def.key]} live={live && def.key === 'online_now'} />
        ) : (
          <section key={def.key} className="card metric" aria-busy={loading}>
            <div className="metric-title">{def.title}</div>
            <Skeleton height={32} width="60%" label={`Loading ${def.title}`} />
            <Skeleton height={12} width="80%" />
          </section>
        ),
      )}
    </div>
  );
}
