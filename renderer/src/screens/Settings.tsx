import { useEffect, useState } from 'react';
import type { AppError, ChatsafeApi } from '../api';
import type { ResponseOf, Settings as SettingsValue } from '../../../src/app/contract.js';
import { ErrorBox } from '../components/ErrorBox';
import { StorageProfiles } from '../components/StorageProfiles';

export function Settings({ api, settings, onChange }: { api: ChatsafeApi; settings: SettingsValue; onChange: (s: SettingsValue) => void }) {
  const [draft, setDraft] = useState(settings);
  const [error, setError] = useState<AppError | null>(null);
  const [saved, setSaved] = useState(false);
  const [info, setInfo] = useState<ResponseOf<'app.info'> | null>(null);
  useEffect(() => void api.call('app.info', {}).then((r) => r.ok && setInfo(r.value)), [api]);
  const save = async () => {
    const r = await api.call('settings.set', { keepLast: draft.keepLast, vaultUrl: draft.vaultUrl, theme: draft.theme, autoUpdate: draft.autoUpdate });
    if (r.ok) {
      onChange(r.value);
      setSaved(true);
      setError(null);
    } else setError(r.error);
  };
  return (
    <section aria-labelledby="settings-heading">
      <h2 id="settings-heading">Settings</h2>
      <label>
        Keep the newest
        <input type="number" min={1} max={1000} value={draft.keepLast} onChange={(e) => setDraft({ ...draft, keepLast: Math.max(1, Number(e.target.value) || 1) })} /> backups (older ones are removed once a new one is verified)
      </label>
      <label>
        Key vault address (password mode)
        <input value={draft.vaultUrl} onChange={(e) => setDraft({ ...draft, vaultUrl: e.target.value })} spellCheck={false} />
      </label>
      <label>
        Theme
        <select value={draft.theme} onChange={(e) => setDraft({ ...draft, theme: e.target.value as SettingsValue['theme'] })}>
          <option value="system">Follow the system</option>
          <option value="light">Light</option>
          <option value="dark">Dark</option>
        </select>
      </label>
      {info?.front === 'electron' && (
        <label className="check">
          <input type="checkbox" checked={draft.autoUpdate} onChange={(e) => setDraft({ ...draft, autoUpdate: e.target.checked })} />
          Check for updates automatically (desktop app)
        </label>
      )}
      {error && <ErrorBox error={error} />}
      <button type="button" className="primary" onClick={() => void save()}>
        Save
      </button>
      {saved && <p role="status">Saved.</p>}
      {info?.secretStorage === 'file' && (
        <p className="hint" data-testid="secret-storage">
          {info.front === 'electron'
            ? 'Saved secrets are stored in a file only your user can read, because no system keychain was found.'
            : 'Saved secrets are stored in a file only your user can read.'}
        </p>
      )}
      <StorageProfiles api={api} />
      {info && (
        <section aria-labelledby="about-heading" className="about">
          <h3 id="about-heading">About Chatsafe</h3>
          <dl className="facts">
            {Object.entries(info.versions).map(([k, v]) => (
              <div key={k}>
                <dt>{k}</dt>
                <dd>{v}</dd>
              </div>
            ))}
          </dl>
        </section>
      )}
    </section>
  );
}
