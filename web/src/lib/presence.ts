// Keeps one dashboard socket open while the signed-in agent is online or away:
// the server sets an agent offline once none of their sockets has been seen
// for the project's online window (api/inbox/presence.rs). Messages on it are
// the live feed's and are ignored here; a closed socket reopens with backoff.
export function keepSocketOpen(url: string, make: (u: string) => WebSocket = (u) => new WebSocket(u)): () => void {
  let socket: WebSocket | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let delay = 1000;
  let stopped = false;
  const open = () => {
    if (stopped) return;
    try {
      socket = make(url);
    } catch {
      socket = null;
    }
    if (!socket) return retry();
    socket.onopen = () => {
      delay = 1000;
    };
    socket.onclose = () => retry();
  };
  const retry = () => {
    if (stopped || timer) return;
    timer = setTimeout(() => {
      timer = null;
      open();
    }, delay);
    delay = Math.min(delay * 2, 60_000);
  };
  open();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    if (socket) {
      socket.onclose = null;
      socket.close();
    }
  };
}
