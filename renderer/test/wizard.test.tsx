import { act, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, test } from 'vitest';
import { keyGroups, pickConfirmGroups, Wizard } from '../src/screens/Wizard';
import { DETECTION, fakeApi, KEY } from './fake-api';

const ok = <T,>(value: T) => ({ ok: true as const, value });
const err = (kind: string, message: string, hint: string) => ({ ok: false as const, error: { kind, message, hint, suggestion: null, attemptsLeft: null } as never });

const baseAnswers = {
  'sample.create': ok({ path: '/tmp/sample/Garden Club' }),
  'key.generate': ok({ key: KEY }),
  'storage.check': (req: unknown) =>
    (req as { address: string }).address.includes('full') ? ok({ ok: false, message: 'That folder is not empty. Choose an empty or a new folder.' }) : ok({ ok: true, message: 'Ready: a new repository will be created there.' }),
  'password.assess': (req: unknown) => ((req as { password: string }).password.length > 12 ? ok({ score: 4, acceptable: true, feedback: 'Very strong.' }) : ok({ score: 0, acceptable: false, feedback: 'Too common: easy to guess.' })),
  'vault.check': ok({ ok: true, message: 'The key vault answers.' }),
};

/** Walks to the protection step with a detected source. */
async function toProtection(user: ReturnType<typeof userEvent.setup>, answers: Record<string, unknown> = {}) {
  const f = fakeApi({ ...baseAnswers, detect: ok(DETECTION), ...(answers as object) });
  render(<Wizard api={f.api} keepLast={1} defaultVaultUrl="" confirmGroups={[3, 11]} />);
  await user.click(screen.getByRole('button', { name: 'Try it with sample data' }));
  await screen.findByText(/1 chat, 120 messages/);
  await user.click(screen.getByRole('button', { name: 'Next' }));
  return f;
}

async function confirmKey(user: ReturnType<typeof userEvent.setup>) {
  const groups = keyGroups(KEY);
  await user.type(screen.getByLabelText('Group 3'), groups[2]!);
  await user.type(screen.getByLabelText('Group 11'), groups[10]!);
}

describe('first-run wizard', () => {
  test('step 1: Next waits for a detected source; the sample path detects', async () => {
    const user = userEvent.setup();
    const f = fakeApi({ ...baseAnswers, detect: ok(DETECTION) });
    render(<Wizard api={f.api} keepLast={1} defaultVaultUrl="" />);
    expect(screen.getByRole('heading', { name: 'What do you want to back up?' })).toBeDefined();
    expect((screen.getByRole('button', { name: 'Next' }) as HTMLButtonElement).disabled).toBe(true);
    await user.click(screen.getByRole('button', { name: 'Try it with sample data' }));
    await screen.findByText(/1 chat, 120 messages/);
    expect((screen.getByRole('button', { name: 'Next' }) as HTMLButtonElement).disabled).toBe(false);
    expect(f.calls.find((c) => c.channel === 'detect')?.request).toEqual({ path: '/tmp/sample/Garden Club' });
  });

  test('step 1: a detection failure says what to do and keeps Next disabled', async () => {
    const user = userEvent.setup();
    const f = fakeApi({ ...baseAnswers, detect: err('not-found', 'Nothing at /nope.', 'Check the path and try again.') });
    render(<Wizard api={f.api} keepLast={1} defaultVaultUrl="" />);
    await user.type(screen.getByLabelText('File or folder to back up'), '/nope');
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Check the path and try again.');
    expect((screen.getByRole('button', { name: 'Next' }) as HTMLButtonElement).disabled).toBe(true);
  });

  test('step 2, key: sixteen groups shown; Next only after typing back the asked groups', async () => {
    const user = userEvent.setup();
    await toProtection(user);
    const key = await screen.findByRole('group', { name: 'Your 64-digit key' });
    await waitFor(() => expect(key.querySelectorAll('.key-group').length).toBe(16));
    const next = screen.getByRole('button', { name: 'Next' }) as HTMLButtonElement;
    expect(next.disabled).toBe(true);
    await user.type(screen.getByLabelText('Group 3'), '0000');
    await user.type(screen.getByLabelText('Group 11'), '0000');
    expect((await screen.findByRole('alert')).textContent).toContain('does not match');
    expect(next.disabled).toBe(true);
    await user.clear(screen.getByLabelText('Group 3'));
    await user.clear(screen.getByLabelText('Group 11'));
    await confirmKey(user);
    expect(next.disabled).toBe(false);
  });

  test('step 2, password: weak or mismatched passwords and a missing vault keep Next disabled', async () => {
    const user = userEvent.setup();
    await toProtection(user);
    await user.click(screen.getByLabelText('A password, with the key kept in a key vault'));
    const next = screen.getByRole('button', { name: 'Next' }) as HTMLButtonElement;
    await user.type(screen.getByLabelText('Password'), 'password1');
    await screen.findByText('Too common: easy to guess.');
    await user.clear(screen.getByLabelText('Password'));
    await user.type(screen.getByLabelText('Password'), 'orchard-lantern-velvet-91');
    await screen.findByText('Very strong.');
    await user.type(screen.getByLabelText('Password again'), 'orchard-lantern-velvet-9');
    expect(screen.getByText('The two passwords differ.')).toBeDefined();
    await user.type(screen.getByLabelText('Password again'), '1');
    expect(next.disabled).toBe(true);
    await user.type(screen.getByLabelText('Key vault address'), 'https://vault.example.org');
    await user.click(screen.getByRole('button', { name: 'Check connection' }));
    await screen.findByText('The key vault answers.');
    expect(next.disabled).toBe(false);
  });

  test('steps 3-5: a non-empty folder is refused; progress, cancel, start again, done', async () => {
    const user = userEvent.setup();
    const f = await toProtection(user);
    await confirmKey(user);
    await user.click(screen.getByRole('button', { name: 'Next' }));
    const location = screen.getByLabelText('Backup location');
    await user.type(location, '/tmp/full');
    await user.click(screen.getByRole('button', { name: 'Check' }));
    await screen.findByText(/not empty/);
    const go = screen.getByRole('button', { name: 'Back up now' }) as HTMLButtonElement;
    expect(go.disabled).toBe(true);
    await user.clear(location);
    await user.type(location, '/tmp/new-repo');
    await user.click(screen.getByRole('button', { name: 'Check' }));
    await screen.findByText(/Ready/);
    await user.click(go);

    await screen.findByRole('heading', { name: 'Backing up' });
    const job = f.jobs.find((j) => j.channel === 'backup')!;
    expect(job.request).toMatchObject({ sources: ['/tmp/sample/Garden Club'], address: '/tmp/new-repo', mode: 'create', keepLast: 1, protection: { kind: 'key' } });
    act(() => job.progress({ phase: 'backing-up', bytesDone: 3 * 1024 * 1024, bytesTotal: 6 * 1024 * 1024, filesDone: 1, filesTotal: 2, rate: 1024 * 1024, etaSeconds: 3 }));
    expect(screen.getByText(/3.0 MB of 6.0 MB · 1 of 2 files/)).toBeDefined();
    await user.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(f.cancelled).toEqual([job.jobId]);
    await act(async () => job.settle(err('cancelled', 'Cancelled.', 'Nothing half-written was kept; start again when you are ready.')));
    expect((await screen.findByRole('alert')).textContent).toContain('start again when you are ready');

    await user.click(screen.getByRole('button', { name: 'Start again' }));
    const second = f.jobs.filter((j) => j.channel === 'backup')[1]!;
    await act(async () =>
      second.settle(ok({ snapshotId: 'ab'.repeat(32), files: 2, bytes: 6000, storedBytes: 4000, newBytes: 6000, chats: 1, messages: 120, forgotten: 0, location: '/tmp/new-repo' })),
    );
    await screen.findByRole('heading', { name: 'Your chats are backed up' });
    expect(screen.getByTestId('done-summary').textContent).toBe('2 files, 5.9 KB; 1 chat, 120 messages');
    expect(screen.getByText('/tmp/new-repo')).toBeDefined();
  });

  test('the groups to confirm are two different groups of the sixteen', () => {
    let seed = 0.123;
    for (let i = 0; i < 200; i++) {
      const [a, b] = pickConfirmGroups(() => ((seed = (seed * 9301 + 0.49297) % 1), seed));
      expect(a).toBeGreaterThanOrEqual(1);
      expect(b).toBeLessThanOrEqual(16);
      expect(a).toBeLessThan(b);
    }
  });
});
