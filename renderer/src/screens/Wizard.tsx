import { useEffect, useRef, useState, type DragEvent } from 'react';
import type { AppError, ChatsafeApi, Progress } from '../api';
import type { DetectionInfo, ResponseOf, Settings } from '../../../src/app/contract.js';
import { RememberButton } from '../components/Remembered';
import { SavedDestinations } from '../components/SavedDestinations';
import { ErrorBox } from '../components/ErrorBox';
import { PathField } from '../components/PathField';
import { ProgressView } from '../components/ProgressView';
import { formatBytes, plural } from '../format';

export type WizardStep = 'what' | 'protection' | 'where' | 'run' | 'done';
const STEPS: { id: WizardStep; label: string }[] = [
  { id: 'what', label: 'What' },
  { id: 'protection', label: 'Protection' },
  { id: 'where', label: 'Where' },
  { id: 'run', label: 'Back up' },
  { id: 'done', label: 'Done' },
];

/** Two different groups (1-based) the user types back to show the key was kept. */
export function pickConfirmGroups(random: () => number = Math.random): [number, number] {
  const a = 1 + Math.floor(random() * 16);
  let b = 1 + Math.floor(random() * 15);
  if (b >= a) b++;
  return a < b ? [a, b] : [b, a];
}

export function keyGroups(key: string): string[] {
  return key.replace(/[^0-9A-Fa-f]/g, '').toUpperCase().match(/.{4}/g) ?? [];
}

export function Wizard({
  api,
  keepLast,
  defaultVaultUrl,
  onFinished,
  confirmGroups,
  settings = null,
  onSettings = () => undefined,
  onBusy,
}: {
  api: ChatsafeApi;
  keepLast: number;
  defaultVaultUrl: string;
  onFinished?: () => void;
  confirmGroups?: [number, number];
  settings?: Settings | null;
  onSettings?: (s: Settings) => void;
  /** Told when a backup starts and ends, so the app keeps this screen (and its job) alive meanwhile. */
  onBusy?: (busy: boolean) => void;
}) {
  const [step, setStep] = useState<WizardStep>('what');
  // (1) what
  const [source, setSource] = useState('');
  const [detection, setDetection] = useState<DetectionInfo | null>(null);
  const [detecting, setDetecting] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  // (2) protection
  const [mode, setMode] = useState<'key' | 'password'>('key');
  const [key, setKey] = useState('');
  const [groups] = useState<[number, number]>(() => confirmGroups ?? pickConfirmGroups());
  const [typedGroups, setTypedGroups] = useState(['', '']);
  const [password, setPassword] = useState('');
  const [password2, setPassword2] = useState('');
  const [strength, setStrength] = useState<{ score: number; acceptable: boolean; feedback: string } | null>(null);
  const [vaultUrl, setVaultUrl] = useState(defaultVaultUrl);
  const [vaultCheck, setVaultCheck] = useState<{ ok: boolean; message: string } | null>(null);
  // (3) where
  const [address, setAddress] = useState('');
  const [where, setWhere] = useState<{ ok: boolean; message: string } | null>(null);
  // (4) run, (5) done
  const [progress, setProgress] = useState<Progress | null>(null);
  const [jobId, setJobId] = useState<string | null>(null);
  const [cancelling, setCancelling] = useState(false);
  const [result, setResult] = useState<ResponseOf<'backup'> | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => heading.current?.focus(), [step]);

  useEffect(() => {
    if (mode !== 'password' || password === '') return setStrength(null);
    let live = true;
    const t = setTimeout(() => void api.call('password.assess', { password }).then((r) => live && r.ok && setStrength(r.value)), 150);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [api, mode, password]);

  // Detection runs once typing pauses, not on every keystroke (each run is a worker job).
  useEffect(() => {
    setDetection(null);
    setError(null);
    if (!source) return;
    let live = true;
    const t = setTimeout(() => {
      setDetecting(true);
      void api.job('detect', { path: source }, () => undefined).done.then((r) => {
        if (!live) return;
        setDetecting(false);
        if (r.ok) setDetection(r.value);
        else setError(r.error);
      });
    }, 350);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [api, source]);
  const detect = async (path: string) => setSource(path);

  const trySample = async () => {
    const r = await api.call('sample.create', {});
    if (r.ok) await detect(r.value.path);
    else setError(r.error);
  };

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    const file = e.dataTransfer.files[0];
    const path = file ? api.pathForFile(file) : null;
    if (path) void detect(path);
    else setError({ kind: 'usage', message: 'This window cannot see where a dropped file lives.', hint: 'Use “Browse…” or type the path instead.', suggestion: null, attemptsLeft: null });
  };

  const newKey = async () => {
    const r = await api.call('key.generate', {});
    if (r.ok) setKey(r.value.key);
    else setError(r.error);
  };

  useEffect(() => {
    if (step === 'protection' && mode === 'key' && key === '') void newKey();
  }, [step, mode]);

  const kg = keyGroups(key);
  const keyConfirmed = kg.length === 16 && typedGroups.every((t, i) => t.trim().toUpperCase() === kg[groups[i]! - 1]);
  const passwordReady = password !== '' && password === password2 && (strength?.acceptable ?? false) && vaultUrl.trim() !== '';
  const protectionReady = mode === 'key' ? keyConfirmed : passwordReady;

  const copyKey = async () => {
    try {
      await navigator.clipboard.writeText(key);
    } catch {
      setError({ kind: 'io', message: 'Copying was not allowed.', hint: 'Select the key and copy it yourself, or use Save.', suggestion: null, attemptsLeft: null });
    }
  };
  const saveKey = () => {
    const blob = new Blob([`Chatsafe 64-digit key\n\n${key}\n\nKeep this safe and separate from the backup.\n`], { type: 'text/plain' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = 'chatsafe-key.txt';
    a.click();
    URL.revokeObjectURL(a.href);
  };

  const checkWhere = async () => {
    const r = await api.call('storage.check', { address, purpose: 'new' });
    setWhere(r.ok ? r.value : { ok: false, message: r.error.message });
  };

  const checkVault = async () => {
    const r = await api.call('vault.check', { url: vaultUrl });
    setVaultCheck(r.ok ? r.value : { ok: false, message: `${r.error.message} ${r.error.hint ?? ''}` });
  };

  const start = async () => {
    setStep('run');
    setError(null);
    setProgress(null);
    setCancelling(false);
    const job = api.job(
      'backup',
      { sources: [source], address, mode: 'create', keepLast, protection: mode === 'key' ? { kind: 'key', key } : { kind: 'password', password, vaultUrl } },
      setProgress,
    );
    setJobId(job.jobId);
    onBusy?.(true);
    const r = await job.done;
    setJobId(null);
    onBusy?.(false);
    if (r.ok) {
      setResult(r.value);
      setStep('done');
    } else setError(r.error);
  };

  const cancel = async () => {
    if (!jobId) return;
    setCancelling(true);
    await api.cancel(jobId);
  };

  const stepIndex = STEPS.findIndex((s) => s.id === step);
  return (
    <section className="wizard" aria-labelledby="wizard-heading">
      <ol className="steps" aria-label="Steps">
        {STEPS.map((s, i) => (
          <li key={s.id} aria-current={s.id === step ? 'step' : undefined} className={i < stepIndex ? 'done' : ''}>
            {i + 1}. {s.label}
          </li>
        ))}
      </ol>

      {step === 'what' && (
        <div onDragOver={(e) => e.preventDefault()} onDrop={onDrop}>
          <h2 id="wizard-heading" tabIndex={-1} ref={heading}>
            What do you want to back up?
          </h2>
          <p>Pick the chat export you copied from your phone: a WhatsApp folder or msgstore.db, an iPhone ChatStorage.sqlite, an “Export chat” .txt or .zip, or a Telegram result.json. You can also drop it here.</p>
          <PathField api={api} label="File or folder to back up" value={source} onChange={(v) => void detect(v)} pick="file-or-folder" />
          <p>
            No export at hand?{' '}
            <button type="button" className="link" onClick={() => void trySample()}>
              Try it with sample data
            </button>
          </p>
          {detecting && <p aria-live="polite">Looking at it…</p>}
          {detection && (
            <div className="detected" aria-live="polite">
              <p className="detected-summary">
                <strong>{detection.label}</strong>: {detection.summary}
              </p>
              {detection.problems.length > 0 && (
                <ul className="problems">
                  {detection.problems.map((p) => (
                    <li key={p}>{p}</li>
                  ))}
                </ul>
              )}
            </div>
          )}
          {error && <ErrorBox error={error} />}
          <div className="actions">
            <button type="button" className="primary" disabled={!detection} onClick={() => setStep('protection')}>
              Next
            </button>
          </div>
        </div>
      )}

      {step === 'protection' && (
        <div>
          <h2 id="wizard-heading" tabIndex={-1} ref={heading}>
            How should the backup be protected?
          </h2>
          <fieldset>
            <legend>Protection</legend>
            <label>
              <input type="radio" name="protection" checked={mode === 'key'} onChange={() => setMode('key')} /> A 64-digit key that you keep (nobody else can recover it)
            </label>
            <label>
              <input type="radio" name="protection" checked={mode === 'password'} onChange={() => setMode('password')} /> A password, with the key kept in a key vault
            </label>
          </fieldset>
          {mode === 'key' && (
            <div className="key-panel">
              <p>Write this key down or keep it in a password manager. Without it nobody can restore this backup, not even Chatsafe.</p>
              <div className="key-grid" aria-label="Your 64-digit key" role="group" data-testid="key">
                {kg.map((g, i) => (
                  <span key={i} className="key-group" aria-label={`Group ${i + 1}: ${g.split('').join(' ')}`}>
                    <span className="key-group-number" aria-hidden="true">
                      {i + 1}
                    </span>
                    <span className="key-digits">{g}</span>
                  </span>
                ))}
              </div>
              <div className="actions">
                <button type="button" onClick={() => void copyKey()}>
                  Copy
                </button>
                <button type="button" onClick={saveKey}>
                  Save as file
                </button>
                <button type="button" onClick={() => window.print()}>
                  Print
                </button>
              </div>
              <p>To show you kept it, type groups {groups[0]} and {groups[1]}:</p>
              {groups.map((g, i) => (
                <label key={g} className="confirm-group">
                  Group {g}
                  <input
                    value={typedGroups[i]}
                    maxLength={4}
                    autoComplete="off"
                    spellCheck={false}
                    aria-invalid={typedGroups[i]!.length === 4 && typedGroups[i]!.toUpperCase() !== kg[g - 1]}
                    onChange={(e) => setTypedGroups((t) => t.map((x, j) => (j === i ? e.target.value : x)))}
                  />
                </label>
              ))}
              {typedGroups.every((t) => t.length === 4) && !keyConfirmed && (
                <p className="error" role="alert">
                  That does not match the key shown above. Check the group numbers and try again.
                </p>
              )}
            </div>
          )}
          {mode === 'password' && (
            <div className="password-panel">
              <label>
                Password
                <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="new-password" />
              </label>
              {strength && (
                <div className="strength">
                  <meter min={0} max={4} value={strength.score} aria-label="Password strength" />
                  <span>{strength.feedback}</span>
                </div>
              )}
              <label>
                Password again
                <input type="password" value={password2} onChange={(e) => setPassword2(e.target.value)} autoComplete="new-password" aria-invalid={password2 !== '' && password2 !== password} />
              </label>
              {password2 !== '' && password2 !== password && <p className="field-error">The two passwords differ.</p>}
              <label>
                Key vault address
                <input value={vaultUrl} onChange={(e) => setVaultUrl(e.target.value)} placeholder="https://vault.example.org" spellCheck={false} />
              </label>
              <button type="button" onClick={() => void checkVault()} disabled={vaultUrl === ''}>
                Check connection
              </button>
              {vaultCheck && <p className={vaultCheck.ok ? 'ok' : 'field-error'}>{vaultCheck.message}</p>}
              <p>After 10 wrong guesses the vault destroys the key for good. Keep the password somewhere safe.</p>
            </div>
          )}
          {error && <ErrorBox error={error} />}
          <div className="actions">
            <button type="button" onClick={() => setStep('what')}>
              Back
            </button>
            <button type="button" className="primary" disabled={!protectionReady} onClick={() => setStep('where')}>
              Next
            </button>
          </div>
        </div>
      )}

      {step === 'where' && (
        <div>
          <h2 id="wizard-heading" tabIndex={-1} ref={heading}>
            Where should the backup go?
          </h2>
          <p>An empty or new folder, for example on an external drive, or a saved destination (S3 or WebDAV storage: add one in Settings).</p>
          <SavedDestinations
            api={api}
            value={address}
            onPick={(v) => {
              setAddress(v);
              setWhere(null);
            }}
          />
          <PathField
            api={api}
            label="Backup location"
            value={address}
            onChange={(v) => {
              setAddress(v);
              setWhere(null);
            }}
            pick="folder"
          />
          <button type="button" onClick={() => void checkWhere()} disabled={address === ''}>
            Check
          </button>
          {where && (
            <p className={where.ok ? 'ok' : 'field-error'} role="status">
              {where.message}
            </p>
          )}
          <div className="actions">
            <button type="button" onClick={() => setStep('protection')}>
              Back
            </button>
            <button type="button" className="primary" disabled={!where?.ok} onClick={() => void start()}>
              Back up now
            </button>
          </div>
        </div>
      )}

      {step === 'run' && (
        <div>
          <h2 id="wizard-heading" tabIndex={-1} ref={heading}>
            Backing up
          </h2>
          {!error && <ProgressView progress={progress} onCancel={() => void cancel()} cancelling={cancelling} />}
          {error && (
            <>
              <ErrorBox error={error} />
              <div className="actions">
                <button type="button" onClick={() => setStep('where')}>
                  Back
                </button>
                <button type="button" className="primary" onClick={() => void start()}>
                  Start again
                </button>
              </div>
            </>
          )}
        </div>
      )}

      {step === 'done' && result && (
        <div>
          <h2 id="wizard-heading" tabIndex={-1} ref={heading}>
            Your chats are backed up
          </h2>
          <dl className="facts">
            <dt>Stored</dt>
            <dd data-testid="done-summary">
              {result.files} files, {formatBytes(result.bytes)}
              {result.chats !== null && `; ${plural(result.chats, 'chat')}, ${plural(result.messages ?? 0, 'message')}`}
            </dd>
            <dt>Where</dt>
            <dd>{result.location}</dd>
            <dt>Snapshot</dt>
            <dd>
              <code>{result.snapshotId.slice(0, 8)}</code>
            </dd>
            <dt>Encrypted size</dt>
            <dd>{formatBytes(result.storedBytes)}</dd>
          </dl>
          <p>
            To restore, open Chatsafe, choose <strong>Restore</strong>, pick this location and enter your {mode === 'key' ? '64-digit key' : 'password'}.
          </p>
          <div className="actions">
            {/* A saved destination is already kept, by name, in Settings. */}
            <RememberButton api={api} settings={settings} address={address.startsWith('profile:') ? address : result.location} onSettings={onSettings} />
            <button type="button" className="primary" onClick={onFinished}>
              Finish
            </button>
          </div>
        </div>
      )}
    </section>
  );
}
