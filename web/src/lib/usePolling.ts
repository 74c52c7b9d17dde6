// Calls `fn` every `ms` while the page is visible (and once when it becomes
// visible again). The Inbox's fallback beside its live events: fast while the
// socket is down, slow while it is up.
import { useEffect, useRef } from 'react';

export const INBOX_POLL_MS = 5000;
export const INBOX_FALLBACK_POLL_MS = 30_000;

export function usePolling(fn: () => void, ms: number, enabled = true) {
  const latest = useRef(fn);
  latest.current = fn;
  useEffect(() => {
    if (!enabled) return;
    const visible = () => document.visibilityState !== 'hidden';
    const t = setInterval(() => {
      if (visible()) latest.current();
    }, ms);
    const onVisible = () => {
      if (visible()) latest.current();
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      clearInterval(t);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [ms, enabled]);
}
