import { fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { api, ApiError } from '../api/client';
import type { MessageTemplate, PeoplePage, Project, RenderedTemplate, Role } from '../api/types';
import { bodyOf, editorField, formOf, lineOf, TemplateEditor, Templates } from './Templates';

const project = { id: 'p1', name: 'Shop' } as Project;
afterEach(() => vi.restoreAllMocks());

const welcome: MessageTemplate = {
  id: 't1',
  name: 'Welcome',
  channel: 'email',
  subject: 'Hi {{ contact.name }}',
  body_html: '<p>Hi {{ contact.name }}</p>',
  body_text: null,
  push: null,
  created_by_account_id: 'a1',
  created_at: 1_800_000_000_000,
  updated_at: 1_800_000_000_000,
};

const rendered: RenderedTemplate = {
  channel: 'email',
  subject: 'Hi Ada <3',
  html: '<p>Hi Ada &lt;script&gt;</p>',
  text: 'Hi Ada <script>',
  text_derived: true,
  push: null,
  contact: { name: 'Ada' },
  unsubscribe_url: 'http://vibe.test/unsubscribe/preview',
};

const asRole = (role: Role) => vi.spyOn(api, 'project').mockResolvedValue({ ...project, role } as Project & { role: Role });

describe('template forms', () => {
  it('sends only the parts the channel uses, blank ones left out', () => {
    const f = { ...formOf(welcome), body_text: '  ', push_title: 'ignored' };
    expect(bodyOf(f)).toEqual({ name: 'Welcome', channel: 'email', subject: 'Hi {{ contact.name }}', body_html: '<p>Hi {{ contact.name }}</p>', body_text: undefined });
    expect(bodyOf({ ...f, channel: 'push', push_title: 'T', push_body: 'B', push_url: '' })).toEqual({
      name: 'Welcome', channel: 'push', push: { title: 'T', body: 'B', url: undefined, icon: undefined },
    });
    expect(bodyOf({ ...f, channel: 'whatsapp', body_text: 'x' })).toEqual({ name: 'Welcome', channel: 'whatsapp', body_text: 'x' });
    expect(bodyOf({ ...f, channel: 'in_app', body_text: 'x' })).toEqual({ name: 'Welcome', channel: 'in_app', subject: 'Hi {{ contact.name }}', body_text: 'x' });
  });

  it('reads the line and the editor field out of an error', () => {
    expect(lineOf('syntax error: unexpected end of input (line 3)')).toBe(3);
    expect(lineOf('must be a string')).toBeNull();
    expect(editorField('template.body_html')).toBe('body_html');
    expect(editorField('push.title')).toBe('push_title');
    expect(editorField('template.push.url')).toBe('push_url');
    expect(editorField(undefined)).toBeNull();
  });
});

describe('the template editor', () => {
  it('creates an email template and shows a template error with its line under the part', async () => {
    const create = vi
      .spyOn(api, 'createTemplate')
      .mockRejectedValueOnce(new ApiError(422, 'invalid_template', 'unknown filter `shout` (allowed: upper) (line 2)', 'body_html'))
      .mockResolvedValue(welcome);
    const saved = vi.fn();
    render(<TemplateEditor project={project} template={null} onSaved={saved} onCancel={() => undefined} />);
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: ' Welcome ' } });
    fireEvent.change(screen.getByLabelText('Subject'), { target: { value: 'Hi' } });
    fireEvent.change(screen.getByLabelText('HTML body'), { target: { value: '<p>\n{{ contact.name | shout }}</p>' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create template' }));
    const err = await screen.findByTestId('error-body_html');
    expect(err.textContent).toContain('Line 2');
    expect(err.textContent).toContain('unknown filter `shout`');
    expect(screen.getByLabelText('HTML body').getAttribute('aria-invalid')).toBe('true');
    expect(create).toHaveBeenCalledWith('p1', { name: 'Welcome', channel: 'email', subject: 'Hi', body_html: '<p>\n{{ contact.name | shout }}</p>', body_text: undefined });
    fireEvent.change(screen.getByLabelText('HTML body'), { target: { value: '<p>{{ contact.name }}</p>' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create template' }));
    await vi.waitFor(() => expect(saved).toHaveBeenCalledWith(welcome));
  });

  it('shows the push fields for push and a name conflict on the name', async () => {
    vi.spyOn(api, 'updateTemplate').mockRejectedValue(new ApiError(409, 'name_taken', 'the project already has a template with this name', 'name'));
    render(<TemplateEditor project={project} template={welcome} onSaved={() => undefined} onCancel={() => undefined} />);
    fireEvent.change(screen.getByLabelText('Channel'), { target: { value: 'push' } });
    expect(screen.queryByLabelText('HTML body')).toBeNull();
    expect(screen.getByLabelText('Notification title')).toBeTruthy();
    expect(screen.getByLabelText('Opens URL (optional)')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Save template' }));
    expect((await screen.findByTestId('error-name')).textContent).toContain('already has a template');
  });

  it('previews the unsaved draft in a sandboxed frame, for a sample or a picked contact', async () => {
    const draft = vi.spyOn(api, 'previewDraft').mockResolvedValue(rendered);
    const people = vi.spyOn(api, 'people').mockResolvedValue({ users: [{ id: 'ada-id', name: 'Ada', email: 'ada@example.com', user_id: 'ada' }], next_cursor: null } as unknown as PeoplePage);
    render(<TemplateEditor project={project} template={welcome} onSaved={() => undefined} onCancel={() => undefined} />);
    fireEvent.click(screen.getByRole('button', { name: 'Render preview' }));
    const frame = await screen.findByTestId('preview-html');
    expect(frame.getAttribute('sandbox')).toBe('');
    expect(frame.getAttribute('srcdoc')).toBe('<p>Hi Ada &lt;script&gt;</p>');
    expect(screen.getByTestId('preview-subject').textContent).toBe('Hi Ada <3');
    expect(screen.getByTestId('preview-text').textContent).toBe('Hi Ada <script>');
    expect(screen.getByText('Text part (derived from the HTML)')).toBeTruthy();
    expect(draft).toHaveBeenLastCalledWith('p1', bodyOf(formOf(welcome)), { sample: { name: 'Ada Lovelace', email: 'ada@example.com', traits: { plan: 'pro' } } });

    fireEvent.click(screen.getByLabelText('A contact of this project'));
    fireEvent.change(screen.getByLabelText('Search people'), { target: { value: 'ada' } });
    fireEvent.click(screen.getByRole('button', { name: 'Search' }));
    fireEvent.click(await screen.findByRole('button', { name: 'Ada · ada@example.com · ada' }));
    expect(people).toHaveBeenCalledWith('p1', { q: 'ada' }, null, 5);
    fireEvent.change(screen.getByLabelText(/Data/), { target: { value: '{"coupon": "X"}' } });
    fireEvent.click(screen.getByRole('button', { name: 'Render preview' }));
    await vi.waitFor(() => expect(draft).toHaveBeenLastCalledWith('p1', expect.anything(), { contact_id: 'ada-id', data: { coupon: 'X' } }));
  });

  it('puts a preview error about the template on its part, others in the pane', async () => {
    vi.spyOn(api, 'previewDraft')
      .mockRejectedValueOnce(new ApiError(422, 'invalid_template', 'syntax error: unexpected end (line 4)', 'template.body_html'))
      .mockRejectedValueOnce(new ApiError(404, 'not_found', 'no such person in this project', 'contact_id'));
    render(<TemplateEditor project={project} template={welcome} onSaved={() => undefined} onCancel={() => undefined} />);
    fireEvent.click(screen.getByRole('button', { name: 'Render preview' }));
    expect((await screen.findByTestId('error-body_html')).textContent).toContain('Line 4');
    expect(screen.getByTestId('preview-error').textContent).toContain('highlighted part');
    fireEvent.click(screen.getByLabelText('A contact of this project'));
    fireEvent.change(screen.getByLabelText('Contact id'), { target: { value: 'nobody' } });
    fireEvent.click(screen.getByRole('button', { name: 'Render preview' }));
    await vi.waitFor(() => expect(screen.getByTestId('preview-error').textContent).toBe('contact_id: no such person in this project'));
    expect(screen.queryByTestId('error-body_html')).toBeNull();
    // Bad JSON never reaches the server.
    fireEvent.click(screen.getByLabelText('Sample contact'));
    fireEvent.change(screen.getByLabelText(/Sample \(JSON/), { target: { value: '{nope' } });
    fireEvent.click(screen.getByRole('button', { name: 'Render preview' }));
    await vi.waitFor(() => expect(screen.getByTestId('preview-error').textContent).toBe('The sample is not valid JSON.'));
  });
});

describe('the Templates page', () => {
  it('lists templates; supervisors edit and delete with a confirm', async () => {
    asRole('supervisor');
    vi.spyOn(api, 'templates').mockResolvedValue({ templates: [welcome] });
    const del = vi.spyOn(api, 'deleteTemplate').mockResolvedValue(undefined);
    render(<Templates project={project} />);
    const tr = await screen.findByTestId('template-t1');
    expect(within(tr).getByText('Email')).toBeTruthy();
    expect(await screen.findByRole('button', { name: 'New template' })).toBeTruthy();
    fireEvent.click(within(tr).getByRole('button', { name: 'Edit Welcome' }));
    expect((screen.getByLabelText('Name') as HTMLInputElement).value).toBe('Welcome');
    fireEvent.click(within(screen.getByTestId('template-t1')).getByRole('button', { name: 'Delete Welcome' }));
    expect(del).not.toHaveBeenCalled();
    fireEvent.click(screen.getByRole('button', { name: 'Confirm delete' }));
    await vi.waitFor(() => expect(del).toHaveBeenCalledWith('p1', 't1'));
  });

  it('is read-only below supervisor, with a preview of the saved template', async () => {
    asRole('agent');
    vi.spyOn(api, 'templates').mockResolvedValue({ templates: [welcome] });
    const preview = vi.spyOn(api, 'previewTemplate').mockResolvedValue(rendered);
    render(<Templates project={project} />);
    await screen.findByText('Read-only: supervisors and above write templates.');
    expect(screen.queryByRole('button', { name: 'New template' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Delete Welcome' })).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Preview Welcome' }));
    expect(screen.queryByLabelText('Name')).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Render preview' }));
    expect((await screen.findByTestId('preview-html')).getAttribute('sandbox')).toBe('');
    expect(preview).toHaveBeenCalledWith('p1', 't1', { sample: { name: 'Ada Lovelace', email: 'ada@example.com', traits: { plan: 'pro' } } });
  });

  it('has loading, empty and error states', async () => {
    asRole('owner');
    const list = vi.spyOn(api, 'templates').mockRejectedValueOnce(new ApiError(500, 'internal', 'Boom.')).mockResolvedValue({ templates: [] });
    render(<Templates project={project} />);
    expect(screen.getByRole('status', { name: 'Loading templates' })).toBeTruthy();
    expect((await screen.findByRole('alert')).textContent).toContain('Boom.');
    fireEvent.click(screen.getByRole('button', { name: 'Retry' }));
    expect(await screen.findByText('No templates yet')).toBeTruthy();
    expect(list).toHaveBeenCalledTimes(2);
  });
});
