import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { defaultApi, type AppError, type ChatsafeApi } from './api';
import type { Settings as SettingsValue } from '../../src/app/contract.js';
import { ErrorBox } from './components/ErrorBox';
import { Inspect } from './screens/Inspect';
import { Restore } from './screens/Restore';
import { Settings } from './screens/Settings';
import { Wizard } from './screens/Wizard';

type Screen = 'backup' | 'restore' | 'inspect' | 'settings';
const NAV: { id: Screen; label: string }[] = [
  { id: 'backup', label: 'Back up' },
  { id: 'restore', label: 'Restore' },
  { id: 'inspect', label: 'Inspect' },
  { id: 'settings', label: 'Settings' },
];

export function App({ api: given }: { api?: ChatsafeApi }) {
  const api = useMemo(() => given ?? defaultApi(), [given]);
  const [screen, setScreen] = useState<Screen>('backup');
  const [settings, setSettings] = useState<SettingsValue | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [wizardRun, setWizardRun] = useState(0);
  // A bundle the OS handed over (double-click in the file manager); `n` gives each arrival a fresh Inspect.
  const [opened, setOpened] = useState<{ path: string; n: number } | null>(null);
  // A running backup keeps its screen (progress, cancel, then the result) while the user looks
  // elsewhere: the wizard stays mounted, hidden, until its result has been seen.
  const [wizardBusy, setWizardBusy] = useState(false);
  const [wizardUnseen, setWizardUnseen] = useState(false);
  const screenRef = useRef(screen);
  screenRef.current = screen;
  const onWizardBusy = useCallback((busy: boolean) => {
    setWizardBusy(busy);
    if (!busy) setWizardUnseen(screenRef.current !== 'backup');
  }, []);
  useEffect(() => {
    if (screen === 'backup') setWizardUnseen(false);
  }, [screen]);
  const wizardMounted = screen === 'backup' || wizardBusy || wizardUnseen;

  useEffect(() => {
    void api.call('settings.get', {}).then((r) => (r.ok ? setSettings(r.value) : setError(r.error)));
  }, [api]);

  useEffect(() => {
    if (settings) document.documentElement.dataset.theme = settings.theme;
  }, [settings]);

  // Asked once at start (the file that launched the app) and again whenever main signals another one.
  useEffect(() => {
    const ask = () =>
      void api.call('app.openedFile', {}).then((r) => {
        if (!r.ok) return setError(r.error);
        const path = r.value.path;
        if (path === null) return;
        setOpened((o) => ({ path, n: (o?.n ?? 0) + 1 }));
        setScreen('inspect');
      });
    const stop = api.onOpenFile(ask);
    ask();
    return stop;
  }, [api]);

  return (
    <div className="app">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header>
        <h1>Chatsafe</h1>
        <nav aria-label="Main">
          {NAV.map((n) => (
            <button key={n.id} type="button" aria-current={screen === n.id ? 'page' : undefined} onClick={() => setScreen(n.id)}>
              {n.id === 'backup' && screen !== 'backup' && (wizardBusy || wizardUnseen) ? `${n.label} (${wizardBusy ? 'running' : 'finished'})` : n.label}
            </button>
          ))}
        </nav>
      </header>
      <main id="main">
        {error && <ErrorBox error={error} onRetry={() => location.reload()} />}
        {settings && wizardMounted && (
          <div hidden={screen !== 'backup'}>
            <Wizard key={wizardRun} api={api} keepLast={settings.keepLast} defaultVaultUrl={settings.vaultUrl} onFinished={() => setWizardRun((n) => n + 1)} settings={settings} onSettings={setSettings} onBusy={onWizardBusy} />
          </div>
        )}
        {screen === 'restore' && <Restore api={api} settings={settings} onSettings={setSettings} />}
        {screen === 'inspect' && <Inspect key={opened?.n ?? 0} api={api} settings={settings} openedPath={opened?.path ?? null} />}
        {settings && screen === 'settings' && <Settings api={api} settings={settings} onChange={setSettings} />}
      </main>
    </div>
  );
}
