import { act, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { api, ApiError } from '../api/client';
import type { Campaign, CampaignProgress, CustomSegment, MessageTemplate, PeoplePage, Project, Role } from '../api/types';
import { ProgressBar, ProgressCounts, shares } from '../components/campaigns/progress';
import { actionsFor, CampaignPage, POLL_MS, StatsView } from './CampaignPage';
import { campaignBodyOf, CampaignWizard, validate, wizardFormOf } from './CampaignWizard';
import { CampaignList, campaignRoute } from './Campaigns';

const project = { id: 'p1', name: 'Shop' } as Project;
afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});
const asRole = (role: Role) => vi.spyOn(api, 'project').mockResolvedValue({ ...project, role } as Project & { role: Role });

const progress = (over: Partial<CampaignProgress> = {}): CampaignProgress => ({
  total: 12, to_send: 10, queued: 4, claimed: 1, sent: 5, failed: 0, unknown: 0, cancelled: 0,
  skipped: { total: 2, no_address: 1, unsubscribed: 1, bounced: 0 },
  rate_per_minute: 60, sent_last_minute: 5, eta_seconds: 5, ...over,
});

const campaign = (over: Partial<Campaign> = {}): Campaign => ({
  id: 'c1', kind: 'segment', name: 'Spring sale', channel: 'email', template_id: 't1', content: null, segment: 'all',
  send_at: null, rate_per_minute: 60, status: 'draft', recipients: null, skipped: null, error: null,
  created_by_account_id: 'a1', created_at: 1_800_000_000_000, updated_at: 1_800_000_000_000, started_at: null, finished_at: null,
  ...over,
});

const template: MessageTemplate = {
  id: 't1', name: 'Welcome', channel: 'email', subject: 'Hi', body_html: '<p>Hi</p>', body_text: null, push: null,
  created_by_account_id: 'a1', created_at: 1, updated_at: 1,
};
const vip: CustomSegment = { id: 's1', name: 'VIPs', description: null, criteria: { field: 'tag', op: 'has', value: 'vip' }, user_count: 3, counted_at: 1, created_at: 1, updated_at: 1 };

describe('campaign routes and states', () => {
  it('reads the view from the path', () => {
    expect(campaignRoute('/campaigns')).toEqual({ view: 'list' });
    expect(campaignRoute('/campaigns/new')).toEqual({ view: 'new' });
    expect(campaignRoute('/campaigns/c%201')).toEqual({ view: 'page', cid: 'c 1' });
    expect(campaignRoute('/campaigns/c1/edit')).toEqual({ view: 'edit', cid: 'c1' });
  });

  it('offers only the actions the state allows', () => {
    expect(actionsFor({ status: 'draft', kind: 'segment' })).toEqual(['edit', 'send', 'cancel', 'delete']);
    expect(actionsFor({ status: 'scheduled', kind: 'segment' })).toEqual(['edit', 'cancel']);
    expect(actionsFor({ status: 'sending', kind: 'direct' })).toEqual(['pause', 'cancel']);
    expect(actionsFor({ status: 'paused', kind: 'segment' })).toEqual(['resume', 'cancel']);
    expect(actionsFor({ status: 'sent', kind: 'segment' })).toEqual(['delete']);
    expect(actionsFor({ status: 'draft', kind: 'direct' })).not.toContain('edit');
  });
});

describe('the campaigns list', () => {
  it('lists name, channel, status and sent of to-send; admins get "New campaign"', async () => {
    asRole('admin');
    vi.spyOn(api, 'campaigns').mockResolvedValue({ campaigns: [campaign({ id: 'c2', name: 'Going', status: 'sending', started_at: 2 }), campaign()] });
    const one = vi.spyOn(api, 'campaign').mockResolvedValue(campaign({ id: 'c2', status: 'sending', started_at: 2, progress: progress() }));
    render(<CampaignList project={project} />);
    const going = await screen.findByTestId('campaign-c2');
    expect(within(going).getByText('Email')).toBeTruthy();
    expect(within(going).getByTestId('campaign-status').textContent).toBe('Sending');
    expect((await within(going).findByTestId('row-progress')).textContent).toBe('5 / 10');
    expect(within(screen.getByTestId('campaign-c1')).getByText('Not started')).toBeTruthy();
    expect(one).toHaveBeenCalledTimes(1);
    expect(await screen.findByRole('button', { name: 'New campaign' })).toBeTruthy();
  });

  it('has an empty state with a call to action, and none for viewers', async () => {
    asRole('viewer');
    const list = vi.spyOn(api, 'campaigns').mockRejectedValueOnce(new ApiError(500, 'internal', 'Boom.')).mockResolvedValue({ campaigns: [] });
    render(<CampaignList project={project} />);
    expect(screen.getByRole('status', { name: 'Loading campaigns' })).toBeTruthy();
    expect((await screen.findByRole('alert')).textContent).toContain('Boom.');
    fireEvent.click(screen.getByRole('button', { name: 'Retry' }));
    expect(await screen.findByText('No campaigns yet')).toBeTruthy();
    await screen.findByText('Read-only: admins write and send campaigns.');
    expect(screen.queryByRole('button', { name: 'New campaign' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Create your first campaign' })).toBeNull();
    expect(list).toHaveBeenCalledTimes(2);
  });

  it('shows the empty state\'s call to action to admins', async () => {
    asRole('owner');
    vi.spyOn(api, 'campaigns').mockResolvedValue({ campaigns: [] });
    render(<CampaignList project={project} />);
    expect(await screen.findByRole('button', { name: 'Create your first campaign' })).toBeTruthy();
  });
});

describe('the campaign wizard', () => {
  const mocks = () => {
    vi.spyOn(api, 'templates').mockResolvedValue({ templates: [template, { ...template, id: 't2', name: 'Push one', channel: 'push' }] });
    vi.spyOn(api, 'segments').mockResolvedValue({ segments: [vip] });
    const people = vi.spyOn(api, 'people')
      .mockResolvedValueOnce({ users: Array(200).fill({}), next_cursor: 'x' } as unknown as PeoplePage)
      .mockResolvedValueOnce({ users: Array(7).fill({}), next_cursor: null } as unknown as PeoplePage);
    const preview = vi.spyOn(api, 'previewSegment').mockResolvedValue({ user_count: 4, counted_at: 1 });
    return { people, preview };
  };

  it('checks the form before the API', () => {
    const f = { ...wizardFormOf(null), name: 'Sale', template_id: 't1' };
    expect(validate({ ...f, name: ' ' })?.field).toBe('name');
    expect(validate({ ...f, template_id: '' })?.field).toBe('template_id');
    expect(validate({ ...f, when: 'later', send_at: '' })?.field).toBe('send_at');
    expect(validate({ ...f, when: 'later', send_at: '2020-01-01T10:00' })?.message).toBe('Pick a time in the future.');
    expect(validate({ ...f, rate: '0' })?.field).toBe('rate_per_minute');
    expect(validate({ ...f, rate: '1.5' })?.field).toBe('rate_per_minute');
    expect(validate({ ...f, rate: '120' })).toBeNull();
    expect(campaignBodyOf({ ...f, rate: '120' })).toEqual({ name: 'Sale', channel: 'email', template_id: 't1', segment: 'all', send_at: null, rate_per_minute: 120 });
    expect(campaignBodyOf({ ...f, when: 'later', send_at: '2030-01-02T03:04' }).send_at).toBe(new Date('2030-01-02T03:04').getTime());
  });

  it('counts the segment live, shows field errors from the form and the API, and saves', async () => {
    const { people, preview } = mocks();
    const create = vi.spyOn(api, 'createCampaign')
      .mockRejectedValueOnce(new ApiError(400, 'invalid_field', 'must be 1–60000', 'rate_per_minute'))
      .mockResolvedValue(campaign());
    render(<CampaignWizard project={project} campaign={null} />);
    // Built-in "all": the people list paged to its end.
    await vi.waitFor(() => expect(screen.getByTestId('recipient-count').textContent).toContain('207 people in this segment now'));
    expect(people).toHaveBeenCalledWith('p1', { segment: 'all' }, 'x', 200);
    fireEvent.change(screen.getByLabelText('Segment'), { target: { value: 's1' } });
    await vi.waitFor(() => expect(screen.getByTestId('recipient-count').textContent).toContain('4 people in this segment now'));
    expect(preview).toHaveBeenCalledWith('p1', vip.criteria);

    fireEvent.click(screen.getByRole('button', { name: 'Create draft' }));
    expect(screen.getByTestId('error-name').textContent).toBe('Give the campaign a name.');
    expect(screen.getByLabelText('Name').getAttribute('aria-invalid')).toBe('true');
    expect(create).not.toHaveBeenCalled();

    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'Spring sale' } });
    expect(screen.queryByTestId('error-name')).toBeNull();
    const pick = await screen.findByLabelText('Template');
    // Only templates of the channel.
    expect(within(pick).queryByText('Push one')).toBeNull();
    fireEvent.change(pick, { target: { value: 't1' } });
    fireEvent.change(screen.getByLabelText('Throttle (messages per minute)'), { target: { value: '60' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create draft' }));
    expect((await screen.findByTestId('error-rate_per_minute')).textContent).toBe('must be 1–60000');
    expect(create).toHaveBeenCalledWith('p1', { name: 'Spring sale', channel: 'email', template_id: 't1', segment: 's1', send_at: null, rate_per_minute: 60 });
    fireEvent.click(screen.getByRole('button', { name: 'Create draft' }));
    await vi.waitFor(() => expect(location.pathname).toBe('/campaigns/c1'));
  });

  it('says when a built-in segment holds more than it counted', async () => {
    vi.spyOn(api, 'templates').mockResolvedValue({ templates: [] });
    vi.spyOn(api, 'segments').mockResolvedValue({ segments: [] });
    vi.spyOn(api, 'people').mockResolvedValue({ users: Array(200).fill({}), next_cursor: 'more' } as unknown as PeoplePage);
    render(<CampaignWizard project={project} campaign={null} />);
    await vi.waitFor(() => expect(screen.getByTestId('recipient-count').textContent).toContain('More than 1,000 people'));
    expect(await screen.findByText('No Email templates yet')).toBeTruthy();
    expect(screen.getByText('Create a template').getAttribute('href')).toBe('/templates');
  });

  it('edits a draft: prefilled, scheduled at a local time, inline content kept', async () => {
    mocks();
    const at = new Date(2031, 4, 6, 7, 8).getTime();
    const inline = { subject: 'Own subject', body_text: 'Hello' };
    const update = vi.spyOn(api, 'updateCampaign').mockResolvedValue(campaign());
    render(<CampaignWizard project={project} campaign={campaign({ template_id: null, content: inline, send_at: at, rate_per_minute: 90 })} />);
    expect((screen.getByLabelText('Name') as HTMLInputElement).value).toBe('Spring sale');
    expect((screen.getByLabelText('Send at') as HTMLInputElement).value).toBe('2031-05-06T07:08');
    expect((screen.getByLabelText('Throttle (messages per minute)') as HTMLInputElement).value).toBe('90');
    const pick = (await screen.findByLabelText('Template')) as HTMLSelectElement;
    expect(pick.selectedOptions[0].textContent).toBe('Its own content — Own subject (kept as it is)');
    fireEvent.click(screen.getByRole('button', { name: 'Save draft' }));
    await vi.waitFor(() => expect(update).toHaveBeenCalledWith('p1', 'c1', { name: 'Spring sale', channel: 'email', content: inline, segment: 'all', send_at: at, rate_per_minute: 90 }));
  });

  it('test-sends a saved draft to given addresses', async () => {
    mocks();
    const test = vi.spyOn(api, 'testCampaign').mockResolvedValue({ results: [{ address: 'me@example.com', status: 'sent', error: null }, { address: 'x@example.com', status: 'failed', error: '550 no such user' }] });
    render(<CampaignWizard project={project} campaign={campaign()} />);
    fireEvent.change(screen.getByLabelText(/Send a test to/), { target: { value: 'me@example.com, x@example.com' } });
    fireEvent.click(screen.getByRole('button', { name: 'Send test' }));
    const results = await screen.findByTestId('test-results');
    expect(results.textContent).toContain('me@example.com: sent');
    expect(results.textContent).toContain('550 no such user');
    expect(test).toHaveBeenCalledWith('p1', 'c1', ['me@example.com', 'x@example.com']);
  });
});

describe('campaign progress', () => {
  it('shows what recipients did: each count with its rate, dashes with nothing to divide by, machine opens marked', () => {
    const counts = { recipients: 10, skipped: 2, sent: 8, failed: 0, unknown: 0, delivered: 8, bounced: 0, opened: 4, opened_machine: 1,
      clicked: 2, unsubscribed: 1, opens: 6, machine_opens: 1, clicks: 3 };
    const rates = { delivery: 1, open: 0.5, click: 0.25, click_to_open: 0.5, bounce: 0, unsubscribe: 0.125 };
    const { unmount } = render(<StatsView stats={{ campaign_id: 'c1', counts, rates, series: [] }} />);
    const cell = (label: string) => screen.getByText(label).nextElementSibling!.textContent;
    expect(cell('Delivered')).toBe('8 100.0%');
    expect(cell('Opened')).toBe('4 50.0%');
    expect(cell('Clicked')).toBe('2 25.0%');
    expect(cell('Unsubscribed')).toBe('1 12.5%');
    expect(screen.getByText(/1 of the opens came first from a machine/)).toBeTruthy();
    unmount();
    const none = { delivery: null, open: null, click: null, click_to_open: null, bounce: null, unsubscribe: null };
    render(<StatsView stats={{ campaign_id: 'c1', counts: { ...counts, sent: 0, opened: 0, opened_machine: 0 }, rates: none, series: [] }} />);
    expect(cell('Opened')).toBe('0 –');
    expect(screen.queryByText(/from a machine/)).toBeNull();
  });

  it('shows sent of to-send, the rate, the ETA and every count', () => {
    render(<><ProgressBar progress={progress()} live /><ProgressCounts progress={progress()} /></>);
    const bar = screen.getByRole('progressbar', { name: 'Sent' });
    expect(bar.getAttribute('aria-valuenow')).toBe('5');
    expect(bar.getAttribute('aria-valuemax')).toBe('10');
    expect(screen.getByTestId('progress-sent').textContent).toBe('5 of 10 sent');
    expect(screen.getByTestId('progress-rate').textContent).toBe('5 in the last minute · throttle 60/min');
    expect(screen.getByTestId('progress-eta').textContent).toBe('about 5s left');
    expect(within(screen.getByTestId('count-skipped-unsubscribed')).getByText('1')).toBeTruthy();
    expect(within(screen.getByTestId('count-queued')).getByText('5')).toBeTruthy();
    expect(shares(progress({ to_send: 0, sent: 0 }))).toEqual({ sent: 0, failed: 0, unknown: 0 });
    expect(shares(progress({ sent: 8, failed: 1, unknown: 1 }))).toEqual({ sent: 80, failed: 10, unknown: 10 });
  });

  it('polls every 2 s while sending and stops when sent; viewers get no actions', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    asRole('viewer');
    vi.spyOn(api, 'templates').mockResolvedValue({ templates: [template] });
    vi.spyOn(api, 'segments').mockResolvedValue({ segments: [] });
    vi.spyOn(api, 'campaignRecipients').mockResolvedValue({ recipients: [], next_cursor: null });
    const get = vi.spyOn(api, 'campaign')
      .mockResolvedValueOnce(campaign({ status: 'sending', started_at: 1, progress: progress() }))
      .mockResolvedValueOnce(campaign({ status: 'sending', started_at: 1, progress: progress({ sent: 9, queued: 1, claimed: 0 }) }))
      .mockResolvedValue(campaign({ status: 'sent', started_at: 1, finished_at: 2, progress: progress({ sent: 10, queued: 0, claimed: 0, eta_seconds: null }) }));
    render(<CampaignPage project={project} cid="c1" />);
    expect((await screen.findByTestId('progress-sent')).textContent).toBe('5 of 10 sent');
    await act(() => vi.advanceTimersByTimeAsync(POLL_MS));
    await vi.waitFor(() => expect(screen.getByTestId('progress-sent').textContent).toBe('9 of 10 sent'));
    await act(() => vi.advanceTimersByTimeAsync(POLL_MS));
    await vi.waitFor(() => expect(screen.getByTestId('progress-sent').textContent).toBe('10 of 10 sent'));
    expect(screen.getByTestId('campaign-status').textContent).toBe('Sent');
    expect(screen.queryByTestId('progress-eta')).toBeNull();
    await act(() => vi.advanceTimersByTimeAsync(POLL_MS * 3));
    expect(get).toHaveBeenCalledTimes(3);
    expect(screen.queryByRole('button', { name: 'Pause' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Delete' })).toBeNull();
  });

  it('sends a draft, then offers pause and cancel; pages recipients by status', async () => {
    asRole('admin');
    vi.spyOn(api, 'templates').mockResolvedValue({ templates: [template] });
    vi.spyOn(api, 'segments').mockResolvedValue({ segments: [] });
    vi.spyOn(api, 'campaign').mockResolvedValue(campaign());
    const send = vi.spyOn(api, 'campaignAction').mockResolvedValue(campaign({ status: 'sending', started_at: 1, progress: progress() }));
    const rec = (id: string, status: 'sent' | 'skipped') => ({ person_id: id, address: `${id}@x.com`, status, skip_reason: status === 'skipped' ? 'no_address' : null, attempts: 1, claimed_at: 1, sent_at: 1, error: null, message_id: null });
    const recipients = vi.spyOn(api, 'campaignRecipients').mockImplementation(async (_p, _c, status, cursor) =>
      cursor ? { recipients: [rec('p3', 'sent')], next_cursor: null } : { recipients: status === 'skipped' ? [rec('p9', 'skipped')] : [rec('p1', 'sent'), rec('p2', 'sent')], next_cursor: status ? null : 'n1' });
    render(<CampaignPage project={project} cid="c1" />);
    expect(await screen.findByText('Not started')).toBeTruthy();
    expect(await screen.findByRole('button', { name: 'Edit' })).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Pause' })).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Send' }));
    expect(send).not.toHaveBeenCalled();
    fireEvent.click(screen.getByRole('button', { name: 'Back' }));
    fireEvent.click(screen.getByRole('button', { name: 'Send' }));
    fireEvent.click(screen.getByRole('button', { name: 'Confirm send' }));
    await vi.waitFor(() => expect(screen.getByTestId('campaign-status').textContent).toBe('Sending'));
    expect(send).toHaveBeenCalledWith('p1', 'c1', 'send');
    expect(screen.getByRole('button', { name: 'Pause' })).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Send' })).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Cancel campaign' }));
    expect(screen.getByRole('button', { name: 'Confirm cancel' })).toBeTruthy();
    expect(send).toHaveBeenCalledTimes(1);

    const table = await screen.findByTestId('recipients-table');
    await vi.waitFor(() => expect(within(table).getAllByRole('row')).toHaveLength(3));
    fireEvent.click(screen.getByRole('button', { name: 'Load more' }));
    await vi.waitFor(() => expect(within(screen.getByTestId('recipients-table')).getAllByRole('row')).toHaveLength(4));
    expect(recipients).toHaveBeenLastCalledWith('p1', 'c1', '', 'n1');
    fireEvent.change(screen.getByLabelText('Recipient status'), { target: { value: 'skipped' } });
    await vi.waitFor(() => expect(screen.getByText('skipped: no address')).toBeTruthy());
    expect(screen.queryByRole('button', { name: 'Load more' })).toBeNull();
  });

  it('shows why the sender paused it and offers resume; a draft due later says Schedule', async () => {
    asRole('owner');
    vi.spyOn(api, 'templates').mockResolvedValue({ templates: [template] });
    vi.spyOn(api, 'segments').mockResolvedValue({ segments: [] });
    vi.spyOn(api, 'campaignRecipients').mockResolvedValue({ recipients: [], next_cursor: null });
    vi.spyOn(api, 'campaign')
      .mockResolvedValueOnce(campaign({ status: 'paused', started_at: 1, error: 'the email channel is not configured', progress: progress() }))
      .mockResolvedValueOnce(campaign({ send_at: Date.now() + 3_600_000 }));
    const { unmount } = render(<CampaignPage project={project} cid="c1" />);
    expect((await screen.findByTestId('campaign-error')).textContent).toBe('Paused by the sender: the email channel is not configured');
    expect(await screen.findByRole('button', { name: 'Resume' })).toBeTruthy();
    expect(screen.getByTestId('progress-eta').textContent).toBe('5s left');
    unmount();
    render(<CampaignPage project={project} cid="c1" />);
    expect(await screen.findByRole('button', { name: 'Schedule' })).toBeTruthy();
  });
});
