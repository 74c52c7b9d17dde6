// The five headline cards of the Support page, each with its trend against
// the previous period of the same length; the response-time card is coloured
// by its SLA status (good / warning / critical, decided by the server).
import type { SupportKpi, Trend } from '../../api/support';
import { fmtDuration, fmtInt } from '../../lib/format';
import { ErrorBanner, Skeleton } from '../ui';
import { ARROW, changeLabel, pct, trendTone } from './format';

interface CardDef {
  key: keyof Omit<SupportKpi, 'range' | 'scope'>;
  title: string;
  goodWhenUp: boolean | null;
  format: (v: number) => string;
}

const CARDS: CardDef[] = [
  { key: 'active_conversations', title: 'Active conversations', goodWhenUp: null, format: fmtInt },
  { key: 'avg_response_time', title: 'Avg response time', goodWhenUp: false, format: fmtDuration },
  { key: 'whatsapp_delivery_rate', title: 'WhatsApp delivery rate', goodWhenUp: true, format: (v) => pct(v) },
  { key: 'open_tickets', title: 'Open tickets', goodWhenUp: false, format: fmtInt },
  { key: 'messages_today', title: 'Messages today', goodWhenUp: null, format: fmtInt },
];

const SLA_TEXT = { good: 'Within SLA', warning: 'Near the SLA target', critical: 'Over the SLA target' } as const;

function KpiCard({ def, kpi, live }: { def: CardDef; kpi: SupportKpi; live: boolean }) {
  const t: Trend | undefined = kpi[def.key];
  if (!t) return null;
  const tone = trendTone(t, def.goodWhenUp);
  const sla = def.key === 'avg_response_time' ? kpi.avg_response_time.sla_status : null;
  const prio = def.key === 'open_tickets' ? kpi.open_tickets.by_priority : null;
  return (
    <section
      className={`card metric kpi ${sla ? `sla-${sla}` : ''}`}
      aria-label={def.title}
      data-testid={`kpi-${def.key}`}
      data-sla={sla ?? undefined}
    >
      <div className="metric-title">
        {def.title}
        {live && def.key === 'active_conversations' && <span className="live-dot" title="Live" aria-label="live" />}
      </div>
      <div className="metric-value">{def.format(t.value)}</div>
      <div className={`trend trend-${tone}`} data-trend={t.trend} data-tone={tone}>
        <span aria-hidden="true">{ARROW[t.trend] ?? ARROW.stable}</span> {changeLabel(t)}
        <span className="muted"> vs previous period</span>
      </div>
      {sla && <div className={`sla-badge sla-badge-${sla} small`}>{SLA_TEXT[sla]}</div>}
      {prio && (
        <div className="muted small kpi-prio" data-testid="kpi-by-priority">
          <span className="cprio-urgent">urgent {fmtInt(prio.urgent)}</span> · <span>high {fmtInt(prio.high)}</span> ·{' '}
          <span>medium {fmtInt(prio.medium)}</span> · <span>low {fmtInt(prio.low)}</span>
        </div>
      )}
    </section>
  );
}

export function KpiStrip({ kpi, error, onRetry, live = false }: { kpi: SupportKpi | undefined; error?: Error; onRetry?: () => void; live?: boolean }) {
  if (error && !kpi) return <ErrorBanner error={error} onRetry={onRetry} />;
  return (
    <div className="metric-grid kpi-grid" data-testid="kpi-strip">
      {CARDS.map((def) =>
        kpi ? (
          <KpiCard key={def.key} def={def} kpi={kpi} live={live} />
        ) : (
          <section key={def.key} className="card metric" aria-busy="true">
            <div className="metric-title">{def.title}</div>
            <Skeleton height={32} width="60%" label={`Loading ${def.title}`} />
          </section>
        ),
      )}
    </div>
  );
}
