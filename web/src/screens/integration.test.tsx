import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Project } from '../api/types';
import { initialLiveState } from '../lib/live';
import { Integration } from './Integration';

const base = 'http://vibe.test';
let chat = false;
const puts: unknown[] = [];

function mockFetch() {
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const url = String(input);
    const method = init?.method ?? 'GET';
    let body: unknown = {};
    if (url.includes('/events')) body = { events: [] };
    else if (url.endsWith('/snippet')) {
      const tag = chat ? `\n<script defer src="${base}/vibe-chat.js" data-key="wk_1"></script>` : '';
      body = { snippet: `<script defer src="${base}/vibe.js" data-key="wk_1"></script>${tag}`, script_url: `${base}/vibe.js`, write_key: 'wk_1', chat };
    } else if (url.endsWith('/channels/in_app') && method === 'PUT') {
      const sent = JSON.parse(String(init?.body));
      puts.push(sent);
      chat = sent.enabled;
      body = { kind: 'in_app', enabled: chat };
    }
    return new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } });
  });
}

afterEach(() => {
  vi.restoreAllMocks();
  chat = false;
  puts.length = 0;
});

describe('Integration: chat widget', () => {
  it('an owner turns the widget on and the snippet gains its tag', async () => {
    mockFetch();
    const project = { id: 'p1', name: 'Shop', role: 'owner', allowed_origins: [] as string[] } as Project;
    render(<Integration project={project} live={initialLiveState} onProjectChanged={() => undefined} />);
    await screen.findByRole('button', { name: 'Turn on the chat widget' });
    expect(screen.getByTestId('snippet').textContent).not.toContain('vibe-chat.js');
    fireEvent.click(screen.getByRole('button', { name: 'Turn on the chat widget' }));
    await waitFor(() => expect(screen.getByTestId('snippet').textContent).toContain('vibe-chat.js'));
    expect(puts).toEqual([{ enabled: true }]);
    expect(await screen.findByRole('button', { name: 'Turn off the chat widget' })).toBeTruthy();
  });

  it('agents see the state but no switch', async () => {
    mockFetch();
    chat = true;
    const project = { id: 'p1', name: 'Shop', role: 'agent', allowed_origins: [] as string[] } as Project;
    render(<Integration project={project} live={initialLiveState} onProjectChanged={() => undefined} />);
    await screen.findByRole('region', { name: 'Chat widget' });
    expect(screen.getByRole('region', { name: 'Chat widget' }).textContent).toContain('On');
    expect(screen.queryByRole('button', { name: /chat widget/ })).toBeNull();
  });
});
