import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, test } from 'vitest';
import type { StorageProfile } from '../../src/app/contract.js';
import { ProgressView } from '../src/components/ProgressView';
import { Settings } from '../src/screens/Settings';
import { fakeApi } from './fake-api';

const ok = <T,>(value: T) => ({ ok: true as const, value });
const SETTINGS = { keepLast: 1, vaultUrl: '', theme: 'system' as const, autoUpdate: false, rememberedRepos: [] };
const SECRET = 'wJalrXUtnFEMI/K7MDENG';

/** A back that keeps profiles the way the real one does: the secret goes in, only `hasSecret` comes out. */
function profileBack() {
  const saved: Array<StorageProfile & { secret: string | null }> = [];
  const view = ({ secret, ...p }: StorageProfile & { secret: string | null }): StorageProfile => ({ ...p, hasSecret: secret !== null });
  return {
    saved,
    answers: {
      'app.info': ok({ appVersion: '0.1.0', front: 'web', versions: { chatsafe: '0.1.0' }, home: '/home/ada', sep: '/' }),
      'profiles.list': () => ok({ profiles: saved.map(view) }),
      'profiles.save': (req: unknown) => {
        const r = req as { id?: string; name: string; target: StorageProfile['target']; secret?: string };
        if (r.target.kind === 's3' && r.target.bucket === 'Bad Bucket') {
          return { ok: false as const, error: { kind: 'usage', message: 'target.bucket: bucket names have 3 to 63 lowercase letters, digits, dots and hyphens', hint: 'Correct it.', suggestion: null, attemptsLeft: null } as never };
        }
        const old = saved.find((p) => p.id === r.id);
        const p = { id: r.id ?? `prof-${saved.length + 1}-aaaaaaaa`, name: r.name, target: r.target, secret: r.secret ?? old?.secret ?? null, address: '', location: r.target.kind === 's3' ? `s3://${r.target.bucket}` : 'x', hasSecret: false };
        p.address = `profile:${p.id}`;
        if (old) saved.splice(saved.indexOf(old), 1, p);
        else saved.push(p);
        return ok(view(p));
      },
      'profiles.remove': (req: unknown) => {
        saved.splice(
          saved.findIndex((p) => p.id === (req as { id: string }).id),
          1,
        );
        return ok({ ok: true });
      },
      'storage.check': (req: unknown) => ok((req as { purpose: string }).purpose === 'existing' ? { ok: false, message: 'There is no Chatsafe repository there yet.' } : { ok: true, message: 'Ready: a new repository will be created there.' }),
    },
  };
}

describe('settings: storage destinations', () => {
  test('add an S3 destination; the secret is sent once and never shown; edit keeps it; remove asks first', async () => {
    const user = userEvent.setup();
    const back = profileBack();
    const f = fakeApi(back.answers);
    render(<Settings api={f.api} settings={SETTINGS} onChange={() => undefined} />);
    await screen.findByText('None saved yet.');
    await user.click(screen.getByRole('button', { name: 'Add a destination' }));
    const form = screen.getByRole('form', { name: 'New destination' });
    await user.type(within(form).getByLabelText('Name'), 'Office bucket');
    await user.click(within(form).getByLabelText('S3-compatible storage'));
    await user.type(within(form).getByLabelText('Endpoint (empty for Amazon S3)'), 'https://s3.example.org');
    await user.type(within(form).getByLabelText('Bucket'), 'Bad Bucket');
    await user.type(within(form).getByLabelText('Access key id'), 'AKIAEXAMPLE');
    await user.type(within(form).getByLabelText('Secret access key'), SECRET);
    await user.click(within(form).getByRole('button', { name: 'Save destination' }));
    // The back's validation message is shown, and the form keeps what was typed.
    expect((await screen.findByRole('alert')).textContent).toMatch(/bucket names/);
    await user.clear(within(form).getByLabelText('Bucket'));
    await user.type(within(form).getByLabelText('Bucket'), 'family-chats');
    await user.click(within(form).getByRole('button', { name: 'Save destination' }));
    const item = await screen.findByTestId('profile');
    expect(item.textContent).toContain('Office bucket');
    expect(item.textContent).toContain('sign-in saved');
    expect(document.body.textContent).not.toContain(SECRET);
    const saveReq = f.calls.filter((c) => c.channel === 'profiles.save').pop()!.request as Record<string, unknown>;
    expect(saveReq).toMatchObject({ name: 'Office bucket', secret: SECRET, target: { kind: 's3', bucket: 'family-chats', endpoint: 'https://s3.example.org', accessKeyId: 'AKIAEXAMPLE', pathStyle: true } });

    // Edit: the secret field is empty (never read back), and leaving it empty keeps the saved one.
    await user.click(within(item).getByRole('button', { name: 'Edit' }));
    const edit = screen.getByRole('form', { name: 'Edit Office bucket' });
    const secretField = within(edit).getByLabelText('Secret access key') as HTMLInputElement;
    expect(secretField.value).toBe('');
    expect(secretField.placeholder).toMatch(/Saved/);
    // Another bucket: the saved secret would not be used there, so the field stops offering it.
    const bucketField = within(edit).getByLabelText('Bucket');
    await user.type(bucketField, 'x');
    expect(secretField.placeholder).toBe('');
    await user.type(bucketField, '{Backspace}');
    expect(secretField.placeholder).toMatch(/Saved/);
    await user.clear(within(edit).getByLabelText('Name'));
    await user.type(within(edit).getByLabelText('Name'), 'Office');
    await user.click(within(edit).getByRole('button', { name: 'Save destination' }));
    await screen.findByText('Office');
    const editReq = f.calls.filter((c) => c.channel === 'profiles.save').pop()!.request as Record<string, unknown>;
    expect(editReq.id).toBe('prof-1-aaaaaaaa');
    expect('secret' in editReq).toBe(false);
    expect(back.saved[0]!.secret).toBe(SECRET);

    // Check connection: reached, no backup there yet.
    await user.click(screen.getByRole('button', { name: 'Check connection' }));
    expect((await screen.findByText('Ready: a new repository will be created there.')).className).toBe('ok');

    // Remove asks first; "Keep it" keeps it.
    await user.click(screen.getByRole('button', { name: 'Remove' }));
    const confirm = screen.getByRole('alertdialog', { name: 'Remove Office?' });
    await user.click(within(confirm).getByRole('button', { name: 'Keep it' }));
    expect(f.calls.some((c) => c.channel === 'profiles.remove')).toBe(false);
    await user.click(screen.getByRole('button', { name: 'Remove' }));
    await user.click(within(screen.getByRole('alertdialog')).getByRole('button', { name: 'Remove' }));
    await screen.findByText('None saved yet.');
    expect(f.calls.filter((c) => c.channel === 'profiles.remove')).toHaveLength(1);
  });

  test('the automatic update check is offered in the desktop app only', async () => {
    const back = profileBack();
    const web = fakeApi(back.answers);
    const { unmount } = render(<Settings api={web.api} settings={SETTINGS} onChange={() => undefined} />);
    await screen.findByText('None saved yet.');
    await waitFor(() => expect(web.calls.some((c) => c.channel === 'app.info')).toBe(true));
    expect(screen.queryByLabelText('Check for updates automatically (desktop app)')).toBeNull();
    unmount();
    const user = userEvent.setup();
    const desktop = fakeApi({ ...back.answers, 'app.info': ok({ appVersion: '0.1.0', front: 'electron', versions: {}, home: '/home/ada', sep: '/' }), 'settings.set': (req: unknown) => ok({ ...SETTINGS, ...(req as object) }) });
    render(<Settings api={desktop.api} settings={SETTINGS} onChange={() => undefined} />);
    const box = (await screen.findByLabelText('Check for updates automatically (desktop app)')) as HTMLInputElement;
    expect(box.checked).toBe(false);
    await user.click(box);
    await user.click(screen.getByRole('button', { name: 'Save' }));
    expect(desktop.calls.find((c) => c.channel === 'settings.set')!.request).toMatchObject({ autoUpdate: true });
  });
});

describe('progress of a backup', () => {
  test('the import phase shows messages read, the total and the time left', () => {
    render(<ProgressView progress={{ phase: 'importing', bytesDone: 0, bytesTotal: null, filesDone: 0, filesTotal: null, rate: 0, etaSeconds: 12, importStep: { step: 'reading', done: 12000, total: 60000 } }} />);
    expect(screen.getByText('Reading the chats…')).toBeDefined();
    expect(screen.getByText('12,000 of 60,000 messages · about 12 s left')).toBeDefined();
    expect((screen.getByLabelText('Progress of this step') as HTMLProgressElement).value).toBeCloseTo(0.2);
  });
});
