// Small building blocks: skeletons, empty states, error banners, the modal.
import { useEffect, useRef, type ReactNode } from 'react';

export function Skeleton({ height = 16, width = '100%', label }: { height?: number; width?: number | string; label?: string }) {
  return <div className="skeleton" style={{ height, width }} aria-label={label} role={label ? 'status' : undefined} />;
}

export function ErrorBanner({ error, onRetry }: { error: Error; onRetry?: () => void }) {
  return (
    <div className="banner banner-error" role="alert">
      <span>{error.message}</span>
      {onRetry && (
        <button type="button" className="btn btn-small" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <strong>{title}</strong>
      {children && <div className="empty-hint">{children}</div>}
    </div>
  );
}

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/** A dialog that keeps focus inside, closes on Esc and on the backdrop, and gives focus back. */
export function Modal({ title, onClose, children, wide }: { title: string; onClose: () => void; children: ReactNode; wide?: boolean }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    const first = box.current?.querySelector<HTMLElement>(FOCUSABLE);
    (first ?? box.current)?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        onClose();
        return;
      }
      if (e.key !== 'Tab' || !box.current) return;
      const items = Array.from(box.current.querySelectorAll<HTMLElement>(FOCUSABLE));
      if (items.length === 0) {
        e.preventDefault();
        return;
      }
      const firstItem = items[0];
      const last = items[items.length - 1];
      if (e.shiftKey && (document.activeElement === firstItem || !box.current.contains(document.activeElement))) {
        e.preventDefault();
        last.focus();
      } else if (!e.shiftKey && document.activeElement === last) {
        e.preventDefault();
        firstItem.focus();
      }
    };
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('keydown', onKey);
      opener?.focus?.();
    };
  }, [onClose]);
  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div className={`modal ${wide ? 'modal-wide' : ''}`} role="dialog" aria-modal="true" aria-label={title} ref={box} tabIndex={-1}>
        <div className="modal-head">
          <h2>{title}</h2>
          <button type="button" className="btn btn-ghost" onClick={onClose} aria-label="Close">
            ✕
          </button>
        </div>
        <div className="modal-body">{children}</div>
      </div>
    </div>
  );
}

export function DeviceIcon({ device }: { device: string | null }) {
  const kind = (device ?? 'unknown').toLowerCase();
  const label = kind === 'unknown' ? 'Unknown device' : kind[0].toUpperCase() + kind.slice(1);
  const path =
    kind === 'mobile'
      ? 'M7 2h10a1 1 0 0 1 1 1v18a1 1 0 0 1-1 1H7a1 1 0 0 1-1-1V3a1 1 0 0 1 1-1zm1 2v14h8V4H8zm4 15.5a1 1 0 1 0 0 .01z'
      : kind === 'tablet'
        ? 'M5 2h14a1 1 0 0 1 1 1v18a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1V3a1 1 0 0 1 1-1zm1 2v14h12V4H6z'
        : 'M3 4h18a1 1 0 0 1 1 1v11a1 1 0 0 1-1 1h-7v2h3v2H7v-2h3v-2H3a1 1 0 0 1-1-1V5a1 1 0 0 1 1-1zm1 2v9h16V6H4z';
  return (
    <span className="icon" title={label} aria-label={label} role="img">
      <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true">
        <path d={path} fill="currentColor" />
      </svg>
    </span>
  );
}

const BROWSER_COLORS: Record<string, string> = {
  chrome: '#1a73e8',
  firefox: '#e66000',
  safari: '#0fb5ee',
  edge: '#0078d7',
  opera: '#cc0f16',
};

export function BrowserIcon({ browser }: { browser: string | null }) {
  const name = browser ?? 'Unknown';
  const color = BROWSER_COLORS[name.toLowerCase()] ?? '#8a8f98';
  return (
    <span className="icon" title={name} aria-label={name} role="img">
      <svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true">
        <circle cx="8" cy="8" r="7" fill={color} />
        <text x="8" y="11.5" textAnchor="middle" fontSize="9" fontWeight="700" fill="#fff">
          {name[0]?.toUpperCase()}
        </text>
      </svg>
    </span>
  );
}
