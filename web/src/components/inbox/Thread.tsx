// The messages of one conversation, oldest at the top: the contact's on the
// left, the team's on the right with their delivery ticks, internal notes
// marked as such (they never reach the contact).
import { useEffect, useRef } from 'react';
import type { Agent, Conversation, DeliveryStatus, Message } from '../../api/types';
import { Empty } from '../ui';
import { accountLabel, contactLabel, fmtTime } from './format';

const TICKS: Record<Exclude<DeliveryStatus, 'failed'>, { mark: string; label: string }> = {
  queued: { mark: '⏱', label: 'Queued' },
  sent: { mark: '✓', label: 'Sent' },
  delivered: { mark: '✓✓', label: 'Delivered' },
  read: { mark: '✓✓', label: 'Read' },
};

/** The delivery state of an outbound message: a tick, or the failure with its reason. */
export function DeliveryTick({ message }: { message: Pick<Message, 'delivery_status' | 'failed_reason'> }) {
  if (message.delivery_status === 'failed') {
    return (
      <span className="tick tick-failed" data-testid="tick" data-status="failed" role="img" aria-label="Failed">
        ⚠ Failed{message.failed_reason ? `: ${message.failed_reason}` : ''}
      </span>
    );
  }
  const t = TICKS[message.delivery_status] ?? TICKS.sent;
  return (
    <span className={`tick tick-${message.delivery_status}`} data-testid="tick" data-status={message.delivery_status} role="img" aria-label={t.label} title={t.label}>
      {t.mark}
    </span>
  );
}

function senderLabel(m: Message, conversation: Conversation, me: string, agents: Agent[]): string {
  switch (m.sender) {
    case 'contact':
      return contactLabel(conversation);
    case 'bot':
      return 'Bot';
    case 'system':
      return 'System';
    default:
      return m.sender_account_id ? accountLabel(m.sender_account_id, me, agents) : 'Agent';
  }
}

export function Thread({ conversation, messages, me, agents, hasOlder, loadingOlder, onOlder }: {
  conversation: Conversation;
  messages: Message[];
  me: string;
  agents: Agent[];
  hasOlder: boolean;
  loadingOlder: boolean;
  onOlder: () => void;
}) {
  // Keep the newest message in view when one arrives (not when older ones load).
  const list = useRef<HTMLOListElement>(null);
  const newest = messages[messages.length - 1]?.id;
  useEffect(() => {
    if (list.current) list.current.scrollTop = list.current.scrollHeight;
  }, [newest]);
  if (messages.length === 0) return <Empty title="No messages yet">Write the first one below.</Empty>;
  return (
    <div className="thread-wrap">
      {hasOlder && (
        <button type="button" className="btn btn-small load-more" disabled={loadingOlder} onClick={onOlder}>
          {loadingOlder ? 'Loading…' : 'Load older'}
        </button>
      )}
      <ol className="thread" aria-label="Messages" ref={list}>
        {messages.map((m) => {
          const side = m.private ? 'note' : m.direction === 'in' ? 'in' : 'out';
          return (
            <li key={m.id} className={`msg msg-${side}`} data-testid="message" data-direction={m.direction} data-private={m.private ? 'true' : undefined}>
              {m.private && <span className="msg-note-label">Internal note</span>}
              <p className="msg-body">{m.body}</p>
              <span className="msg-meta muted small">
                <span>{senderLabel(m, conversation, me, agents)}</span> · <time dateTime={new Date(m.created_at).toISOString()}>{fmtTime(m.created_at)}</time>
                {m.direction === 'out' && !m.private && <> <DeliveryTick message={m} /></>}
              </span>
            </li>
          );
        })}
      </ol>
    </div>
  );
}
