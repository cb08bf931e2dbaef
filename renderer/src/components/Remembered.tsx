import type { ChatsafeApi } from '../api';
import type { Settings } from '../../../src/app/contract.js';

/**
 * Backups this computer remembers (kept in the settings; the desktop app
 * seals the list with the OS keychain). Only places are remembered, never
 * keys or passwords.
 */
export function RememberedList({ settings, onPick }: { settings: Settings | null; onPick: (address: string) => void }) {
  if (!settings || settings.rememberedRepos.length === 0) return null;
  return (
    <div className="remembered">
      <p>Backups on this computer:</p>
      <ul>
        {settings.rememberedRepos.map((r) => (
          <li key={r.address}>
            <button type="button" className="link" onClick={() => onPick(r.address)}>
              {r.label}
            </button>{' '}
            <span className="path">{r.address}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}

export function RememberButton({ api, settings, address, onSettings }: { api: ChatsafeApi; settings: Settings | null; address: string; onSettings: (s: Settings) => void }) {
  // A saved destination (profile:ID) is remembered already, by name, in Settings.
  if (!settings || address.startsWith('profile:') || settings.rememberedRepos.some((r) => r.address === address)) return null;
  const remember = async () => {
    const label = address.split(/[\\/]/).filter(Boolean).pop() ?? address;
    const r = await api.call('settings.set', { rememberedRepos: [{ address, label: label.slice(0, 200) }, ...settings.rememberedRepos].slice(0, 50) });
    if (r.ok) onSettings(r.value);
  };
  return (
    <button type="button" onClick={() => void remember()}>
      Remember this backup on this computer
    </button>
  );
}
