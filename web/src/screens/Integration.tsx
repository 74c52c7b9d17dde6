// Installing the tracker: the snippet, how to call it, allowed origins, and a
// light that turns green when the project's first event arrives.
import { useEffect, useState } from 'react';
import { api, ApiError } from '../api/client';
import type { Project } from '../api/types';
import { ErrorBanner, Skeleton } from '../components/ui';
import type { LiveState } from '../lib/live';
import { useAsync } from '../lib/useAsync';

async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Clipboard API unavailable (plain http on a LAN address): select-and-copy.
    const area = document.createElement('textarea');
    area.value = text;
    document.body.appendChild(area);
    area.select();
    const ok = document.execCommand('copy');
    area.remove();
    return ok;
  }
}

function useFirstEvent(projectId: string, live: LiveState): boolean {
  const [seen, setSeen] = useState(false);
  useEffect(() => {
    setSeen(false);
  }, [projectId]);
  useEffect(() => {
    if (live.lastActivityAt || live.visitors.length > 0) setSeen(true);
  }, [live.lastActivityAt, live.visitors.length]);
  useEffect(() => {
    if (seen) return;
    let gone = false;
    const check = () =>
      api.events(projectId, 1).then(
        (r) => !gone && r.events.length > 0 && setSeen(true),
        () => undefined,
      );
    void check();
    const t = setInterval(check, 3000);
    return () => {
      gone = true;
      clearInterval(t);
    };
  }, [projectId, seen]);
  return seen;
}

function OriginsEditor({ project, onSaved }: { project: Project; onSaved: (p: Project) => void }) {
  const [origins, setOrigins] = useState<string[]>(project.allowed_origins);
  const [draft, setDraft] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  useEffect(() => setOrigins(project.allowed_origins), [project]);
  const save = async (next: string[]) => {
    setError(null);
    setSaved(false);
    try {
      const p = await api.updateProject(project.id, { allowed_origins: next });
      setOrigins(p.allowed_origins);
      onSaved(p);
      setSaved(true);
      return true;
    } catch (e) {
      setError(e instanceof ApiError ? e.message : 'Saving failed.');
      return false;
    }
  };
  return (
    <section className="card" aria-label="Allowed origins">
      <h2>Allowed origins</h2>
      <p className="muted">
        Only pages on these origins may send data with this project's key. Leave the list empty to accept every origin (handy while testing).
      </p>
      {origins.length === 0 ? (
        <p className="muted small">Every origin is accepted.</p>
      ) : (
        <ul className="origin-list">
          {origins.map((o) => (
            <li key={o}>
              <code>{o}</code>
              <button type="button" className="btn btn-small btn-ghost" aria-label={`Remove ${o}`} onClick={() => save(origins.filter((x) => x !== o))}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      <form
        className="inline-form"
        onSubmit={async (e) => {
          e.preventDefault();
          const o = draft.trim().replace(/\/$/, '');
          if (!o) return;
          if (await save([...origins, o])) setDraft('');
        }}
      >
        <input aria-label="New origin" placeholder="https://shop.example.com" value={draft} onChange={(e) => setDraft(e.target.value)} />
        <button className="btn" type="submit">Add origin</button>
      </form>
      {error && <div className="banner banner-error" role="alert">{error}</div>}
      {saved && <div className="muted small" role="status">Saved.</div>}
    </section>
  );
}

/** The in-app channel's chat widget: on, its tag is part of the snippet above. */
function ChatWidget({ project, enabled, onChanged }: { project: Project; enabled: boolean; onChanged: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // The list of projects has no role: ask the project when it is missing.
  const role = useAsync(
    () => (project.role ? Promise.resolve(project.role) : api.project(project.id).then((p) => p.role)),
    [project.id, project.role],
  );
  const admin = role.data === 'owner' || role.data === 'admin';
  const toggle = async () => {
    setBusy(true);
    setError(null);
    try {
      await api.setChat(project.id, !enabled);
      onChanged();
    } catch (e) {
      setError((e as Error).message);
    }
    setBusy(false);
  };
  return (
    <section className="card" aria-label="Chat widget">
      <h2>Chat widget {enabled ? <span className="pill pill-live">On</span> : <span className="pill">Off</span>}</h2>
      <p className="muted small">
        {enabled
          ? 'Visitors see a Chat button; their messages arrive live in the Inbox. The snippet above includes its tag (vibe-chat.js).'
          : 'Let visitors write to your team from the site: turning it on adds the vibe-chat.js tag to the snippet above.'}
      </p>
      {admin && (
        <button type="button" className="btn" disabled={busy} onClick={toggle}>
          {enabled ? 'Turn off the chat widget' : 'Turn on the chat widget'}
        </button>
      )}
      {error && <div className="banner banner-error" role="alert">{error}</div>}
    </section>
  );
}

export function Integration({ project, live, onProjectChanged }: { project: Project; live: LiveState; onProjectChanged: (p: Project) => void }) {
  const q = useAsync(() => api.snippet(project.id), [project.id]);
  const [copied, setCopied] = useState<'yes' | 'no' | null>(null);
  const seen = useFirstEvent(project.id, live);
  return (
    <div className="page">
      <div className="page-head">
        <h1>Integration</h1>
        <span className={`pill ${seen ? 'pill-live' : 'pill-waiting'}`} role="status" aria-live="polite" data-testid="first-event" data-seen={seen}>
          <span className="dot" aria-hidden="true" /> {seen ? 'Receiving events' : 'Waiting for first event…'}
        </span>
      </div>
      <section className="card" aria-label="Snippet">
        <h2>1. Paste this into the &lt;head&gt; of every page</h2>
        {q.error ? (
          <ErrorBanner error={q.error} onRetry={q.reload} />
        ) : !q.data ? (
          <Skeleton height={80} label="Loading snippet" />
        ) : (
          <>
            <pre className="code" data-testid="snippet"><code>{q.data.snippet}</code></pre>
            <div className="row">
              <button
                type="button"
                className="btn btn-primary"
                onClick={async () => setCopied((await copyText(q.data!.snippet)) ? 'yes' : 'no')}
              >
                {copied === 'yes' ? '✓ Copied' : 'Copy snippet'}
              </button>
              {copied === 'no' && <span className="muted small" role="alert">Copying failed; select the text and copy it by hand.</span>}
              <span className="muted small">Write key <code>{q.data.write_key}</code></span>
            </div>
          </>
        )}
      </section>
      {q.data && <ChatWidget project={project} enabled={!!q.data.chat} onChanged={q.reload} />}
      <section className="card" aria-label="Usage">
        <h2>2. Track what matters</h2>
        <p>Page views, time on page and leaving are tracked automatically. Record actions with <code>vibeTrack</code>:</p>
        <pre className="code"><code>{`vibeTrack('signup_click');
vibeTrack('add_to_cart', { sku: 'TSHIRT-M', price: 19.95 });`}</code></pre>
        <p>When someone signs in, tell Vibe who they are with <code>vibeIdentify</code> — their anonymous visits are merged into the person:</p>
        <pre className="code"><code>{`vibeIdentify('user-42', {
  email: 'ana@example.com',
  name: 'Ana',
  plan: 'trial'   // drives the Premium / Trial / Churned segments
});`}</code></pre>
        <p className="muted small">
          Both functions can be called before the script has loaded; calls are queued. From a server use <code>POST /api/v1/track</code> and{' '}
          <code>/api/v1/identify</code> with a secret key (see docs/api.md).
        </p>
      </section>
      <OriginsEditor project={project} onSaved={onProjectChanged} />
    </div>
  );
}
