// Features & AI: custom events as features (with a daily sparkline each),
// flows (how often people who start something finish it) and the token usage
// from reserved `ai_usage` events, over the chosen range (default 30 days).
import { api } from '../api/client';
import type { AiUsage, Features, Project } from '../api/types';
import { DateRange, daysIn, useDateRange } from '../components/DateRange';
import { FlowsSection } from '../components/Flows';
import { Bars, Sparkline, StatCard } from '../components/Insights';
import { Empty, ErrorBanner, Skeleton } from '../components/ui';
import { displayName, fmtCompact, fmtInt, fmtPct, fmtUsd } from '../lib/format';
import { useAsync } from '../lib/useAsync';

export function FeaturesTable({ data }: { data: Features }) {
  if (data.features.length === 0)
    return (
      <Empty title="No feature events yet">
        Every custom event is a feature: <code>vibe('track', 'export_pdf')</code> in the browser, or{' '}
        <code>{'{"type":"event","name":"export_pdf","user_id":"u1"}'}</code> to <code>POST /api/v1/track</code> from your server
        (docs/api.md, “Messages”).
      </Empty>
    );
  return (
    <div className="table-scroll">
      <table className="data-table" data-testid="features-table">
        <thead>
          <tr><th>Feature</th><th className="num">Events</th><th className="num">People</th><th className="num">Share of active</th><th>Daily</th></tr>
        </thead>
        <tbody>
          {data.features.map((f) => (
            <tr key={f.name} data-testid={`feature-${f.name}`}>
              <td><code>{f.name}</code></td>
              <td className="num">{fmtInt(f.total)}</td>
              <td className="num">{fmtInt(f.unique_people)}</td>
              <td className="num">{fmtPct(f.share_of_active_pct)}</td>
              <td><Sparkline values={f.daily.map((d) => d.count)} label={`${f.name} per day`} /></td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function AiUsageView({ data }: { data: AiUsage }) {
  if (data.totals.calls === 0)
    return (
      <section className="card">
        <Empty title="No AI usage yet">
          Send a reserved <code>ai_usage</code> event from your server to <code>POST /api/v1/track</code> (secret key) after each
          model call, e.g. <code>{'{"type":"event","name":"ai_usage","user_id":"u1","props":{"model":"gpt-4o","prompt_tokens":120,"completion_tokens":80,"cost_usd":0.0021}}'}</code>.
          See “Reserved events” in docs/api.md.
        </Empty>
      </section>
    );
  const t = data.totals;
  return (
    <>
      <div className="metric-grid">
        <StatCard id="ai-calls" title="AI calls" value={fmtInt(t.calls)} hint={`${fmtInt(data.users_total)} people`} />
        <StatCard id="ai-tokens" title="Total tokens" value={fmtCompact(t.total_tokens)} hint={`${fmtCompact(t.prompt_tokens)} prompt · ${fmtCompact(t.completion_tokens)} completion`} />
        <StatCard id="ai-cost" title="Cost" value={fmtUsd(t.cost_usd)} hint="as reported in cost_usd" />
        <StatCard id="ai-per-call" title="Tokens per call" value={fmtInt(t.calls ? t.total_tokens / t.calls : 0)} />
      </div>
      <div className="two-col">
        <section className="card" aria-label="Tokens per day">
          <div className="card-head"><h2>Tokens per day</h2></div>
          <Bars label="Tokens per day" format={fmtCompact} items={data.daily.map((d) => ({ key: d.day, label: d.day.slice(8), value: d.total_tokens }))} />
        </section>
        <section className="card" aria-label="By model">
          <div className="card-head"><h2>By model</h2></div>
          <div className="table-scroll">
            <table className="data-table" data-testid="by-model">
              <thead><tr><th>Model</th><th className="num">Calls</th><th className="num">Tokens</th><th className="num">Cost</th></tr></thead>
              <tbody>
                {data.by_model.map((m) => (
                  <tr key={m.model}>
                    <td><code>{m.model}</code></td>
                    <td className="num">{fmtInt(m.calls)}</td>
                    <td className="num">{fmtInt(m.total_tokens)}</td>
                    <td className="num">{fmtUsd(m.cost_usd)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      </div>
      <section className="card" aria-label="Top users">
        <div className="card-head"><h2>Top users</h2><span className="muted small">{fmtInt(data.users_total)} people used AI</span></div>
        <div className="table-scroll">
          <table className="data-table" data-testid="by-user">
            <thead><tr><th>Person</th><th className="num">Calls</th><th className="num">Tokens</th><th className="num">Cost</th></tr></thead>
            <tbody>
              {data.by_user.map((u) => {
                const who = displayName(u.user);
                return (
                  <tr key={u.user.id}>
                    <td>{who.primary}{who.secondary && <span className="muted small"> · {who.secondary}</span>}</td>
                    <td className="num">{fmtInt(u.calls)}</td>
                    <td className="num">{fmtInt(u.total_tokens)}</td>
                    <td className="num">{fmtUsd(u.cost_usd)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </section>
    </>
  );
}

export function FeaturesAi({ project }: { project: Project }) {
  const range = useDateRange('30d');
  const features = useAsync(() => api.features(project.id, range.from, range.to), [project.id, range.from, range.to]);
  const ai = useAsync(() => api.aiUsage(project.id, range.from, range.to), [project.id, range.from, range.to]);
  return (
    <div className="page">
      <div className="page-head">
        <h1>Features &amp; AI</h1>
        <DateRange state={range} />
      </div>
      <section className="card" aria-label="Features">
        <div className="card-head">
          <h2>Features</h2>
          {features.data && <span className="muted small">{fmtInt(features.data.active_people)} active people</span>}
        </div>
        {features.error ? (
          <ErrorBanner error={features.error} onRetry={features.reload} />
        ) : !features.data ? (
          <Skeleton height={160} label="Loading features" />
        ) : (
          <FeaturesTable data={features.data} />
        )}
      </section>
      <FlowsSection project={project} days={Math.min(365, daysIn(range.from, range.to))} />
      <h2 className="section-title">AI usage</h2>
      {ai.error ? (
        <ErrorBanner error={ai.error} onRetry={ai.reload} />
      ) : !ai.data ? (
        <section className="card"><Skeleton height={160} label="Loading AI usage" /></section>
      ) : (
        <AiUsageView data={ai.data} />
      )}
    </div>
  );
}
