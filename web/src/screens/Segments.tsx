// Segments: the saved custom segments of a project (people matching criteria)
// with their counts, and — for admins — a condition builder with a live count
// (`POST /segments/preview`, debounced) to create and edit them. The grammar
// and the error paths are docs/api.md, "Segments"; lib/criteria.ts maps the
// builder's tree to that JSON and a server error back to its row.
import { useEffect, useMemo, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { api, ApiError } from '../api/client';
import type { CriteriaNode, CustomSegment, Project } from '../api/types';
import { canAdminister } from '../api/types';
import { Empty, ErrorBanner, Skeleton } from '../components/ui';
import {
  build, FIELDS, itemForPath, newGroup, newRow, OPS, parse, PRIORITIES, SUBSCRIPTION_STATUSES, summarize,
  withField, type CondRow, type Field, type Group, type Item,
} from '../lib/criteria';
import { fmtDateTime, fmtInt } from '../lib/format';
import { navigate } from '../lib/router';
import { useAsync } from '../lib/useAsync';

/** Groups nest this deep in the builder (the server allows 5 levels, `not` counting as one). */
const MAX_GROUP_DEPTH = 2;

export type LiveCount =
  | { state: 'waiting' }
  | { state: 'done'; count: number }
  | { state: 'error'; error: ApiError | Error };

/**
 * The live count of criteria: asks `POST /segments/preview` once the criteria
 * stayed the same for `delay` ms; an answer to older criteria is ignored.
 */
export function useLiveCount(projectId: string, criteria: CriteriaNode, delay = 400): LiveCount {
  const key = JSON.stringify(criteria);
  const [result, setResult] = useState<LiveCount>({ state: 'waiting' });
  const latest = useRef(0);
  useEffect(() => {
    const call = ++latest.current;
    setResult({ state: 'waiting' });
    const t = setTimeout(() => {
      api.previewSegment(projectId, JSON.parse(key) as CriteriaNode).then(
        (r) => call === latest.current && setResult({ state: 'done', count: r.user_count }),
        (e: Error) => call === latest.current && setResult({ state: 'error', error: e }),
      );
    }, delay);
    return () => clearTimeout(t);
  }, [projectId, key, delay]);
  return result;
}

/** "key is required" from `criteria.all[0].key` and "is required". */
const fieldMessage = (rest: string, message: string) => (rest ? `${rest.replace(/\[\d+\]$/, '')} ${message}` : message);

function Row({ row, onChange, onRemove, error, readOnly }: {
  row: CondRow; onChange: (r: CondRow) => void; onRemove: () => void; error?: string; readOnly: boolean;
}) {
  const set = (change: Partial<CondRow>) => onChange({ ...row, ...change });
  const ops = OPS[row.field];
  const valueInput = (label: string, props: { type?: string; placeholder?: string; min?: number; step?: string } = {}) => (
    <input className="cond-value" aria-label={label} value={row.value} onChange={(e) => set({ value: e.target.value })} {...props} />
  );
  const needsValue = row.op !== 'exists';
  let fields: ReactNode = null;
  switch (row.field) {
    case 'trait':
      fields = (
        <>
          <input className="cond-key" aria-label="Trait key" placeholder="company_size" value={row.key} onChange={(e) => set({ key: e.target.value })} />
          <OpSelect row={row} ops={ops} set={set} />
          {(row.op === 'eq' || row.op === 'neq') && (
            <select aria-label="Value type" value={row.valueType} onChange={(e) => set({ valueType: e.target.value as CondRow['valueType'], value: e.target.value === 'boolean' ? 'true' : row.value })}>
              <option value="text">text</option>
              <option value="number">number</option>
              <option value="boolean">true/false</option>
            </select>
          )}
          {needsValue &&
            (row.valueType === 'boolean' && (row.op === 'eq' || row.op === 'neq') ? (
              <select aria-label="Value" value={row.value} onChange={(e) => set({ value: e.target.value })}>
                <option value="true">true</option>
                <option value="false">false</option>
              </select>
            ) : (
              valueInput('Value', { type: row.op === 'gt' || row.op === 'lt' || row.valueType === 'number' ? 'number' : 'text', step: 'any' })
            ))}
        </>
      );
      break;
    case 'plan':
      fields = <><OpSelect row={row} ops={ops} set={set} />{needsValue && valueInput('Value', { placeholder: 'pro' })}</>;
      break;
    case 'tag':
      fields = <><OpSelect row={row} ops={ops} set={set} />{valueInput('Value', { placeholder: 'vip' })}</>;
      break;
    case 'priority':
      fields = (
        <>
          <OpSelect row={row} ops={ops} set={set} />
          {needsValue && (
            <select aria-label="Value" value={row.value} onChange={(e) => set({ value: e.target.value })}>
              {PRIORITIES.map((p) => <option key={p} value={p}>{p}</option>)}
            </select>
          )}
        </>
      );
      break;
    case 'first_seen':
    case 'last_seen':
      fields = <><OpSelect row={row} ops={ops} set={set} />{valueInput('Days', { type: 'number', min: 0 })}<span className="muted small">days{row.op === 'before_days' ? ' ago' : ''}</span></>;
      break;
    case 'sessions':
      fields = <><OpSelect row={row} ops={ops} set={set} />{valueInput('Sessions', { type: 'number', min: 0 })}<span className="muted small">sessions</span></>;
      break;
    case 'event':
      fields = (
        <>
          <input className="cond-key" aria-label="Event name" placeholder="export_pdf" value={row.name} onChange={(e) => set({ name: e.target.value })} />
          <span className="muted small">at least</span>
          <input className="cond-num" type="number" min={1} aria-label="At least (times)" placeholder="1" value={row.count} onChange={(e) => set({ count: e.target.value })} />
          <span className="muted small">times within</span>
          <input className="cond-num" type="number" min={1} aria-label="Within (days)" placeholder="any" value={row.within} onChange={(e) => set({ within: e.target.value })} />
          <span className="muted small">days</span>
        </>
      );
      break;
    case 'total_spent':
      fields = (
        <>
          <OpSelect row={row} ops={ops} set={set} />
          {valueInput('Amount', { type: 'number', min: 0, step: 'any', placeholder: '49.00' })}
          <input className="cond-currency" aria-label="Currency" maxLength={3} value={row.currency} onChange={(e) => set({ currency: e.target.value.toUpperCase() })} />
        </>
      );
      break;
    case 'subscription_status':
      fields = (
        <>
          <OpSelect row={row} ops={ops} set={set} />
          <select aria-label="Value" value={row.value} onChange={(e) => set({ value: e.target.value })}>
            {SUBSCRIPTION_STATUSES.map((s) => <option key={s} value={s}>{s.replace('_', ' ')}</option>)}
          </select>
        </>
      );
      break;
  }
  return (
    <div className={`cond-row ${error ? 'cond-invalid' : ''}`} data-testid="cond-row">
      <fieldset className="cond-fields" disabled={readOnly}>
        <label className="check cond-not">
          <input type="checkbox" aria-label="Not" checked={row.negate} onChange={(e) => set({ negate: e.target.checked })} /> not
        </label>
        <select aria-label="Kind" value={row.field} onChange={(e) => onChange(withField(row, e.target.value as Field))}>
          {FIELDS.map((f) => <option key={f.id} value={f.id}>{f.label}</option>)}
        </select>
        {fields}
        {!readOnly && (
          <button type="button" className="btn btn-ghost btn-small" aria-label="Remove condition" onClick={onRemove}>✕</button>
        )}
      </fieldset>
      {error && <div className="drop-high small cond-error" role="alert">{error}</div>}
    </div>
  );
}

function OpSelect({ row, ops, set }: { row: CondRow; ops: { id: string; label: string }[]; set: (c: Partial<CondRow>) => void }) {
  if (ops.length === 1) return <span className="muted small">{ops[0].label}</span>;
  return (
    <select aria-label="Operator" value={row.op} onChange={(e) => set({ op: e.target.value })}>
      {ops.map((o) => <option key={o.id} value={o.id}>{o.label}</option>)}
    </select>
  );
}

function GroupView({ group, depth, onChange, onRemove, errors, readOnly }: {
  group: Group; depth: number; onChange: (g: Group) => void; onRemove?: () => void; errors: Map<string, string>; readOnly: boolean;
}) {
  const child = (c: Item, i: number) => {
    const change = (n: Item) => onChange({ ...group, children: group.children.map((x, k) => (k === i ? n : x)) });
    const remove = () => onChange({ ...group, children: group.children.filter((_, k) => k !== i) });
    return c.kind === 'group' ? (
      <GroupView key={c.id} group={c} depth={depth + 1} onChange={change} onRemove={remove} errors={errors} readOnly={readOnly} />
    ) : (
      <Row key={c.id} row={c} onChange={change} onRemove={remove} error={errors.get(c.id)} readOnly={readOnly} />
    );
  };
  const label = `${group.negate ? 'Not ' : ''}${group.mode === 'all' ? 'All of' : 'Any of'}`;
  return (
    <div className={`cond-group ${depth > 0 ? 'cond-nested' : ''}`} role="group" aria-label={depth === 0 ? 'Conditions' : label} data-testid={depth === 0 ? 'cond-root' : 'cond-group'}>
      <div className="cond-group-head">
        <fieldset className="cond-fields" disabled={readOnly}>
          {depth > 0 && (
            <label className="check cond-not">
              <input type="checkbox" aria-label="Not group" checked={group.negate} onChange={(e) => onChange({ ...group, negate: e.target.checked })} /> not
            </label>
          )}
          <select aria-label="Match" value={group.mode} onChange={(e) => onChange({ ...group, mode: e.target.value as 'all' | 'any' })}>
            <option value="all">All of</option>
            <option value="any">Any of</option>
          </select>
          <span className="muted small">these conditions</span>
          {onRemove && !readOnly && (
            <button type="button" className="btn btn-ghost btn-small" aria-label="Remove group" onClick={onRemove}>✕</button>
          )}
        </fieldset>
      </div>
      {errors.get(group.id) && <div className="drop-high small cond-error" role="alert">{errors.get(group.id)}</div>}
      <div className="cond-children">
        {group.children.length === 0 && (
          <p className="muted small">{group.mode === 'all' ? 'No conditions: everyone matches.' : 'No conditions: nobody matches.'}</p>
        )}
        {group.children.map(child)}
      </div>
      {!readOnly && (
        <div className="row cond-add">
          <button type="button" className="btn btn-small" onClick={() => onChange({ ...group, children: [...group.children, newRow()] })}>
            + Condition
          </button>
          {depth < MAX_GROUP_DEPTH && (
            <button type="button" className="btn btn-small" onClick={() => onChange({ ...group, children: [...group.children, newGroup(group.mode === 'all' ? 'any' : 'all', [newRow()])] })}>
              + Group
            </button>
          )}
        </div>
      )}
    </div>
  );
}

/** The builder: the tree, and next to each row the message of a server error that names it. */
export function ConditionBuilder({ root, onChange, errors, readOnly = false }: {
  root: Group; onChange: (g: Group) => void; errors: Map<string, string>; readOnly?: boolean;
}) {
  return <GroupView group={root} depth={0} onChange={onChange} errors={errors} readOnly={readOnly} />;
}

export function LiveCountView({ count, rowError = false }: { count: LiveCount; rowError?: boolean }) {
  return (
    <div className="live-count" data-testid="live-count" aria-live="polite">
      {count.state === 'waiting' ? (
        <><span className="spinner" role="status" aria-label="Counting" /> <span className="muted">Counting…</span></>
      ) : count.state === 'done' ? (
        <strong>≈ {fmtInt(count.count)} {count.count === 1 ? 'person matches' : 'people match'}</strong>
      ) : rowError ? (
        <span className="drop-high small">Fix the highlighted condition to see the count.</span>
      ) : (
        <span className="drop-high small" role="alert">{count.error.message}</span>
      )}
    </div>
  );
}

/** Row id → message, for the error whose `field` names a row or group of the tree. */
function errorsFor(error: unknown, paths: Map<string, string>): { rows: Map<string, string>; unmapped: string | null } {
  const rows = new Map<string, string>();
  if (!(error instanceof ApiError)) return { rows, unmapped: error instanceof Error ? error.message : null };
  if (error.field?.startsWith('criteria')) {
    const hit = itemForPath(paths, error.field);
    if (hit) {
      rows.set(hit.id, fieldMessage(hit.rest, error.message));
      return { rows, unmapped: null };
    }
  }
  return { rows, unmapped: error.message };
}

export function SegmentEditor({ project, segment, onSaved, onCancel, delay = 400 }: {
  project: Project; segment: CustomSegment | null; onSaved: (s: CustomSegment) => void; onCancel: () => void; delay?: number;
}) {
  const [name, setName] = useState(segment?.name ?? '');
  const [description, setDescription] = useState(segment?.description ?? '');
  const [root, setRoot] = useState<Group>(() => (segment ? parse(segment.criteria) : newGroup('all', [newRow()])));
  const [saveError, setSaveError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const { criteria, paths } = useMemo(() => build(root), [root]);
  const count = useLiveCount(project.id, criteria, delay);
  const previewErrors = useMemo(() => (count.state === 'error' ? errorsFor(count.error, paths) : null), [count, paths]);
  const saveErrors = useMemo(() => (saveError ? errorsFor(saveError, paths) : null), [saveError, paths]);
  const rowErrors = saveErrors?.rows.size ? saveErrors.rows : previewErrors?.rows ?? new Map<string, string>();
  const nameError = saveError instanceof ApiError && (saveError.field === 'name' || saveError.field === 'description') ? saveError.message : null;
  const change = (g: Group) => {
    setRoot(g);
    setSaveError(null);
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setSaveError(null);
    const body = { name: name.trim(), description: description.trim() || undefined, criteria };
    try {
      const saved = segment ? await api.updateSegment(project.id, segment.id, body) : await api.createSegment(project.id, body);
      onSaved(saved);
    } catch (err) {
      setSaveError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="card form-grid segment-editor" onSubmit={submit} aria-label={segment ? `Edit segment ${segment.name}` : 'New segment'}>
      <div className="card-head">
        <h2>{segment ? `Edit “${segment.name}”` : 'New segment'}</h2>
        <LiveCountView count={count} rowError={(previewErrors?.rows.size ?? 0) > 0} />
      </div>
      <div className="two-col">
        <label>
          Name
          <input required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} placeholder="Active paying customers" />
        </label>
        <label>
          Description
          <input maxLength={1000} value={description} onChange={(e) => setDescription(e.target.value)} placeholder="optional" />
        </label>
      </div>
      {nameError && <div className="drop-high small" role="alert">{nameError}</div>}
      <ConditionBuilder root={root} onChange={change} errors={rowErrors} />
      {saveErrors?.unmapped && !nameError && <div className="banner banner-error" role="alert">{saveErrors.unmapped}</div>}
      <div className="row">
        <button className="btn btn-primary" type="submit" disabled={busy}>{segment ? 'Save segment' : 'Create segment'}</button>
        <button className="btn" type="button" onClick={onCancel}>Cancel</button>
      </div>
    </form>
  );
}

export const peopleLink = (sid: string) => `/people?segment=${encodeURIComponent(sid)}`;

function SegmentRow({ project, segment, canEdit, onEdit, onChanged, onDeleted }: {
  project: Project; segment: CustomSegment; canEdit: boolean; onEdit: () => void; onChanged: (s: CustomSegment) => void; onDeleted: () => void;
}) {
  const [confirm, setConfirm] = useState(false);
  const [busy, setBusy] = useState<'refresh' | 'delete' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const act = async (what: 'refresh' | 'delete') => {
    setBusy(what);
    setError(null);
    try {
      if (what === 'refresh') onChanged(await api.refreshSegment(project.id, segment.id));
      else {
        await api.deleteSegment(project.id, segment.id);
        onDeleted();
      }
    } catch (e) {
      setError(e instanceof ApiError ? e.message : 'Something went wrong.');
    } finally {
      setBusy(null);
      setConfirm(false);
    }
  };
  const link = peopleLink(segment.id);
  return (
    <tr data-testid={`segment-${segment.id}`}>
      <td>
        <strong>{segment.name}</strong>
        {segment.description && <div className="muted small">{segment.description}</div>}
        <div className="small segment-summary" data-testid="segment-summary">{summarize(segment.criteria)}</div>
        {error && <div className="drop-high small" role="alert">{error}</div>}
      </td>
      <td className="num" data-testid="segment-count">{fmtInt(segment.user_count)}</td>
      <td className="muted small" data-testid="segment-counted">{fmtDateTime(segment.counted_at)}</td>
      <td className="actions">
        <a
          href={link}
          className="btn btn-small"
          onClick={(e) => {
            e.preventDefault();
            navigate(link);
          }}
        >
          View people
        </a>
        {canEdit &&
          (confirm ? (
            <>
              <button type="button" className="btn btn-small btn-danger" disabled={busy !== null} onClick={() => act('delete')}>Confirm delete</button>
              <button type="button" className="btn btn-small" onClick={() => setConfirm(false)}>Cancel</button>
            </>
          ) : (
            <>
              <button type="button" className="btn btn-small" onClick={onEdit} aria-label={`Edit ${segment.name}`}>Edit</button>
              <button type="button" className="btn btn-small" disabled={busy !== null} onClick={() => act('refresh')} aria-label={`Refresh ${segment.name}`}>
                {busy === 'refresh' ? 'Refreshing…' : 'Refresh'}
              </button>
              <button type="button" className="btn btn-small btn-danger" onClick={() => setConfirm(true)} aria-label={`Delete ${segment.name}`}>Delete</button>
            </>
          ))}
      </td>
    </tr>
  );
}

export function Segments({ project }: { project: Project }) {
  const me = useAsync(() => api.project(project.id), [project.id]);
  const list = useAsync(() => api.segments(project.id), [project.id]);
  const [editing, setEditing] = useState<CustomSegment | 'new' | null>(null);
  const canEdit = canAdminister(me.data?.role ?? 'viewer');
  const segments = list.data?.segments ?? [];
  const replace = (s: CustomSegment) => list.setData({ segments: segments.map((x) => (x.id === s.id ? s : x)) });
  return (
    <div className="page">
      <div className="page-head">
        <h1>Segments</h1>
        {canEdit && editing === null && (
          <button type="button" className="btn btn-primary" onClick={() => setEditing('new')}>New segment</button>
        )}
        {me.data && !canEdit && <span className="muted small">Read-only: an admin defines segments.</span>}
      </div>
      {editing !== null && (
        <SegmentEditor
          key={editing === 'new' ? 'new' : editing.id}
          project={project}
          segment={editing === 'new' ? null : editing}
          onSaved={() => {
            setEditing(null);
            list.reload();
          }}
          onCancel={() => setEditing(null)}
        />
      )}
      <section className="card" aria-label="Saved segments">
        {list.error ? (
          <ErrorBanner error={list.error} onRetry={list.reload} />
        ) : !list.data ? (
          <Skeleton height={120} label="Loading segments" />
        ) : segments.length === 0 ? (
          <Empty title="No segments yet">
            A segment is the people who match conditions — traits, plan, tags, priority, when they were first or last seen, their
            sessions, events they performed, what they spent, their subscription. {canEdit ? 'Create one with “New segment”.' : 'An admin can create one.'}
          </Empty>
        ) : (
          <div className="table-scroll">
            <table className="data-table" data-testid="segments-table">
              <thead>
                <tr><th>Segment</th><th className="num">People</th><th>Counted</th><th><span className="sr-only">Actions</span></th></tr>
              </thead>
              <tbody>
                {segments.map((s) => (
                  <SegmentRow
                    key={s.id}
                    project={project}
                    segment={s}
                    canEdit={canEdit}
                    onEdit={() => setEditing(s)}
                    onChanged={replace}
                    onDeleted={list.reload}
                  />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}

export default Segments;
