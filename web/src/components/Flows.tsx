// Flows on the Features & AI screen: each flow's attempts (started, completed,
// failed), completion and success rates, completion times and a daily bar of
// starts, with a create/edit form and delete for admins. The API is the flows
// contract (`/flows`, `/flows/{fid}/stats?days=`).
import { useState, type FormEvent } from 'react';
import { api, ApiError } from '../api/client';
import type { Flow, FlowBody, FlowStats, FunnelStepDef, Project, Role } from '../api/types';
import { canAdminister } from '../api/types';
import { fmtDuration, fmtInt, fmtPct } from '../lib/format';
import { useAsync } from '../lib/useAsync';
import { Bars } from './Insights';
import { Empty, ErrorBanner, Skeleton } from './ui';

const stepText = (s: FunnelStepDef) => `${s.match === 'page' ? 'page' : 'event'} ${s.value}${s.prefix ? '*' : ''}`;
const secs = (v: number | null) => (v === null ? '–' : fmtDuration(v));

function FlowRow({ project, flow, days, canEdit, onEdit, onDeleted }: {
  project: Project; flow: Flow; days: number; canEdit: boolean; onEdit: () => void; onDeleted: () => void;
}) {
  const stats = useAsync<FlowStats>(() => api.flowStats(project.id, flow.id, days), [project.id, flow.id, days]);
  const [confirm, setConfirm] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const s = stats.data;
  const remove = async () => {
    try {
      await api.deleteFlow(project.id, flow.id);
      onDeleted();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : 'Could not delete the flow.');
    }
  };
  return (
    <tr data-testid={`flow-${flow.id}`}>
      <td>
        <strong>{flow.name}</strong>
        <div className="muted small">
          {stepText(flow.start)} → {stepText(flow.complete)}
          {flow.fail && <> · fails on {stepText(flow.fail)}</>} · within {flow.window_hours} h
        </div>
        {error && <div className="drop-high small" role="alert">{error}</div>}
      </td>
      {stats.error ? (
        <td colSpan={8}><ErrorBanner error={stats.error} onRetry={stats.reload} /></td>
      ) : !s ? (
        <td colSpan={8}><Skeleton height={24} label={`Loading ${flow.name}`} /></td>
      ) : (
        <>
          <td className="num" data-testid="flow-started">{fmtInt(s.started)}</td>
          <td className="num" data-testid="flow-completed">{fmtInt(s.completed)}</td>
          <td className="num" data-testid="flow-failed">{fmtInt(s.failed)}</td>
          <td className="num" data-testid="flow-completion">{fmtPct(s.completion_rate)}</td>
          <td className="num" data-testid="flow-success">{fmtPct(s.success_rate)}</td>
          <td className="num" data-testid="flow-avg">{secs(s.avg_completion_s)}</td>
          <td className="num" data-testid="flow-median">{secs(s.median_completion_s)}</td>
          <td className="flow-bars">
            <Bars
              label={`${flow.name} started per day`}
              format={(v) => `${fmtInt(v)} started`}
              items={s.daily.map((d) => ({ key: d.day, label: '', value: d.started }))}
            />
          </td>
        </>
      )}
      {canEdit && (
        <td className="actions">
          {confirm ? (
            <>
              <button type="button" className="btn btn-small btn-danger" onClick={remove}>Confirm delete</button>
              <button type="button" className="btn btn-small" onClick={() => setConfirm(false)}>Cancel</button>
            </>
          ) : (
            <>
              <button type="button" className="btn btn-small" onClick={onEdit} aria-label={`Edit ${flow.name}`}>Edit</button>
              <button type="button" className="btn btn-small btn-danger" onClick={() => setConfirm(true)} aria-label={`Delete ${flow.name}`}>Delete</button>
            </>
          )}
        </td>
      )}
    </tr>
  );
}

const blank = (): FunnelStepDef => ({ match: 'event', value: '' });

function StepFields({ label, step, onChange, error }: { label: string; step: FunnelStepDef; onChange: (s: FunnelStepDef) => void; error?: string }) {
  return (
    <fieldset className="flow-step">
      <legend>{label}</legend>
      <select aria-label={`${label} match`} value={step.match} onChange={(e) => onChange({ ...step, match: e.target.value as 'page' | 'event' })}>
        <option value="event">event</option>
        <option value="page">page</option>
      </select>
      <input
        aria-label={`${label} value`}
        placeholder={step.match === 'page' ? '/checkout' : 'export_started'}
        value={step.value}
        onChange={(e) => onChange({ ...step, value: e.target.value })}
      />
      {step.match === 'page' && (
        <label className="check small">
          <input type="checkbox" aria-label={`${label} prefix`} checked={!!step.prefix} onChange={(e) => onChange({ ...step, prefix: e.target.checked })} /> and below
        </label>
      )}
      {error && <span className="drop-high small" role="alert">{error}</span>}
    </fieldset>
  );
}

/** The request body of the form: the contract's `{name, start, complete, fail, window_hours}`. */
export function flowBody(name: string, start: FunnelStepDef, complete: FunnelStepDef, fail: FunnelStepDef | null, windowHours: string): FlowBody {
  const step = (s: FunnelStepDef): FunnelStepDef => ({ match: s.match, value: s.value.trim(), ...(s.match === 'page' && s.prefix ? { prefix: true } : {}) });
  return { name: name.trim(), start: step(start), complete: step(complete), fail: fail ? step(fail) : null, window_hours: Number(windowHours) };
}

export function FlowForm({ project, flow, onDone, onCancel }: { project: Project; flow: Flow | null; onDone: () => void; onCancel: () => void }) {
  const [name, setName] = useState(flow?.name ?? '');
  const [start, setStart] = useState<FunnelStepDef>(flow?.start ?? blank());
  const [complete, setComplete] = useState<FunnelStepDef>(flow?.complete ?? blank());
  const [hasFail, setHasFail] = useState(!!flow?.fail);
  const [fail, setFail] = useState<FunnelStepDef>(flow?.fail ?? blank());
  const [windowHours, setWindowHours] = useState(String(flow?.window_hours ?? 24));
  const [error, setError] = useState<{ field?: string; message: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setBusy(true);
    const body = flowBody(name, start, complete, hasFail ? fail : null, windowHours);
    try {
      if (flow) await api.updateFlow(project.id, flow.id, body);
      else await api.createFlow(project.id, body);
      onDone();
    } catch (err) {
      setError(err instanceof ApiError ? { field: err.field, message: err.message } : { message: 'Could not save the flow.' });
    } finally {
      setBusy(false);
    }
  };
  // A field error is shown next to its input (`start.value` at the start step).
  const at = (prefix: string) => (error?.field && (error.field === prefix || error.field.startsWith(prefix + '.')) ? error.message : undefined);
  const general = error && !['name', 'start', 'complete', 'fail', 'window_hours'].some((f) => at(f)) ? error.message : null;
  return (
    <form className="flow-form form-grid" onSubmit={submit} aria-label={flow ? `Edit flow ${flow.name}` : 'New flow'}>
      <label>
        Name
        <input required value={name} onChange={(e) => setName(e.target.value)} placeholder="Vision generation" />
        {at('name') && <span className="drop-high small" role="alert">{at('name')}</span>}
      </label>
      <div className="flow-steps">
        <StepFields label="Start" step={start} onChange={setStart} error={at('start')} />
        <StepFields label="Complete" step={complete} onChange={setComplete} error={at('complete')} />
        {hasFail ? (
          <StepFields label="Fail" step={fail} onChange={setFail} error={at('fail')} />
        ) : null}
      </div>
      <label className="check">
        <input type="checkbox" checked={hasFail} onChange={(e) => setHasFail(e.target.checked)} /> A step that marks the attempt as failed
      </label>
      <label>
        Window (hours from start to complete, 1–720)
        <input type="number" min={1} max={720} required value={windowHours} onChange={(e) => setWindowHours(e.target.value)} />
        {at('window_hours') && <span className="drop-high small" role="alert">{at('window_hours')}</span>}
      </label>
      <div className="row">
        <button className="btn btn-primary" type="submit" disabled={busy}>{flow ? 'Save flow' : 'Create flow'}</button>
        <button className="btn" type="button" onClick={onCancel}>Cancel</button>
      </div>
      {general && <div className="banner banner-error" role="alert">{general}</div>}
    </form>
  );
}

export function FlowsSection({ project, days, role }: { project: Project; days: number; role?: Role }) {
  const flows = useAsync(() => api.flows(project.id), [project.id]);
  const me = useAsync(() => (role ? Promise.resolve({ role }) : api.project(project.id)), [project.id, role]);
  const canEdit = canAdminister(me.data?.role ?? 'viewer');
  const [editing, setEditing] = useState<Flow | 'new' | null>(null);
  const done = () => {
    setEditing(null);
    flows.reload();
  };
  const list = flows.data?.flows ?? [];
  return (
    <section className="card" aria-label="Flows">
      <div className="card-head">
        <div>
          <h2>Flows</h2>
          <span className="muted small">attempts started in the last {days} days</span>
        </div>
        {canEdit && editing === null && flows.data && (
          <button type="button" className="btn btn-small btn-primary" onClick={() => setEditing('new')}>New flow</button>
        )}
      </div>
      {editing !== null && (
        <FlowForm key={editing === 'new' ? 'new' : editing.id} project={project} flow={editing === 'new' ? null : editing} onDone={done} onCancel={() => setEditing(null)} />
      )}
      {flows.error ? (
        <ErrorBanner error={flows.error} onRetry={flows.reload} />
      ) : !flows.data ? (
        <Skeleton height={80} label="Loading flows" />
      ) : list.length === 0 ? (
        <Empty title="No flows yet — a flow measures how often people who start something finish it">
          {canEdit
            ? 'Create one with a start step (a page or an event) and a complete step, e.g. “vision_started” → “vision_done”.'
            : 'An admin can define one: a start step and a complete step, e.g. “vision_started” → “vision_done”.'}
        </Empty>
      ) : (
        <div className="table-scroll">
          <table className="data-table" data-testid="flows-table">
            <thead>
              <tr>
                <th>Flow</th>
                <th className="num">Started</th>
                <th className="num">Completed</th>
                <th className="num">Failed</th>
                <th className="num">Completion</th>
                <th className="num">Success</th>
                <th className="num">Avg time</th>
                <th className="num">Median time</th>
                <th>Started per day</th>
                {canEdit && <th><span className="sr-only">Actions</span></th>}
              </tr>
            </thead>
            <tbody>
              {list.map((f) => (
                <FlowRow key={f.id} project={project} flow={f} days={days} canEdit={canEdit} onEdit={() => setEditing(f)} onDeleted={flows.reload} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
