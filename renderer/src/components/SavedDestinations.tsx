import { useEffect, useState } from 'react';
import type { ChatsafeApi } from '../api';
import type { StorageProfile } from '../../../src/app/contract.js';

/** The saved storage destinations (Settings), loaded once per screen. */
export function useProfiles(api: ChatsafeApi): [StorageProfile[], () => Promise<void>] {
  const [profiles, setProfiles] = useState<StorageProfile[]>([]);
  const reload = async () => {
    const r = await api.call('profiles.list', {});
    if (r.ok) setProfiles(r.value.profiles);
  };
  useEffect(() => void reload(), [api]);
  return [profiles, reload];
}

/**
 * Pick a saved destination instead of typing an address: the field then
 * holds `profile:ID`, which the app turns into the place and its credentials
 * when it opens the storage (the secret never comes to this window).
 */
export function SavedDestinations({ api, value, onPick }: { api: ChatsafeApi; value: string; onPick: (address: string) => void }) {
  const [profiles] = useProfiles(api);
  if (profiles.length === 0) return null;
  const chosen = profiles.find((p) => p.address === value);
  return (
    <div className="remembered saved-destinations">
      <p>Saved destinations:</p>
      <ul>
        {profiles.map((p) => (
          <li key={p.id}>
            <button type="button" className="link" aria-pressed={p.address === value} onClick={() => onPick(p.address)}>
              {p.name}
            </button>{' '}
            <span className="path">{p.location}</span>
          </li>
        ))}
      </ul>
      {chosen && (
        <p className="ok" role="status">
          Using the saved destination “{chosen.name}” ({chosen.location}).
        </p>
      )}
    </div>
  );
}
