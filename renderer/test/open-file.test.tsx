import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, test } from 'vitest';
import { App } from '../src/App';
import { Settings } from '../src/screens/Settings';
import { fakeApi } from './fake-api';

const ok = <T,>(value: T) => ({ ok: true as const, value });
const SETTINGS = { keepLast: 1, vaultUrl: '', theme: 'system' as const, autoUpdate: false, rememberedRepos: [] };
const BUNDLE = '/home/ada/Downloads/Family chats.chatsafe';
const HEADER = { kind: 'bundle', location: BUNDLE, formatVersion: 1, created: '2026-11-20T10:00:00.000Z', appVersion: '0.1.0', slotKinds: ['key'], vaultUrls: [], sizes: { files: 3, bytes: 4096 } };
const PATH_LABEL = 'Backup (a repository folder or address, or a .chatsafe file)';

/** A back whose handed-over bundles are taken once, as main's OpenedFile does. */
function backWithHandover(first: string | null) {
  let pending = first;
  const f = fakeApi({
    'settings.get': ok(SETTINGS),
    'app.info': ok({ appVersion: '0.1.0', front: 'electron', versions: { chatsafe: '0.1.0' }, home: '/home/ada', sep: '/', secretStorage: 'keychain' }),
    'profiles.list': ok({ profiles: [] }),
    'app.openedFile': () => {
      const path = pending;
      pending = null;
      return ok({ path });
    },
    'inspect.header': (req) => ok({ ...HEADER, location: (req as { address: string }).address }),
  });
  return { ...f, handOver: (path: string) => ((pending = path), f.signalOpenFile()) };
}

describe('a bundle opened from the file manager', () => {
  test('at launch: the app starts in Inspect with the bundle selected, its header read, focus and an announcement', async () => {
    const back = backWithHandover(BUNDLE);
    render(<App api={back.api} />);
    const heading = await screen.findByRole('heading', { name: 'Inspect a backup' });
    expect(screen.getByLabelText(PATH_LABEL)).toHaveProperty('value', BUNDLE);
    await waitFor(() => expect(document.activeElement).toBe(heading));
    expect(screen.getByRole('button', { name: 'Inspect' }).getAttribute('aria-current')).toBe('page');
    expect(screen.getByTestId('opened-file').getAttribute('role')).toBe('status');
    expect(screen.getByTestId('opened-file').textContent).toContain('Opened Family chats.chatsafe from your file manager');
    await screen.findByText('bundle');
    expect(back.calls.filter((c) => c.channel === 'inspect.header')).toEqual([{ channel: 'inspect.header', request: { address: BUNDLE } }]);
  });

  test('later: a signal from main makes the window ask, leave the wizard for Inspect, and replace what was selected', async () => {
    const user = userEvent.setup();
    const back = backWithHandover(null);
    render(<App api={back.api} />);
    await waitFor(() => expect(back.calls.some((c) => c.channel === 'app.openedFile')).toBe(true));
    expect(screen.queryByRole('heading', { name: 'Inspect a backup' })).toBeNull();

    back.handOver(BUNDLE);
    await screen.findByRole('heading', { name: 'Inspect a backup' });
    expect(screen.getByLabelText(PATH_LABEL)).toHaveProperty('value', BUNDLE);

    await user.clear(screen.getByLabelText(PATH_LABEL));
    await user.type(screen.getByLabelText(PATH_LABEL), '/somewhere/else');
    const second = '/media/usb/Work.chatsafe';
    back.handOver(second);
    await waitFor(() => expect(screen.getByLabelText(PATH_LABEL)).toHaveProperty('value', second));
    expect(screen.getByTestId('opened-file').textContent).toContain('Opened Work.chatsafe');
    await waitFor(() => expect(document.activeElement).toBe(screen.getByRole('heading', { name: 'Inspect a backup' })));
    expect(back.calls.filter((c) => c.channel === 'app.openedFile').length).toBe(3);
  });

  test('a signal with nothing waiting changes nothing', async () => {
    const back = backWithHandover(null);
    render(<App api={back.api} />);
    await waitFor(() => expect(back.calls.filter((c) => c.channel === 'app.openedFile').length).toBe(1));
    back.signalOpenFile();
    await waitFor(() => expect(back.calls.filter((c) => c.channel === 'app.openedFile').length).toBe(2));
    expect(screen.queryByRole('heading', { name: 'Inspect a backup' })).toBeNull();
  });
});

describe('settings: where secrets rest', () => {
  const info = (front: 'electron' | 'web', secretStorage: 'keychain' | 'file') => ok({ appVersion: '0.1.0', front, versions: { chatsafe: '0.1.0' }, home: '/home/ada', sep: '/', secretStorage });

  test('without a keychain that protects them, Settings says they are in a file only this user can read', async () => {
    const f = fakeApi({ 'app.info': info('electron', 'file'), 'profiles.list': ok({ profiles: [] }) });
    render(<Settings api={f.api} settings={SETTINGS} onChange={() => undefined} />);
    expect((await screen.findByTestId('secret-storage')).textContent).toBe('Saved secrets are stored in a file only your user can read, because no system keychain was found.');
  });

  test('with the keychain, no such line', async () => {
    const f = fakeApi({ 'app.info': info('electron', 'keychain'), 'profiles.list': ok({ profiles: [] }) });
    render(<Settings api={f.api} settings={SETTINGS} onChange={() => undefined} />);
    await screen.findByRole('heading', { name: 'About Chatsafe' });
    expect(screen.queryByTestId('secret-storage')).toBeNull();
  });
});
