// Campaigns (issue 14 item 7): the list (`/campaigns`), the wizard
// (`/campaigns/new`, `/campaigns/{cid}/edit`) and a campaign's page
// (`/campaigns/{cid}`). Every member reads them; admins and owners — whom the
// API lets write and send campaigns — get the buttons.
import { api } from '../api/client';
import type { Campaign, Project } from '../api/types';
import { canAdminister } from '../api/types';
import { channelName, StatusBadge } from '../components/campaigns/progress';
import { Empty, ErrorBanner, Skeleton } from '../components/ui';
import { fmtDateTime, fmtInt } from '../lib/format';
import { navigate, usePath } from '../lib/router';
import { useAsync } from '../lib/useAsync';
import { CampaignPage } from './CampaignPage';
import { CampaignWizard } from './CampaignWizard';

/** `/campaigns/…` → which view: the list, a new draft, one campaign or its editor. */
export function campaignRoute(path: string): { view: 'list' } | { view: 'new' } | { view: 'page' | 'edit'; cid: string } {
  const rest = path.replace(/^\/campaigns\/?/, '');
  if (!rest) return { view: 'list' };
  if (rest === 'new') return { view: 'new' };
  const [cid, sub] = rest.split('/');
  return { view: sub === 'edit' ? 'edit' : 'page', cid: decodeURIComponent(cid) };
}

const open = (cid: string) => navigate(`/campaigns/${encodeURIComponent(cid)}`);

/**
 * Sent of to-send for a started campaign: the list carries no progress, so a
 * started row asks for its campaign (drafts and scheduled ones have none).
 */
function RowProgress({ project, campaign }: { project: Project; campaign: Campaign }) {
  const q = useAsync(
    () => (campaign.started_at ? api.campaign(project.id, campaign.id) : Promise.resolve(null)),
    [project.id, campaign.id, campaign.started_at],
  );
  if (!campaign.started_at) return <span className="muted">Not started</span>;
  const p = q.data?.progress;
  if (!p) return <span className="muted">…</span>;
  return <span data-testid="row-progress">{fmtInt(p.sent)} / {fmtInt(p.to_send)}</span>;
}

export function CampaignList({ project }: { project: Project }) {
  const me = useAsync(() => api.project(project.id), [project.id]);
  const list = useAsync(() => api.campaigns(project.id), [project.id]);
  const canWrite = canAdminister(me.data?.role ?? 'viewer');
  const campaigns = list.data?.campaigns ?? [];
  const create = () => navigate('/campaigns/new');
  return (
    <div className="page">
      <div className="page-head">
        <h1>Campaigns</h1>
        {canWrite && <button type="button" className="btn btn-primary" onClick={create}>New campaign</button>}
        {me.data && !canWrite && <span className="muted small">Read-only: admins write and send campaigns.</span>}
      </div>
      <section className="card" aria-label="Campaigns">
        {list.error ? (
          <ErrorBanner error={list.error} onRetry={list.reload} />
        ) : !list.data ? (
          <Skeleton height={120} label="Loading campaigns" />
        ) : campaigns.length === 0 ? (
          <Empty title="No campaigns yet">
            A campaign sends a template to the people of a segment, throttled, and tracks each recipient.{' '}
            {canWrite ? (
              <button type="button" className="btn btn-primary btn-small" onClick={create}>Create your first campaign</button>
            ) : 'An admin can create one.'}
          </Empty>
        ) : (
          <div className="table-scroll">
            <table className="data-table" data-testid="campaigns-table">
              <thead>
                <tr><th>Campaign</th><th>Channel</th><th>Status</th><th className="num">Sent / to send</th><th>Created</th></tr>
              </thead>
              <tbody>
                {campaigns.map((c) => (
                  <tr key={c.id} data-testid={`campaign-${c.id}`}>
                    <td>
                      <a href={`/campaigns/${encodeURIComponent(c.id)}`} onClick={(e) => { e.preventDefault(); open(c.id); }}><strong>{c.name}</strong></a>
                      {c.kind === 'direct' && <div className="muted small">Direct send</div>}
                    </td>
                    <td>{channelName(c.channel)}</td>
                    <td><StatusBadge status={c.status} /></td>
                    <td className="num"><RowProgress project={project} campaign={c} /></td>
                    <td className="muted small">{fmtDateTime(c.created_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}

function EditCampaign({ project, cid }: { project: Project; cid: string }) {
  const q = useAsync(() => api.campaign(project.id, cid), [project.id, cid]);
  return (
    <div className="page">
      <h1>Campaigns</h1>
      {q.error ? <ErrorBanner error={q.error} onRetry={q.reload} /> : !q.data ? <Skeleton height={160} label="Loading campaign" /> : <CampaignWizard project={project} campaign={q.data} />}
    </div>
  );
}

export function Campaigns({ project }: { project: Project }) {
  const route = campaignRoute(usePath());
  if (route.view === 'new') return <div className="page"><h1>Campaigns</h1><CampaignWizard project={project} campaign={null} /></div>;
  if (route.view === 'edit') return <EditCampaign key={route.cid} project={project} cid={route.cid} />;
  if (route.view === 'page') return <CampaignPage key={route.cid} project={project} cid={route.cid} />;
  return <CampaignList project={project} />;
}

export default Campaigns;
