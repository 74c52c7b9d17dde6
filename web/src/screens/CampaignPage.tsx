// One campaign (issue 14 item 7): its settings, the actions its state allows
// (admins), the live progress — polled every 2 s while it is sending — with
// every count by outcome and skip reason, and its recipients by status with
// the API's cursor, and what recipients did with it (`…/stats`: delivered,
// opened, clicked, bounced, unsubscribed, with their rates).
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, ApiError } from '../api/client';
import type { Campaign, CampaignRecipient, CampaignStats, CampaignStatus, MessageTemplate, Project, RecipientStatus } from '../api/types';
import { canAdminister } from '../api/types';
import { channelName, ProgressBar, ProgressCounts, StatusBadge } from '../components/campaigns/progress';
import { Empty, ErrorBanner, Skeleton } from '../components/ui';
import { fmtDateTime, fmtInt } from '../lib/format';
import { navigate } from '../lib/router';
import { useAsync } from '../lib/useAsync';
import { usePolling } from '../lib/usePolling';
import { TestSend } from './CampaignWizard';
import { BUILTIN_SEGMENTS } from './People';

export const POLL_MS = 2000;
/** A scheduled campaign is looked at now and then, so the page notices when it starts. */
export const SCHEDULED_POLL_MS = 15_000;

type Action = 'send' | 'pause' | 'resume' | 'cancel' | 'edit' | 'delete';

/** What each state allows (docs/campaigns.md, "States"). */
export function actionsFor(c: Pick<Campaign, 'status' | 'kind'>): Action[] {
  const editable = c.kind !== 'direct';
  const by: Record<CampaignStatus, Action[]> = {
    draft: [...(editable ? (['edit'] as Action[]) : []), 'send', 'cancel', 'delete'],
    scheduled: [...(editable ? (['edit'] as Action[]) : []), 'cancel'],
    sending: ['pause', 'cancel'],
    paused: ['resume', 'cancel'],
    sent: ['delete'],
    cancelled: ['delete'],
  };
  return by[c.status] ?? [];
}

const RECIPIENT_STATUSES: { value: RecipientStatus | ''; label: string }[] = [
  { value: '', label: 'All' },
  { value: 'sent', label: 'Sent' },
  { value: 'queued', label: 'Queued' },
  { value: 'claimed', label: 'Sending now' },
  { value: 'failed', label: 'Failed' },
  { value: 'unknown', label: 'Unknown' },
  { value: 'skipped', label: 'Skipped' },
  { value: 'cancelled', label: 'Cancelled' },
];

function Recipients({ project, campaign, refreshKey }: { project: Project; campaign: Campaign; refreshKey: number }) {
  const [status, setStatus] = useState<RecipientStatus | ''>('');
  const [rows, setRows] = useState<CampaignRecipient[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<Error | null>(null);
  const call = useRef(0);
  const load = useCallback(
    (after: string | null) => {
      const mine = ++call.current;
      setLoading(true);
      setError(null);
      api.campaignRecipients(project.id, campaign.id, status, after).then(
        (r) => {
          if (mine !== call.current) return;
          setRows((old) => (after ? [...old, ...r.recipients] : r.recipients));
          setCursor(r.next_cursor);
          setLoading(false);
        },
        (e: Error) => {
          if (mine !== call.current) return;
          setError(e);
          setLoading(false);
        },
      );
    },
    [project.id, campaign.id, status],
  );
  // The first page again when the filter changes or the campaign moved on.
  useEffect(() => load(null), [load, refreshKey]);
  return (
    <section className="card stack" aria-label="Recipients">
      <div className="card-head">
        <h2>Recipients</h2>
        <select aria-label="Recipient status" value={status} onChange={(e) => setStatus(e.target.value as RecipientStatus | '')}>
          {RECIPIENT_STATUSES.map((s) => <option key={s.value} value={s.value}>{s.label}</option>)}
        </select>
      </div>
      {error && <ErrorBanner error={error} onRetry={() => load(null)} />}
      {!error && rows.length === 0 && (loading ? <Skeleton height={60} label="Loading recipients" /> : (
        <Empty title={campaign.started_at ? 'No recipients with this status' : 'No recipients yet'}>
          {campaign.started_at ? null : 'Recipients are taken from the segment when sending starts.'}
        </Empty>
      ))}
      {rows.length > 0 && (
        <div className="table-scroll">
          <table className="data-table" data-testid="recipients-table">
            <thead>
              <tr><th>Person</th><th>Address</th><th>Status</th><th className="num">Attempts</th><th>Sent</th><th>Detail</th></tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.person_id}>
                  <td><a href={`/people/${encodeURIComponent(r.person_id)}`} onClick={(e) => { e.preventDefault(); navigate(`/people/${encodeURIComponent(r.person_id)}`); }}>{r.person_id}</a></td>
                  <td>{r.address ?? <span className="muted">—</span>}</td>
                  <td><span className={`badge recipient-${r.status}`}>{r.status}</span></td>
                  <td className="num">{fmtInt(r.attempts)}</td>
                  <td className="muted small">{fmtDateTime(r.sent_at)}</td>
                  <td className="muted small">{r.skip_reason ? `skipped: ${r.skip_reason.replace('_', ' ')}` : r.error ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {cursor && (
        <div className="row">
          <button type="button" className="btn" disabled={loading} onClick={() => load(cursor)}>{loading ? 'Loading…' : 'Load more'}</button>
        </div>
      )}
    </section>
  );
}

const pct = (rate: number | null) => (rate === null ? '–' : `${(rate * 100).toFixed(1)}%`);

/** The sent → delivered → opened → clicked funnel and the other outcomes,
 * each count with its rate (docs/campaigns.md, "Stats"). */
export function StatsView({ stats }: { stats: CampaignStats }) {
  const { counts: n, rates: r } = stats;
  const cells: [string, number, string | null][] = [
    ['Sent', n.sent, null],
    ['Delivered', n.delivered, pct(r.delivery)],
    ['Opened', n.opened, pct(r.open)],
    ['Clicked', n.clicked, pct(r.click)],
    ['Click-to-open', n.clicked, pct(r.click_to_open)],
    ['Bounced', n.bounced, pct(r.bounce)],
    ['Unsubscribed', n.unsubscribed, pct(r.unsubscribe)],
  ];
  return (
    <>
      <dl className="count-grid" data-testid="campaign-stats">
        {cells.map(([label, count, rate]) => (
          <div key={label} className="count-cell">
            <dt className="muted small">{label}</dt>
            <dd>{fmtInt(count)}{rate !== null && <span className="muted small"> {rate}</span>}</dd>
          </div>
        ))}
      </dl>
      {n.opened_machine > 0 && (
        <p className="muted small">{fmtInt(n.opened_machine)} of the opens came first from a machine (a mail proxy or within seconds of sending); they are counted, and marked.</p>
      )}
    </>
  );
}

function Stats({ project, campaign, refreshKey }: { project: Project; campaign: Campaign; refreshKey: number }) {
  const q = useAsync(() => api.campaignStats(project.id, campaign.id), [project.id, campaign.id, refreshKey]);
  if (q.error) return <ErrorBanner error={q.error} onRetry={q.reload} />;
  if (!q.data) return <Skeleton height={60} />;
  return <StatsView stats={q.data} />;
}

const ACTION_LABEL: Record<Exclude<Action, 'edit' | 'delete'>, string> = { send: 'Send', pause: 'Pause', resume: 'Resume', cancel: 'Cancel campaign' };

export function CampaignPage({ project, cid }: { project: Project; cid: string }) {
  const me = useAsync(() => api.project(project.id), [project.id]);
  const q = useAsync(() => api.campaign(project.id, cid), [project.id, cid]);
  const templates = useAsync(() => api.templates(project.id), [project.id]);
  const segments = useAsync(() => api.segments(project.id), [project.id]);
  const [busy, setBusy] = useState<Action | null>(null);
  // Send (to a whole segment), cancel and delete ask once more before they go.
  const [confirm, setConfirm] = useState<'send' | 'cancel' | 'delete' | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const c = q.data;
  const sending = c?.status === 'sending';
  // Live progress: the campaign again every 2 s while it sends (every 15 s
  // while scheduled, to see it start); the recipients table follows each poll.
  usePolling(
    () => {
      api.campaign(project.id, cid).then((next) => {
        q.setData(next);
        setTick((t) => t + 1);
      }, () => undefined);
    },
    sending ? POLL_MS : SCHEDULED_POLL_MS,
    sending || c?.status === 'scheduled',
  );
  const canAct = canAdminister(me.data?.role ?? 'viewer');

  const act = async (a: Action) => {
    if (!c) return;
    if ((a === 'send' || a === 'cancel' || a === 'delete') && confirm !== a) return setConfirm(a);
    setConfirm(null);
    if (a === 'edit') return navigate(`/campaigns/${encodeURIComponent(c.id)}/edit`);
    setBusy(a);
    setActionError(null);
    try {
      if (a === 'delete') {
        await api.deleteCampaign(project.id, c.id);
        return navigate('/campaigns');
      }
      q.setData(await api.campaignAction(project.id, c.id, a));
      setTick((t) => t + 1);
    } catch (e) {
      setActionError(e instanceof ApiError ? e.message : 'The action failed.');
    } finally {
      setBusy(null);
    }
  };

  if (q.error) return <div className="page"><ErrorBanner error={q.error} onRetry={q.reload} /></div>;
  if (!c) return <div className="page"><Skeleton height={160} label="Loading campaign" /></div>;
  const template: MessageTemplate | undefined = templates.data?.templates.find((t) => t.id === c.template_id);
  const segmentName = BUILTIN_SEGMENTS.find((s) => s.id === c.segment)?.label ?? segments.data?.segments.find((s) => s.id === c.segment)?.name ?? c.segment;
  const allowed = actionsFor(c);
  // `send` of a draft due later schedules it.
  const sendVerb = c.send_at && c.send_at > Date.now() ? 'Schedule' : 'Send';
  const p = c.progress;
  return (
    <div className="page">
      <div className="page-head">
        <div>
          <a className="small" href="/campaigns" onClick={(e) => { e.preventDefault(); navigate('/campaigns'); }}>← Campaigns</a>
          <h1>{c.name} <StatusBadge status={c.status} /></h1>
        </div>
        {canAct && (
          <div className="row" role="group" aria-label="Campaign actions">
            {allowed.includes('edit') && <button type="button" className="btn" onClick={() => act('edit')}>Edit</button>}
            {(['send', 'pause', 'resume'] as const).filter((a) => allowed.includes(a)).map((a) => (
              <button key={a} type="button" className="btn btn-primary" disabled={busy !== null} onClick={() => act(a)}>
                {a !== 'send' ? ACTION_LABEL[a] : confirm === 'send' ? `Confirm ${sendVerb.toLowerCase()}` : sendVerb}
              </button>
            ))}
            {allowed.includes('cancel') && (
              <button type="button" className="btn btn-danger" disabled={busy !== null} onClick={() => act('cancel')}>{confirm === 'cancel' ? 'Confirm cancel' : 'Cancel campaign'}</button>
            )}
            {allowed.includes('delete') && (
              <button type="button" className="btn btn-danger" disabled={busy !== null} onClick={() => act('delete')}>{confirm === 'delete' ? 'Confirm delete' : 'Delete'}</button>
            )}
            {confirm && <button type="button" className="btn" onClick={() => setConfirm(null)}>Back</button>}
          </div>
        )}
      </div>
      {actionError && <div className="banner banner-error" role="alert">{actionError}</div>}
      {c.error && <div className="banner banner-error" role="alert" data-testid="campaign-error">Paused by the sender: {c.error}</div>}
      <section className="card" aria-label="Settings">
        <dl className="count-grid">
          <div className="count-cell"><dt className="muted small">Channel</dt><dd>{channelName(c.channel)}</dd></div>
          <div className="count-cell"><dt className="muted small">Template</dt><dd>{c.kind === 'direct' ? 'Direct send' : template?.name ?? (c.template_id ? '…' : 'Inline content')}</dd></div>
          <div className="count-cell"><dt className="muted small">Segment</dt><dd>{c.kind === 'direct' ? 'Chosen contacts' : segmentName}</dd></div>
          <div className="count-cell"><dt className="muted small">Schedule</dt><dd>{c.send_at ? fmtDateTime(c.send_at) : 'When sent'}</dd></div>
          <div className="count-cell"><dt className="muted small">Throttle</dt><dd>{fmtInt(c.rate_per_minute ?? p?.rate_per_minute ?? 600)}/min</dd></div>
          <div className="count-cell"><dt className="muted small">Started</dt><dd>{fmtDateTime(c.started_at)}</dd></div>
          <div className="count-cell"><dt className="muted small">Finished</dt><dd>{fmtDateTime(c.finished_at)}</dd></div>
        </dl>
      </section>
      <section className="card stack" aria-label="Progress">
        <h2>Progress</h2>
        {!p || !c.started_at ? (
          <Empty title="Not started">The recipients are taken from the segment and counted when sending starts.</Empty>
        ) : (
          <>
            <ProgressBar progress={p} live={sending} />
            <ProgressCounts progress={p} />
          </>
        )}
      </section>
      {c.started_at && (
        <section className="card stack" aria-label="Engagement">
          <h2>Engagement</h2>
          <Stats project={project} campaign={c} refreshKey={tick} />
        </section>
      )}
      {canAct && (c.status === 'draft' || c.status === 'scheduled') && <TestSend project={project} campaign={c} />}
      <Recipients project={project} campaign={c} refreshKey={tick} />
    </div>
  );
}
