// Support (issue 13 item 7): the effectiveness dashboard — the KPI strip and
// six sections from `/api/v1/projects/{id}/support/*`, for a range (today /
// week / month / custom days) and agent, team and channel filters kept in the
// URL. The API scopes every figure to the caller's role (an agent sees their
// own, a supervisor their teams'); business impact and the CSV exports are
// for supervisors and above, so they are not offered below that, and a 403
// there reads as a note, not an error. Realtime: lib/supportLive. Loaded
// lazily with its charts (App.tsx), so the first screen does not carry them.
import { api, ApiError } from '../api/client';
import { supportApi, supportExports, type AgentProductivity, type SectionName, type SupportQuery } from '../api/support';
import type { Account, Agent, Project, Role } from '../api/types';
import { ActivityTimeline, AgentTable, isEmptyAgents } from '../components/support/Agents';
import { ConversationSection, isEmptyConversation } from '../components/support/Conversation';
import { CustomerLoadSection, isEmptyCustomerLoad } from '../components/support/CustomerLoad';
import { SupportFilters } from '../components/support/Filters';
import { AutomationSection, BusinessSection, isEmptyAutomation } from '../components/support/Impact';
import { KpiStrip } from '../components/support/KpiStrip';
import { isForbidden, Section } from '../components/support/Section';
import { isEmptyWhatsApp, WhatsAppSection } from '../components/support/WhatsApp';
import { Empty } from '../components/ui';
import { inboxLink, supportSearch, useSupportQuery } from '../lib/supportQuery';
import { useSupportLive, type LiveSection } from '../lib/supportLive';
import { useAsync, type AsyncState } from '../lib/useAsync';
import './support.css';

/** Supervisors, admins and owners see business impact and may export. */
export const isSupervisorPlus = (role: Role | null | undefined) => role === 'supervisor' || role === 'admin' || role === 'owner';

function useSection<S extends SectionName>(projectId: string, s: S, q: SupportQuery, key: string, enabled = true) {
  return useAsync(
    () => (enabled ? supportApi.section(projectId, s, q) : Promise.reject(new ApiError(403, 'forbidden', 'Needs a supervisor or above.'))),
    [projectId, key, enabled],
  );
}

/** The agents of `GET …/agents` and, after them, anyone else the agent table names. */
export function filterAgents(listed: Agent[], productivity: AgentProductivity | undefined): Pick<Agent, 'account_id' | 'email'>[] {
  const out: Pick<Agent, 'account_id' | 'email'>[] = listed.map((a) => ({ account_id: a.account_id, email: a.email }));
  for (const m of productivity?.agent_metrics ?? [])
    if (!out.some((a) => a.account_id === m.agent_id)) out.push({ account_id: m.agent_id, email: m.agent_name || m.agent_id });
  return out;
}

function CsvLink({ href, label }: { href: string; label: string }) {
  return (
    <a className="btn btn-small" href={href} download data-testid="support-export">
      ⬇ {label}
    </a>
  );
}

export function Support({ project, account, role }: { project: Project; account: Account; role: Role | null }) {
  const [query, setQuery] = useSupportQuery();
  const key = supportSearch(query) || '?';
  const pid = project.id;
  const supervisor = isSupervisorPlus(role);
  const agentRole = role === 'agent';

  const kpi = useAsync(() => supportApi.kpi(pid, query), [pid, key]);
  const conversation = useSection(pid, 'conversation', query, key);
  const whatsapp = useSection(pid, 'whatsapp', query, key);
  const customer = useSection(pid, 'customer', query, key);
  const agent = useSection(pid, 'agent', query, key);
  const automation = useSection(pid, 'automation', query, key);
  const business = useSection(pid, 'business', query, key, supervisor);
  const activity = useAsync(() => supportApi.agentActivity(pid, query), [pid, key]);
  const agents = useAsync(() => api.agents(pid).catch(() => ({ agents: [] })), [pid]);
  const teams = useAsync(() => supportApi.teams(pid).catch(() => ({ teams: [] })), [pid]);

  const noAccess = isForbidden(kpi.error);
  // Each holds the body of its section's route, which is what the feed pushes.
  const byName = { kpi, conversation, whatsapp, customer, agent, automation, business } as Record<LiveSection, Pick<AsyncState<unknown>, 'reload' | 'setData'>>;
  // useSupportLive keeps the latest of these functions. A pushed body is
  // shown as it is; a bare change asks that section again. The activity
  // timeline is never pushed: it is asked again with the agent section.
  const live = useSupportLive(pid, query, {
    refresh: (s) => {
      if (s === 'business' && !supervisor) return;
      byName[s].reload();
      if (s === 'agent') activity.reload();
    },
    apply: (s, data) => {
      if (s === 'business' && !supervisor) return;
      byName[s].setData(data);
      if (s === 'agent') activity.reload();
    },
  }, { enabled: !noAccess });

  const tz = kpi.data?.range?.tz ?? project.timezone;
  const agentLink = (id: string) => inboxLink({ agent: id, me: account.id, channel: query.channel });
  // A cell opens the conversations created in that local weekday and hour of this page's days.
  const cellLink = (dow: number, hour: number) =>
    inboxLink({ agent: query.agent || (agentRole ? account.id : ''), me: account.id, channel: query.channel, created: { from: query.from, to: query.to, dow, hour } });
  const csv = (s: SectionName | 'kpi') => (supervisor ? <CsvLink href={supportExports.section(pid, s, query)} label="CSV" /> : undefined);

  if (noAccess) {
    return (
      <div className="page">
        <div className="page-head"><h1>Support</h1></div>
        <section className="card" data-testid="support-forbidden">
          <Empty title="No access to support analytics">
            Your role in this project is viewer: support figures come from conversations, which viewers do not see. An admin can make you an agent in Settings → Members.
          </Empty>
        </section>
      </div>
    );
  }
  const scope = kpi.data?.scope;
  return (
    <div className="page page-support">
      <div className="page-head">
        <h1>Support</h1>
        <div className="page-actions">
          <span className={`pill ${live ? 'pill-live' : 'pill-polling'}`} role="status" data-testid="support-live" data-live={live}>
            <span className="dot" aria-hidden="true" /> {live ? 'Live' : 'Refreshes every 30 s'}
          </span>
          {supervisor && <CsvLink href={supportExports.conversations(pid, query)} label="Conversations CSV" />}
        </div>
      </div>
      <SupportFilters query={query} onChange={setQuery} agents={filterAgents(agents.data?.agents ?? [], agent.data)} teams={teams.data?.teams ?? []} showPeople={!agentRole} />
      {scope && scope !== 'all' && (
        <p className="muted small" data-testid="support-scope">
          {scope === 'own' ? 'Your own conversations and figures.' : 'The conversations of your teams.'}
        </p>
      )}
      <KpiStrip kpi={kpi.data} error={kpi.error} onRetry={kpi.reload} live={live} />
      <Section id="conversation" title="Conversation effectiveness" state={conversation} empty={isEmptyConversation} actions={csv('conversation')}
        emptyHint="Figures appear once conversations are created and answered in the Inbox.">
        {(d) => <ConversationSection data={d} tz={tz} from={query.from} to={query.to} agentLink={agentLink} />}
      </Section>
      <Section id="whatsapp" title="WhatsApp performance" state={whatsapp} empty={isEmptyWhatsApp} actions={csv('whatsapp')}
        emptyHint="Connect WhatsApp in Settings → Channels; delivery figures follow the messages you send.">
        {(d) => <WhatsAppSection data={d} />}
      </Section>
      <Section id="customer" title="Customer load" state={customer} empty={isEmptyCustomerLoad} actions={csv('customer')}
        emptyHint="No conversation started in this period.">
        {(d) => <CustomerLoadSection data={d} tz={tz} from={query.from} to={query.to} cellLink={cellLink} />}
      </Section>
      <Section id="agent" title="Agent productivity" state={agent} empty={isEmptyAgents} actions={csv('agent')}
        emptyHint="No agent held a conversation in this period.">
        {(d) => (
          <>
            <AgentTable data={d} agentLink={agentLink} />
            {activity.data ? (
              <ActivityTimeline data={activity.data} from={query.from} to={query.to} tz={tz} />
            ) : activity.error ? (
              <p className="muted small" data-testid="activity-unavailable">
                {activity.error instanceof ApiError && activity.error.status === 404 ? 'The activity timeline is not available on this server yet.' : `Activity: ${activity.error.message}`}
              </p>
            ) : null}
          </>
        )}
      </Section>
      <Section id="automation" title="Automation impact" state={automation} empty={isEmptyAutomation} actions={csv('automation')}
        emptyHint="No conversation was handled by the bot in this period.">
        {(d) => <AutomationSection data={d} />}
      </Section>
      {supervisor ? (
        <Section id="business" title="Business impact" state={business} actions={csv('business')}>
          {(d) => <BusinessSection data={d} />}
        </Section>
      ) : null}
    </div>
  );
}

export default Support;
