// The people table: who is online right now (live), or a segment of all people.
import type { KeyboardEvent } from 'react';
import type { SiteUser } from '../api/types';
import { displayName, fmtDateTime, fmtDuration } from '../lib/format';
import type { LiveVisitor } from '../lib/live';
import { useNow } from '../lib/useAsync';
import { BrowserIcon, DeviceIcon } from './ui';
import { VirtualRows } from './VirtualRows';

export const ROW_HEIGHT = 52;
export const STUCK_AFTER_S = 300;

/** Seconds on the site and on the page now, ticking from when the row arrived. */
export function liveClock(v: LiveVisitor, now: number) {
  const elapsed = Math.max(0, Math.floor((now - v.received_at) / 1000));
  const onPage = v.time_on_page_s + elapsed;
  return { onSite: v.time_on_site_s + elapsed, onPage, stuck: v.stuck || onPage > STUCK_AFTER_S };
}

function activate(e: KeyboardEvent, open: () => void) {
  if (e.key === 'Enter' || e.key === ' ') {
    e.preventDefault();
    open();
  }
}

export function OnlineTable({ visitors, onOpen, height = 480 }: { visitors: LiveVisitor[]; onOpen: (v: LiveVisitor) => void; height?: number }) {
  const now = useNow(1000);
  return (
    <div className="table" role="table" aria-label="Visitors online now" data-testid="online-table">
      <div className="trow thead" role="row">
        <span role="columnheader">User</span>
        <span role="columnheader">Current page</span>
        <span role="columnheader">Time on site</span>
        <span role="columnheader" className="hide-phone">Device</span>
      </div>
      <VirtualRows
        label="Online visitors"
        count={visitors.length}
        rowHeight={ROW_HEIGHT}
        height={height}
        renderRow={(i) => {
          const v = visitors[i];
          const who = displayName(v);
          const clock = liveClock(v, now);
          const open = () => onOpen(v);
          return (
            <div
              className={`trow tbody-row ${clock.stuck ? 'stuck' : ''}`}
              role="row"
              tabIndex={0}
              data-session={v.session_id}
              data-testid="visitor-row"
              onClick={open}
              onKeyDown={(e) => activate(e, open)}
            >
              <span role="cell" className="cell-user">
                <span className={who.anonymous ? 'anon' : 'ident'}>{who.primary}</span>
                {who.secondary && <span className="muted small">{who.secondary}</span>}
              </span>
              <span role="cell" className="cell-page" title={v.current_page?.url ?? ''}>
                <code>{v.current_page?.path ?? '—'}</code>
                {clock.stuck && (
                  <span className="badge badge-warn" title="More than 5 minutes on this page">
                    stuck {fmtDuration(clock.onPage)}
                  </span>
                )}
              </span>
              <span role="cell" className="cell-time" data-testid="time-on-site">
                {fmtDuration(clock.onSite)}
              </span>
              <span role="cell" className="cell-device hide-phone">
                <DeviceIcon device={v.device} />
                <BrowserIcon browser={v.browser} />
                <span className="muted small">{v.os ?? ''}</span>
              </span>
            </div>
          );
        }}
      />
    </div>
  );
}

export function PeopleTable({ users, onOpen, onNearEnd, height = 480 }: { users: SiteUser[]; onOpen: (u: SiteUser) => void; onNearEnd?: () => void; height?: number }) {
  return (
    <div className="table" role="table" aria-label="People" data-testid="people-table">
      <div className="trow thead" role="row">
        <span role="columnheader">User</span>
        <span role="columnheader">Plan</span>
        <span role="columnheader">Last seen</span>
        <span role="columnheader" className="hide-phone">Device</span>
      </div>
      <VirtualRows
        label="People"
        count={users.length}
        rowHeight={ROW_HEIGHT}
        height={height}
        onNearEnd={onNearEnd}
        renderRow={(i) => {
          const u = users[i];
          const who = displayName(u);
          const open = () => onOpen(u);
          return (
            <div className="trow tbody-row" role="row" tabIndex={0} data-testid="person-row" onClick={open} onKeyDown={(e) => activate(e, open)}>
              <span role="cell" className="cell-user">
                <span className={who.anonymous ? 'anon' : 'ident'}>{who.primary}</span>
                {who.secondary && <span className="muted small">{who.secondary}</span>}
              </span>
              <span role="cell">{u.plan ? <span className="badge">{u.plan}</span> : <span className="muted">—</span>}</span>
              <span role="cell">{fmtDateTime(u.last_seen)}</span>
              <span role="cell" className="cell-device hide-phone">
                <DeviceIcon device={u.device} />
                <BrowserIcon browser={u.browser} />
                <span className="muted small">{u.total_events} events</span>
              </span>
            </div>
          );
        }}
      />
    </div>
  );
}
