// The contact beside the thread: who they are, what they pay, their tags,
// and a link to their Contact page.
import { api } from '../../api/client';
import { useAsync } from '../../lib/useAsync';
import { displayName, fmtDateTime, fmtMoney, fmtInt } from '../../lib/format';
import { navigate } from '../../lib/router';
import { ErrorBanner, Skeleton } from '../ui';

export function ContactSummary({ projectId, uid }: { projectId: string; uid: string }) {
  const q = useAsync(() => api.contact(projectId, uid), [projectId, uid]);
  const href = `/people/${encodeURIComponent(uid)}`;
  const c = q.data;
  const who = c ? displayName(c) : null;
  return (
    <aside className="card contact-summary" aria-label="Contact">
      <div className="card-head"><h2>Contact</h2></div>
      {q.error ? (
        <ErrorBanner error={q.error} onRetry={q.reload} />
      ) : !c ? (
        <Skeleton height={96} label="Loading contact" />
      ) : (
        <>
          <strong data-testid="contact-summary-name">{who!.primary}</strong>
          {who!.secondary && <div className="muted small">{who!.secondary}</div>}
          <dl className="profile">
            <div><dt>Email</dt><dd>{c.email ?? '—'}</dd></div>
            <div><dt>Plan</dt><dd>{c.plan ?? '—'}</dd></div>
            <div><dt>Total spent</dt><dd>{fmtMoney(c.total_spent, c.currency)}</dd></div>
            <div><dt>Sessions</dt><dd>{fmtInt(c.total_sessions)}</dd></div>
            <div><dt>Last seen</dt><dd>{fmtDateTime(c.last_seen)}</dd></div>
          </dl>
          {c.tags.length > 0 && (
            <ul className="chips" aria-label="Tags">
              {c.tags.map((t) => <li key={t} className="chip">{t}</li>)}
            </ul>
          )}
        </>
      )}
      <a
        href={href}
        className="small"
        onClick={(e) => {
          e.preventDefault();
          navigate(href);
        }}
      >
        Open contact page →
      </a>
    </aside>
  );
}
