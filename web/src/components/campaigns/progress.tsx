// The campaign's status badge and its live progress (docs/campaigns.md): the
// bar counts what has an outcome (sent, failed, unknown) against what is to
// be sent (the recipients less the skipped ones); every number shown is one
// the API returned — nothing is estimated here except the ETA the API gives.
import type { CampaignProgress, CampaignStatus, TemplateChannel } from '../../api/types';
import { fmtDuration, fmtInt } from '../../lib/format';

export const STATUS_LABEL: Record<CampaignStatus, string> = {
  draft: 'Draft',
  scheduled: 'Scheduled',
  sending: 'Sending',
  paused: 'Paused',
  sent: 'Sent',
  cancelled: 'Cancelled',
};

export const CAMPAIGN_CHANNELS: { value: TemplateChannel; label: string; sendable: boolean }[] = [
  { value: 'email', label: 'Email', sendable: true },
  { value: 'push', label: 'Web push', sendable: false },
  { value: 'in_app', label: 'In-app', sendable: false },
  { value: 'whatsapp', label: 'WhatsApp', sendable: false },
];
export const channelName = (c: TemplateChannel) => CAMPAIGN_CHANNELS.find((x) => x.value === c)?.label ?? c;

export function StatusBadge({ status }: { status: CampaignStatus }) {
  return <span className={`badge campaign-status status-${status}`} data-testid="campaign-status">{STATUS_LABEL[status] ?? status}</span>;
}

/** Sent and the other outcomes as percentages of what is to be sent (0 when nothing is). */
export function shares(p: CampaignProgress): { sent: number; failed: number; unknown: number } {
  const of = (n: number) => (p.to_send > 0 ? Math.min(100, (n / p.to_send) * 100) : 0);
  return { sent: of(p.sent), failed: of(p.failed), unknown: of(p.unknown) };
}

export function ProgressBar({ progress, live }: { progress: CampaignProgress; live: boolean }) {
  const s = shares(progress);
  return (
    <div className="stack">
      <div
        className="progress"
        role="progressbar"
        aria-label="Sent"
        aria-valuemin={0}
        aria-valuemax={progress.to_send}
        aria-valuenow={progress.sent}
        aria-valuetext={`${fmtInt(progress.sent)} of ${fmtInt(progress.to_send)} sent`}
      >
        <span className="progress-sent" style={{ width: `${s.sent}%` }} />
        <span className="progress-failed" style={{ width: `${s.failed}%` }} />
        <span className="progress-unknown" style={{ width: `${s.unknown}%` }} />
      </div>
      <div className="row small">
        <strong data-testid="progress-sent">{fmtInt(progress.sent)} of {fmtInt(progress.to_send)} sent</strong>
        <span className="muted" data-testid="progress-rate">
          {fmtInt(progress.sent_last_minute)} in the last minute · throttle {fmtInt(progress.rate_per_minute)}/min
        </span>
        {progress.eta_seconds !== null && (
          <span className="muted" data-testid="progress-eta">{live ? 'about ' : ''}{fmtDuration(progress.eta_seconds)} left</span>
        )}
      </div>
    </div>
  );
}

/** Every count of the progress, by outcome and skip reason. */
export function ProgressCounts({ progress }: { progress: CampaignProgress }) {
  const cells: [string, number, string][] = [
    ['Recipients', progress.total, 'total'],
    ['Sent', progress.sent, 'sent'],
    ['Queued', progress.queued + progress.claimed, 'queued'],
    ['Failed', progress.failed, 'failed'],
    ['Unknown outcome', progress.unknown, 'unknown'],
    ['Cancelled', progress.cancelled, 'cancelled'],
    ['Skipped: no address', progress.skipped.no_address, 'skipped-no_address'],
    ['Skipped: unsubscribed', progress.skipped.unsubscribed, 'skipped-unsubscribed'],
    ['Skipped: bounced before', progress.skipped.bounced, 'skipped-bounced'],
  ];
  return (
    <dl className="count-grid">
      {cells.map(([label, n, key]) => (
        <div key={key} className="count-cell" data-testid={`count-${key}`}>
          <dt className="muted small">{label}</dt>
          <dd>{fmtInt(n)}</dd>
        </div>
      ))}
    </dl>
  );
}
