// The reply box under a thread: a reply to the contact, or an internal note
// for the team (toggle). Disabled while sending; the API's error is shown and
// the draft kept.
import { useState, type FormEvent } from 'react';
import type { Message } from '../../api/types';
import { errorText } from './format';

export function ReplyBox({ onSend }: { onSend: (body: string, isPrivate: boolean) => Promise<Message> }) {
  const [body, setBody] = useState('');
  const [note, setNote] = useState(false);
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!body.trim() || sending) return;
    setSending(true);
    setError(null);
    try {
      await onSend(body, note);
      setBody('');
    } catch (err) {
      setError(errorText(err));
    } finally {
      setSending(false);
    }
  };
  return (
    <form className={`reply-box ${note ? 'reply-note' : ''}`} aria-label="Reply" onSubmit={submit}>
      <div className="segmented" role="group" aria-label="Message kind">
        <button type="button" className={!note ? 'active' : ''} aria-pressed={!note} onClick={() => setNote(false)}>Reply</button>
        <button type="button" className={note ? 'active' : ''} aria-pressed={note} onClick={() => setNote(true)}>Internal note</button>
      </div>
      <textarea
        aria-label={note ? 'Internal note' : 'Reply to the contact'}
        rows={3}
        maxLength={10000}
        placeholder={note ? 'Only your team sees this' : 'Write a reply'}
        value={body}
        disabled={sending}
        onChange={(e) => setBody(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && (e.metaKey || e.ctrlKey)) submit(e);
        }}
      />
      <div className="row">
        <button type="submit" className="btn btn-primary btn-small" disabled={sending || !body.trim()}>
          {sending ? 'Sending…' : note ? 'Add note' : 'Send reply'}
        </button>
        <span className="muted small">Ctrl+Enter sends</span>
      </div>
      {error && <div className="banner banner-error" role="alert">{error}</div>}
    </form>
  );
}
