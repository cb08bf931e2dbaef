import { useState } from 'react';
import type { AppError, ChatsafeApi } from '../api';
import type { StorageProfile, StorageTarget } from '../../../src/app/contract.js';
import { ErrorBox } from './ErrorBox';
import { PathField } from './PathField';
import { useProfiles } from './SavedDestinations';

type Kind = StorageTarget['kind'];
const KIND_LABELS: Record<Kind, string> = { folder: 'A folder', s3: 'S3-compatible storage', webdav: 'WebDAV' };

/** An empty target of each kind, for the form. */
const BLANK: { [K in Kind]: Extract<StorageTarget, { kind: K }> } = {
  folder: { kind: 'folder', path: '' },
  s3: { kind: 's3', endpoint: '', region: 'us-east-1', bucket: '', prefix: '', accessKeyId: '', pathStyle: true },
  webdav: { kind: 'webdav', url: 'https://', user: '' },
};

interface Draft {
  id?: string;
  name: string;
  target: StorageTarget;
  /** A new secret; empty keeps the saved one. */
  secret: string;
  hasSecret: boolean;
}

function TextField({ label, value, onChange, type = 'text', placeholder }: { label: string; value: string; onChange: (v: string) => void; type?: string; placeholder?: string }) {
  return (
    <label>
      {label}
      <input type={type} value={value} placeholder={placeholder} onChange={(e) => onChange(e.target.value)} spellCheck={false} autoComplete={type === 'password' ? 'new-password' : 'off'} />
    </label>
  );
}

function ProfileForm({ api, draft, onSaved, onCancel }: { api: ChatsafeApi; draft: Draft; onSaved: () => void; onCancel: () => void }) {
  const [d, setD] = useState(draft);
  const [error, setError] = useState<AppError | null>(null);
  const [busy, setBusy] = useState(false);
  const t = d.target;
  const setTarget = (patch: Partial<StorageTarget>) => setD({ ...d, target: { ...t, ...patch } as StorageTarget });
  const save = async () => {
    setBusy(true);
    const r = await api.call('profiles.save', { ...(d.id ? { id: d.id } : {}), name: d.name, target: d.target, ...(d.secret !== '' ? { secret: d.secret } : {}) });
    setBusy(false);
    if (r.ok) onSaved();
    else setError(r.error);
  };
  const secretLabel = t.kind === 's3' ? 'Secret access key' : 'Password';
  // As the back decides (keepsSecret): the saved secret is only used with the server and account it was saved for; only the prefix may change.
  const keeps = d.hasSecret && JSON.stringify({ ...draft.target, prefix: '' }) === JSON.stringify({ ...t, prefix: '' });
  return (
    <form
      className="profile-form"
      aria-label={d.id ? `Edit ${draft.name}` : 'New destination'}
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <TextField label="Name" value={d.name} onChange={(name) => setD({ ...d, name })} placeholder="e.g. Office bucket" />
      <fieldset>
        <legend>Kind</legend>
        {(Object.keys(KIND_LABELS) as Kind[]).map((k) => (
          <label key={k} className="check">
            <input type="radio" name="profile-kind" checked={t.kind === k} onChange={() => setD({ ...d, target: k === draft.target.kind ? draft.target : BLANK[k] })} />
            {KIND_LABELS[k]}
          </label>
        ))}
      </fieldset>
      {t.kind === 'folder' && <PathField api={api} label="Folder" value={t.path} onChange={(path) => setTarget({ path })} pick="folder" />}
      {t.kind === 's3' && (
        <>
          <TextField label="Endpoint (empty for Amazon S3)" value={t.endpoint} onChange={(endpoint) => setTarget({ endpoint })} placeholder="https://s3.example.com" />
          <TextField label="Region" value={t.region} onChange={(region) => setTarget({ region })} />
          <TextField label="Bucket" value={t.bucket} onChange={(bucket) => setTarget({ bucket })} />
          <TextField label="Prefix (folder inside the bucket, optional)" value={t.prefix} onChange={(prefix) => setTarget({ prefix })} placeholder="backups/phone" />
          <TextField label="Access key id" value={t.accessKeyId} onChange={(accessKeyId) => setTarget({ accessKeyId })} />
          <label className="check">
            <input type="checkbox" checked={t.pathStyle} onChange={(e) => setTarget({ pathStyle: e.target.checked })} />
            Path-style addresses (most self-hosted servers need this)
          </label>
        </>
      )}
      {t.kind === 'webdav' && (
        <>
          <TextField label="WebDAV address" value={t.url} onChange={(url) => setTarget({ url })} placeholder="https://cloud.example.com/remote.php/dav/files/ada/chats" />
          <TextField label="User" value={t.user} onChange={(user) => setTarget({ user })} />
        </>
      )}
      {t.kind !== 'folder' && (
        <TextField label={secretLabel} type="password" value={d.secret} onChange={(secret) => setD({ ...d, secret })} placeholder={keeps ? 'Saved; type a new one to replace it' : ''} />
      )}
      {t.kind !== 'folder' && <p className="hint">{api.front === 'electron' ? 'Kept sealed by your system keychain.' : 'Kept in the settings file, readable only by your user account.'} It is never shown again.</p>}
      {error && <ErrorBox error={error} />}
      <div className="actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={busy}>
          Save destination
        </button>
      </div>
    </form>
  );
}

/** Settings: the saved storage destinations, with add, edit, remove (confirmed) and a connection check. */
export function StorageProfiles({ api }: { api: ChatsafeApi }) {
  const [profiles, reload] = useProfiles(api);
  const [editing, setEditing] = useState<Draft | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [checks, setChecks] = useState<Record<string, { ok: boolean; message: string } | 'checking'>>({});
  const [error, setError] = useState<AppError | null>(null);

  const check = async (p: StorageProfile) => {
    setChecks((c) => ({ ...c, [p.id]: 'checking' }));
    // Either answer means the storage was reached: a backup is there, or a new one can be made there.
    const existing = await api.call('storage.check', { address: p.address, purpose: 'existing' });
    const r = existing.ok && existing.value.ok ? existing : await api.call('storage.check', { address: p.address, purpose: 'new' });
    setChecks((c) => ({ ...c, [p.id]: r.ok ? r.value : { ok: false, message: r.error.message } }));
  };
  const remove = async (p: StorageProfile) => {
    const r = await api.call('profiles.remove', { id: p.id });
    setConfirming(null);
    if (!r.ok) setError(r.error);
    await reload();
  };

  return (
    <section aria-labelledby="profiles-heading" className="profiles">
      <h3 id="profiles-heading">Storage destinations</h3>
      <p>Places to keep backups, saved with their sign-in details so you can pick them by name.</p>
      {profiles.length === 0 && !editing && <p>None saved yet.</p>}
      <ul className="profile-list">
        {profiles.map((p) => {
          const c = checks[p.id];
          return (
            <li key={p.id} data-testid="profile">
              <strong>{p.name}</strong> <span className="path">{p.location}</span>
              {p.hasSecret && <span className="badge"> · sign-in saved</span>}
              <div className="row">
                <button type="button" onClick={() => void check(p)} disabled={c === 'checking'}>
                  Check connection
                </button>
                <button type="button" onClick={() => setEditing({ id: p.id, name: p.name, target: p.target, secret: '', hasSecret: p.hasSecret })}>
                  Edit
                </button>
                <button type="button" onClick={() => setConfirming(p.id)}>
                  Remove
                </button>
              </div>
              {confirming === p.id && (
                <div role="alertdialog" aria-label={`Remove ${p.name}?`} className="confirm">
                  <p>Remove “{p.name}” and its saved sign-in? The backups stored there are not touched.</p>
                  <button type="button" onClick={() => setConfirming(null)}>
                    Keep it
                  </button>
                  <button type="button" className="danger" onClick={() => void remove(p)}>
                    Remove
                  </button>
                </div>
              )}
              {c === 'checking' && <p role="status">Checking…</p>}
              {c && c !== 'checking' && (
                <p className={c.ok ? 'ok' : 'field-error'} role="status">
                  {c.message}
                </p>
              )}
            </li>
          );
        })}
      </ul>
      {error && <ErrorBox error={error} />}
      {editing ? (
        <ProfileForm
          key={editing.id ?? 'new'}
          api={api}
          draft={editing}
          onCancel={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            void reload();
          }}
        />
      ) : (
        <button type="button" onClick={() => setEditing({ name: '', target: BLANK.folder, secret: '', hasSecret: false })}>
          Add a destination
        </button>
      )}
    </section>
  );
}
