// WhatsApp performance: the delivery funnel (sent ≥ delivered ≥ read, plus
// failed) as stepped bars, broadcast success, the queue depth, the sessions
// and the latest failed messages.
import type { WhatsAppPerformance } from '../../api/support';
import { fmtDateTime, fmtInt } from '../../lib/format';
import { toMs } from '../../api/support';
import { pct } from './format';
import { Figure } from './Section';

export const isEmptyWhatsApp = (d: WhatsAppPerformance) => {
  const f = d.message_funnel;
  return f.sent + f.delivered + f.read + f.failed === 0 && d.broadcast_success_rate.total === 0 &&
    d.failed_messages.length === 0 && d.active_sessions.length === 0 && d.queue_metrics.depth === 0;
};

/** Minutes to drain the queue at the current rate; the indicator's colour. */
export function queueTone(depth: number, perMinute: number): 'good' | 'warning' | 'critical' {
  if (depth === 0) return 'good';
  if (perMinute <= 0) return 'critical';
  const minutes = depth / perMinute;
  return minutes <= 1 ? 'good' : minutes <= 5 ? 'warning' : 'critical';
}

export function DeliveryFunnel({ funnel }: { funnel: WhatsAppPerformance['message_funnel'] }) {
  const steps = [
    { key: 'sent', label: 'Sent', value: funnel.sent },
    { key: 'delivered', label: 'Delivered', value: funnel.delivered },
    { key: 'read', label: 'Read', value: funnel.read },
  ];
  const top = Math.max(1, funnel.sent, funnel.delivered, funnel.read);
  return (
    <div className="dfunnel" role="list" aria-label="Message delivery funnel">
      {steps.map((s, i) => (
        <div key={s.key} className="dfunnel-row" role="listitem" aria-label={`${s.label}: ${fmtInt(s.value)}`} data-testid={`funnel-${s.key}`}>
          <span className="dfunnel-label">{s.label}</span>
          <span className="dfunnel-track"><span className="dfunnel-fill" style={{ width: `${(s.value / top) * 100}%` }} /></span>
          <span className="dfunnel-value">
            {fmtInt(s.value)}
            {i > 0 && steps[i - 1].value > 0 && <span className="muted small"> {pct((s.value / steps[i - 1].value) * 100)}</span>}
          </span>
        </div>
      ))}
      <div className="dfunnel-row dfunnel-failed" role="listitem" aria-label={`Failed: ${fmtInt(funnel.failed)}`} data-testid="funnel-failed">
        <span className="dfunnel-label">Failed</span>
        <span className="dfunnel-track"><span className="dfunnel-fill" style={{ width: `${(funnel.failed / top) * 100}%` }} /></span>
        <span className="dfunnel-value">{fmtInt(funnel.failed)}</span>
      </div>
    </div>
  );
}

export function QueueDepth({ depth, rate }: { depth: number; rate: number }) {
  const tone = queueTone(depth, rate);
  // The bar fills at ten minutes of backlog.
  const fill = depth === 0 ? 0 : rate > 0 ? Math.min(100, (depth / rate / 10) * 100) : 100;
  return (
    <div className={`queue queue-${tone}`} data-testid="queue-depth" data-tone={tone}>
      <div className="muted small">Queue depth</div>
      <div className="support-figure-value">{fmtInt(depth)}</div>
      <div className="queue-track" role="meter" aria-label="Queue backlog" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(fill)}>
        <span className="queue-fill" style={{ width: `${fill}%` }} />
      </div>
      <div className="muted small">{fmtInt(rate)} / min processed{depth > 0 && rate > 0 ? ` · ≈ ${Math.ceil(depth / rate)} min to clear` : ''}</div>
    </div>
  );
}

export function WhatsAppSection({ data }: { data: WhatsAppPerformance }) {
  const b = data.broadcast_success_rate;
  return (
    <div className="support-grid">
      <div className="support-chart">
        <h3>Message delivery</h3>
        <DeliveryFunnel funnel={data.message_funnel} />
      </div>
      <div className="support-chart figures">
        <Figure label="Broadcast success" value={pct(b.percentage)} hint={`${fmtInt(b.successful)} of ${fmtInt(b.total)} · ${fmtInt(b.failed)} failed`} testId="broadcast-success" />
        <QueueDepth depth={data.queue_metrics.depth} rate={data.queue_metrics.processing_rate} />
        <div>
          <div className="muted small">Sessions</div>
          {data.active_sessions.length === 0 ? (
            <div className="muted small">No WhatsApp number connected.</div>
          ) : (
            <ul className="plain-list small">
              {data.active_sessions.map((s) => (
                <li key={s.session_id}>
                  <span className={`status-dot status-${s.status === 'connected' ? 'online' : s.status === 'reconnecting' ? 'away' : 'offline'}`} aria-hidden="true" /> {s.phone_number}{' '}
                  <span className="muted">{s.status} · {fmtDateTime(toMs(s.last_seen))}</span>
                </li>
              ))}
            </ul>
          )}
        </div>
      </div>
      <div className="support-wide">
        <h3>Failed messages</h3>
        {data.failed_messages.length === 0 ? (
          <p className="muted small">No failed message in this period.</p>
        ) : (
          <div className="table-scroll">
            <table className="data-table" data-testid="failed-messages">
              <thead><tr><th>When</th><th>Recipient</th><th>Error</th></tr></thead>
              <tbody>
                {data.failed_messages.map((m) => (
                  <tr key={m.id}>
                    <td>{fmtDateTime(toMs(m.timestamp))}</td>
                    <td>{m.recipient}</td>
                    <td className="drop-high">{m.error}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </div>
  );
}
