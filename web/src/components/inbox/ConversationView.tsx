// One open conversation: its controls, thread and reply box. Loads the
// conversation and its newest page of messages, applies the live feed's
// events for it (and refreshes both when the parent's fallback poll ticks), and
// marks the thread read up to the newest inbound message when it is shown.
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, ApiError } from '../../api/client';
import type { Agent, Conversation, ConversationPatch, Message } from '../../api/types';
import { applyToThread, type InboxEvent } from '../../lib/inboxLive';
import { Empty, ErrorBanner, Skeleton } from '../ui';
import { Controls } from './Controls';
import { ReplyBox } from './ReplyBox';
import { Thread } from './Thread';
import { CHANNEL_LABEL, contactLabel } from './format';

const PAGE = 50;

/** Oldest first, one entry per id (a later copy wins: its status is newer). */
export function mergeMessages(old: Message[], fresh: Message[]): Message[] {
  const byId = new Map(old.map((m) => [m.id, m]));
  for (const m of fresh) byId.set(m.id, m);
  return [...byId.values()].sort((a, b) => a.created_at - b.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export function ConversationView({ projectId, cid, me, agents, poll, event, onChanged, onLoaded }: {
  projectId: string;
  cid: string;
  me: string;
  agents: Agent[];
  /** Changes when the parent's poll ticks. */
  poll: number;
  /** The newest live Inbox event (any conversation's; `n` counts them). */
  event?: { n: number; ev: InboxEvent } | null;
  onChanged: (c: Conversation) => void;
  /** Told the conversation when it is first loaded (for the contact beside it). */
  onLoaded?: (c: Conversation) => void;
}) {
  const [conversation, setConversation] = useState<Conversation | null>(null);
  const [messages, setMessages] = useState<Message[]>([]);
  const [older, setOlder] = useState<string | null>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const marked = useRef<string | null>(null);
  const call = useRef(0);

  const load = useCallback(
    (initial: boolean) => {
      const mine = ++call.current;
      if (initial) setError(null);
      Promise.all([api.conversation(projectId, cid), api.messages(projectId, cid, null, PAGE)]).then(
        ([c, page]) => {
          if (mine !== call.current) return;
          setConversation(c);
          setMessages((old) => mergeMessages(initial ? [] : old, page.messages));
          if (initial) {
            setOlder(page.next_cursor);
            onLoaded?.(c);
          }
          setError(null);
        },
        (e: Error) => {
          if (mine !== call.current) return;
          // A failed refresh keeps what is shown; the next tick tries again.
          if (initial || (e instanceof ApiError && e.status === 404)) setError(e);
        },
      );
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [projectId, cid],
  );
  useEffect(() => {
    setConversation(null);
    setMessages([]);
    setOlder(null);
    marked.current = null;
    load(true);
  }, [load]);
  const lastPoll = useRef(poll);
  useEffect(() => {
    if (poll === lastPoll.current) return;
    lastPoll.current = poll;
    load(false);
  }, [poll, load]);

  const lastEvent = useRef(event?.n ?? 0);
  useEffect(() => {
    if (!event || event.n === lastEvent.current) return;
    lastEvent.current = event.n;
    const ev = event.ev;
    setMessages((old) => applyToThread(old, ev, cid));
    if (ev.type !== 'inbox.delivery' && ev.conversation.id === cid) setConversation(ev.conversation);
  }, [event, cid]);

  // Read when shown: the contact's messages up to the newest inbound one.
  useEffect(() => {
    if (!conversation) return;
    const newestIn = [...messages].reverse().find((m) => m.direction === 'in');
    if (!newestIn || newestIn.id === marked.current) return;
    if (conversation.unread_count === 0 && newestIn.delivery_status === 'read') return;
    marked.current = newestIn.id;
    api.markRead(projectId, cid, newestIn.id).then(
      (c) => {
        setConversation(c);
        onChanged(c);
      },
      () => {
        marked.current = null;
      },
    );
  }, [conversation, messages, projectId, cid, onChanged]);

  const loadOlder = () => {
    if (!older) return;
    setLoadingOlder(true);
    api.messages(projectId, cid, older, PAGE).then(
      (page) => {
        setMessages((old) => mergeMessages(old, page.messages));
        setOlder(page.next_cursor);
        setLoadingOlder(false);
      },
      (e: Error) => {
        setError(e);
        setLoadingOlder(false);
      },
    );
  };
  const send = async (body: string, isPrivate: boolean) => {
    const m = await api.sendMessage(projectId, cid, body, isPrivate);
    setMessages((old) => mergeMessages(old, [m]));
    if (conversation) onChanged({ ...conversation, last_message_at: m.created_at });
    return m;
  };
  const patch = async (changes: ConversationPatch) => {
    const c = await api.updateConversation(projectId, cid, changes);
    // A refresh asked before the change would answer the old state: drop it.
    call.current++;
    setConversation(c);
    onChanged(c);
  };

  if (error && !conversation) {
    if (error instanceof ApiError && error.status === 404)
      return <Empty title="Conversation not found">It was removed, or it is outside the conversations you can see.</Empty>;
    return <ErrorBanner error={error} onRetry={() => load(true)} />;
  }
  if (!conversation) return <Skeleton height={200} label="Loading conversation" />;
  return (
    <div className="conv-view" data-testid="conversation-view">
      <div className="conv-head">
        <div>
          <h2>{contactLabel(conversation)}</h2>
          <span className="muted small">{CHANNEL_LABEL[conversation.channel] ?? conversation.channel}</span>
        </div>
        <Controls conversation={conversation} me={me} agents={agents} onPatch={patch} />
      </div>
      {error && <ErrorBanner error={error} onRetry={() => load(true)} />}
      <Thread conversation={conversation} messages={messages} me={me} agents={agents} hasOlder={!!older} loadingOlder={loadingOlder} onOlder={loadOlder} />
      <ReplyBox onSend={send} />
    </div>
  );
}
