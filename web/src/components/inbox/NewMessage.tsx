// "New message" on the Contact page: starts a conversation with the contact
// (`POST …/users/{uid}/conversations` with the first message, assigned to
// the caller) and opens it in the Inbox.
import { useState, type FormEvent } from 'react';
import { api } from '../../api/client';
import { navigate } from '../../lib/router';
import { errorText } from './format';

export function NewMessage({ projectId, uid }: { projectId: string; uid: string }) {
  const [open, setOpen] = useState(false);
  const [body, setBody] = useState('');
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!body.trim() || sending) return;
    setSending(true);
    setError(null);
    try {
      const c = await api.startConversation(projectId, uid, body);
      navigate(`/inbox/${encodeURIComponent(c.id)}`);
    } catch (err) {
      setError(errorText(err));
      setSending(false);
    }
  };
  if (!open)
    return (
      <button type="button" className="btn btn-primary" onClick={() => setOpen(true)}>New message</button>
    );
  return (
    <form className="card stack new-message" aria-label="New message" onSubmit={submit}>
      <textarea aria-label="First message" rows={3} maxLength={10000} placeholder="Write to this person" value={body} disabled={sending} onChange={(e) => setBody(e.target.value)} autoFocus />
      <div className="row">
        <button type="submit" className="btn btn-primary btn-small" disabled={sending || !body.trim()}>{sending ? 'Sending…' : 'Send and open in Inbox'}</button>
        <button type="button" className="btn btn-small btn-ghost" disabled={sending} onClick={() => setOpen(false)}>Cancel</button>
      </div>
      {error && <div className="banner banner-error" role="alert">{error}</div>}
    </form>
  );
}
