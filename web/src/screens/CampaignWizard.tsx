// The campaign wizard (issue 14 item 7): a draft's name, channel, template,
// segment (with a live count of the people in it), schedule and throttle,
// checked here first and then by the API, whose `{"error":{field}}` lands
// under the field it names. A saved draft can be test-sent to given
// addresses (`POST …/campaigns/{cid}/test`, nothing recorded).
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { api, ApiError } from '../api/client';
import type { Campaign, CampaignBody, CampaignContent, CustomSegment, MessageTemplate, Project, TemplateChannel, TestSendResult } from '../api/types';
import { CAMPAIGN_CHANNELS } from '../components/campaigns/progress';
import { ErrorBanner, Skeleton } from '../components/ui';
import { fmtInt } from '../lib/format';
import { navigate } from '../lib/router';
import { useAsync } from '../lib/useAsync';
import { BUILTIN_SEGMENTS } from './People';

export interface WizardForm {
  name: string;
  channel: TemplateChannel;
  template_id: string;
  segment: string;
  when: 'now' | 'later';
  /** `datetime-local` value, the browser's time zone. */
  send_at: string;
  rate: string;
}

const pad = (n: number) => String(n).padStart(2, '0');
/** Unix ms → a `datetime-local` value in the browser's zone. */
export const localInput = (ms: number) => {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
};

export const wizardFormOf = (c: Campaign | null): WizardForm => ({
  name: c?.name ?? '',
  channel: c?.channel ?? 'email',
  template_id: c?.template_id ?? (c?.content ? INLINE : ''),
  segment: c?.segment ?? 'all',
  when: c?.send_at ? 'later' : 'now',
  send_at: c?.send_at ? localInput(c.send_at) : '',
  rate: c?.rate_per_minute ? String(c.rate_per_minute) : '',
});

export type FieldError = { field: string | null; message: string };

/** The form's own checks (the API checks again); the first problem, naming its field. */
export function validate(f: WizardForm, now = Date.now()): FieldError | null {
  if (!f.name.trim()) return { field: 'name', message: 'Give the campaign a name.' };
  if (f.name.trim().length > 100) return { field: 'name', message: 'At most 100 characters.' };
  if (!f.template_id) return { field: 'template_id', message: 'Pick a template.' };
  if (!f.segment) return { field: 'segment', message: 'Pick a segment.' };
  if (f.when === 'later') {
    const t = new Date(f.send_at).getTime();
    if (!f.send_at || Number.isNaN(t)) return { field: 'send_at', message: 'Pick a date and time.' };
    if (t <= now) return { field: 'send_at', message: 'Pick a time in the future.' };
  }
  if (f.rate.trim()) {
    const r = Number(f.rate);
    if (!Number.isInteger(r) || r < 1 || r > 60_000) return { field: 'rate_per_minute', message: 'A whole number from 1 to 60,000.' };
  }
  return null;
}

/** The template picker's value for a campaign written with inline content (through the API): kept as it is. */
export const INLINE = '__inline__';

export function campaignBodyOf(f: WizardForm, inline?: CampaignContent | null): CampaignBody {
  const what = f.template_id === INLINE && inline ? { content: inline } : { template_id: f.template_id };
  return {
    name: f.name.trim(),
    channel: f.channel,
    ...what,
    segment: f.segment,
    send_at: f.when === 'later' ? new Date(f.send_at).getTime() : null,
    rate_per_minute: f.rate.trim() ? Number(f.rate) : null,
  };
}

/** Counting a built-in segment pages through the people list; past this many it says "more than". */
export const COUNT_CAP = 1000;

type Count = { n: number; more: boolean; custom: boolean } | null;

/**
 * How many people the segment holds now: a custom segment by its criteria
 * (`POST …/segments/preview`, the builder's live count), a built-in one by
 * paging the people list filtered by it (the list has no total) up to
 * COUNT_CAP. Who of them has no address or unsubscribed is only known when
 * sending starts (skipped by reason).
 */
export function useSegmentCount(projectId: string, segment: string, custom: CustomSegment[] | undefined) {
  const [count, setCount] = useState<Count>(null);
  const [error, setError] = useState<string | null>(null);
  const call = useRef(0);
  const seg = custom?.find((s) => s.id === segment);
  // The criteria, not the list object: reloading the segments does not recount.
  const criteria = seg ? JSON.stringify(seg.criteria) : null;
  const builtin = BUILTIN_SEGMENTS.some((s) => s.id === segment);
  useEffect(() => {
    const mine = ++call.current;
    setCount(null);
    setError(null);
    const done = (c: Count) => mine === call.current && setCount(c);
    const fail = (e: unknown) => mine === call.current && setError(e instanceof Error ? e.message : 'Could not count.');
    if (criteria !== null) {
      api.previewSegment(projectId, JSON.parse(criteria)).then((r) => done({ n: r.user_count, more: false, custom: true }), fail);
    } else if (builtin) {
      (async () => {
        let n = 0;
        let cursor: string | null = null;
        do {
          const page = await api.people(projectId, { segment }, cursor, 200);
          if (mine !== call.current) return;
          n += page.users.length;
          cursor = page.next_cursor;
        } while (cursor && n < COUNT_CAP);
        done({ n, more: cursor !== null, custom: false });
      })().catch(fail);
    }
  }, [projectId, segment, criteria, builtin]);
  return { count, error };
}

function Err({ error, field }: { error: FieldError | null; field: string }) {
  if (!error || error.field !== field) return null;
  return <div className="drop-high small" role="alert" data-testid={`error-${field}`}>{error.message}</div>;
}

/** Test sends of a saved campaign to up to 10 addresses. */
export function TestSend({ project, campaign }: { project: Project; campaign: Campaign }) {
  const id = useId();
  const [addresses, setAddresses] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [results, setResults] = useState<TestSendResult[] | null>(null);
  const send = async () => {
    const list = addresses.split(/[\s,;]+/).map((a) => a.trim()).filter(Boolean);
    setResults(null);
    if (list.length === 0) return setError('Type at least one address.');
    setBusy(true);
    setError(null);
    try {
      setResults((await api.testCampaign(project.id, campaign.id, list)).results);
    } catch (e) {
      setError(e instanceof ApiError && e.field ? `${e.field}: ${e.message}` : e instanceof Error ? e.message : 'Test send failed.');
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="card stack" aria-label="Test send">
      <h2>Test send</h2>
      <div className="field">
        <label htmlFor={id}>Send a test to (up to 10 addresses, comma-separated)</label>
        <input id={id} value={addresses} onChange={(e) => setAddresses(e.target.value)} placeholder="me@example.com" />
      </div>
      <p className="muted small">Rendered for a sample contact and sent now over the channel; no recipient is recorded.</p>
      <div className="row">
        <button type="button" className="btn" onClick={send} disabled={busy}>{busy ? 'Sending…' : 'Send test'}</button>
      </div>
      {error && <div className="banner banner-error" role="alert">{error}</div>}
      {results && (
        <ul className="plain-list" data-testid="test-results">
          {results.map((r) => (
            <li key={r.address}>
              {r.address}: <strong className={r.status === 'sent' ? '' : 'drop-high'}>{r.status}</strong>
              {r.error && <span className="muted small"> — {r.error}</span>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function CampaignWizard({ project, campaign }: { project: Project; campaign: Campaign | null }) {
  const ids = useId();
  const templates = useAsync(() => api.templates(project.id), [project.id]);
  const segments = useAsync(() => api.segments(project.id), [project.id]);
  const [form, setForm] = useState<WizardForm>(() => wizardFormOf(campaign));
  const [error, setError] = useState<FieldError | null>(null);
  const [busy, setBusy] = useState(false);
  // Editing a field takes its error away (the form's key → the API's field).
  const set = (change: Partial<WizardForm>) => {
    setForm((f) => ({ ...f, ...change }));
    const fields = Object.keys(change).map((k) => (k === 'rate' ? 'rate_per_minute' : k === 'when' ? 'send_at' : k));
    setError((e) => (e && e.field && fields.includes(e.field) ? null : e));
  };
  const { count, error: countError } = useSegmentCount(project.id, form.segment, segments.data?.segments);
  const ofChannel = (templates.data?.templates ?? []).filter((t: MessageTemplate) => t.channel === form.channel);
  const channel = CAMPAIGN_CHANNELS.find((c) => c.value === form.channel);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const problem = validate(form);
    setError(problem);
    if (problem) return;
    setBusy(true);
    try {
      const body = campaignBodyOf(form, campaign?.content);
      const saved = campaign ? await api.updateCampaign(project.id, campaign.id, body) : await api.createCampaign(project.id, body);
      navigate(`/campaigns/${encodeURIComponent(saved.id)}`);
    } catch (err) {
      setError(err instanceof ApiError ? { field: err.field ?? null, message: err.message } : { field: null, message: 'Could not save the campaign.' });
    } finally {
      setBusy(false);
    }
  };
  const known = ['name', 'channel', 'template_id', 'segment', 'send_at', 'rate_per_minute'];
  const invalid = (f: string) => error?.field === f || undefined;

  return (
    <div className="stack">
      <form className="card stack" onSubmit={submit} noValidate aria-label={campaign ? `Edit ${campaign.name}` : 'New campaign'}>
        <h2>{campaign ? `Edit “${campaign.name}”` : 'New campaign'}</h2>
        <div className="two-col">
          <div className="field">
            <label htmlFor={`${ids}-name`}>Name</label>
            <input id={`${ids}-name`} value={form.name} aria-invalid={invalid('name')} onChange={(e) => set({ name: e.target.value })} placeholder="Spring sale" />
            <Err error={error} field="name" />
          </div>
          <div className="field">
            <label htmlFor={`${ids}-channel`}>Channel</label>
            <select id={`${ids}-channel`} value={form.channel} aria-invalid={invalid('channel')} onChange={(e) => set({ channel: e.target.value as TemplateChannel, template_id: '' })}>
              {CAMPAIGN_CHANNELS.map((c) => <option key={c.value} value={c.value}>{c.label}{c.sendable ? '' : ' (cannot be sent yet)'}</option>)}
            </select>
            {channel && !channel.sendable && <span className="muted small">Only email campaigns can be sent yet; this one can be written and saved as a draft.</span>}
            <Err error={error} field="channel" />
          </div>
        </div>

        <div className="field">
          <label htmlFor={`${ids}-template`}>Template</label>
          {templates.error ? (
            <ErrorBanner error={templates.error} onRetry={templates.reload} />
          ) : !templates.data ? (
            <Skeleton height={32} label="Loading templates" />
          ) : (
            <select id={`${ids}-template`} value={form.template_id} aria-invalid={invalid('template_id')} onChange={(e) => set({ template_id: e.target.value })}>
              <option value="">{ofChannel.length ? 'Pick a template…' : `No ${channel?.label ?? ''} templates yet`}</option>
              {campaign?.content && <option value={INLINE}>Its own content{campaign.content.subject ? ` — ${campaign.content.subject}` : ''} (kept as it is)</option>}
              {ofChannel.map((t) => <option key={t.id} value={t.id}>{t.name}{t.subject ? ` — ${t.subject}` : ''}</option>)}
            </select>
          )}
          <a className="small" href="/templates" onClick={(e) => { e.preventDefault(); navigate('/templates'); }}>Create a template</a>
          <Err error={error} field="template_id" />
          <Err error={error} field="content" />
        </div>

        <div className="field">
          <label htmlFor={`${ids}-segment`}>Segment</label>
          <select id={`${ids}-segment`} value={form.segment} aria-invalid={invalid('segment')} onChange={(e) => set({ segment: e.target.value })}>
            <optgroup label="Built-in segments">
              {BUILTIN_SEGMENTS.map((s) => <option key={s.id} value={s.id}>{s.label}</option>)}
            </optgroup>
            {(segments.data?.segments.length ?? 0) > 0 && (
              <optgroup label="Custom segments">
                {segments.data!.segments.map((s) => <option key={s.id} value={s.id}>{s.name}</option>)}
              </optgroup>
            )}
          </select>
          <span className="small" aria-live="polite" data-testid="recipient-count">
            {countError ? <span className="drop-high">{countError}</span> : count === null ? <span className="muted">Counting…</span> : (
              <>
                <strong>{count.more ? `More than ${fmtInt(count.n)}` : fmtInt(count.n)}</strong> {count.n === 1 && !count.more ? 'person' : 'people'} in this segment now
                <span className="muted"> — who has no address, unsubscribed or bounced before is skipped when sending starts.</span>
              </>
            )}
          </span>
          <Err error={error} field="segment" />
        </div>

        <div className="two-col">
          <fieldset className="field">
            <legend>Schedule</legend>
            <label className="check"><input type="radio" name={`${ids}-when`} checked={form.when === 'now'} onChange={() => set({ when: 'now' })} /> Send when I press Send</label>
            <label className="check"><input type="radio" name={`${ids}-when`} checked={form.when === 'later'} onChange={() => set({ when: 'later' })} /> At a time</label>
            {form.when === 'later' && (
              <input type="datetime-local" aria-label="Send at" value={form.send_at} aria-invalid={invalid('send_at')} onChange={(e) => set({ send_at: e.target.value })} />
            )}
            <Err error={error} field="send_at" />
          </fieldset>
          <div className="field">
            <label htmlFor={`${ids}-rate`}>Throttle (messages per minute)</label>
            <input id={`${ids}-rate`} inputMode="numeric" value={form.rate} aria-invalid={invalid('rate_per_minute')} onChange={(e) => set({ rate: e.target.value })} placeholder="600 (default)" />
            <Err error={error} field="rate_per_minute" />
          </div>
        </div>

        {error && !known.includes(error.field ?? '') && error.field !== 'content' && <div className="banner banner-error" role="alert">{error.message}</div>}
        <div className="row">
          <button className="btn btn-primary" type="submit" disabled={busy}>{campaign ? 'Save draft' : 'Create draft'}</button>
          <button className="btn" type="button" onClick={() => navigate(campaign ? `/campaigns/${encodeURIComponent(campaign.id)}` : '/campaigns')}>Cancel</button>
        </div>
      </form>
      {campaign ? <TestSend project={project} campaign={campaign} /> : <p className="muted small">Create the draft to send a test.</p>}
    </div>
  );
}
