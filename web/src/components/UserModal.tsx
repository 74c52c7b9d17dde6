// One person: profile, traits, first/last seen and their last 20 sessions.
import { api } from '../api/client';
import { displayName, fmtDateTime, fmtDuration } from '../lib/format';
import { navigate } from '../lib/router';
import { useAsync } from '../lib/useAsync';
import { BrowserIcon, DeviceIcon, ErrorBanner, Modal, Skeleton, Empty } from './ui';

export function UserModal({ projectId, uid, onClose }: { projectId: string; uid: string; onClose: () => void }) {
  const q = useAsync(
    () => Promise.all([api.user(projectId, uid), api.userSessions(projectId, uid)]),
    [projectId, uid],
  );
  const user = q.data?.[0];
  const sessions = q.data?.[1].sessions ?? [];
  const who = user ? displayName(user) : null;
  const traits = Object.entries(user?.traits ?? {});
  return (
    <Modal title={who ? who.primary : 'Visitor'} onClose={onClose} wide>
      {q.error ? (
        <ErrorBanner error={q.error} onRetry={q.reload} />
      ) : !user ? (
        <div className="stack">
          <Skeleton height={60} label="Loading profile" />
          <Skeleton height={160} />
        </div>
      ) : (
        <div className="stack" data-testid="user-modal">
          <a
            className="btn btn-small open-contact"
            href={`/people/${encodeURIComponent(user.id)}`}
            onClick={(e) => {
              e.preventDefault();
              onClose();
              navigate(`/people/${encodeURIComponent(user.id)}`);
            }}
          >
            Open contact
          </a>
          <dl className="profile">
            <div><dt>User id</dt><dd>{user.user_id ?? <span className="muted">not identified</span>}</dd></div>
            <div><dt>Anonymous id</dt><dd><code>{user.anonymous_id ?? '—'}</code></dd></div>
            <div><dt>Email</dt><dd>{user.email ?? '—'}</dd></div>
            <div><dt>Name</dt><dd>{user.name ?? '—'}</dd></div>
            <div><dt>Plan</dt><dd>{user.plan ?? '—'}</dd></div>
            <div><dt>First seen</dt><dd>{fmtDateTime(user.first_seen)}</dd></div>
            <div><dt>Last seen</dt><dd>{fmtDateTime(user.last_seen)}</dd></div>
            <div><dt>Activity</dt><dd>{user.total_sessions ?? sessions.length} sessions, {user.total_events} events</dd></div>
          </dl>
          <section>
            <h3>Traits</h3>
            {traits.length === 0 ? (
              <p className="muted small">No traits. Call <code>vibeIdentify(id, {'{'}email, plan{'}'})</code> to add some.</p>
            ) : (
              <table className="traits">
                <tbody>
                  {traits.map(([k, v]) => (
                    <tr key={k}>
                      <th scope="row">{k}</th>
                      <td>{typeof v === 'string' ? v : JSON.stringify(v)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
          <section>
            <h3>Last {Math.min(20, sessions.length)} sessions</h3>
            {sessions.length === 0 ? (
              <Empty title="No sessions recorded" />
            ) : (
              <ol className="sessions">
                {sessions.map((s) => (
                  <li key={s.id} className="session" data-testid="session">
                    <div className="session-head">
                      <span className={`badge ${s.active ? 'badge-good' : ''}`}>{s.active ? 'active' : 'ended'}</span>
                      <span>{fmtDateTime(s.started_at)}</span>
                      <span className="muted">{fmtDuration(s.duration_s)}</span>
                      <DeviceIcon device={s.device} />
                      <BrowserIcon browser={s.browser} />
                      <span className="muted small">{[s.device, s.browser, s.os].filter(Boolean).join(' · ')}</span>
                    </div>
                    <ol className="pages">
                      {s.pages.map((pg, i) => (
                        <li key={i}>
                          <code>{pg.path ?? pg.url ?? '—'}</code>
                          {pg.title && <span className="muted small"> {pg.title}</span>}
                        </li>
                      ))}
                    </ol>
                  </li>
                ))}
              </ol>
            )}
          </section>
        </div>
      )}
    </Modal>
  );
}
