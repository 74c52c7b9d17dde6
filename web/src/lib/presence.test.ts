import { afterEach, describe, expect, it, vi } from 'vitest';
import { keepSocketOpen } from './presence';

class FakeSocket {
  onopen: (() => void) | null = null;
  onclose: (() => void) | null = null;
  closed = false;
  close() {
    this.closed = true;
  }
}

afterEach(() => vi.useRealTimers());

describe('keepSocketOpen', () => {
  it('reopens a closed socket with backoff and stops for good', () => {
    vi.useFakeTimers();
    const made: FakeSocket[] = [];
    const stop = keepSocketOpen('ws://x/live', () => {
      const s = new FakeSocket();
      made.push(s);
      return s as unknown as WebSocket;
    });
    expect(made).toHaveLength(1);
    made[0].onclose?.();
    vi.advanceTimersByTime(999);
    expect(made).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(made).toHaveLength(2);
    made[1].onclose?.();
    vi.advanceTimersByTime(1999);
    expect(made).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(made).toHaveLength(3);
    stop();
    expect(made[2].closed).toBe(true);
    made[2].onclose?.();
    vi.advanceTimersByTime(120_000);
    expect(made).toHaveLength(3);
  });
});
