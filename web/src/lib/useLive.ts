// React binding of the live feed for one project.
import { useEffect, useState } from 'react';
import { api, downloads, notifySessionExpired } from '../api/client';
import { initialLiveState, LiveFeed, type LiveState } from './live';

export function useLive(projectId: string | null): LiveState {
  const [state, setState] = useState<LiveState>(initialLiveState);
  useEffect(() => {
    setState(initialLiveState);
    if (!projectId) return;
    const feed = new LiveFeed({
      socketUrl: downloads.liveSocket(projectId),
      poll: () => api.online(projectId).then((r) => r.visitors),
      onChange: setState,
      onUnauthorized: (reason) => notifySessionExpired(reason),
    });
    feed.start();
    return () => feed.stop();
  }, [projectId]);
  return state;
}
