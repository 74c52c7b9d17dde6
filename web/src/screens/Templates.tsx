// Templates (issue 14 item 1): a project's message templates — the list, an
// editor (name, channel, and the parts that channel uses) for supervisors and
// above, and a preview pane that renders the template for a contact of the
// project or a sample (`POST …/templates/preview` for the editor's unsaved
// draft, `…/templates/{tid}/preview` for a saved one). The rendered HTML is
// shown in an iframe with `sandbox=""` and `srcdoc`: no scripts, no forms,
// no same-origin access to the dashboard. A template error (422) names the
// part and its line; the editor shows it under that part. The language is
// docs/templates.md.
import { useId, useState, type FormEvent } from 'react';
import { api, ApiError } from '../api/client';
import type { MessageTemplate, PreviewRequest, Project, RenderedTemplate, TemplateBody, TemplateChannel } from '../api/types';
import { canSupervise } from '../api/types';
import { Empty, ErrorBanner, Skeleton } from '../components/ui';
import { fmtDateTime } from '../lib/format';
import { useAsync } from '../lib/useAsync';

export const CHANNELS: { value: TemplateChannel; label: string }[] = [
  { value: 'email', label: 'Email' },
  { value: 'push', label: 'Web push' },
  { value: 'in_app', label: 'In-app' },
  { value: 'whatsapp', label: 'WhatsApp' },
];
const channelLabel = (c: TemplateChannel) => CHANNELS.find((x) => x.value === c)?.label ?? c;

/** The editor's fields, as text (empty is "no part"). */
export interface Form {
  name: string;
  channel: TemplateChannel;
  subject: string;
  body_html: string;
  body_text: string;
  push_title: string;
  push_body: string;
  push_url: string;
  push_icon: string;
}

export const formOf = (t: MessageTemplate | null): Form => ({
  name: t?.name ?? '',
  channel: t?.channel ?? 'email',
  subject: t?.subject ?? '',
  body_html: t?.body_html ?? '',
  body_text: t?.body_text ?? '',
  push_title: t?.push?.title ?? '',
  push_body: t?.push?.body ?? '',
  push_url: t?.push?.url ?? '',
  push_icon: t?.push?.icon ?? '',
});

/** The API body of a form: only the parts its channel uses, empty ones left out. */
export function bodyOf(f: Form): TemplateBody {
  const part = (s: string) => (s.trim() ? s : undefined);
  const body: TemplateBody = { name: f.name.trim(), channel: f.channel };
  if (f.channel === 'email' || f.channel === 'in_app') body.subject = part(f.subject);
  if (f.channel === 'email') body.body_html = part(f.body_html);
  if (f.channel !== 'push') body.body_text = part(f.body_text);
  if (f.channel === 'push') body.push = { title: f.push_title, body: f.push_body, url: part(f.push_url), icon: part(f.push_icon) };
  return body;
}

/** `line 3` in a template error's message → 3. */
export const lineOf = (message: string): number | null => {
  const m = /\bline (\d+)\b/.exec(message);
  return m ? Number(m[1]) : null;
};

/** A server error's field as the editor names it (`template.body_html` → `body_html`, `push.title` → `push_title`). */
export const editorField = (field: string | undefined): string | null =>
  field ? field.replace(/^template\./, '').replace(/^push\./, 'push_') : null;

type FieldErrors = { field: string | null; message: string } | null;

function FieldError({ error, field }: { error: FieldErrors; field: string }) {
  if (!error || error.field !== field) return null;
  const line = lineOf(error.message);
  return (
    <div className="drop-high small" role="alert" data-testid={`error-${field}`}>
      {line !== null && <span className="line-badge">Line {line}</span>} {error.message}
    </div>
  );
}

const SAMPLE = '{\n  "name": "Ada Lovelace",\n  "email": "ada@example.com",\n  "traits": {"plan": "pro"}\n}';

/** Parses a JSON object typed into a textarea; `null` for blank. */
function jsonObject(text: string, what: string): Record<string, unknown> | null {
  if (!text.trim()) return null;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new Error(`${what} is not valid JSON.`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${what} must be a JSON object.`);
  return v as Record<string, unknown>;
}

/**
 * Renders a template for a contact or a sample: `render(req)` is the saved
 * template's preview or the editor's draft. Errors about the template itself
 * go to `onTemplateError` (the editor shows them on the part); the others
 * (an unknown contact, bad sample JSON) are shown here.
 */
export function PreviewPane({ project, render, onTemplateError }: {
  project: Project;
  render: (req: PreviewRequest) => Promise<RenderedTemplate>;
  onTemplateError?: (e: ApiError | null) => void;
}) {
  const ids = useId();
  const [who, setWho] = useState<'sample' | 'contact'>('sample');
  const [sample, setSample] = useState(SAMPLE);
  const [contactId, setContactId] = useState('');
  const [data, setData] = useState('');
  const [query, setQuery] = useState('');
  const [matches, setMatches] = useState<{ id: string; label: string }[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<RenderedTemplate | null>(null);

  const search = async () => {
    setError(null);
    try {
      const page = await api.people(project.id, { q: query }, null, 5);
      setMatches(page.users.map((u) => ({ id: u.id, label: [u.name, u.email, u.user_id ?? u.id].filter(Boolean).join(' · ') })));
    } catch (e) {
      setError(e instanceof Error ? e.message : 'Search failed.');
    }
  };

  const run = async () => {
    setBusy(true);
    setError(null);
    onTemplateError?.(null);
    try {
      const req: PreviewRequest = {};
      const d = jsonObject(data, 'Data');
      if (d) req.data = d;
      if (who === 'contact') {
        if (!contactId.trim()) throw new Error('Pick a contact first.');
        req.contact_id = contactId.trim();
      } else {
        const s = jsonObject(sample, 'The sample');
        if (s) req.sample = s;
      }
      setResult(await render(req));
    } catch (e) {
      setResult(null);
      const f = e instanceof ApiError ? editorField(e.field) : null;
      const aboutTemplate = e instanceof ApiError && (e.code === 'invalid_template' || (f !== null && !['contact_id', 'data'].includes(f) && !f.startsWith('sample')));
      if (aboutTemplate && onTemplateError) {
        onTemplateError(e as ApiError);
        setError('The template has an error; see the highlighted part.');
      } else {
        setError(e instanceof ApiError && e.field ? `${e.field}: ${e.message}` : e instanceof Error ? e.message : 'Preview failed.');
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card stack template-preview" aria-label="Preview">
      <h2>Preview</h2>
      <div className="row" role="radiogroup" aria-label="Render for">
        <label className="check"><input type="radio" name={`${ids}-who`} checked={who === 'sample'} onChange={() => setWho('sample')} /> Sample contact</label>
        <label className="check"><input type="radio" name={`${ids}-who`} checked={who === 'contact'} onChange={() => setWho('contact')} /> A contact of this project</label>
      </div>
      {who === 'sample' ? (
        <div className="field">
          <label htmlFor={`${ids}-sample`}>Sample (JSON: name, email, traits)</label>
          <textarea id={`${ids}-sample`} className="code-input" rows={5} value={sample} onChange={(e) => setSample(e.target.value)} />
        </div>
      ) : (
        <div className="stack">
          <div className="row">
            <input aria-label="Search people" placeholder="Name, email or id" value={query} onChange={(e) => setQuery(e.target.value)} />
            <button type="button" className="btn btn-small" onClick={search}>Search</button>
          </div>
          {matches && (matches.length === 0 ? (
            <span className="muted small">Nobody found.</span>
          ) : (
            <div className="row">
              {matches.map((m) => (
                <button key={m.id} type="button" className={`btn btn-small ${contactId === m.id ? 'btn-primary' : ''}`} onClick={() => setContactId(m.id)}>{m.label}</button>
              ))}
            </div>
          ))}
          <div className="field">
            <label htmlFor={`${ids}-contact`}>Contact id</label>
            <input id={`${ids}-contact`} value={contactId} onChange={(e) => setContactId(e.target.value)} placeholder="person id, user id or anonymous id" />
          </div>
        </div>
      )}
      <div className="field">
        <label htmlFor={`${ids}-data`}>Data (optional JSON object: the template&rsquo;s data.*)</label>
        <textarea id={`${ids}-data`} className="code-input" rows={2} value={data} onChange={(e) => setData(e.target.value)} placeholder='{"coupon": "SAVE10"}' />
      </div>
      <div className="row">
        <button type="button" className="btn" onClick={run} disabled={busy}>{busy ? 'Rendering…' : 'Render preview'}</button>
      </div>
      {error && <div className="banner banner-error" role="alert" data-testid="preview-error">{error}</div>}
      {result && <Rendered result={result} />}
    </section>
  );
}

function Rendered({ result }: { result: RenderedTemplate }) {
  return (
    <div className="stack" data-testid="preview-result">
      {result.subject !== null && (
        <div><span className="muted small">Subject</span> <strong data-testid="preview-subject">{result.subject}</strong></div>
      )}
      {result.html !== null && (
        <iframe className="preview-frame" title="HTML preview" sandbox="" srcDoc={result.html} data-testid="preview-html" />
      )}
      {result.text !== null && (
        <div>
          <span className="muted small">{result.text_derived ? 'Text part (derived from the HTML)' : 'Text'}</span>
          <pre className="preview-text" data-testid="preview-text">{result.text}</pre>
        </div>
      )}
      {result.push && (
        <div className="push-card" data-testid="preview-push">
          {result.push.icon && <span className="muted small">{result.push.icon}</span>}
          <strong>{result.push.title}</strong>
          <div>{result.push.body}</div>
          {result.push.url && <div className="muted small">Opens {result.push.url}</div>}
        </div>
      )}
      <div className="muted small">Unsubscribe link in previews: {result.unsubscribe_url} (a placeholder; each recipient gets their own).</div>
    </div>
  );
}

function Part({ label, field, value, onChange, error, rows, placeholder }: {
  label: string; field: keyof Form; value: string; onChange: (v: string) => void; error: FieldErrors; rows?: number; placeholder?: string;
}) {
  const invalid = error?.field === field;
  // The label names the control by `htmlFor`, not by wrapping it: a wrapping
  // label's accessible name would include the text typed into it.
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {rows ? (
        <textarea id={id} className="code-input" rows={rows} value={value} aria-invalid={invalid || undefined} placeholder={placeholder} onChange={(e) => onChange(e.target.value)} />
      ) : (
        <input id={id} value={value} aria-invalid={invalid || undefined} placeholder={placeholder} onChange={(e) => onChange(e.target.value)} />
      )}
      <FieldError error={error} field={field} />
    </div>
  );
}

export function TemplateEditor({ project, template, onSaved, onCancel }: {
  project: Project; template: MessageTemplate | null; onSaved: (t: MessageTemplate) => void; onCancel: () => void;
}) {
  const ids = useId();
  const [form, setForm] = useState<Form>(() => formOf(template));
  const [error, setError] = useState<FieldErrors>(null);
  const [busy, setBusy] = useState(false);
  const set = (change: Partial<Form>) => setForm((f) => ({ ...f, ...change }));
  const showError = (e: ApiError | null) => setError(e ? { field: editorField(e.field), message: e.message } : null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = bodyOf(form);
      onSaved(template ? await api.updateTemplate(project.id, template.id, body) : await api.createTemplate(project.id, body));
    } catch (err) {
      if (err instanceof ApiError) showError(err);
      else setError({ field: null, message: 'Could not save the template.' });
    } finally {
      setBusy(false);
    }
  };
  const known = ['name', 'channel', 'subject', 'body_html', 'body_text', 'push_title', 'push_body', 'push_url', 'push_icon', 'push'];
  const c = form.channel;
  return (
    <div className="template-layout">
      <form className="card stack" onSubmit={submit} aria-label={template ? `Edit ${template.name}` : 'New template'}>
        <h2>{template ? `Edit “${template.name}”` : 'New template'}</h2>
        <div className="two-col">
          <div className="field">
            <label htmlFor={`${ids}-name`}>Name</label>
            <input id={`${ids}-name`} required maxLength={100} value={form.name} aria-invalid={error?.field === 'name' || undefined} onChange={(e) => set({ name: e.target.value })} placeholder="Welcome email" />
            <FieldError error={error} field="name" />
          </div>
          <div className="field">
            <label htmlFor={`${ids}-channel`}>Channel</label>
            <select id={`${ids}-channel`} value={c} onChange={(e) => set({ channel: e.target.value as TemplateChannel })}>
              {CHANNELS.map((x) => <option key={x.value} value={x.value}>{x.label}</option>)}
            </select>
            <FieldError error={error} field="channel" />
          </div>
        </div>
        {(c === 'email' || c === 'in_app') && (
          <Part label={c === 'email' ? 'Subject' : 'Subject (optional)'} field="subject" value={form.subject} onChange={(v) => set({ subject: v })} error={error} placeholder="Welcome, {{ contact.name }}" />
        )}
        {c === 'email' && (
          <Part label="HTML body" field="body_html" rows={10} value={form.body_html} onChange={(v) => set({ body_html: v })} error={error} placeholder="<p>Hi {{ contact.name | default('there') }}</p>" />
        )}
        {c !== 'push' && (
          <Part
            label={c === 'email' ? 'Text body (optional: derived from the HTML when empty)' : 'Text'}
            field="body_text" rows={c === 'email' ? 5 : 6} value={form.body_text} onChange={(v) => set({ body_text: v })} error={error}
          />
        )}
        {c === 'push' && (
          <>
            <Part label="Notification title" field="push_title" value={form.push_title} onChange={(v) => set({ push_title: v })} error={error} />
            <Part label="Notification text" field="push_body" rows={3} value={form.push_body} onChange={(v) => set({ push_body: v })} error={error} />
            <div className="two-col">
              <Part label="Opens URL (optional)" field="push_url" value={form.push_url} onChange={(v) => set({ push_url: v })} error={error} placeholder="https://" />
              <Part label="Icon URL (optional)" field="push_icon" value={form.push_icon} onChange={(v) => set({ push_icon: v })} error={error} placeholder="https://" />
            </div>
            <FieldError error={error} field="push" />
          </>
        )}
        {error && !known.includes(error.field ?? '') && <div className="banner banner-error" role="alert">{error.message}</div>}
        <p className="muted small">
          Variables: <code>{'{{ contact.name }}'}</code>, <code>{'{{ contact.email }}'}</code>, <code>{'{{ contact.traits.plan }}'}</code>,{' '}
          <code>{'{{ unsubscribe_url }}'}</code>, <code>{'{{ data.coupon }}'}</code>. HTML is escaped in the HTML body only.
        </p>
        <div className="row">
          <button className="btn btn-primary" type="submit" disabled={busy}>{template ? 'Save template' : 'Create template'}</button>
          <button className="btn" type="button" onClick={onCancel}>Cancel</button>
        </div>
      </form>
      <PreviewPane project={project} render={(req) => api.previewDraft(project.id, bodyOf(form), req)} onTemplateError={showError} />
    </div>
  );
}

function TemplateRow({ project, template, canEdit, onOpen, onDeleted }: {
  project: Project; template: MessageTemplate; canEdit: boolean; onOpen: () => void; onDeleted: () => void;
}) {
  const [confirm, setConfirm] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const remove = async () => {
    setBusy(true);
    setError(null);
    try {
      await api.deleteTemplate(project.id, template.id);
      onDeleted();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : 'Could not delete the template.');
    } finally {
      setBusy(false);
      setConfirm(false);
    }
  };
  return (
    <tr data-testid={`template-${template.id}`}>
      <td>
        <strong>{template.name}</strong>
        {template.subject && <div className="muted small">{template.subject}</div>}
        {error && <div className="drop-high small" role="alert">{error}</div>}
      </td>
      <td>{channelLabel(template.channel)}</td>
      <td className="muted small">{fmtDateTime(template.updated_at)}</td>
      <td className="actions">
        {confirm ? (
          <>
            <button type="button" className="btn btn-small btn-danger" disabled={busy} onClick={remove}>Confirm delete</button>
            <button type="button" className="btn btn-small" onClick={() => setConfirm(false)}>Cancel</button>
          </>
        ) : (
          <>
            <button type="button" className="btn btn-small" onClick={onOpen} aria-label={`${canEdit ? 'Edit' : 'Preview'} ${template.name}`}>{canEdit ? 'Edit' : 'Preview'}</button>
            {canEdit && <button type="button" className="btn btn-small btn-danger" onClick={() => setConfirm(true)} aria-label={`Delete ${template.name}`}>Delete</button>}
          </>
        )}
      </td>
    </tr>
  );
}

/** A saved template, read-only, with its preview (viewers and agents). */
function TemplateView({ project, template, onClose }: { project: Project; template: MessageTemplate; onClose: () => void }) {
  return (
    <div className="template-layout">
      <section className="card stack" aria-label={template.name}>
        <div className="page-head">
          <h2>{template.name} <span className="muted small">({channelLabel(template.channel)})</span></h2>
          <button type="button" className="btn btn-small" onClick={onClose}>Close</button>
        </div>
        {template.subject && <div><span className="muted small">Subject</span> <code>{template.subject}</code></div>}
        {template.body_html && <pre className="preview-text">{template.body_html}</pre>}
        {template.body_text && <pre className="preview-text">{template.body_text}</pre>}
        {template.push && <pre className="preview-text">{[template.push.title, template.push.body, template.push.url, template.push.icon].filter(Boolean).join('\n')}</pre>}
      </section>
      <PreviewPane project={project} render={(req) => api.previewTemplate(project.id, template.id, req)} />
    </div>
  );
}

export function Templates({ project }: { project: Project }) {
  const me = useAsync(() => api.project(project.id), [project.id]);
  const list = useAsync(() => api.templates(project.id), [project.id]);
  const [open, setOpen] = useState<MessageTemplate | 'new' | null>(null);
  const canEdit = canSupervise(me.data?.role ?? 'viewer');
  const templates = list.data?.templates ?? [];
  return (
    <div className="page">
      <div className="page-head">
        <h1>Templates</h1>
        {canEdit && open === null && <button type="button" className="btn btn-primary" onClick={() => setOpen('new')}>New template</button>}
        {me.data && !canEdit && <span className="muted small">Read-only: supervisors and above write templates.</span>}
      </div>
      {open !== null && (canEdit ? (
        <TemplateEditor
          key={open === 'new' ? 'new' : open.id}
          project={project}
          template={open === 'new' ? null : open}
          onSaved={() => {
            setOpen(null);
            list.reload();
          }}
          onCancel={() => setOpen(null)}
        />
      ) : open !== 'new' && (
        <TemplateView key={open.id} project={project} template={open} onClose={() => setOpen(null)} />
      ))}
      <section className="card" aria-label="Saved templates">
        {list.error ? (
          <ErrorBanner error={list.error} onRetry={list.reload} />
        ) : !list.data ? (
          <Skeleton height={120} label="Loading templates" />
        ) : templates.length === 0 ? (
          <Empty title="No templates yet">
            A template is a message written once and rendered for each contact — an email, a web push notification, an in-app or a
            WhatsApp message — with their name, email and traits. {canEdit ? 'Create one with “New template”.' : 'A supervisor can create one.'}
          </Empty>
        ) : (
          <div className="table-scroll">
            <table className="data-table" data-testid="templates-table">
              <thead>
                <tr><th>Template</th><th>Channel</th><th>Updated</th><th><span className="sr-only">Actions</span></th></tr>
              </thead>
              <tbody>
                {templates.map((t) => (
                  <TemplateRow key={t.id} project={project} template={t} canEdit={canEdit} onOpen={() => setOpen(t)} onDeleted={list.reload} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}

export default Templates;
