import { useEffect, useRef, useState } from 'react';
import type { AppError, ChatsafeApi } from '../api';
import type { FsEntry } from '../../../src/app/contract.js';
import { formatBytes } from '../format';
import { ErrorBox } from './ErrorBox';

export type PickKind = 'file' | 'folder' | 'file-or-folder';

/**
 * The in-app file browser of the web mode (a browser page cannot open the
 * system's file dialog and learn a path). Keyboard: Tab through entries,
 * Enter opens a folder, Escape closes.
 */
export function FileBrowser({ api, pick, title, start, onPick, onClose }: { api: ChatsafeApi; pick: PickKind; title: string; start?: string; onPick: (path: string) => void; onClose: () => void }) {
  const [path, setPath] = useState<string | undefined>(start);
  const [listing, setListing] = useState<{ path: string; parent: string | null; entries: FsEntry[] } | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [newName, setNewName] = useState('');
  const ref = useRef<HTMLDivElement>(null);

  useEffect(() => {
    let live = true;
    void api.call('fs.list', path === undefined ? {} : { path }).then((r) => {
      if (!live) return;
      if (r.ok) {
        setListing(r.value);
        setError(null);
        setSelected(null);
      } else setError(r.error);
    });
    return () => {
      live = false;
    };
  }, [api, path]);

  useEffect(() => ref.current?.querySelector<HTMLElement>('button, input')?.focus(), [listing]);

  const join = (dir: string, name: string) => (dir.endsWith('/') || dir.endsWith('\\') ? dir + name : `${dir}/${name}`);
  const chooseFolder = pick !== 'file' && listing;
  return (
    <div className="modal-backdrop">
      <div className="modal" role="dialog" aria-modal="true" aria-label={title} ref={ref} onKeyDown={(e) => e.key === 'Escape' && onClose()}>
        <h2>{title}</h2>
        <p className="path" aria-live="polite">
          {listing?.path}
        </p>
        {error && <ErrorBox error={error} />}
        <ul className="file-list" aria-label="Folder contents">
          {listing?.parent && (
            <li>
              <button type="button" className="entry dir" onClick={() => setPath(listing.parent!)}>
                ⬆ Parent folder
              </button>
            </li>
          )}
          {listing?.entries.map((e) => (
            <li key={e.name}>
              <button
                type="button"
                className={`entry ${e.kind}${selected === e.name ? ' selected' : ''}`}
                aria-pressed={selected === e.name}
                onClick={() => (e.kind === 'dir' && pick === 'folder' ? setPath(join(listing.path, e.name)) : setSelected(e.name))}
                onDoubleClick={() => e.kind === 'dir' && setPath(join(listing.path, e.name))}
              >
                {e.kind === 'dir' ? '📁' : '📄'} {e.name}
                {e.size !== null && <span className="size"> {formatBytes(e.size)}</span>}
              </button>
              {e.kind === 'dir' && pick !== 'folder' && (
                <button type="button" className="open-dir" aria-label={`Open ${e.name}`} onClick={() => setPath(join(listing.path, e.name))}>
                  Open
                </button>
              )}
            </li>
          ))}
        </ul>
        {pick === 'folder' && listing && (
          <label>
            New folder name (optional)
            <input value={newName} onChange={(e) => setNewName(e.target.value)} placeholder="e.g. chat-backup" />
          </label>
        )}
        <div className="actions">
          {selected && listing && (
            <button type="button" className="primary" onClick={() => onPick(join(listing.path, selected))}>
              Choose “{selected}”
            </button>
          )}
          {chooseFolder && !selected && (
            <button type="button" className="primary" onClick={() => onPick(newName.trim() ? join(listing.path, newName.trim()) : listing.path)}>
              {newName.trim() ? `Use new folder “${newName.trim()}”` : 'Choose this folder'}
            </button>
          )}
          <button type="button" onClick={onClose}>
            Cancel
          </button>
        </div>
      </div>
    </div>
  );
}
