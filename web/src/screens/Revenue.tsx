// Revenue: totals, MRR, ARPU and paying people over the chosen range (by
// default the last 12 months, by month; ranges up to 90 days by day),
// revenue by period, by plan, subscription churn. Amounts are minor units of
// the project's reporting currency (docs/api.md, "Revenue").
import { api } from '../api/client';
import type { Project, Revenue as RevenueReport } from '../api/types';
import { Bars, StatCard } from '../components/Insights';
import { DateRange, daysIn, monthStart, useDateRange, type Preset } from '../components/DateRange';
import { Empty, ErrorBanner, Skeleton } from '../components/ui';
import { fmtInt, fmtMoney, fmtPct } from '../lib/format';
import { useAsync } from '../lib/useAsync';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export { monthStart };

const PRESETS: Preset[] = ['7d', '30d', '90d', '12m'];

/** Bars by day for ranges up to 90 days, by month beyond. */
export const intervalFor = (from: string, to: string): 'day' | 'month' => (daysIn(from, to) > 92 ? 'month' : 'day');

const monthLabel = (period: string) => {
  const [y, m] = period.split('-');
  const name = MONTHS[Number(m) - 1];
  return name ? `${name} ${y.slice(2)}` : period;
};

export function isEmptyRevenue(r: RevenueReport): boolean {
  return (
    r.total === 0 && r.refunds === 0 && r.mrr === 0 && r.paying_users === 0 && r.by_plan.length === 0 &&
    r.unconverted.length === 0 && r.unconverted_mrr.length === 0 && r.subscription_churn.active_at_start === 0
  );
}

export function RevenueEmpty() {
  return (
    <Empty title="No revenue yet">
      Revenue comes from reserved <code>payment</code> and <code>subscription</code> events sent from your server to{' '}
      <code>POST /api/v1/track</code> with a secret key (<code>Authorization: Bearer sk_…</code>), e.g.{' '}
      <code>{'{"type":"event","name":"payment","user_id":"u1","props":{"payment_id":"p1","amount":4900,"currency":"USD","plan":"pro"}}'}</code>.
      See “Reserved events” in docs/api.md.
    </Empty>
  );
}

export function RevenueView({ report }: { report: RevenueReport }) {
  const money = (v: number) => fmtMoney(v, report.currency);
  const churn = report.subscription_churn;
  return (
    <>
      <div className="metric-grid">
        <StatCard id="total" title="Total revenue" value={money(report.total)} hint={`net ${money(report.net)} after ${money(report.refunds)} refunds`} />
        <StatCard id="mrr" title="MRR" value={money(report.mrr)} hint="monthly recurring, active subscriptions" />
        <StatCard id="arpu" title="ARPU" value={report.arpu === null ? '–' : money(report.arpu)} hint={`per active person (${fmtInt(report.active_users)})`} />
        <StatCard id="paying" title="Paying users" value={fmtInt(report.paying_users)} hint="paid in the period" />
      </div>
      {(report.unconverted.length > 0 || report.unconverted_mrr.length > 0) && (
        <div className="banner banner-info" role="note" data-testid="unconverted">
          <span>
            Some amounts could not be converted to {report.currency} (no exchange rate) and are not in the totals:{' '}
            {report.unconverted.map((u) => fmtMoney(u.amount, u.currency)).join(', ') || '—'}
            {report.unconverted_mrr.length > 0 && <> · MRR {report.unconverted_mrr.map((u) => fmtMoney(u.amount, u.currency)).join(', ')}</>}
            . Add rates with <code>PUT /api/v1/projects/{'{id}'}/exchange-rates</code> or <code>vibe rates import</code>.
          </span>
        </div>
      )}
      <div className="two-col">
        <section className="card" aria-label={`Revenue by ${report.interval}`}>
          <div className="card-head"><h2>Revenue by {report.interval}</h2><span className="muted small">{report.currency}</span></div>
          <Bars
            label={`Revenue by ${report.interval}`}
            format={money}
            items={report.series.map((s) => ({ key: s.period, label: report.interval === 'month' ? monthLabel(s.period) : s.period.slice(5), value: s.revenue }))}
          />
        </section>
        <section className="card" aria-label="Subscription churn" data-testid="churn">
          <div className="card-head"><h2>Subscription churn</h2></div>
          <div className="metric-value">{fmtPct(churn.rate_pct)}</div>
          <div className="muted small">
            {fmtInt(churn.canceled)} of {fmtInt(churn.active_at_start)} subscriptions active at the start were canceled in the period.
          </div>
        </section>
      </div>
      <section className="card" aria-label="By plan">
        <div className="card-head"><h2>By plan</h2></div>
        {report.by_plan.length === 0 ? (
          <p className="muted small">No plan on any payment or subscription yet (set the <code>plan</code> prop).</p>
        ) : (
          <div className="table-scroll">
            <table className="data-table" data-testid="by-plan">
              <thead>
                <tr><th>Plan</th><th className="num">Revenue</th><th className="num">MRR</th><th className="num">Subscribers</th></tr>
              </thead>
              <tbody>
                {report.by_plan.map((p) => (
                  <tr key={p.plan ?? ''}>
                    <td>{p.plan || <span className="muted">no plan</span>}</td>
                    <td className="num">{money(p.revenue)}</td>
                    <td className="num">{money(p.mrr)}</td>
                    <td className="num">{fmtInt(p.subscribers)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}

export function Revenue({ project }: { project: Project }) {
  const range = useDateRange('12m', PRESETS);
  const interval = intervalFor(range.from, range.to);
  const q = useAsync(() => api.revenue(project.id, range.from, range.to, interval), [project.id, range.from, range.to, interval]);
  return (
    <div className="page">
      <div className="page-head">
        <h1>Revenue</h1>
        <DateRange state={range} />
      </div>
      {q.error ? (
        <ErrorBanner error={q.error} onRetry={q.reload} />
      ) : !q.data ? (
        <>
          <div className="metric-grid">
            {['Total revenue', 'MRR', 'ARPU', 'Paying users'].map((t) => <StatCard key={t} id={t} title={t} value={null} />)}
          </div>
          <section className="card"><Skeleton height={220} label="Loading revenue" /></section>
        </>
      ) : isEmptyRevenue(q.data) ? (
        <section className="card"><RevenueEmpty /></section>
      ) : (
        <RevenueView report={q.data} />
      )}
    </div>
  );
}
