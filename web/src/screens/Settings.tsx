// Project settings, funnels, members and personal API tokens.
import { useEffect, useState, type FormEvent } from 'react';
import { api, ApiError } from '../api/client';
import type { Funnel, FunnelStepDef, Project, Role } from '../api/types';
import { canAdminister } from '../api/types';
import { Empty, ErrorBanner, Skeleton } from '../components/ui';
import { fmtDateTime } from '../lib/format';
import { useAsync } from '../lib/useAsync';

const msg = (e: unknown) => (e instanceof ApiError ? e.message : 'Something went wrong.');

function ProjectForm({ project, onSaved }: { project: Project; onSaved: (p: Project) => void }) {
  const [name, setName] = useState(project.name);
  const [timezone, setTimezone] = useState(project.timezone);
  const [windowS, setWindowS] = useState(String(project.online_window_s));
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setName(project.name);
    setTimezone(project.timezone);
    setWindowS(String(project.online_window_s));
  }, [project]);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setStatus(null);
    try {
      const p = await api.updateProject(project.id, { name, timezone, online_window_s: Number(windowS) });
      onSaved(p);
      setStatus('Saved.');
    } catch (err) {
      setError(msg(err));
    }
  };
  return (
    <form className="card form-grid" onSubmit={submit} aria-label="Project">
      <h2>Project</h2>
      <label>
        Name
        <input required value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        Time zone (IANA, e.g. Europe/Amsterdam)
        <input required value={timezone} onChange={(e) => setTimezone(e.target.value)} />
      </label>
      <label>
        Online window (seconds a visitor counts as online after their last heartbeat)
        <input type="number" min={10} max={86400} required value={windowS} onChange={(e) => setWindowS(e.target.value)} />
      </label>
      <div className="row">
        <button className="btn btn-primary" type="submit">Save project</button>
        {status && <span className="muted small" role="status">{status}</span>}
      </div>
      {error && <div className="banner banner-error" role="alert">{error}</div>}
    </form>
  );
}

const blankStep = (): FunnelStepDef => ({ match: 'page', value: '', prefix: false, name: '' });

/** Moves item `i` by `delta` places. */
export function move<T>(list: T[], i: number, delta: number): T[] {
  const j = i + delta;
  if (j < 0 || j >= list.length) return list;
  const next = list.slice();
  [next[i], next[j]] = [next[j], next[i]];
  return next;
}

function FunnelEditor({ projectId, funnel, onDone }: { projectId: string; funnel: Funnel | null; onDone: () => void }) {
  const [name, setName] = useState(funnel?.name ?? '');
  const [windowDays, setWindowDays] = useState(String(funnel?.window_days ?? 7));
  const [steps, setSteps] = useState<FunnelStepDef[]>(funnel?.steps.map((s) => ({ ...s })) ?? [blankStep(), blankStep()]);
  const [error, setError] = useState<string | null>(null);
  const set = (i: number, change: Partial<FunnelStepDef>) => setSteps((s) => s.map((x, k) => (k === i ? { ...x, ...change } : x)));
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    const body = {
      name,
      window_days: Number(windowDays),
      steps: steps.map((s) => ({ match: s.match, value: s.value, prefix: !!s.prefix, ...(s.name ? { name: s.name } : {}) })),
    };
    try {
      if (funnel) await api.updateFunnel(projectId, funnel.id, body);
      else await api.createFunnel(projectId, body);
      onDone();
    } catch (err) {
      setError(msg(err));
    }
  };
  return (
    <form className="funnel-editor" onSubmit={submit} aria-label={funnel ? `Edit ${funnel.name}` : 'New funnel'}>
      <div className="row">
        <label>
          Funnel name
          <input required value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <label>
          Window (days)
          <input type="number" min={1} max={90} value={windowDays} onChange={(e) => setWindowDays(e.target.value)} />
        </label>
      </div>
      <ol className="step-list">
        {steps.map((s, i) => (
          <li key={i} className="step-row">
            <span className="step-no">{i + 1}</span>
            <select aria-label={`Step ${i + 1} kind`} value={s.match} onChange={(e) => set(i, { match: e.target.value as 'page' | 'event' })}>
              <option value="page">Page</option>
              <option value="event">Event</option>
            </select>
            <input aria-label={`Step ${i + 1} value`} required placeholder={s.match === 'page' ? '/pricing' : 'signup_done'} value={s.value} onChange={(e) => set(i, { value: e.target.value })} />
            <input aria-label={`Step ${i + 1} label`} placeholder="Label (optional)" value={s.name ?? ''} onChange={(e) => set(i, { name: e.target.value })} />
            {s.match === 'page' && (
              <label className="check">
                <input type="checkbox" checked={!!s.prefix} onChange={(e) => set(i, { prefix: e.target.checked })} /> prefix
              </label>
            )}
            <button type="button" className="btn btn-small btn-ghost" aria-label={`Move step ${i + 1} up`} disabled={i === 0} onClick={() => setSteps((x) => move(x, i, -1))}>↑</button>
            <button type="button" className="btn btn-small btn-ghost" aria-label={`Move step ${i + 1} down`} disabled={i === steps.length - 1} onClick={() => setSteps((x) => move(x, i, 1))}>↓</button>
            <button type="button" className="btn btn-small btn-ghost" aria-label={`Delete step ${i + 1}`} disabled={steps.length <= 1} onClick={() => setSteps((x) => x.filter((_, k) => k !== i))}>✕</button>
          </li>
        ))}
      </ol>
      <div className="row">
        <button type="button" className="btn btn-small" onClick={() => setSteps((x) => [...x, blankStep()])}>+ Add step</button>
        <button type="submit" className="btn btn-primary">{funnel ? 'Save funnel' : 'Create funnel'}</button>
        <button type="button" className="btn btn-ghost" onClick={onDone}>Cancel</button>
      </div>
      {error && <div className="banner banner-error" role="alert">{error}</div>}
    </form>
  );
}

function Funnels({ projectId, canEdit }: { projectId: string; canEdit: boolean }) {
  const q = useAsync(() => api.funnels(projectId), [projectId]);
  const [editing, setEditing] = useState<Funnel | 'new' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const done = () => {
    setEditing(null);
    q.reload();
  };
  return (
    <section className="card" aria-label="Funnels">
      <div className="card-head">
        <h2>Funnels</h2>
        {canEdit && editing === null && <button type="button" className="btn btn-small" onClick={() => setEditing('new')}>+ New funnel</button>}
      </div>
      {editing === 'new' && <FunnelEditor projectId={projectId} funnel={null} onDone={done} />}
      {q.error ? (
        <ErrorBanner error={q.error} onRetry={q.reload} />
      ) : !q.data ? (
        <Skeleton height={80} label="Loading funnels" />
      ) : q.data.funnels.length === 0 && editing !== 'new' ? (
        <Empty title="No funnels yet">Create one to see where people drop off between, say, pricing, sign-up and purchase.</Empty>
      ) : (
        <ul className="plain-list">
          {q.data.funnels.map((f) =>
            editing !== null && editing !== 'new' && editing.id === f.id ? (
              <li key={f.id}><FunnelEditor projectId={projectId} funnel={f} onDone={done} /></li>
            ) : (
              <li key={f.id} className="list-row">
                <div>
                  <strong>{f.name}</strong>
                  <div className="muted small">
                    {f.steps.map((s) => s.name || s.value).join(' → ')} · within {f.window_days} days
                  </div>
                </div>
                {canEdit && (
                  <div className="row">
                    <button type="button" className="btn btn-small" onClick={() => setEditing(f)}>Edit</button>
                    <button
                      type="button"
                      className="btn btn-small btn-danger"
                      onClick={async () => {
                        if (!confirm(`Delete the funnel “${f.name}”?`)) return;
                        try {
                          await api.deleteFunnel(projectId, f.id);
                          q.reload();
                        } catch (e) {
                          setError(msg(e));
                        }
                      }}
                    >
                      Delete
                    </button>
                  </div>
                )}
              </li>
            ),
          )}
        </ul>
      )}
      {error && <div className="banner banner-error" role="alert">{error}</div>}
    </section>
  );
}

const ROLES: Role[] = ['viewer', 'agent', 'supervisor', 'admin', 'owner'];

function Members({ projectId, role }: { projectId: string; role: Role }) {
  const allowed = canAdminister(role);
  const q = useAsync(() => (allowed ? api.members(projectId) : Promise.resolve({ members: [] })), [projectId, allowed]);
  const [email, setEmail] = useState('');
  const [newRole, setNewRole] = useState<Role>('viewer');
  const [error, setError] = useState<string | null>(null);
  const act = async (f: () => Promise<unknown>) => {
    setError(null);
    try {
      await f();
      q.reload();
      return true;
    } catch (e) {
      setError(msg(e));
      return false;
    }
  };
  const grantable = ROLES.filter((r) => r !== 'owner' || role === 'owner');
  return (
    <section className="card" aria-label="Members">
      <h2>Members</h2>
      {!allowed ? (
        <p className="muted">Only admins and owners can see and manage members.</p>
      ) : q.error ? (
        <ErrorBanner error={q.error} onRetry={q.reload} />
      ) : !q.data ? (
        <Skeleton height={80} label="Loading members" />
      ) : (
        <>
          <ul className="plain-list">
            {q.data.members.map((m) => (
              <li key={m.account_id} className="list-row">
                <div>
                  <strong>{m.email}</strong>
                  <div className="muted small">since {fmtDateTime(m.created_at)}</div>
                </div>
                <div className="row">
                  <select
                    aria-label={`Role of ${m.email}`}
                    value={m.role}
                    disabled={m.role === 'owner' && role !== 'owner'}
                    onChange={(e) => act(() => api.changeRole(projectId, m.account_id, e.target.value as Role))}
                  >
                    {ROLES.filter((r) => grantable.includes(r) || r === m.role).map((r) => (
                      <option key={r} value={r}>{r}</option>
                    ))}
                  </select>
                  <button
                    type="button"
                    className="btn btn-small btn-danger"
                    disabled={m.role === 'owner' && role !== 'owner'}
                    onClick={() => confirm(`Remove ${m.email} from this project?`) && act(() => api.removeMember(projectId, m.account_id))}
                  >
                    Remove
                  </button>
                </div>
              </li>
            ))}
          </ul>
          <form
            className="inline-form"
            onSubmit={async (e) => {
              e.preventDefault();
              if (await act(() => api.addMember(projectId, email, newRole))) setEmail('');
            }}
          >
            <input type="email" required aria-label="Member email" placeholder="colleague@example.com" value={email} onChange={(e) => setEmail(e.target.value)} />
            <select aria-label="New member role" value={newRole} onChange={(e) => setNewRole(e.target.value as Role)}>
              {grantable.map((r) => <option key={r} value={r}>{r}</option>)}
            </select>
            <button className="btn" type="submit">Add member</button>
          </form>
          <p className="muted small">The account must exist already (<code>vibe user create</code>).</p>
        </>
      )}
      {error && <div className="banner banner-error" role="alert">{error}</div>}
    </section>
  );
}

function Tokens() {
  const q = useAsync(() => api.tokens(), []);
  const [name, setName] = useState('');
  const [secret, setSecret] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  return (
    <section className="card" aria-label="API tokens">
      <h2>API tokens</h2>
      <p className="muted">Personal tokens for scripts: <code>Authorization: Bearer vbt_…</code>. They act as you.</p>
      {secret && (
        <div className="banner banner-info" role="status">
          <div>Copy this token now — it is shown only once:</div>
          <code className="secret" data-testid="token-secret">{secret}</code>
          <button type="button" className="btn btn-small" onClick={() => setSecret(null)}>Done</button>
        </div>
      )}
      {q.error ? (
        <ErrorBanner error={q.error} onRetry={q.reload} />
      ) : !q.data ? (
        <Skeleton height={60} label="Loading tokens" />
      ) : q.data.tokens.length === 0 ? (
        <p className="muted small">No tokens yet.</p>
      ) : (
        <ul className="plain-list">
          {q.data.tokens.map((t) => (
            <li key={t.id} className="list-row">
              <div>
                <strong>{t.name}</strong> <code>{t.prefix}…</code>
                <div className="muted small">
                  created {fmtDateTime(t.created_at)} · last used {fmtDateTime(t.last_used_at)}
                  {t.revoked_at ? ` · revoked ${fmtDateTime(t.revoked_at)}` : ''}
                </div>
              </div>
              {!t.revoked_at && (
                <button
                  type="button"
                  className="btn btn-small btn-danger"
                  onClick={async () => {
                    try {
                      await api.revokeToken(t.id);
                      q.reload();
                    } catch (e) {
                      setError(msg(e));
                    }
                  }}
                >
                  Revoke
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      <form
        className="inline-form"
        onSubmit={async (e) => {
          e.preventDefault();
          setError(null);
          try {
            const r = await api.createToken(name);
            setSecret(r.secret);
            setName('');
            q.reload();
          } catch (err) {
            setError(msg(err));
          }
        }}
      >
        <input required aria-label="Token name" placeholder="e.g. nightly export" value={name} onChange={(e) => setName(e.target.value)} />
        <button className="btn" type="submit">Create token</button>
      </form>
      {error && <div className="banner banner-error" role="alert">{error}</div>}
    </section>
  );
}

export function Settings({ project, onProjectChanged }: { project: Project; onProjectChanged: (p: Project) => void }) {
  const q = useAsync(() => api.project(project.id), [project.id]);
  const role: Role = q.data?.role ?? 'viewer';
  return (
    <div className="page">
      <div className="page-head">
        <h1>Settings</h1>
        {q.data && <span className="muted">Your role: {role}</span>}
      </div>
      {q.error && <ErrorBanner error={q.error} onRetry={q.reload} />}
      {!canAdminister(role) && q.data && (
        <div className="banner banner-info">
          {role === 'agent' || role === 'supervisor' ? 'Agents and supervisors work with contacts and conversations; settings need an admin.' : 'Viewers can look but not change settings.'}
        </div>
      )}
      <ProjectForm project={project} onSaved={onProjectChanged} />
      <Funnels projectId={project.id} canEdit={canAdminister(role)} />
      <Members projectId={project.id} role={role} />
      <Tokens />
    </div>
  );
}
