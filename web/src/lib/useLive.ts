// React binding of the live feed for one project.
import { useEffect, useRef, useState } from 'react';
import { api, downloads, notifySessionExpired } from '../api/client';
import { initialLiveState, LiveFeed, type LiveState } from './live';

/** `onAccessLost` runs when the server ends the feed because this account is
 * no longer a member of the project (or its role there is too low). */
export function useLive(projectId: string | null, onAccessLost?: () => void): LiveState {
  const [state, setState] = useState<LiveState>(initialLiveState);
  const accessLost = useRef(onAccessLost);
  accessLost.current = onAccessLost;
  useEffect(() => {
    setState(initialLiveState);
    if (!projectId) return;
    const feed = new LiveFeed({
      socketUrl: downloads.liveSocket(projectId),
      poll: () => api.online(projectId).then((r) => r.visitors),
      onChange: setState,
      onUnauthorized: (reason) => notifySessionExpired(reason),
      onAccessLost: () => accessLost.current?.(),
    });
    feed.start();
    return () => feed.stop();
  }, [projectId]);
  return state;
}
