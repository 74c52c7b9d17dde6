// Assign, status and priority of the open conversation. Each change is a
// PATCH; the parent takes the answer as the new state.
import { useState } from 'react';
import type { Agent, Conversation, ConversationPatch, ConversationStatus } from '../../api/types';
import { CONVERSATION_PRIORITIES } from '../../api/types';
import { errorText } from './format';

/** The status moves offered from `status`: resolve, reopen, mark pending. */
export function statusActions(status: ConversationStatus): { to: ConversationStatus; label: string }[] {
  switch (status) {
    case 'open':
      return [{ to: 'pending', label: 'Mark pending' }, { to: 'resolved', label: 'Resolve' }];
    case 'pending':
      return [{ to: 'open', label: 'Reopen' }, { to: 'resolved', label: 'Resolve' }];
    default:
      return [{ to: 'open', label: 'Reopen' }];
  }
}

export function Controls({ conversation, me, agents, onPatch }: {
  conversation: Conversation;
  me: string;
  agents: Agent[];
  onPatch: (changes: ConversationPatch) => Promise<void>;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async (changes: ConversationPatch) => {
    setBusy(true);
    setError(null);
    try {
      await onPatch(changes);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  const assignee = conversation.assignee_account_id;
  const others = agents.filter((a) => a.account_id !== me);
  const known = !assignee || assignee === me || others.some((a) => a.account_id === assignee);
  return (
    <div className="conv-controls" role="group" aria-label="Conversation controls">
      <label className="row">
        <span>Assignee</span>
        <select
          aria-label="Assignee of the conversation"
          value={assignee ?? ''}
          disabled={busy}
          onChange={(e) => run({ assignee: e.target.value || null })}
        >
          <option value="">Unassigned</option>
          <option value={me}>Me</option>
          {others.map((a) => <option key={a.account_id} value={a.account_id}>{a.email} ({a.status})</option>)}
          {!known && <option value={assignee!}>Another member</option>}
        </select>
      </label>
      {assignee !== me && (
        <button type="button" className="btn btn-small" disabled={busy} onClick={() => run({ assignee: 'me' })}>Assign to me</button>
      )}
      <label className="row">
        <span>Priority</span>
        <select
          aria-label="Priority of the conversation"
          value={conversation.priority}
          disabled={busy}
          onChange={(e) => run({ priority: e.target.value as Conversation['priority'] })}
        >
          {CONVERSATION_PRIORITIES.map((p) => <option key={p} value={p}>{p}</option>)}
        </select>
      </label>
      <span className={`badge status-${conversation.status}`} data-testid="conversation-status">{conversation.status}</span>
      {statusActions(conversation.status).map((a) => (
        <button key={a.to} type="button" className={`btn btn-small ${a.to === 'resolved' ? 'btn-primary' : ''}`} disabled={busy} onClick={() => run({ status: a.to })}>
          {a.label}
        </button>
      ))}
      {error && <div className="banner banner-error" role="alert">{error}</div>}
    </div>
  );
}
