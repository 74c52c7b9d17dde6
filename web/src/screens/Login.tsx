// Sign-in, and the first-run screen that turns the setup link into the owner account.
import { useState, type FormEvent } from 'react';
import { api, ApiError } from '../api/client';
import type { Account } from '../api/types';
import { navigate } from '../lib/router';

function Brand() {
  return (
    <div className="brand brand-large">
      <span className="logo" aria-hidden="true">◆</span> Vibe
    </div>
  );
}

export function Login({ message, onSignedIn }: { message?: string | null; onSignedIn: (a: Account) => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { account } = await api.login(email, password);
      onSignedIn(account);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Sign-in failed.');
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="auth-page">
      <form className="card auth-card" onSubmit={submit} aria-label="Sign in">
        <Brand />
        <h1>Sign in</h1>
        {message && <div className="banner banner-info" role="status">{message}</div>}
        {error && <div className="banner banner-error" role="alert">{error}</div>}
        <label>
          Email
          <input type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} autoFocus />
        </label>
        <label>
          Password
          <input type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        <button className="btn btn-primary" type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <p className="muted small">
          First run? Open the setup link <code>vibe serve</code> printed, or create an account with <code>vibe user create</code>.
        </p>
      </form>
    </main>
  );
}

export function Setup({ onSignedIn }: { onSignedIn: (a: Account) => void }) {
  const token = new URLSearchParams(location.search).get('token') ?? '';
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { account } = await api.setup(token, email, password);
      navigate('/', true);
      onSignedIn(account);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'setup_done') setDone(true);
      else setError(err instanceof ApiError ? err.message : 'Setup failed.');
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="auth-page">
      <form className="card auth-card" onSubmit={submit} aria-label="Create the owner account">
        <Brand />
        <h1>Welcome to Vibe</h1>
        {done ? (
          <>
            <div className="banner banner-info" role="status">Vibe is already set up. Sign in with your account.</div>
            <button type="button" className="btn btn-primary" onClick={() => navigate('/', true)}>Go to sign in</button>
          </>
        ) : !token ? (
          <div className="banner banner-error" role="alert">
            This page needs the one-time setup link that <code>vibe serve</code> printed on its first start (<code>/setup?token=…</code>).
          </div>
        ) : (
          <>
            <p className="muted">Create the owner account. This link works once.</p>
            {error && <div className="banner banner-error" role="alert">{error}</div>}
            <label>
              Email
              <input type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} autoFocus />
            </label>
            <label>
              Password (at least 8 characters)
              <input type="password" autoComplete="new-password" required minLength={8} value={password} onChange={(e) => setPassword(e.target.value)} />
            </label>
            <button className="btn btn-primary" type="submit" disabled={busy}>
              {busy ? 'Creating…' : 'Create owner and sign in'}
            </button>
          </>
        )}
      </form>
    </main>
  );
}
