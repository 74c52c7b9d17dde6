import { act, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LiveVisitor } from '../lib/live';
import { OnlineTable, ROW_HEIGHT } from './ActiveUsersTable';
import { FunnelBars } from './FunnelChart';
import { Modal } from './ui';

const T0 = 1_800_000_000_000;

function visitor(i: number, over: Partial<LiveVisitor> = {}): LiveVisitor {
  return {
    session_id: `s${i}`,
    site_user_id: `p${i}`,
    anonymous_id: `anon-${i}-abcdef`,
    user_id: null,
    email: null,
    name: null,
    traits: null,
    current_page: { url: `https://shop.example/p/${i}`, path: `/p/${i}`, title: null },
    started_at: T0 - 60_000,
    last_seen_at: T0,
    page_entered_at: T0 - 10_000,
    time_on_site_s: 60,
    time_on_page_s: 10,
    stuck: false,
    page_count: 1,
    referrer: null,
    device: 'desktop',
    browser: 'Chrome',
    os: 'Linux',
    received_at: T0,
    ...over,
  };
}

describe('OnlineTable', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
  });
  afterEach(() => vi.useRealTimers());

  it('shows who, where and for how long, ticking every second', () => {
    render(
      <OnlineTable
        visitors={[visitor(1, { email: 'ana@example.com', name: 'Ana' }), visitor(2)]}
        onOpen={() => undefined}
      />,
    );
    expect(screen.getByText('ana@example.com')).toBeTruthy();
    expect(screen.getByText('Anonymous anon-2-a')).toBeTruthy();
    expect(screen.getByText('/p/1')).toBeTruthy();
    expect(screen.getAllByLabelText('Desktop').length).toBe(2);
    expect(screen.getAllByLabelText('Chrome').length).toBe(2);
    const cells = () => screen.getAllByTestId('time-on-site').map((c) => c.textContent);
    expect(cells()).toEqual(['1m 00s', '1m 00s']);
    act(() => {
      vi.advanceTimersByTime(3000);
    });
    expect(cells()).toEqual(['1m 03s', '1m 03s']);
  });

  it('marks visitors stuck after more than 5 minutes on one page', () => {
    render(<OnlineTable visitors={[visitor(1, { time_on_page_s: 299 }), visitor(2, { time_on_page_s: 10 })]} onOpen={() => undefined} />);
    expect(document.querySelectorAll('.stuck').length).toBe(0);
    act(() => {
      vi.advanceTimersByTime(2000);
    });
    const rows = screen.getAllByTestId('visitor-row');
    expect(rows[0].classList.contains('stuck')).toBe(true);
    expect(rows[0].textContent).toContain('stuck');
    expect(rows[1].classList.contains('stuck')).toBe(false);
  });

  it('opens a row by click and by keyboard', () => {
    const onOpen = vi.fn();
    render(<OnlineTable visitors={[visitor(1)]} onOpen={onOpen} />);
    const row = screen.getByTestId('visitor-row');
    fireEvent.click(row);
    fireEvent.keyDown(row, { key: 'Enter' });
    expect(onOpen).toHaveBeenCalledTimes(2);
    expect(onOpen.mock.calls[0][0].session_id).toBe('s1');
  });

  it('renders only the visible rows of 5,000 visitors and follows scrolling', () => {
    const many = Array.from({ length: 5000 }, (_, i) => visitor(i));
    const height = 480;
    render(<OnlineTable visitors={many} onOpen={() => undefined} height={height} />);
    const rendered = () => screen.getAllByTestId('visitor-row');
    const visible = Math.ceil(height / ROW_HEIGHT);
    expect(rendered().length).toBeLessThanOrEqual(visible + 12);
    expect(rendered()[0].getAttribute('data-session')).toBe('s0');
    const scroller = document.querySelector('.vscroll') as HTMLElement;
    // The spacer keeps the scrollbar honest for all 5,000 rows.
    expect((scroller.firstElementChild as HTMLElement).style.height).toBe(`${5000 * ROW_HEIGHT}px`);
    scroller.scrollTop = 4000 * ROW_HEIGHT;
    fireEvent.scroll(scroller);
    const sessions = rendered().map((r) => r.getAttribute('data-session'));
    expect(sessions).toContain('s4000');
    expect(sessions).not.toContain('s0');
    expect(rendered().length).toBeLessThanOrEqual(visible + 12);
  });
});

describe('FunnelBars', () => {
  it('draws bars scaled to step 1 and flags a high drop-off', () => {
    render(<FunnelBars steps={[{ name: 'Pricing', users: 100 }, { name: 'Sign-up', users: 40 }, { name: 'Paid', users: 30 }]} />);
    const steps = screen.getAllByTestId('funnel-step');
    const widths = steps.map((s) => (s.querySelector('.funnel-bar') as HTMLElement).style.width);
    expect(widths).toEqual(['100%', '40%', '30%']);
    expect(steps[1].classList.contains('high-drop')).toBe(true);
    expect(steps[1].textContent).toContain('60.0% drop-off');
    expect(steps[2].classList.contains('high-drop')).toBe(false);
    expect(steps[2].textContent).toContain('25.0% drop-off');
  });
});

describe('Modal', () => {
  it('traps focus, closes on Escape and returns focus', () => {
    const opener = document.createElement('button');
    document.body.appendChild(opener);
    opener.focus();
    const onClose = vi.fn();
    const { unmount } = render(
      <Modal title="Visitor" onClose={onClose}>
        <button type="button">first inside</button>
        <button type="button">last inside</button>
      </Modal>,
    );
    const close = screen.getByLabelText('Close');
    expect(document.activeElement).toBe(close);
    const last = screen.getByText('last inside');
    last.focus();
    fireEvent.keyDown(document, { key: 'Tab' });
    expect(document.activeElement).toBe(close);
    fireEvent.keyDown(document, { key: 'Tab', shiftKey: true });
    expect(document.activeElement).toBe(last);
    fireEvent.keyDown(document, { key: 'Escape' });
    expect(onClose).toHaveBeenCalledTimes(1);
    unmount();
    expect(document.activeElement).toBe(opener);
  });
});
