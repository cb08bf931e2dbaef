import { useEffect, useRef, useState } from 'react';
import type { AppError, ChatsafeApi, Progress } from '../api';
import type { ChatInfo, CheckReportInfo, HeaderInfo, MessageInfo, SearchHitInfo, Settings } from '../../../src/app/contract.js';
import { RememberedList } from '../components/Remembered';
import { SavedDestinations } from '../components/SavedDestinations';
import { ErrorBox } from '../components/ErrorBox';
import { PathField } from '../components/PathField';
import { ProgressView } from '../components/ProgressView';
import { Unlock, type Unlocked } from '../components/Unlock';
import { VirtualMessages } from '../components/VirtualMessages';
import { formatBytes, formatTime, plural } from '../format';

/** The file name at the end of a path, for the announcement (either separator: the path may be a Windows one). */
const baseName = (path: string) => path.split(/[\\/]/).pop() || path;

/**
 * For support staff: what a backup says without the key, and with the key, its chats.
 * `openedPath` is a bundle the OS handed to the app: it starts selected, with its header read.
 */
export function Inspect({ api, settings = null, openedPath = null }: { api: ChatsafeApi; settings?: Settings | null; openedPath?: string | null }) {
  const [address, setAddress] = useState(openedPath ?? '');
  const [header, setHeader] = useState<HeaderInfo | null>(null);
  const [check, setCheck] = useState<CheckReportInfo | null>(null);
  const [checking, setChecking] = useState<{ jobId: string; progress: Progress | null } | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [unlocked, setUnlocked] = useState<Unlocked | null>(null);
  const [catalog, setCatalog] = useState<{ catalogId: string; chats: ChatInfo[]; counts: Record<string, number> } | null>(null);
  const [chat, setChat] = useState<ChatInfo | null>(null);
  const [query, setQuery] = useState('');
  const [hits, setHits] = useState<SearchHitInfo[] | null>(null);
  const [scrollTo, setScrollTo] = useState<number | null>(null);
  const [report, setReport] = useState<string | null>(null);
  const [exportPath, setExportPath] = useState('');
  const [notice, setNotice] = useState<string | null>(null);
  const [bundle, setBundle] = useState({ snapshot: 'latest', path: '' });
  const [exporting, setExporting] = useState<{ jobId: string; progress: Progress | null } | null>(null);
  const [preview, setPreview] = useState<{ name: string; mime: string; dataBase64: string } | { name: string; error: AppError } | null>(null);

  // Leaving the inspector closes what it opened: the decrypted catalog's temp file and the unlocked key.
  const open = useRef<{ catalogId?: string; sessionId?: string }>({});
  open.current = { catalogId: catalog?.catalogId, sessionId: unlocked?.sessionId };
  useEffect(
    () => () => {
      const { catalogId, sessionId } = open.current;
      if (catalogId) void api.call('catalog.close', { catalogId });
      if (sessionId) void api.call('session.close', { sessionId });
    },
    [api],
  );

  const showPreview = async (m: MessageInfo) => {
    if (!catalog) return;
    const name = m.media?.name ?? 'media';
    const r = await api.call('catalog.media', { catalogId: catalog.catalogId, messageId: m.id });
    setPreview(r.ok ? { name, ...r.value } : { name, error: r.error });
  };

  const readHeader = async (at = address) => {
    setError(null);
    setCheck(null);
    const r = await api.call('inspect.header', { address: at });
    if (r.ok) setHeader(r.value);
    else setError(r.error);
  };

  // A bundle opened from the file manager: focus lands here, the status line says which file, and the
  // header (which needs no key) is read straight away. Runs once per arrival (App remounts Inspect).
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (openedPath === null) return;
    heading.current?.focus();
    void readHeader(openedPath);
  }, [openedPath]);

  const runCheck = async (readData: boolean) => {
    setError(null);
    const job = api.job('check', { address, readData, ...(unlocked ? { sessionId: unlocked.sessionId } : {}) }, (p) => setChecking((c) => (c ? { ...c, progress: p } : c)));
    setChecking({ jobId: job.jobId, progress: null });
    const r = await job.done;
    setChecking(null);
    if (r.ok) setCheck(r.value);
    else setError(r.error);
  };

  const openSnapshot = async (id: string) => {
    if (!unlocked) return;
    setError(null);
    const r = await api.call('catalog.open', { sessionId: unlocked.sessionId, snapshot: id });
    if (r.ok) {
      setCatalog(r.value);
      setChat(r.value.chats[0] ?? null);
    } else setError(r.error);
  };

  const search = async () => {
    if (!catalog) return;
    const r = await api.call('catalog.search', { catalogId: catalog.catalogId, query });
    if (r.ok) setHits(r.value.hits);
    else setError(r.error);
  };

  const goTo = async (hit: SearchHitInfo) => {
    if (!catalog) return;
    const r = await api.call('catalog.position', { catalogId: catalog.catalogId, messageId: hit.messageId });
    if (!r.ok) return setError(r.error);
    setChat(catalog.chats.find((c) => c.id === r.value.chatId) ?? null);
    setScrollTo(r.value.offset);
  };

  const exportBundle = async () => {
    if (!unlocked) return;
    setError(null);
    const job = api.job('export', { sessionId: unlocked.sessionId, snapshot: bundle.snapshot, outPath: bundle.path }, (p) => setExporting((e) => (e ? { ...e, progress: p } : e)));
    setExporting({ jobId: job.jobId, progress: null });
    const r = await job.done;
    setExporting(null);
    if (r.ok) setNotice(`Saved ${r.value.files} files (${formatBytes(r.value.bytes)}) as ${r.value.path}. It opens with the same key or password.`);
    else setError(r.error);
  };

  const exportHtml = async () => {
    if (!catalog || !chat) return;
    const r = await api.call('catalog.exportHtml', { catalogId: catalog.catalogId, chatIds: [chat.id], outDir: exportPath });
    if (r.ok) setNotice(`Saved the chat as HTML in ${r.value.path} (open index.html).`);
    else setError(r.error);
  };

  const diagnostics = async () => {
    const r = await api.call('diagnostics.report', { address, ...(unlocked ? { sessionId: unlocked.sessionId } : {}) });
    if (r.ok) setReport(r.value.text);
    else setError(r.error);
  };

  return (
    <section aria-labelledby="inspect-heading">
      <h2 id="inspect-heading" ref={heading} tabIndex={-1}>
        Inspect a backup
      </h2>
      {openedPath !== null && (
        <p role="status" data-testid="opened-file">
          Opened {baseName(openedPath)} from your file manager. Its header is below; open it with the key to browse its chats.
        </p>
      )}
      <RememberedList settings={settings} onPick={setAddress} />
      <SavedDestinations
        api={api}
        value={address}
        onPick={(v) => {
          setAddress(v);
          setHeader(null);
          setUnlocked(null);
          setCatalog(null);
        }}
      />
      <PathField
        api={api}
        label="Backup (a repository folder or address, or a .chatsafe file)"
        value={address}
        onChange={(v) => {
          setAddress(v);
          setHeader(null);
          setUnlocked(null);
          setCatalog(null);
        }}
        pick="file-or-folder"
      />
      <div className="actions">
        <button type="button" onClick={() => void readHeader()} disabled={address === ''}>
          Read header
        </button>
        <button type="button" onClick={() => void runCheck(false)} disabled={address === '' || checking !== null}>
          Check integrity
        </button>
        <button type="button" onClick={() => void runCheck(true)} disabled={address === '' || checking !== null}>
          Check and read all data
        </button>
        <button type="button" onClick={() => void diagnostics()} disabled={address === ''}>
          Diagnostics report
        </button>
      </div>
      {error && <ErrorBox error={error} />}
      {header && (
        <dl className="facts" aria-label="Header">
          <dt>Kind</dt>
          <dd>{header.kind}</dd>
          <dt>Format version</dt>
          <dd>{header.formatVersion}</dd>
          <dt>Created</dt>
          <dd>
            {formatTime(header.created)} by Chatsafe {header.appVersion}
          </dd>
          <dt>Key slots</dt>
          <dd>{header.slotKinds.join(', ')}</dd>
          {Object.entries(header.sizes).map(([k, v]) => (
            <div key={k}>
              <dt>{k}</dt>
              <dd>{/bytes|size/i.test(k) ? formatBytes(v) : v}</dd>
            </div>
          ))}
        </dl>
      )}
      {checking && <ProgressView progress={checking.progress} onCancel={() => void api.cancel(checking.jobId)} />}
      {check && (
        <div className={check.ok ? 'ok' : 'error'} role="status" data-testid="check-result">
          <p>
            {check.ok ? 'No problems found' : `${check.errors.length} problem(s) found`} ({check.withKey ? 'with the key' : 'without the key'}
            {check.readData ? ', all data read' : ''}).
          </p>
          <ul>
            {check.errors.map((e, i) => (
              <li key={i}>
                <code>{e.object}</code>: {e.message}
              </li>
            ))}
          </ul>
        </div>
      )}
      {report && (
        <label>
          Diagnostics report (no messages, names, numbers or paths)
          <textarea readOnly value={report} rows={10} data-testid="diagnostics" />
        </label>
      )}

      {address && !unlocked && (
        <details>
          <summary>Open with the key the user gave you</summary>
          <Unlock api={api} address={address} onUnlocked={setUnlocked} />
        </details>
      )}
      {unlocked && !catalog && (
        <section aria-label="Snapshots">
          <h3>Snapshots</h3>
          <ul className="snapshots">
            {unlocked.snapshots.map((s) => (
              <li key={s.id}>
                <span>
                  {formatTime(s.time)} · <code>{s.shortId}</code> · {s.sourceKind} · {s.files} files, {formatBytes(s.bytes)}
                </span>{' '}
                <button type="button" disabled={!s.hasCatalog} onClick={() => void openSnapshot(s.id)}>
                  {s.hasCatalog ? 'Browse chats' : 'No chats to browse'}
                </button>
              </li>
            ))}
          </ul>
          {unlocked.kind === 'repository' && unlocked.snapshots.length > 0 && (
            <div className="bundle-export">
              <h3>Save a snapshot as one .chatsafe file</h3>
              <label>
                Snapshot
                <select value={bundle.snapshot} onChange={(e) => setBundle({ ...bundle, snapshot: e.target.value })}>
                  <option value="latest">The newest</option>
                  {unlocked.snapshots.map((s) => (
                    <option key={s.id} value={s.id}>
                      {formatTime(s.time)} · {s.shortId}
                    </option>
                  ))}
                </select>
              </label>
              <PathField api={api} label="Save the bundle as" value={bundle.path} onChange={(path) => setBundle({ ...bundle, path })} pick="folder" save="backup.chatsafe" />
              {exporting ? (
                <ProgressView progress={exporting.progress} onCancel={() => void api.cancel(exporting.jobId)} />
              ) : (
                <button type="button" onClick={() => void exportBundle()} disabled={bundle.path === ''}>
                  Save bundle
                </button>
              )}
            </div>
          )}
          {notice && <p role="status">{notice}</p>}
        </section>
      )}
      {preview && (
        <div className="modal-backdrop">
          <div className="modal" role="dialog" aria-modal="true" aria-label={`Preview of ${preview.name}`} onKeyDown={(e) => e.key === 'Escape' && setPreview(null)}>
            <h3>{preview.name}</h3>
            {'error' in preview ? (
              <ErrorBox error={preview.error} />
            ) : preview.mime.startsWith('image/') ? (
              <img className="preview-image" src={`data:${preview.mime};base64,${preview.dataBase64}`} alt={preview.name} />
            ) : (
              <p>This kind of file ({preview.mime}) is not shown here; restore the snapshot to open it.</p>
            )}
            <div className="actions">
              <button type="button" autoFocus onClick={() => setPreview(null)}>
                Close
              </button>
            </div>
          </div>
        </div>
      )}
      {catalog && (
        <section className="browser" aria-label="Chats">
          <p>
            {plural(catalog.counts.chats ?? 0, 'chat')}, {plural(catalog.counts.messages ?? 0, 'message')}, {plural(catalog.counts.media ?? 0, 'media file')}.
          </p>
          <form
            className="search"
            role="search"
            onSubmit={(e) => {
              e.preventDefault();
              void search();
            }}
          >
            <label>
              Search messages
              <input type="search" value={query} onChange={(e) => setQuery(e.target.value)} />
            </label>
            <button type="submit">Search</button>
          </form>
          {hits && (
            <ul className="hits" aria-label="Search results">
              {hits.length === 0 && <li>No message matches.</li>}
              {hits.map((h) => (
                <li key={h.messageId}>
                  <button type="button" className="link" onClick={() => void goTo(h)}>
                    {h.chatName} · {formatTime(h.timestamp)}: {h.snippet}
                  </button>
                </li>
              ))}
            </ul>
          )}
          <div className="browser-panes">
            <ul className="chats" aria-label="Chat list">
              {catalog.chats.map((c) => (
                <li key={c.id}>
                  <button type="button" aria-pressed={chat?.id === c.id} onClick={() => (setChat(c), setScrollTo(null))}>
                    {c.name} <span className="count">{c.messageCount}</span>
                  </button>
                </li>
              ))}
            </ul>
            {chat && (
              <div className="chat-view">
                <h3>{chat.name}</h3>
                <VirtualMessages api={api} catalogId={catalog.catalogId} chatId={chat.id} total={chat.messageCount} scrollTo={scrollTo} onPreview={(m) => void showPreview(m)} />
                <PathField api={api} label="Export this chat as HTML into a new folder" value={exportPath} onChange={setExportPath} pick="folder" />
                <button type="button" onClick={() => void exportHtml()} disabled={exportPath === ''}>
                  Export as HTML
                </button>
                {notice && <p role="status">{notice}</p>}
              </div>
            )}
          </div>
        </section>
      )}
    </section>
  );
}
