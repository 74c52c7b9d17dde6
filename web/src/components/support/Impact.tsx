// Automation impact (bot vs human, auto-reply success, drop-off, intents,
// time saved, escalations) and business impact (supervisors and above:
// leads, tickets resolved, campaigns, repeat customers, cost per conversation).
import type { AutomationImpact, BusinessImpact } from '../../api/support';
import { fmtInt, fmtMoney } from '../../lib/format';
import { ARROW, changeLabel, pct, trendTone } from './format';
import { Figure } from './Section';

const money = (minor: number, currency?: string) => (currency ? fmtMoney(minor, currency) : (minor / 100).toFixed(2));

export const isEmptyAutomation = (d: AutomationImpact) =>
  d.chatbot_vs_human.chatbot + d.chatbot_vs_human.human === 0 && d.auto_reply_success.total === 0 && d.top_intents.length === 0 &&
  d.escalation_rate.total === 0;

export function AutomationSection({ data }: { data: AutomationImpact }) {
  const cvh = data.chatbot_vs_human;
  return (
    <>
      <div className="support-figures-row">
        <Figure label="Bot vs human" value={`${fmtInt(cvh.chatbot)} / ${fmtInt(cvh.human)}`} hint={`${pct(cvh.percentage)} by the bot`} testId="bot-vs-human" />
        <Figure label="Auto-reply success" value={pct(data.auto_reply_success.percentage)} hint={`${fmtInt(data.auto_reply_success.successful)} of ${fmtInt(data.auto_reply_success.total)}, not reopened in 24 h`} />
        <Figure label="Drop-off" value={pct(data.drop_off_rate.percentage)} hint={`${fmtInt(data.drop_off_rate.dropped)} of ${fmtInt(data.drop_off_rate.total)}`} />
        <Figure label="Escalated to a human" value={pct(data.escalation_rate.percentage)} hint={`${fmtInt(data.escalation_rate.escalated)} of ${fmtInt(data.escalation_rate.total)}`} />
        <Figure label="Time saved" value={`${data.time_saved.hours.toFixed(1)} h`} hint={`≈ ${money(data.time_saved.estimated_cost, data.time_saved.currency)} of agent time`} testId="time-saved" />
      </div>
      <h3>Top intents</h3>
      {data.top_intents.length === 0 ? (
        <p className="muted small">No intent recorded on a conversation.</p>
      ) : (
        <div className="table-scroll">
          <table className="data-table" data-testid="top-intents">
            <thead><tr><th>Intent</th><th className="num">Conversations</th><th className="num">Success</th></tr></thead>
            <tbody>
              {data.top_intents.map((i) => (
                <tr key={i.intent}><td>{i.intent}</td><td className="num">{fmtInt(i.count)}</td><td className="num">{pct(i.success_rate)}</td></tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

export function BusinessSection({ data }: { data: BusinessImpact }) {
  const leads = data.leads_generated;
  const tone = trendTone(leads, true);
  const cpc = data.cost_per_conversation;
  const repeatTone = trendTone(data.repeat_customer_rate, true);
  return (
    <>
      <div className="support-figures-row">
        <Figure
          label="Leads generated"
          value={fmtInt(leads.value)}
          hint={<span className={`trend-${tone}`} data-trend={leads.trend}>{ARROW[leads.trend] ?? ARROW.stable} {changeLabel(leads)}</span>}
          testId="leads"
        />
        <Figure label="Tickets resolved" value={fmtInt(data.tickets_resolved.today)} hint={`today · ${fmtInt(data.tickets_resolved.week)} this week · ${fmtInt(data.tickets_resolved.month)} this month`} testId="tickets-resolved" />
        <Figure
          label="Repeat customers"
          value={pct(data.repeat_customer_rate.rate)}
          hint={<span className={`trend-${repeatTone}`}>{ARROW[data.repeat_customer_rate.trend] ?? ARROW.stable} {data.repeat_customer_rate.trend}</span>}
        />
        <Figure label="Cost per conversation" value={money(cpc.amount, cpc.currency)} hint={`${money(cpc.savings, cpc.currency)} saved by automation`} testId="cost-per-conversation" />
      </div>
      <h3>Campaign conversion</h3>
      {data.campaign_conversion.length === 0 ? (
        <p className="muted small">No campaign in this period.</p>
      ) : (
        <div className="table-scroll">
          <table className="data-table" data-testid="campaigns">
            <thead><tr><th>Campaign</th><th className="num">Sent</th><th className="num">Responded</th><th className="num">Converted</th><th className="num">Rate</th></tr></thead>
            <tbody>
              {data.campaign_conversion.map((c) => (
                <tr key={c.campaign_id}>
                  <td>{c.campaign_name}</td><td className="num">{fmtInt(c.sent)}</td><td className="num">{fmtInt(c.responded)}</td>
                  <td className="num">{fmtInt(c.converted)}</td><td className="num">{pct(c.conversion_rate)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
