import { useId, useState } from 'react';
import type { ChatsafeApi } from '../api';
import { FileBrowser, type PickKind } from './FileBrowser';

/**
 * A path: typed, or chosen with the native dialog (desktop app) or the
 * in-app file browser (web mode).
 */
export function PathField({ api, label, value, onChange, pick, save }: { api: ChatsafeApi; label: string; value: string; onChange: (v: string) => void; pick: PickKind; save?: string }) {
  const id = useId();
  const [browsing, setBrowsing] = useState(false);
  const browse = async () => {
    if (api.front === 'electron') {
      const r = save ? await api.call('dialog.save', { defaultName: save, title: label }) : await api.call('dialog.open', { pick, title: label });
      if (r.ok && r.value.path) onChange(r.value.path);
      return;
    }
    setBrowsing(true);
  };
  return (
    <div className="path-field">
      <label htmlFor={id}>{label}</label>
      <div className="row">
        <input id={id} value={value} onChange={(e) => onChange(e.target.value)} spellCheck={false} autoComplete="off" />
        <button type="button" onClick={() => void browse()}>
          Browse…
        </button>
      </div>
      {browsing && (
        <FileBrowser
          api={api}
          pick={save ? 'folder' : pick}
          title={label}
          onClose={() => setBrowsing(false)}
          onPick={(p) => {
            setBrowsing(false);
            onChange(save ? `${p.replace(/[\\/]$/, '')}/${save}` : p);
          }}
        />
      )}
    </div>
  );
}
