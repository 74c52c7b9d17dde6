// Fixed-row-height virtual scrolling: only the rows in view (plus a few) are in
// the DOM, so thousands of live visitors scroll smoothly.
import { useState, type ReactNode } from 'react';

export interface VirtualRowsProps {
  count: number;
  rowHeight: number;
  /** Height of the scrolling viewport in px. */
  height: number;
  overscan?: number;
  renderRow: (index: number) => ReactNode;
  label: string;
  onNearEnd?: () => void;
}

export function visibleRange(scrollTop: number, height: number, rowHeight: number, count: number, overscan: number) {
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(count, Math.ceil((scrollTop + height) / rowHeight) + overscan);
  return { first, last };
}

export function VirtualRows({ count, rowHeight, height, overscan = 6, renderRow, label, onNearEnd }: VirtualRowsProps) {
  const [scrollTop, setScrollTop] = useState(0);
  const viewport = Math.min(height, Math.max(count, 1) * rowHeight);
  const { first, last } = visibleRange(scrollTop, viewport, rowHeight, count, overscan);
  const rows: ReactNode[] = [];
  for (let i = first; i < last; i++) {
    rows.push(
      <div key={i} className="vrow-slot" style={{ transform: `translateY(${i * rowHeight}px)`, height: rowHeight }}>
        {renderRow(i)}
      </div>,
    );
  }
  return (
    <div
      className="vscroll"
      style={{ height: viewport }}
      role="rowgroup"
      aria-label={label}
      aria-rowcount={count}
      onScroll={(e) => {
        const top = e.currentTarget.scrollTop;
        setScrollTop(top);
        if (onNearEnd && top + viewport >= count * rowHeight - rowHeight * 5) onNearEnd();
      }}
    >
      <div style={{ height: count * rowHeight, position: 'relative' }}>{rows}</div>
    </div>
  );
}
