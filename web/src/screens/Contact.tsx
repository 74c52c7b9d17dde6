// One contact (`/people/{uid}`): who they are, the team's tags, priority and
// notes (agents and above edit; viewers read), what they spent and use, and
// their timeline of sessions, events, notes and payments, newest first.
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { api, ApiError } from '../api/client';
import {
  canEditContacts, PRIORITIES, type ContactNote, type ContactProfile, type Priority, type Project, type Role, type TimelineItem,
} from '../api/types';
import { StatCard } from '../components/Insights';
import { NewMessage } from '../components/inbox/NewMessage';
import { Empty, ErrorBanner, Skeleton } from '../components/ui';
import { displayName, fmtCompact, fmtDateTime, fmtDuration, fmtInt, fmtMoney, fmtUsd } from '../lib/format';
import { navigate } from '../lib/router';
import { useAsync } from '../lib/useAsync';
import { normalizeTag, peopleHref, PriorityBadge } from './People';

const errorText = (e: unknown) =>
  e instanceof ApiError ? (e.field ? `${e.message} (${e.field})` : e.message) : e instanceof Error ? e.message : String(e);

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

function KeyValues({ label, values, empty }: { label: string; values: Record<string, unknown> | null; empty: string }) {
  const rows = Object.entries(values ?? {});
  return (
    <section className="card" aria-label={label}>
      <div className="card-head"><h2>{label}</h2></div>
      {rows.length === 0 ? (
        <p className="muted small">{empty}</p>
      ) : (
        <table className="traits">
          <tbody>
            {rows.map(([k, v]) => (
              <tr key={k}><th scope="row">{k}</th><td>{show(v)}</td></tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** Tags as chips, each removable, and a box to add one; every change is saved at once. */
export function TagsEditor({ tags, editable, onSave }: { tags: string[]; editable: boolean; onSave: (tags: string[]) => Promise<void> }) {
  const [draft, setDraft] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const save = async (next: string[]) => {
    setBusy(true);
    setError(null);
    try {
      await onSave(next);
      return true;
    } catch (e) {
      setError(errorText(e));
      return false;
    } finally {
      setBusy(false);
    }
  };
  const add = async (e: FormEvent) => {
    e.preventDefault();
    const t = normalizeTag(draft);
    if (!t) return;
    if (tags.includes(t)) {
      setDraft('');
      return;
    }
    if (await save([...tags, t].sort())) setDraft('');
  };
  return (
    <div data-testid="tags-editor">
      {tags.length === 0 ? (
        <p className="muted small">No tags.</p>
      ) : (
        <ul className="chips" aria-label="Tags">
          {tags.map((t) => (
            <li key={t} className="chip">
              {t}
              {editable && (
                <button type="button" className="chip-x" aria-label={`Remove tag ${t}`} disabled={busy} onClick={() => save(tags.filter((x) => x !== t))}>
                  ×
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {editable && (
        <form className="inline-form" onSubmit={add}>
          <input aria-label="New tag" placeholder="Add a tag" maxLength={32} value={draft} onChange={(e) => setDraft(e.target.value)} />
          <button type="submit" className="btn btn-small" disabled={busy || !normalizeTag(draft)}>Add tag</button>
        </form>
      )}
      {error && <div className="banner banner-error" role="alert">{error}</div>}
    </div>
  );
}

/** The notes: newest first, a form to add one, delete on each (the server says whose). */
export function Notes({ projectId, uid, editable, onCountChange }: { projectId: string; uid: string; editable: boolean; onCountChange?: () => void }) {
  const q = useAsync(() => api.notes(projectId, uid), [projectId, uid]);
  const [body, setBody] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const notes = q.data?.notes ?? [];
  const add = async (e: FormEvent) => {
    e.preventDefault();
    if (!body.trim()) return;
    setBusy(true);
    setError(null);
    try {
      const note = await api.addNote(projectId, uid, body);
      q.setData({ notes: [note, ...notes] });
      setBody('');
      onCountChange?.();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  const remove = async (n: ContactNote) => {
    setError(null);
    try {
      await api.deleteNote(projectId, uid, n.id);
      q.setData({ notes: notes.filter((x) => x.id !== n.id) });
      onCountChange?.();
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <section className="card" aria-label="Notes" data-testid="notes">
      <div className="card-head"><h2>Notes</h2></div>
      {editable && (
        <form className="stack note-form" onSubmit={add}>
          <textarea aria-label="New note" rows={3} maxLength={10000} placeholder="Write a note for the team" value={body} onChange={(e) => setBody(e.target.value)} />
          <div><button type="submit" className="btn btn-small btn-primary" disabled={busy || !body.trim()}>Add note</button></div>
        </form>
      )}
      {error && <div className="banner banner-error" role="alert">{error}</div>}
      {q.error ? (
        <ErrorBanner error={q.error} onRetry={q.reload} />
      ) : !q.data ? (
        <Skeleton height={48} label="Loading notes" />
      ) : notes.length === 0 ? (
        <Empty title="No notes yet" />
      ) : (
        <ol className="notes">
          {notes.map((n) => (
            <li key={n.id} className="note" data-testid="note">
              <p className="note-body">{n.body}</p>
              <div className="muted small">
                {n.author_email ?? 'Vibe'} · {fmtDateTime(n.created_at)}
                {editable && (
                  <button type="button" className="btn btn-small btn-ghost" aria-label={`Delete note from ${fmtDateTime(n.created_at)}`} onClick={() => remove(n)}>
                    Delete
                  </button>
                )}
              </div>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

const KIND: Record<TimelineItem['type'], { icon: string; label: string }> = {
  session: { icon: '◷', label: 'Session' },
  event: { icon: '⚑', label: 'Event' },
  note: { icon: '✎', label: 'Note' },
  payment: { icon: '$', label: 'Payment' },
};

function TimelineEntry({ item }: { item: TimelineItem }) {
  const kind = KIND[item.type];
  let body;
  switch (item.type) {
    case 'session':
      body = (
        <>
          <span>
            {fmtDuration(item.duration_s)} · {fmtInt(item.page_count)} {item.page_count === 1 ? 'page' : 'pages'}
            {item.referrer && <span className="muted small"> from {item.referrer}</span>}
          </span>
          {item.pages.length > 0 && (
            <ol className="pages">
              {item.pages.map((pg, i) => (
                <li key={i}><code>{pg.path ?? pg.url ?? '—'}</code>{pg.title && <span className="muted small"> {pg.title}</span>}</li>
              ))}
            </ol>
          )}
        </>
      );
      break;
    case 'event':
      body = (
        <span>
          <code>{item.name}</code>
          {item.props && Object.keys(item.props).length > 0 && <span className="muted small"> {clip(JSON.stringify(item.props), 120)}</span>}
        </span>
      );
      break;
    case 'note':
      body = <span>{item.body} <span className="muted small">— {item.author_email ?? 'Vibe'}</span></span>;
      break;
    case 'payment':
      body = (
        <span>
          {fmtMoney(item.amount, item.currency)} {item.plan && <span className="muted">{item.plan}</span>}{' '}
          <span className={`badge ${item.status === 'succeeded' ? 'badge-good' : 'badge-warn'}`}>{item.status}</span>
        </span>
      );
      break;
  }
  return (
    <li className={`tl-item tl-${item.type}`} data-testid="timeline-item" data-type={item.type}>
      <span className="tl-icon" role="img" aria-label={kind.label} title={kind.label}>{kind.icon}</span>
      <div className="tl-main">
        <strong>{kind.label}</strong>
        {body}
        <span className="muted small tl-time">{fmtDateTime(item.ts)}</span>
      </div>
    </li>
  );
}

/** The timeline, newest first; "Load older" follows the cursor. */
export function Timeline({ projectId, uid, refresh = 0 }: { projectId: string; uid: string; refresh?: number }) {
  const [items, setItems] = useState<TimelineItem[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<Error | null>(null);
  const call = useRef(0);
  const load = useCallback(
    (from: string | null) => {
      const mine = ++call.current;
      setLoading(true);
      setError(null);
      api.timeline(projectId, uid, from).then(
        (r) => {
          if (mine !== call.current) return;
          setItems((old) => (from ? [...old, ...r.items] : r.items));
          setCursor(r.next_cursor);
          setLoading(false);
        },
        (e: Error) => {
          if (mine !== call.current) return;
          setError(e);
          setLoading(false);
        },
      );
    },
    [projectId, uid],
  );
  useEffect(() => load(null), [load, refresh]);
  return (
    <section className="card" aria-label="Timeline" data-testid="timeline">
      <div className="card-head"><h2>Timeline</h2><span className="muted small">newest first</span></div>
      {error && <ErrorBanner error={error} onRetry={() => load(items.length ? cursor : null)} />}
      {loading && items.length === 0 ? (
        <Skeleton height={120} label="Loading timeline" />
      ) : items.length === 0 && !error ? (
        <Empty title="Nothing happened yet" />
      ) : (
        <ol className="timeline">
          {items.map((it) => (
            <TimelineEntry key={`${it.type}:${'id' in it ? it.id : it.payment_id}`} item={it} />
          ))}
        </ol>
      )}
      {cursor && (
        <button type="button" className="btn load-more" disabled={loading} onClick={() => load(cursor)}>
          {loading ? 'Loading…' : 'Load older'}
        </button>
      )}
    </section>
  );
}

function Usage({ c }: { c: ContactProfile }) {
  const features = Object.entries(c.feature_usage ?? {}).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const t = c.token_usage;
  return (
    <div className="two-col">
      <section className="card" aria-label="Feature usage">
        <div className="card-head"><h2>Feature usage</h2><span className="muted small">all time</span></div>
        {features.length === 0 ? (
          <p className="muted small">No custom events from this person yet.</p>
        ) : (
          <table className="data-table" data-testid="feature-usage">
            <thead><tr><th>Event</th><th className="num">Count</th></tr></thead>
            <tbody>
              {features.map(([name, n]) => (
                <tr key={name}><td><code>{name}</code></td><td className="num">{fmtInt(n)}</td></tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section className="card" aria-label="Token usage">
        <div className="card-head">
          <h2>Token usage</h2>
          {t && t.calls > 0 && <span className="muted small">{fmtInt(t.calls)} calls · {fmtCompact(t.total_tokens)} tokens · {fmtUsd(t.cost_usd)}</span>}
        </div>
        {!t || t.calls === 0 ? (
          <p className="muted small">No <code>ai_usage</code> events for this person.</p>
        ) : (
          <table className="data-table" data-testid="token-usage">
            <thead><tr><th>Model</th><th className="num">Calls</th><th className="num">Prompt</th><th className="num">Completion</th><th className="num">Cost</th></tr></thead>
            <tbody>
              {t.by_model.map((m) => (
                <tr key={m.model}>
                  <td>{m.model}</td><td className="num">{fmtInt(m.calls)}</td><td className="num">{fmtInt(m.prompt_tokens)}</td>
                  <td className="num">{fmtInt(m.completion_tokens)}</td><td className="num">{fmtUsd(m.cost_usd)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}

function Billing({ c }: { c: ContactProfile }) {
  const s = c.subscription;
  return (
    <div className="two-col">
      <section className="card" aria-label="Subscription" data-testid="subscription">
        <div className="card-head"><h2>Subscription</h2></div>
        {!s ? (
          <p className="muted small">No subscription.</p>
        ) : (
          <dl className="profile">
            <div><dt>Plan</dt><dd>{s.plan}</dd></div>
            <div><dt>Status</dt><dd><span className={`badge ${s.status === 'active' ? 'badge-good' : ''}`}>{s.status}</span></dd></div>
            <div><dt>Price</dt><dd>{fmtMoney(s.amount, s.currency)} / {s.interval}</dd></div>
            <div><dt>Since</dt><dd>{fmtDateTime(s.since)}</dd></div>
            {s.canceled_at && <div><dt>Canceled</dt><dd>{fmtDateTime(s.canceled_at)}</dd></div>}
          </dl>
        )}
      </section>
      <section className="card" aria-label="Payments">
        <div className="card-head"><h2>Payments</h2><span className="muted small">last 20</span></div>
        {c.payments.length === 0 ? (
          <p className="muted small">No payments.</p>
        ) : (
          <table className="data-table" data-testid="payments">
            <thead><tr><th>Date</th><th>Plan</th><th>Status</th><th className="num">Amount</th></tr></thead>
            <tbody>
              {c.payments.map((p) => (
                <tr key={p.payment_id}>
                  <td>{fmtDateTime(p.paid_at)}</td><td>{p.plan ?? '—'}</td>
                  <td><span className={`badge ${p.status === 'succeeded' ? 'badge-good' : 'badge-warn'}`}>{p.status}</span></td>
                  <td className="num">{fmtMoney(p.amount, p.currency)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}

export function Contact({ project, uid }: { project: Project; uid: string }) {
  const q = useAsync(() => api.contact(project.id, uid), [project.id, uid]);
  // The list of projects has no role: ask the project when it is missing.
  const roleQ = useAsync<Role>(
    () => (project.role ? Promise.resolve(project.role) : api.project(project.id).then((p) => p.role)),
    [project.id, project.role],
  );
  const editable = canEditContacts(roleQ.data ?? 'viewer');
  const [timelineTick, setTimelineTick] = useState(0);
  const [prioError, setPrioError] = useState<string | null>(null);
  const c = q.data;
  const saveTags = async (tags: string[]) => {
    const updated = await api.updateContact(project.id, uid, { tags });
    q.setData(updated);
  };
  const savePriority = async (priority: Priority | null) => {
    setPrioError(null);
    try {
      q.setData(await api.updateContact(project.id, uid, { priority }));
    } catch (e) {
      setPrioError(errorText(e));
    }
  };
  const who = c ? displayName(c) : null;
  const back = (
    <a
      href={peopleHref()}
      className="small"
      onClick={(e) => {
        e.preventDefault();
        navigate(peopleHref());
      }}
    >
      ← People
    </a>
  );
  return (
    <div className="page">
      <div className="page-head">
        <div>
          {back}
          <h1>{who ? who.primary : 'Contact'}</h1>
          {who?.secondary && <span className="muted">{who.secondary}</span>}
        </div>
        {c && roleQ.data && !editable && <span className="muted small">Viewers read contacts; agents and above edit them.</span>}
        {c && editable && <NewMessage projectId={project.id} uid={c.id} />}
      </div>
      {q.error ? (
        <ErrorBanner error={q.error} onRetry={q.reload} />
      ) : !c ? (
        <>
          <div className="metric-grid">
            {['Total spent', 'Sessions', 'Events', 'Last seen'].map((t) => <StatCard key={t} id={t} title={t} value={null} />)}
          </div>
          <section className="card"><Skeleton height={160} label="Loading contact" /></section>
        </>
      ) : (
        <>
          <div className="metric-grid">
            <StatCard
              id="spent"
              title="Total spent"
              value={fmtMoney(c.total_spent, c.currency)}
              hint={
                c.unconverted_spent.length > 0
                  ? `+ ${c.unconverted_spent.map((u) => fmtMoney(u.amount, u.currency)).join(', ')} without an exchange rate`
                  : `succeeded payments, in ${c.currency}`
              }
            />
            <StatCard id="sessions" title="Sessions" value={fmtInt(c.total_sessions)} hint={`${fmtDuration(c.avg_session_s)} on average`} />
            <StatCard id="events" title="Events" value={fmtInt(c.total_events)} hint={`first seen ${fmtDateTime(c.first_seen)}`} />
            <StatCard
              id="last-seen"
              title="Last seen"
              value={new Date(c.last_seen).toLocaleDateString('en-GB', { year: 'numeric', month: 'short', day: 'numeric' })}
              hint={[fmtDateTime(c.last_seen), c.device, c.browser, c.os].filter(Boolean).join(' · ')}
            />
          </div>
          <div className="two-col">
            <section className="card" aria-label="CRM">
              <div className="card-head"><h2>Tags and priority</h2></div>
              <TagsEditor tags={c.tags} editable={editable} onSave={saveTags} />
              <label className="row prio-field">
                <span>Priority</span>
                {editable ? (
                  <select aria-label="Priority" value={c.priority ?? ''} onChange={(e) => savePriority((e.target.value || null) as Priority | null)}>
                    <option value="">none</option>
                    {PRIORITIES.map((p) => <option key={p} value={p}>{p}</option>)}
                  </select>
                ) : (
                  <PriorityBadge priority={c.priority} />
                )}
              </label>
              {prioError && <div className="banner banner-error" role="alert">{prioError}</div>}
            </section>
            <section className="card" aria-label="Profile">
              <div className="card-head"><h2>Profile</h2></div>
              <dl className="profile">
                <div><dt>User id</dt><dd>{c.user_id ?? <span className="muted">not identified</span>}</dd></div>
                <div><dt>Email</dt><dd>{c.email ?? '—'}</dd></div>
                <div><dt>Name</dt><dd>{c.name ?? '—'}</dd></div>
                <div><dt>Plan</dt><dd>{c.plan ?? '—'}</dd></div>
                <div><dt>Anonymous id</dt><dd><code>{c.anonymous_id ?? '—'}</code></dd></div>
              </dl>
            </section>
          </div>
          <div className="two-col">
            <KeyValues label="Traits" values={c.traits} empty="No traits. vibeIdentify(id, {email, plan}) adds some." />
            <KeyValues label="Properties" values={c.properties} empty="No properties (PATCH …/users/{uid} with properties sets them)." />
          </div>
          <Billing c={c} />
          <Usage c={c} />
          <div className="two-col">
            <Notes projectId={project.id} uid={c.id} editable={editable} onCountChange={() => setTimelineTick((t) => t + 1)} />
            <Timeline projectId={project.id} uid={c.id} refresh={timelineTick} />
          </div>
        </>
      )}
    </div>
  );
}
