// Customer load: incoming chats per hour (area), the peak hour, new vs
// returning contacts, wait time at peak vs off-peak hours, and the
// day-of-week × hour heatmap (a CSS grid; a cell opens the Inbox).
import { Area, AreaChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { CustomerLoad } from '../../api/support';
import { fmtDuration, fmtInt } from '../../lib/format';
import { navigate } from '../../lib/router';
import { DAY_NAMES, daysBetween, stampLabel } from './format';
import { Figure } from './Section';

export const isEmptyCustomerLoad = (d: CustomerLoad) =>
  d.incoming_chats_per_hour.every((h) => !h.count) && d.heatmap.every((c) => !c.count) && d.new_vs_returning.new + d.new_vs_returning.returning === 0;

/** 7 × 24 counts (Sunday first) from the sparse cells the API sends. */
export function heatGrid(cells: CustomerLoad['heatmap']): number[][] {
  const grid = Array.from({ length: 7 }, () => Array<number>(24).fill(0));
  for (const c of cells) if (c.day_of_week >= 0 && c.day_of_week < 7 && c.hour >= 0 && c.hour < 24) grid[c.day_of_week][c.hour] += c.count;
  return grid;
}

/** A cell's shade, 0 (none) to 4 (the busiest), by its share of the busiest cell. */
export const heatLevel = (v: number, max: number) => (v <= 0 || max <= 0 ? 0 : Math.min(4, Math.ceil((v / max) * 4)));

export function Heatmap({ cells, cellLink }: { cells: CustomerLoad['heatmap']; cellLink: (day: number, hour: number) => string }) {
  const grid = heatGrid(cells);
  const max = Math.max(0, ...grid.flat());
  // Monday first, as a working week reads.
  const order = [1, 2, 3, 4, 5, 6, 0];
  return (
    <div className="sheat-scroll">
      <div className="sheat" role="grid" aria-label="Chats by day and hour" data-testid="heatmap">
        <div className="sheat-corner" aria-hidden="true" />
        {Array.from({ length: 24 }, (_, h) => (
          <div key={h} className="sheat-hour" aria-hidden="true">{h % 3 === 0 ? h : ''}</div>
        ))}
        {order.map((d) => (
          <div key={d} className="sheat-row" role="row">
            <div className="sheat-day" role="rowheader">{DAY_NAMES[d]}</div>
            {grid[d].map((v, h) => {
              const label = `${DAY_NAMES[d]} ${String(h).padStart(2, '0')}:00: ${fmtInt(v)} chats`;
              const href = cellLink(d, h);
              return (
                <a
                  key={h}
                  role="gridcell"
                  href={href}
                  className={`sheat-cell sheat-${heatLevel(v, max)}`}
                  title={label}
                  aria-label={label}
                  data-testid="heat-cell"
                  data-day={d}
                  data-hour={h}
                  onClick={(e) => {
                    e.preventDefault();
                    navigate(href);
                  }}
                />
              );
            })}
          </div>
        ))}
      </div>
    </div>
  );
}

export function CustomerLoadSection({ data, tz, from, to, cellLink }: {
  data: CustomerLoad;
  tz?: string;
  from: string;
  to: string;
  cellLink: (day: number, hour: number) => string;
}) {
  const oneDay = daysBetween(from, to).length <= 1;
  const area = data.incoming_chats_per_hour.map((h) => ({ label: stampLabel(h.hour, tz, oneDay ? 'hour' : 'datetime'), count: h.count }));
  const nr = data.new_vs_returning;
  return (
    <div className="support-grid">
      <div className="support-chart support-wide-md" aria-label="Incoming chats per hour">
        <h3>Incoming chats per hour</h3>
        <ResponsiveContainer width="100%" height={200}>
          <AreaChart data={area} margin={{ top: 8, right: 8, left: 0, bottom: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" vertical={false} />
            <XAxis dataKey="label" tick={{ fontSize: 11 }} minTickGap={16} />
            <YAxis tick={{ fontSize: 11 }} width={32} allowDecimals={false} />
            <Tooltip />
            <Area type="monotone" dataKey="count" name="Chats" stroke="var(--accent)" fill="var(--accent-weak)" strokeWidth={2} isAnimationActive={false} />
          </AreaChart>
        </ResponsiveContainer>
      </div>
      <div className="support-chart figures">
        <Figure label="Peak hour" value={data.peak_hour.count ? stampLabel(data.peak_hour.hour, tz, oneDay ? 'hour' : 'datetime') : '–'} hint={`${fmtInt(data.peak_hour.count)} chats`} testId="peak-hour" />
        <Figure label="New vs returning" value={`${fmtInt(nr.new)} / ${fmtInt(nr.returning)}`} hint="contacts (returning: talked before)" />
        <Figure label="Avg wait" value={`${fmtDuration(data.avg_wait_time.peak)} peak`} hint={`${fmtDuration(data.avg_wait_time.off_peak)} off-peak`} />
      </div>
      <div className="support-wide">
        <h3>By day and hour</h3>
        <Heatmap cells={data.heatmap} cellLink={cellLink} />
        <p className="muted small">A cell opens the Inbox with the conversations created in that day and hour of this range (and this page's agent and channel).</p>
      </div>
    </div>
  );
}
