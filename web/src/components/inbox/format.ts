// Labels shared by the Inbox's parts.
import { ApiError } from '../../api/client';
import type { Agent, Channel, Conversation } from '../../api/types';

export const CHANNEL_LABEL: Record<Channel, string> = {
  in_app: 'In-app', email: 'Email', whatsapp: 'WhatsApp', sms: 'SMS', api: 'API',
};

export const errorText = (e: unknown) =>
  e instanceof ApiError ? (e.field ? `${e.message} (${e.field})` : e.message) : e instanceof Error ? e.message : String(e);

/** The contact as a conversation names them. */
export const contactLabel = (c: Pick<Conversation, 'contact_name' | 'contact_email' | 'site_user_id'>) =>
  c.contact_name || c.contact_email || 'Anonymous visitor';

/** Who an account is: "you", an agent's email, or a short id for other members (owners, admins). */
export function accountLabel(accountId: string | null, me: string, agents: Agent[]): string {
  if (!accountId) return 'Unassigned';
  if (accountId === me) return 'You';
  return agents.find((a) => a.account_id === accountId)?.email ?? 'Another member';
}

/** "14:05" today, else "3 Dec 14:05". */
export function fmtTime(ms: number, now = Date.now()): string {
  const d = new Date(ms);
  const time = d.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });
  return new Date(now).toDateString() === d.toDateString()
    ? time
    : `${d.toLocaleDateString('en-GB', { day: 'numeric', month: 'short' })} ${time}`;
}
