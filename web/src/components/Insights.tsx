// Pieces shared by the revenue, retention and features screens: a plain stat
// card, CSS bars, an SVG sparkline and the range switch. No chart library.
import type { ReactNode } from 'react';
import { Skeleton } from './ui';

export function StatCard({ id, title, value, hint }: { id: string; title: string; value: ReactNode | null; hint?: ReactNode }) {
  return (
    <section className="card metric" aria-label={title} data-testid={`stat-${id}`} aria-busy={value === null}>
      <div className="metric-title">{title}</div>
      {value === null ? (
        <Skeleton height={32} width="60%" label={`Loading ${title}`} />
      ) : (
        <div className="metric-value">{value}</div>
      )}
      {hint && <div className="muted small">{hint}</div>}
    </section>
  );
}

/** Vertical bars, one per item, scaled to the largest. */
export function Bars({ items, label, format }: { items: { key: string; label: string; value: number }[]; label: string; format: (v: number) => string }) {
  const max = Math.max(0, ...items.map((i) => i.value));
  return (
    <div className="bars" role="list" aria-label={label}>
      {items.map((i) => (
        <div className="bar-col" role="listitem" key={i.key} title={`${i.label}: ${format(i.value)}`} aria-label={`${i.label}: ${format(i.value)}`}>
          <div className="bar-track">
            <div className="bar-fill" style={{ height: `${max > 0 ? Math.max(i.value > 0 ? 2 : 0, (i.value / max) * 100) : 0}%` }} />
          </div>
          <div className="bar-label">{i.label}</div>
        </div>
      ))}
    </div>
  );
}

/** A tiny line of daily counts. */
export function Sparkline({ values, label, width = 120, height = 28 }: { values: number[]; label: string; width?: number; height?: number }) {
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(height - 2 - (v / max) * (height - 4)).toFixed(1)}`).join(' ');
  return (
    <svg className="sparkline" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label}>
      <polyline points={points} fill="none" stroke="currentColor" strokeWidth="1.5" strokeLinejoin="round" />
    </svg>
  );
}

export function Segmented<T extends string | number>({ label, options, value, onChange }: { label: string; options: { id: T; label: string }[]; value: T; onChange: (v: T) => void }) {
  return (
    <div className="segmented" role="group" aria-label={label}>
      {options.map((o) => (
        <button key={String(o.id)} type="button" className={o.id === value ? 'active' : ''} aria-pressed={o.id === value} onClick={() => onChange(o.id)}>
          {o.label}
        </button>
      ))}
    </div>
  );
}
