import { useState } from 'react';
import type { AppError, ChatsafeApi } from '../api';
import type { ResponseOf } from '../../../src/app/contract.js';
import { ErrorBox } from './ErrorBox';

export type Unlocked = ResponseOf<'repo.unlock'> & { address: string };

/** Key or password for a repository or bundle; shows the one-digit suggestion and the attempts left. */
export function Unlock({ api, address, onUnlocked }: { api: ChatsafeApi; address: string; onUnlocked: (u: Unlocked) => void }) {
  const [mode, setMode] = useState<'key' | 'password'>('key');
  const [secret, setSecret] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const submit = async () => {
    setBusy(true);
    setError(null);
    const r = await api.call('repo.unlock', { address, credential: mode === 'key' ? { kind: 'key', key: secret } : { kind: 'password', password: secret } });
    setBusy(false);
    if (r.ok) onUnlocked({ ...r.value, address });
    else setError(r.error);
  };
  return (
    <form
      className="unlock"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <fieldset>
        <legend>Unlock with</legend>
        <label>
          <input type="radio" name="unlock-mode" checked={mode === 'key'} onChange={() => setMode('key')} /> the 64-digit key
        </label>
        <label>
          <input type="radio" name="unlock-mode" checked={mode === 'password'} onChange={() => setMode('password')} /> the password
        </label>
      </fieldset>
      {mode === 'key' ? (
        <label>
          Key (64 digits)
          <textarea value={secret} onChange={(e) => setSecret(e.target.value)} rows={2} spellCheck={false} autoComplete="off" placeholder="0000 0000 0000 …" />
        </label>
      ) : (
        <label>
          Password
          <input type="password" value={secret} onChange={(e) => setSecret(e.target.value)} autoComplete="current-password" />
        </label>
      )}
      {error && <ErrorBox error={error} />}
      <button type="submit" className="primary" disabled={busy || secret === '' || address === ''}>
        {busy ? 'Unlocking…' : 'Unlock'}
      </button>
    </form>
  );
}
