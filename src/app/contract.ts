/**
 * The IPC contract between the app's front (the React renderer) and its back
 * (Electron main, or `chatsafe ui`'s HTTP server): every channel's request,
 * response and progress-event schema. The back validates every request with
 * it before anything runs; the preload, the HTTP routes and the renderer's
 * API object are all generated from the channel list below, so the two
 * transports cannot drift apart.
 *
 * Two kinds of channel:
 * - `call`: a short request answered with one response;
 * - `job`: long work (detect, backup, restore, check, export, prune) that runs
 *   off the main thread, emits `JobProgressEvent`s and can be cancelled by id.
 *
 * This module imports only zod, so the renderer can bundle it.
 */
import { z } from 'zod';

// ---------- building blocks ----------

/** Paths come from people and from pickers; bounded, no NUL, absolute or home-relative. */
export const PathSchema = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => !p.includes('\0'), 'must not contain NUL');

/**
 * A repository address: a folder path, s3://… or webdav+https://… (validated
 * again by the core), or `profile:ID`, a saved storage destination that the
 * back resolves with its credentials.
 */
export const AddressSchema = PathSchema;

/** The 64-digit key as typed: hex digits with any spacing, at most a few hundred characters. */
export const KeyTextSchema = z.string().min(1).max(400);
export const PasswordSchema = z.string().min(1).max(1024);
export const VaultUrlSchema = z.string().min(1).max(2048).url();
export const IdSchema = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/);
export const SnapshotRefSchema = z.string().regex(/^(latest|[0-9a-f]{4,64})$/);

export const CredentialSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('key'), key: KeyTextSchema }),
  z.strictObject({ kind: z.literal('password'), password: PasswordSchema }),
]);
export type CredentialInput = z.infer<typeof CredentialSchema>;

export const ProtectionSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('key'), key: KeyTextSchema }),
  z.strictObject({ kind: z.literal('password'), password: PasswordSchema, vaultUrl: VaultUrlSchema }),
]);

export const ProgressSchema = z.strictObject({
  phase: z.enum(['scanning', 'importing', 'backing-up', 'verifying', 'pruning', 'restoring', 'checking', 'exporting']),
  bytesDone: z.number().nonnegative(),
  bytesTotal: z.number().nonnegative().nullable(),
  filesDone: z.number().nonnegative(),
  filesTotal: z.number().nonnegative().nullable(),
  rate: z.number().nonnegative(),
  etaSeconds: z.number().nonnegative().nullable(),
  /** While the chat catalog is built: messages read, media files checked, then the search index. */
  importStep: z
    .strictObject({ step: z.enum(['reading', 'hashing-media', 'indexing']), done: z.number().nonnegative(), total: z.number().nonnegative().nullable() })
    .optional(),
});
export type Progress = z.infer<typeof ProgressSchema>;

const SnapshotInfoSchema = z.strictObject({
  id: z.string(),
  shortId: z.string(),
  time: z.string(),
  paths: z.array(z.string()),
  sourceKind: z.string(),
  hasCatalog: z.boolean(),
  files: z.number(),
  bytes: z.number(),
});
export type SnapshotInfo = z.infer<typeof SnapshotInfoSchema>;

const CheckReportSchema = z.strictObject({
  ok: z.boolean(),
  withKey: z.boolean(),
  readData: z.boolean(),
  errors: z.array(z.strictObject({ object: z.string(), message: z.string() })),
  warnings: z.array(z.strictObject({ object: z.string(), message: z.string() })),
  counts: z.record(z.string(), z.number()),
});
export type CheckReportInfo = z.infer<typeof CheckReportSchema>;

const HeaderInfoSchema = z.strictObject({
  kind: z.enum(['repository', 'bundle']),
  location: z.string(),
  formatVersion: z.number(),
  created: z.string(),
  appVersion: z.string(),
  slotKinds: z.array(z.enum(['key', 'password'])),
  vaultUrls: z.array(z.string()),
  sizes: z.record(z.string(), z.number()),
});
export type HeaderInfo = z.infer<typeof HeaderInfoSchema>;

const DetectionSchema = z.strictObject({
  kind: z.string(),
  label: z.string(),
  summary: z.string(),
  path: z.string(),
  counts: z.strictObject({ chats: z.number().nullable(), messages: z.number().nullable(), mediaFiles: z.number().nullable() }),
  totalFiles: z.number(),
  totalBytes: z.number(),
  problems: z.array(z.string()),
});
export type DetectionInfo = z.infer<typeof DetectionSchema>;

const ChatSchema = z.strictObject({
  id: z.number(),
  name: z.string(),
  kind: z.string(),
  messageCount: z.number(),
  lastMessageAt: z.number().nullable(),
  participants: z.array(z.string()),
});
export type ChatInfo = z.infer<typeof ChatSchema>;

const MessageSchema = z.strictObject({
  id: z.number(),
  chatId: z.number(),
  sender: z.string().nullable(),
  fromMe: z.boolean(),
  timestamp: z.number(),
  kind: z.string(),
  text: z.string().nullable(),
  media: z.strictObject({ name: z.string().nullable(), mime: z.string().nullable(), size: z.number().nullable(), available: z.boolean() }).nullable(),
  edited: z.boolean(),
  deleted: z.boolean(),
  reactions: z.array(z.string()),
});
export type MessageInfo = z.infer<typeof MessageSchema>;

const SearchHitSchema = z.strictObject({
  chatId: z.number(),
  chatName: z.string(),
  messageId: z.number(),
  timestamp: z.number(),
  sender: z.string().nullable(),
  snippet: z.string(),
});
export type SearchHitInfo = z.infer<typeof SearchHitSchema>;

// ---------- storage profiles ----------

/** A name people give a destination: printable, no control characters. */
const ProfileNameSchema = z
  .string()
  .trim()
  .min(1, 'give the destination a name')
  .max(100, 'at most 100 characters')
  .refine((s) => ![...s].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f), 'must not contain control characters');

/** http(s)://HOST[:PORT][/PATH], without user, password, query or fragment (credentials are separate fields). */
function serverUrl(allowPath: boolean) {
  return z
    .string()
    .trim()
    .max(2048)
    .refine((s) => {
      let u: URL;
      try {
        u = new URL(s);
      } catch {
        return false;
      }
      return (u.protocol === 'https:' || u.protocol === 'http:') && u.hostname !== '';
    }, 'must be an https:// (or http://) address')
    .refine((s) => !/^[a-z]+:\/\/[^/]*@/i.test(s), 'must not contain a user name or password; use the fields for them')
    .refine((s) => !/[?#]/.test(s), 'must not contain ? or #')
    .refine((s) => allowPath || /^[a-z]+:\/\/[^/]+\/?$/i.test(s), 'is a server address only (no path)');
}

/** Access key ids and user names: visible ASCII, no spaces. */
const CredentialIdSchema = z.string().trim().min(1).max(256).regex(/^[\x21-\x7e]+$/, 'use letters, digits and symbols, no spaces');

/** Where a profile points, without its secret (what the renderer may see). */
export const StorageTargetSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('folder'), path: PathSchema }),
  z.strictObject({
    kind: z.literal('s3'),
    /** Empty for AWS itself; the server's address for other S3-compatible storage. */
    endpoint: z.union([z.literal(''), serverUrl(false)]),
    region: z.string().trim().regex(/^[a-z0-9-]{1,64}$/, 'a region looks like us-east-1'),
    bucket: z
      .string()
      .trim()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'bucket names have 3 to 63 lowercase letters, digits, dots and hyphens')
      .refine((b) => !b.includes('..'), 'bucket names have no ".."'),
    /** Folder inside the bucket: segments of letters, digits, ".", "_", "-" between slashes; may be empty. */
    prefix: z
      .string()
      .trim()
      .max(1024)
      .refine((p) => p === '' || p.split('/').every((seg) => /^[A-Za-z0-9._-]{1,255}$/.test(seg) && seg !== '.' && seg !== '..'), 'the prefix holds letters, digits, ".", "_" and "-" between slashes'),
    accessKeyId: CredentialIdSchema,
    pathStyle: z.boolean(),
  }),
  z.strictObject({ kind: z.literal('webdav'), url: serverUrl(true), user: CredentialIdSchema }),
]);
export type StorageTarget = z.infer<typeof StorageTargetSchema>;

/** The S3 secret key or the WebDAV password; it goes in, never comes back out. */
export const StorageSecretSchema = z.string().min(1).max(1024);

/** A saved destination as the renderer sees it: `hasSecret` instead of the secret. */
export const StorageProfileSchema = z.strictObject({
  id: IdSchema,
  name: z.string(),
  target: StorageTargetSchema,
  hasSecret: z.boolean(),
  /** The address jobs are given for it: `profile:ID`. */
  address: z.string(),
  /** Where it points, for display (no secret): a folder, s3://bucket/prefix, or the WebDAV URL. */
  location: z.string(),
});
export type StorageProfile = z.infer<typeof StorageProfileSchema>;

/** Addresses naming a saved profile, resolved by the back with its secret when something opens it. */
export const PROFILE_ADDRESS = /^profile:([A-Za-z0-9_-]{8,64})$/;
export const MAX_PROFILES = 50;

export const SettingsSchema = z.strictObject({
  keepLast: z.number().int().min(1).max(1000),
  vaultUrl: z.string().max(2048),
  theme: z.enum(['system', 'light', 'dark']),
  /** Desktop app only: look for a new release at start (electron/updater.ts reads it). */
  autoUpdate: z.boolean(),
  /** Repositories the user asked us to remember (stored encrypted by the OS keychain in the desktop app). */
  rememberedRepos: z.array(z.strictObject({ address: AddressSchema, label: z.string().max(200) })).max(50),
});
export type Settings = z.infer<typeof SettingsSchema>;

const FsEntrySchema = z.strictObject({ name: z.string(), kind: z.enum(['file', 'dir', 'other']), size: z.number().nullable() });
export type FsEntry = z.infer<typeof FsEntrySchema>;

const Empty = z.strictObject({});
const Ok = z.strictObject({ ok: z.literal(true) });

// ---------- channels ----------

interface ChannelDef<K extends 'call' | 'job', Req extends z.ZodType, Res extends z.ZodType> {
  readonly kind: K;
  readonly request: Req;
  readonly response: Res;
  /** What the channel does, for docs/DESKTOP.md and the fuzz tests' reports. */
  readonly summary: string;
}

function call<Req extends z.ZodType, Res extends z.ZodType>(request: Req, response: Res, summary: string): ChannelDef<'call', Req, Res> {
  return { kind: 'call', request, response, summary };
}
function job<Req extends z.ZodType, Res extends z.ZodType>(request: Req, response: Res, summary: string): ChannelDef<'job', Req, Res> {
  return { kind: 'job', request, response, summary };
}

export const CHANNELS = {
  'app.info': call(
    Empty,
    z.strictObject({
      appVersion: z.string(),
      front: z.enum(['electron', 'web']),
      versions: z.record(z.string(), z.string()),
      home: z.string(),
      sep: z.string(),
      /** Where saved secrets rest: sealed by the OS keychain, or in the settings file only this user can read. */
      secretStorage: z.enum(['keychain', 'file']),
    }),
    'versions (for About), which front this is, the home folder, where secrets are kept',
  ),
  'app.openedFile': call(
    Empty,
    z.strictObject({ path: PathSchema.nullable() }),
    'the .chatsafe bundle the operating system last handed to the desktop app, once (null when none; always null in web mode)',
  ),
  'settings.get': call(Empty, SettingsSchema, 'the saved settings'),
  'settings.set': call(SettingsSchema.partial().strict(), SettingsSchema, 'changes settings; returns them all'),
  'profiles.list': call(Empty, z.strictObject({ profiles: z.array(StorageProfileSchema) }), 'saved storage destinations (never their secrets)'),
  'profiles.save': call(
    z.strictObject({
      /** Absent: a new profile. */
      id: IdSchema.optional(),
      name: ProfileNameSchema,
      target: StorageTargetSchema,
      /** A new S3 secret key or WebDAV password; absent keeps the saved one. */
      secret: StorageSecretSchema.optional(),
    }),
    StorageProfileSchema,
    'adds or changes a saved destination; its secret is sealed and never sent back',
  ),
  'profiles.remove': call(z.strictObject({ id: IdSchema }), Ok, 'forgets a saved destination and its secret'),
  'fs.list': call(
    z.strictObject({ path: PathSchema.optional(), showHidden: z.boolean().optional() }),
    z.strictObject({ path: z.string(), parent: z.string().nullable(), entries: z.array(FsEntrySchema), truncated: z.boolean() }),
    'a folder listing for the in-app file browser',
  ),
  'dialog.open': call(
    z.strictObject({ pick: z.enum(['file', 'folder', 'file-or-folder']), title: z.string().max(200) }),
    z.strictObject({ path: z.string().nullable() }),
    'native open dialog (desktop app only)',
  ),
  'dialog.save': call(
    z.strictObject({ defaultName: z.string().max(255), title: z.string().max(200) }),
    z.strictObject({ path: z.string().nullable() }),
    'native save dialog (desktop app only)',
  ),
  'shell.openExternal': call(z.strictObject({ url: z.string().max(2048) }), Ok, 'opens an allow-listed web page in the system browser'),
  'key.generate': call(Empty, z.strictObject({ key: z.string() }), 'a new random 64-digit key, in groups of four'),
  'password.assess': call(
    z.strictObject({ password: z.string().max(1024) }),
    z.strictObject({ score: z.number(), acceptable: z.boolean(), feedback: z.string() }),
    'password strength for the meter',
  ),
  'sample.create': call(Empty, z.strictObject({ path: z.string() }), 'writes a small made-up chat export to try the app with'),
  'storage.check': call(
    z.strictObject({ address: AddressSchema, purpose: z.enum(['new', 'existing']) }),
    z.strictObject({ ok: z.boolean(), message: z.string() }),
    'connection check for a destination',
  ),
  'vault.check': call(z.strictObject({ url: VaultUrlSchema }), z.strictObject({ ok: z.boolean(), message: z.string() }), 'is a key vault reachable there'),
  'inspect.header': call(z.strictObject({ address: AddressSchema }), HeaderInfoSchema, 'cleartext header of a repository or bundle, no key needed'),
  'repo.unlock': call(
    z.strictObject({ address: AddressSchema, credential: CredentialSchema }),
    z.strictObject({ sessionId: IdSchema, kind: z.enum(['repository', 'bundle']), snapshots: z.array(SnapshotInfoSchema) }),
    'opens a repository or bundle with the key or password; the session keeps it open',
  ),
  'session.close': call(z.strictObject({ sessionId: IdSchema }), Ok, 'forgets an unlocked repository'),
  'catalog.open': call(
    z.strictObject({ sessionId: IdSchema, snapshot: SnapshotRefSchema }),
    z.strictObject({ catalogId: IdSchema, chats: z.array(ChatSchema), counts: z.record(z.string(), z.number()) }),
    'decrypts a snapshot\'s chat catalog into a private temp file and lists its chats',
  ),
  'catalog.messages': call(
    z.strictObject({
      catalogId: IdSchema,
      chatId: z.number().int().nonnegative(),
      offset: z.number().int().min(0).max(10_000_000),
      limit: z.number().int().min(1).max(2000),
    }),
    z.strictObject({ total: z.number(), messages: z.array(MessageSchema) }),
    'one window of a chat\'s messages, by position, for the virtualized list',
  ),
  'catalog.search': call(
    z.strictObject({ catalogId: IdSchema, query: z.string().max(500), chatId: z.number().int().nonnegative().optional() }),
    z.strictObject({ hits: z.array(SearchHitSchema) }),
    'full-text search',
  ),
  'catalog.position': call(
    z.strictObject({ catalogId: IdSchema, messageId: z.number().int().nonnegative() }),
    z.strictObject({ chatId: z.number(), offset: z.number() }),
    'where a message sits in its chat (to scroll to a search hit)',
  ),
  'catalog.media': call(
    z.strictObject({ catalogId: IdSchema, messageId: z.number().int().nonnegative() }),
    z.strictObject({ mime: z.string(), dataBase64: z.string() }),
    'a media file of a message, for preview',
  ),
  'catalog.exportHtml': call(
    z.strictObject({ catalogId: IdSchema, chatIds: z.array(z.number().int().nonnegative()).max(10_000).optional(), outDir: PathSchema }),
    z.strictObject({ path: z.string(), chats: z.number(), files: z.number() }),
    'writes chats as static HTML pages into a new folder, readable offline',
  ),
  'catalog.close': call(z.strictObject({ catalogId: IdSchema }), Ok, 'deletes the decrypted catalog'),
  'diagnostics.report': call(
    z.strictObject({ address: AddressSchema, sessionId: IdSchema.optional() }),
    z.strictObject({ text: z.string() }),
    'a redacted report for a support ticket: no content, names, numbers or paths',
  ),
  'job.cancel': call(z.strictObject({ jobId: IdSchema }), z.strictObject({ cancelled: z.boolean() }), 'cancels a running job'),

  detect: job(z.strictObject({ path: PathSchema }), DetectionSchema, 'what a file or folder is and what is in it'),
  backup: job(
    z
      .strictObject({
        sources: z.array(PathSchema).min(1).max(64),
        address: AddressSchema,
        /** `create`: a new repository protected as given; `existing`: add a snapshot to one. */
        mode: z.enum(['create', 'existing']),
        /** How a new repository is protected, or the credential of an existing one. */
        protection: ProtectionSchema.optional(),
        /** An existing repository already unlocked in this session (instead of `protection`). */
        sessionId: IdSchema.optional(),
        keepLast: z.number().int().min(1).max(1000),
      })
      .refine((r) => (r.mode === 'create' ? r.protection !== undefined && r.sessionId === undefined : (r.protection === undefined) !== (r.sessionId === undefined)), {
        message: 'a new repository needs its protection; an existing one needs either its credential or an unlocked session',
      }),
    z.strictObject({
      snapshotId: z.string(),
      files: z.number(),
      bytes: z.number(),
      storedBytes: z.number(),
      newBytes: z.number(),
      chats: z.number().nullable(),
      messages: z.number().nullable(),
      forgotten: z.number(),
      location: z.string(),
    }),
    'imports the chat catalog, backs up, verifies, applies retention',
  ),
  restore: job(
    z.strictObject({ sessionId: IdSchema, snapshot: SnapshotRefSchema, target: PathSchema }),
    z.strictObject({ files: z.number(), bytes: z.number(), target: z.string() }),
    'restores a snapshot (or the bundle) into an empty or new folder',
  ),
  check: job(
    z.strictObject({ address: AddressSchema, sessionId: IdSchema.optional(), readData: z.boolean() }),
    CheckReportSchema,
    'integrity check, with or without the key',
  ),
  export: job(
    z.strictObject({ sessionId: IdSchema, snapshot: SnapshotRefSchema, outPath: PathSchema }),
    z.strictObject({ path: z.string(), bytes: z.number(), files: z.number() }),
    'writes one snapshot as a .chatsafe bundle',
  ),
  prune: job(
    z.strictObject({ sessionId: IdSchema, keepLast: z.number().int().min(1).max(1000) }),
    z.strictObject({ forgotten: z.number(), removedPacks: z.number() }),
    'keeps the newest N snapshots and removes unused data',
  ),
} as const;

export type Channels = typeof CHANNELS;
export type ChannelName = keyof Channels;
export type CallChannel = { [K in ChannelName]: Channels[K]['kind'] extends 'call' ? K : never }[ChannelName];
export type JobChannel = { [K in ChannelName]: Channels[K]['kind'] extends 'job' ? K : never }[ChannelName];
export type RequestOf<C extends ChannelName> = z.input<Channels[C]['request']>;
export type ResponseOf<C extends ChannelName> = z.output<Channels[C]['response']>;

export const CHANNEL_NAMES = Object.keys(CHANNELS) as ChannelName[];
export function isChannelName(name: unknown): name is ChannelName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(CHANNELS, name);
}

// ---------- results and events ----------

/** Error kinds a front can meet: the core's kinds plus `internal` (a bug, reported without details). */
export const ERROR_KINDS = [
  'usage',
  'wrong-key',
  'integrity',
  'not-found',
  'conflict',
  'cancelled',
  'unsupported',
  'io',
  'locked-out',
  'forbidden',
  'internal',
] as const;
export type AppErrorKind = (typeof ERROR_KINDS)[number];

export const AppErrorSchema = z.strictObject({
  kind: z.enum(ERROR_KINDS),
  message: z.string(),
  hint: z.string().nullable(),
  /** Set for a key that is one digit off. */
  suggestion: z.strictObject({ group: z.number(), digit: z.number(), typed: z.string(), suggested: z.string() }).nullable(),
  /** Set for a wrong password: guesses the vault still allows. */
  attemptsLeft: z.number().nullable(),
});
export type AppError = z.infer<typeof AppErrorSchema>;

/** Every answer is a result: never a thrown exception, never a stack trace. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: AppError };

/** The envelope of a job request: the front chooses the id, so it can cancel before the answer. */
export const JobEnvelopeSchema = z.strictObject({ jobId: IdSchema, request: z.unknown() });

export interface JobProgressEvent {
  readonly jobId: string;
  readonly progress: Progress;
}

/**
 * What the Electron preload exposes as `window.chatsafe`: one object, five
 * functions, no raw ipcRenderer. The renderer wraps it into its typed API.
 */
export interface PreloadBridge {
  call(channel: string, request: unknown): Promise<Result<unknown>>;
  job(channel: string, jobId: string, request: unknown): Promise<Result<unknown>>;
  onProgress(listener: (jobId: string, progress: Progress) => void): () => void;
  /** The path of a dropped file (Electron's webUtils; a plain browser never reveals it). */
  pathForFile(file: File): string;
  /** Main signals that the OS handed over a bundle; it carries nothing: the listener asks `app.openedFile`. */
  onOpenFile(listener: () => void): () => void;
}

/** The IPC channel names between preload and main. */
export const IPC = { call: 'chatsafe:call', job: 'chatsafe:job', progress: 'chatsafe:progress', openedFile: 'chatsafe:opened-file' } as const;
