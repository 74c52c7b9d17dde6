// One section of the Support page: its card, and its loading, error, empty
// and "needs a supervisor" (403) states around the content.
import type { ReactNode } from 'react';
import { ApiError } from '../../api/client';
import { Empty, ErrorBanner, Skeleton } from '../ui';

export const isForbidden = (e: unknown) => e instanceof ApiError && e.status === 403;

export function Section<T>({ id, title, state, empty, emptyHint, actions, children }: {
  id: string;
  title: string;
  state: { data: T | undefined; error: Error | undefined; loading?: boolean; reload: () => void };
  /** True when the data has nothing to draw. */
  empty?: (d: T) => boolean;
  emptyHint?: ReactNode;
  actions?: ReactNode;
  children: (d: T) => ReactNode;
}) {
  const { data, error } = state;
  return (
    // While a new range loads, the old figures stay, dimmed.
    <section className={`card support-section ${state.loading && data ? 'is-stale' : ''}`} aria-label={title} aria-busy={state.loading || undefined} data-testid={`support-${id}`}>
      <div className="card-head">
        <h2>{title}</h2>
        {actions}
      </div>
      {error && isForbidden(error) ? (
        <p className="muted small" data-testid={`support-${id}-forbidden`}>Needs a supervisor or above.</p>
      ) : error && !data ? (
        <ErrorBanner error={error} onRetry={state.reload} />
      ) : !data ? (
        <Skeleton height={180} label={`Loading ${title.toLowerCase()}`} />
      ) : empty?.(data) ? (
        <Empty title="Nothing in this period yet">{emptyHint}</Empty>
      ) : (
        children(data)
      )}
    </section>
  );
}

/** A number with a caption, inside a section. */
export function Figure({ label, value, hint, testId }: { label: string; value: ReactNode; hint?: ReactNode; testId?: string }) {
  return (
    <div className="support-figure" data-testid={testId}>
      <div className="muted small">{label}</div>
      <div className="support-figure-value">{value}</div>
      {hint && <div className="muted small">{hint}</div>}
    </div>
  );
}
