// Signed-in shell: header with the project switcher, navigation, and the screens.
import { lazy, Suspense, useCallback, useEffect, useState, type FormEvent } from 'react';
import { api, ApiError, onSessionExpired } from './api/client';
import { canAdminister, canWorkConversations, type Account, type Project, type Role } from './api/types';
import { AgentStatus } from './components/AgentStatus';
import { Empty, ErrorBanner, Skeleton } from './components/ui';
import { navigate, usePath } from './lib/router';
import { useAsync } from './lib/useAsync';
import { useLive } from './lib/useLive';
import { Integration } from './screens/Integration';
import { Login, Setup } from './screens/Login';
import { Overview, preloadChart } from './screens/Overview';
import { Settings } from './screens/Settings';
import { Revenue } from './screens/Revenue';
import { Retention } from './screens/Retention';
import { FeaturesAi } from './screens/FeaturesAi';

// Segments (condition builder): loaded when first opened.
const Segments = lazy(() => import('./screens/Segments'));
// Message templates (issue 14 item 1): loaded when first opened.
const Templates = lazy(() => import('./screens/Templates'));
// Campaigns (issue 14 item 7): the list, the wizard and a campaign's page, loaded when first opened.
const Campaigns = lazy(() => import('./screens/Campaigns'));
/** `/campaigns` and everything under it. */
const isCampaigns = (path: string) => path === '/campaigns' || path.startsWith('/campaigns/');
// ---- People and contacts (issue 11 item 8): loaded when first opened ----
const People = lazy(() => import('./screens/People').then((m) => ({ default: m.People })));
const Contact = lazy(() => import('./screens/Contact').then((m) => ({ default: m.Contact })));
// ---- Inbox (issue 12 item 2): loaded when first opened ----
const Inbox = lazy(() => import('./screens/Inbox').then((m) => ({ default: m.Inbox })));
// Audit log (issue 13 item 4, admins): loaded when first opened.
const Audit = lazy(() => import('./screens/Audit').then((m) => ({ default: m.Audit })));
// ---- Support analytics (issue 13 item 7): the page and its charts, loaded when first opened ----
const Support = lazy(() => import('./screens/Support'));
/** `/inbox/{cid}` → the cid; `/inbox` → ''; else null. */
const inboxCid = (path: string) => (path === '/inbox' ? '' : path.startsWith('/inbox/') && path.length > 7 ? decodeURIComponent(path.slice(7)) : null);
const peopleFallback = <div className="page"><Skeleton height={120} label="Loading people" /></div>;
/** `/people/{uid}` → the uid, else null. */
const contactUid = (path: string) => (path.startsWith('/people/') && path.length > 8 ? decodeURIComponent(path.slice(8)) : null);

const PROJECT_KEY = 'vibe.project';

// Asked for together with /auth/me at start-up, so the overview does not wait
// for two round trips in a row. Used once; later loads ask again.
let projectsPrefetch: Promise<{ projects: Project[] }> | null = null;
function loadProjects() {
  const prefetched = projectsPrefetch;
  projectsPrefetch = null;
  return prefetched ? prefetched.catch(() => api.projects()) : api.projects();
}

const NAV = [
  { path: '/', label: 'Overview' },
  { path: '/people', label: 'People' },
  { path: '/inbox', label: 'Inbox' },
  { path: '/support', label: 'Support' },
  { path: '/revenue', label: 'Revenue' },
  { path: '/retention', label: 'Retention' },
  { path: '/features', label: 'Features & AI' },
  { path: '/segments', label: 'Segments' },
  { path: '/templates', label: 'Templates' },
  { path: '/campaigns', label: 'Campaigns' },
  { path: '/integration', label: 'Integration' },
  { path: '/settings', label: 'Settings' },
  { path: '/audit', label: 'Audit', adminOnly: true },
];

function NewProject({ onCreated }: { onCreated: () => void }) {
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await api.createProject(name);
      onCreated();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Could not create the project.');
    }
  };
  return (
    <form className="inline-form" onSubmit={submit}>
      <input required aria-label="Project name" placeholder="My shop" value={name} onChange={(e) => setName(e.target.value)} />
      <button className="btn btn-primary" type="submit">Create project</button>
      {error && <span role="alert" className="drop-high">{error}</span>}
    </form>
  );
}

function Shell({ account, onLogout }: { account: Account; onLogout: () => void }) {
  const path = usePath();
  const projects = useAsync(loadProjects, [account.id]);
  const [selectedId, setSelectedId] = useState<string | null>(() => localStorage.getItem(PROJECT_KEY));
  const [override, setOverride] = useState<Project | null>(null);
  const list = projects.data?.projects ?? [];
  const project = list.find((p) => p.id === selectedId) ?? list[0] ?? null;
  const current = override && project && override.id === project.id ? override : project;
  // Removed from the project while watching it: reload the list, which drops it.
  const live = useLive(project?.id ?? null, projects.reload);
  // The list of projects has no role: ask the project (for the agent status).
  const roleQ = useAsync<Role | null>(
    () => (!current ? Promise.resolve(null) : current.role ? Promise.resolve(current.role) : api.project(current.id).then((p) => p.role)),
    [current?.id, current?.role],
  );
  const cid = inboxCid(path);
  const select = (id: string) => {
    localStorage.setItem(PROJECT_KEY, id);
    setSelectedId(id);
    setOverride(null);
  };
  const changed = useCallback(
    (p: Project) => {
      setOverride(p);
      projects.setData({ projects: list.map((x) => (x.id === p.id ? p : x)) });
    },
    [list, projects],
  );
  return (
    <div className="app">
      <a href="#main" className="skip-link">Skip to content</a>
      <header className="topbar">
        <div className="brand">
          <span className="logo" aria-hidden="true">◆</span> Vibe
        </div>
        {list.length > 0 && current && (
          <label className="project-switch">
            <span className="sr-only">Project</span>
            <select aria-label="Project" value={current.id} onChange={(e) => select(e.target.value)}>
              {list.map((p) => (
                <option key={p.id} value={p.id}>{p.name}</option>
              ))}
            </select>
          </label>
        )}
        <nav aria-label="Main">
          {NAV.filter((n) => !n.adminOnly || (roleQ.data && canAdminister(roleQ.data))).map((n) => (
            <a
              key={n.path}
              href={n.path}
              aria-current={path === n.path || (n.path === '/people' && contactUid(path)) || (n.path === '/inbox' && cid !== null) || (n.path === '/campaigns' && isCampaigns(path)) ? 'page' : undefined}
              onClick={(e) => {
                e.preventDefault();
                navigate(n.path);
              }}
            >
              {n.label}
            </a>
          ))}
        </nav>
        <div className="account">
          {current && !roleQ.loading && roleQ.data && canWorkConversations(roleQ.data) && <AgentStatus key={current.id} projectId={current.id} accountId={account.id} />}
          <span className="muted small hide-phone hide-narrow">{account.email}</span>
          <button type="button" className="btn btn-small" title={`Signed in as ${account.email}`} onClick={onLogout}>Sign out</button>
        </div>
      </header>
      <main id="main">
        {projects.error ? (
          <div className="page"><ErrorBanner error={projects.error} onRetry={projects.reload} /></div>
        ) : !projects.data ? (
          <div className="page"><Skeleton height={120} label="Loading projects" /></div>
        ) : !current ? (
          <div className="page">
            <Empty title="No projects yet">
              Create your first project, then paste its snippet into your site.
              <NewProject onCreated={projects.reload} />
            </Empty>
          </div>
        ) : path === '/people' ? (
          <Suspense fallback={peopleFallback}><People key={current.id} project={current} /></Suspense>
        ) : cid !== null ? (
          <Suspense fallback={<div className="page"><Skeleton height={120} label="Loading inbox" /></div>}>
            <Inbox key={current.id} project={current} account={account} cid={cid || null} />
          </Suspense>
        ) : contactUid(path) ? (
          <Suspense fallback={peopleFallback}><Contact key={current.id} project={current} uid={contactUid(path)!} /></Suspense>
        ) : path === '/support' ? (
          <Suspense fallback={<div className="page"><Skeleton height={120} label="Loading support" /></div>}>
            <Support key={current.id} project={current} account={account} role={roleQ.loading ? null : roleQ.data ?? null} />
          </Suspense>
        ) : path === '/integration' ? (
          <Integration key={current.id} project={current} live={live} onProjectChanged={changed} />
        ) : path === '/revenue' ? (
          <Revenue key={current.id} project={current} />
        ) : path === '/retention' ? (
          <Retention key={current.id} project={current} />
        ) : path === '/features' ? (
          <FeaturesAi key={current.id} project={current} />
        ) : path === '/segments' ? (
          <Suspense fallback={<div className="page"><Skeleton height={120} label="Loading segments" /></div>}>
            <Segments key={current.id} project={current} />
          </Suspense>
        ) : path === '/templates' ? (
          <Suspense fallback={<div className="page"><Skeleton height={120} label="Loading templates" /></div>}>
            <Templates key={current.id} project={current} />
          </Suspense>
        ) : isCampaigns(path) ? (
          <Suspense fallback={<div className="page"><Skeleton height={120} label="Loading campaigns" /></div>}>
            <Campaigns key={current.id} project={current} />
          </Suspense>
        ) : path === '/audit' ? (
          <Suspense fallback={<div className="page"><Skeleton height={120} label="Loading audit log" /></div>}>
            <Audit key={current.id} project={current} />
          </Suspense>
        ) : path === '/settings' ? (
          <Settings key={current.id} project={current} onProjectChanged={changed} />
        ) : (
          <Overview key={current.id} project={current} live={live} />
        )}
      </main>
    </div>
  );
}

export function App() {
  const path = usePath();
  const [account, setAccount] = useState<Account | null | undefined>(undefined);
  const [message, setMessage] = useState<string | null>(null);
  const [bootError, setBootError] = useState<Error | null>(null);
  const boot = useCallback(() => {
    setBootError(null);
    projectsPrefetch = api.projects(true);
    projectsPrefetch.catch(() => undefined);
    if (location.pathname === '/') preloadChart();
    api.me().then(
      (r) => setAccount(r.account),
      (e) => {
        if (e instanceof ApiError && e.status === 401) setAccount(null);
        else setBootError(e);
      },
    );
  }, []);
  useEffect(boot, [boot]);
  useEffect(
    () =>
      onSessionExpired((reason) => {
        setAccount((a) => {
          if (a) setMessage(reason);
          return null;
        });
      }),
    [],
  );
  const signedIn = (a: Account) => {
    setMessage(null);
    setAccount(a);
  };
  const logout = async () => {
    try {
      await api.logout();
    } finally {
      setMessage('You have signed out.');
      setAccount(null);
      navigate('/', true);
    }
  };
  if (path === '/setup') return <Setup onSignedIn={signedIn} />;
  if (bootError)
    return (
      <main className="auth-page">
        <ErrorBanner error={bootError} onRetry={boot} />
      </main>
    );
  if (account === undefined)
    return (
      <main className="auth-page" aria-busy="true">
        <Skeleton height={200} width={360} label="Loading" />
      </main>
    );
  if (account === null) return <Login message={message} onSignedIn={signedIn} />;
  return <Shell account={account} onLogout={logout} />;
}
