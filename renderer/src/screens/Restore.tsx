import { useEffect, useRef, useState } from 'react';
import type { AppError, ChatsafeApi, Progress } from '../api';
import type { ResponseOf, Settings } from '../../../src/app/contract.js';
import { RememberButton, RememberedList } from '../components/Remembered';
import { SavedDestinations } from '../components/SavedDestinations';
import { ErrorBox } from '../components/ErrorBox';
import { PathField } from '../components/PathField';
import { ProgressView } from '../components/ProgressView';
import { Unlock, type Unlocked } from '../components/Unlock';
import { formatBytes, formatTime } from '../format';

export function Restore({ api, settings, onSettings }: { api: ChatsafeApi; settings: Settings | null; onSettings: (s: Settings) => void }) {
  const [address, setAddress] = useState('');
  const [unlocked, setUnlocked] = useState<Unlocked | null>(null);
  const [snapshot, setSnapshot] = useState('latest');
  const [target, setTarget] = useState('');
  const [progress, setProgress] = useState<Progress | null>(null);
  const [jobId, setJobId] = useState<string | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [result, setResult] = useState<ResponseOf<'restore'> | null>(null);
  const [source, setSource] = useState('');
  const [again, setAgain] = useState<ResponseOf<'backup'> | null>(null);

  const backUpAgain = async () => {
    if (!unlocked || !settings) return;
    setError(null);
    setAgain(null);
    setProgress(null);
    const job = api.job('backup', { sources: [source], address: unlocked.address, mode: 'existing', sessionId: unlocked.sessionId, keepLast: settings.keepLast }, setProgress);
    setJobId(job.jobId);
    const r = await job.done;
    setJobId(null);
    if (r.ok) setAgain(r.value);
    else setError(r.error);
  };

  // Leaving the screen forgets the unlocked key.
  const session = useRef<string | undefined>(undefined);
  session.current = unlocked?.sessionId;
  useEffect(
    () => () => {
      if (session.current) void api.call('session.close', { sessionId: session.current });
    },
    [api],
  );

  const run = async () => {
    if (!unlocked) return;
    setError(null);
    setResult(null);
    setProgress(null);
    const job = api.job('restore', { sessionId: unlocked.sessionId, snapshot, target }, setProgress);
    setJobId(job.jobId);
    const r = await job.done;
    setJobId(null);
    if (r.ok) setResult(r.value);
    else setError(r.error);
  };

  return (
    <section aria-labelledby="restore-heading">
      <h2 id="restore-heading">Restore a backup</h2>
      {!unlocked && (
        <>
          <RememberedList settings={settings} onPick={setAddress} />
          <SavedDestinations api={api} value={address} onPick={setAddress} />
          <PathField api={api} label="Backup (a repository folder or address, or a .chatsafe file)" value={address} onChange={setAddress} pick="file-or-folder" />
          <Unlock api={api} address={address} onUnlocked={setUnlocked} />
        </>
      )}
      {unlocked && (
        <>
          <p className="ok" role="status">
            Unlocked {unlocked.kind === 'bundle' ? 'the bundle' : `the repository (${unlocked.snapshots.length} snapshot${unlocked.snapshots.length === 1 ? '' : 's'})`}.
          </p>
          <RememberButton api={api} settings={settings} address={unlocked.address} onSettings={onSettings} />
          {unlocked.kind === 'repository' && (
            <label>
              Snapshot
              <select value={snapshot} onChange={(e) => setSnapshot(e.target.value)}>
                <option value="latest">The newest</option>
                {unlocked.snapshots.map((s) => (
                  <option key={s.id} value={s.id}>
                    {formatTime(s.time)} · {s.shortId} · {s.files} files, {formatBytes(s.bytes)}
                  </option>
                ))}
              </select>
            </label>
          )}
          <PathField api={api} label="Restore into (an empty or new folder)" value={target} onChange={setTarget} pick="folder" />
          {!jobId && (
            <button type="button" className="primary" disabled={target === ''} onClick={() => void run()}>
              Restore
            </button>
          )}
          {jobId && <ProgressView progress={progress} onCancel={() => void api.cancel(jobId)} />}
          {unlocked.kind === 'repository' && (
            <section aria-labelledby="again-heading">
              <h3 id="again-heading">Back up again into this backup</h3>
              <p>Only what changed is stored. Afterwards the newest {settings?.keepLast ?? 1} backup(s) are kept (Settings).</p>
              <PathField api={api} label="File or folder to back up again" value={source} onChange={setSource} pick="file-or-folder" />
              {!jobId && (
                <button type="button" disabled={source === ''} onClick={() => void backUpAgain()}>
                  Back up now
                </button>
              )}
              {again && (
                <p className="ok" role="status" data-testid="again-result">
                  Backed up {again.files} files; {formatBytes(again.newBytes)} new, {formatBytes(again.storedBytes)} stored.
                  {again.forgotten > 0 && ` Removed ${again.forgotten} older backup(s).`}
                </p>
              )}
            </section>
          )}
          {error && <ErrorBox error={error} />}
          {result && (
            <p className="ok" role="status" data-testid="restore-result">
              Restored {result.files} files ({formatBytes(result.bytes)}) into {result.target}.
            </p>
          )}
        </>
      )}
    </section>
  );
}
