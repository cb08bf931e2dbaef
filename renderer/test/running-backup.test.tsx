import { act, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, test } from 'vitest';
import { App } from '../src/App';
import { keyGroups } from '../src/screens/Wizard';
import { DETECTION, fakeApi, KEY } from './fake-api';

const ok = <T,>(value: T) => ({ ok: true as const, value });
const SETTINGS = { keepLast: 1, vaultUrl: '', theme: 'system' as const, autoUpdate: false, rememberedRepos: [] };

function back() {
  return fakeApi({
    'settings.get': ok(SETTINGS),
    'app.info': ok({ appVersion: '0.1.0', front: 'web', versions: { chatsafe: '0.1.0' }, home: '/home/ada', sep: '/', secretStorage: 'file' }),
    'app.openedFile': ok({ path: null }),
    'profiles.list': ok({ profiles: [] }),
    'sample.create': ok({ path: '/tmp/sample/Garden Club' }),
    'key.generate': ok({ key: KEY }),
    'storage.check': ok({ ok: true, message: 'Ready: a new repository will be created there.' }),
    detect: ok(DETECTION),
  });
}

/** Through the wizard to a running backup. */
async function startBackup(user: ReturnType<typeof userEvent.setup>, f: ReturnType<typeof back>) {
  await user.click(await screen.findByRole('button', { name: 'Try it with sample data' }));
  await screen.findByText(/1 chat, 120 messages/);
  await user.click(screen.getByRole('button', { name: 'Next' }));
  const groups = keyGroups(KEY);
  const asked = screen.getAllByLabelText(/^Group \d+$/);
  // The app picks which two groups to ask for; each input's label names its group.
  for (const input of asked) {
    const n = Number(/Group (\d+)/.exec((input as HTMLInputElement).labels?.[0]?.textContent ?? input.getAttribute('aria-label') ?? '')?.[1]);
    await user.type(input, groups[n - 1]!);
  }
  await user.click(screen.getByRole('button', { name: 'Next' }));
  await user.type(screen.getByLabelText('Backup location'), '/tmp/new-repo');
  await user.click(screen.getByRole('button', { name: 'Check' }));
  await screen.findByText(/Ready/);
  await user.click(screen.getByRole('button', { name: 'Back up now' }));
  await screen.findByRole('heading', { name: 'Backing up' });
  return f.jobs.find((j) => j.channel === 'backup')!;
}

describe('a running backup while the user looks elsewhere', () => {
  test('its progress and Cancel are still there on coming back; the nav says it is running', async () => {
    const user = userEvent.setup();
    const f = back();
    render(<App api={f.api} />);
    const job = await startBackup(user, f);

    await user.click(screen.getByRole('button', { name: 'Settings' }));
    await screen.findByRole('heading', { name: 'Settings' });
    expect(screen.queryByRole('heading', { name: 'Backing up' })).toBeNull(); // hidden, not gone
    expect(screen.getByRole('button', { name: 'Back up (running)' })).toBeDefined();
    act(() => job.progress({ phase: 'backing-up', bytesDone: 3 * 1024 * 1024, bytesTotal: 6 * 1024 * 1024, filesDone: 1, filesTotal: 2, rate: 1024 * 1024, etaSeconds: 3 }));

    await user.click(screen.getByRole('button', { name: 'Back up (running)' }));
    await screen.findByRole('heading', { name: 'Backing up' });
    expect(screen.getByText(/3.0 MB of 6.0 MB · 1 of 2 files/)).toBeDefined();
    await user.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(f.cancelled).toEqual([job.jobId]);
    expect(f.jobs.filter((j) => j.channel === 'backup').length).toBe(1); // nothing started twice
  });

  test('a backup that finishes while away shows its result on coming back', async () => {
    const user = userEvent.setup();
    const f = back();
    render(<App api={f.api} />);
    const job = await startBackup(user, f);
    await user.click(screen.getByRole('button', { name: 'Restore' }));
    await act(async () =>
      job.settle(ok({ snapshotId: 'ab'.repeat(32), files: 2, bytes: 6000, storedBytes: 4000, newBytes: 6000, chats: 1, messages: 120, forgotten: 0, location: '/tmp/new-repo' })),
    );
    await waitFor(() => expect(screen.getByRole('button', { name: 'Back up (finished)' })).toBeDefined());
    await user.click(screen.getByRole('button', { name: 'Back up (finished)' }));
    await screen.findByRole('heading', { name: 'Your chats are backed up' });
  });
});
