// The signed-in agent's status in the header (online / away / offline),
// logged by the server to agent_activity_logs. Shown to agents and above.
// The starting value is the caller's row of `GET /agents` (only agents and
// supervisors are listed there; others start at offline). While online or
// away it keeps a dashboard socket open, without which the server sets the
// agent offline after the project's online window.
import { useEffect, useState } from 'react';
import { api, downloads } from '../api/client';
import { keepSocketOpen } from '../lib/presence';
import { AGENT_STATUSES, type AgentStatus as Status } from '../api/types';
import { errorText } from './inbox/format';

export function AgentStatus({ projectId, accountId }: { projectId: string; accountId: string }) {
  const [status, setStatus] = useState<Status>('offline');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let gone = false;
    api.agents(projectId).then(
      (r) => {
        const mine = r.agents.find((a) => a.account_id === accountId);
        if (!gone && mine) setStatus(mine.status);
      },
      () => undefined,
    );
    return () => {
      gone = true;
    };
  }, [projectId, accountId]);
  useEffect(() => {
    if (status === 'offline' || typeof WebSocket === 'undefined') return;
    return keepSocketOpen(downloads.liveSocket(projectId));
  }, [projectId, status === 'offline']);
  const change = async (next: Status) => {
    const before = status;
    setStatus(next);
    setBusy(true);
    setError(null);
    try {
      await api.setAgentStatus(projectId, next);
    } catch (e) {
      setStatus(before);
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <label className="agent-status" title={error ?? 'Your status as an agent'}>
      <span className={`status-dot status-${status}`} aria-hidden="true" />
      <span className="sr-only">Agent status</span>
      <select aria-label="Agent status" value={status} disabled={busy} onChange={(e) => change(e.target.value as Status)}>
        {AGENT_STATUSES.map((s) => <option key={s} value={s}>{s[0].toUpperCase() + s.slice(1)}</option>)}
      </select>
      {error && <span role="alert" className="drop-high small">{error}</span>}
    </label>
  );
}
