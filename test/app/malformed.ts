/**
 * Malformed requests for the fuzz tests, from a seeded generator: each is a
 * valid example of a channel with one thing broken (a field of the wrong
 * type, an unknown field, the wrong shape altogether, a broken job envelope),
 * or a channel that does not exist. The generator checks each against the
 * contract itself, so every request it yields is truly invalid.
 */
import { CHANNELS, CHANNEL_NAMES, JobEnvelopeSchema, type ChannelName } from '../../src/app/contract.js';

const JOB_ID = 'job-0123456789';
const SESSION = 'sess-0123456789';

/** One valid request per channel (the fuzz test checks that they are valid). */
export const VALID_EXAMPLES: Record<ChannelName, unknown> = {
  'app.info': {},
  'app.openedFile': {},
  'settings.get': {},
  'settings.set': { keepLast: 3, theme: 'dark' },
  'profiles.list': {},
  'profiles.save': { name: 'Office bucket', target: { kind: 's3', endpoint: 'https://s3.example.org', region: 'eu-west-1', bucket: 'chats', prefix: 'phone', accessKeyId: 'AKIAEXAMPLE', pathStyle: true }, secret: 's3cr3t' },
  'profiles.remove': { id: SESSION },
  'fs.list': { path: '/tmp', showHidden: false },
  'dialog.open': { pick: 'folder', title: 'Pick' },
  'dialog.save': { defaultName: 'a.html', title: 'Save' },
  'shell.openExternal': { url: 'https://chatsafe.app/help' },
  'key.generate': {},
  'password.assess': { password: 'x' },
  'sample.create': {},
  'storage.check': { address: '/tmp/x', purpose: 'new' },
  'vault.check': { url: 'https://vault.example.org' },
  'inspect.header': { address: '/tmp/x' },
  'repo.unlock': { address: '/tmp/x', credential: { kind: 'key', key: '00' } },
  'session.close': { sessionId: SESSION },
  'catalog.open': { sessionId: SESSION, snapshot: 'latest' },
  'catalog.messages': { catalogId: SESSION, chatId: 1, offset: 0, limit: 10 },
  'catalog.search': { catalogId: SESSION, query: 'a' },
  'catalog.position': { catalogId: SESSION, messageId: 1 },
  'catalog.media': { catalogId: SESSION, messageId: 1 },
  'catalog.exportHtml': { catalogId: SESSION, outDir: '/tmp/out' },
  'catalog.close': { catalogId: SESSION },
  'diagnostics.report': { address: '/tmp/x' },
  'job.cancel': { jobId: JOB_ID },
  detect: { path: '/tmp/x' },
  backup: { sources: ['/tmp/x'], address: '/tmp/r', mode: 'create', protection: { kind: 'key', key: '00' }, keepLast: 1 },
  restore: { sessionId: SESSION, snapshot: 'latest', target: '/tmp/t' },
  check: { address: '/tmp/x', readData: false },
  export: { sessionId: SESSION, snapshot: 'latest', outPath: '/tmp/b.chatsafe' },
  prune: { sessionId: SESSION, keepLast: 1 },
};

/** xorshift32: the same sequence on every run, so a failure can be replayed. */
export function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

const pick = <T>(rnd: () => number, list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;

function junk(rnd: () => number, depth = 0): unknown {
  const kinds = ['null', 'num', 'str', 'bool', 'arr', 'obj', 'big', 'nul', 'nan', 'neg'];
  switch (pick(rnd, depth > 2 ? kinds.slice(0, 4) : kinds)) {
    case 'null':
      return null;
    case 'num':
      return Math.floor(rnd() * 1e9) - 5e8;
    case 'str':
      return pick(rnd, ['', 'x', '../../etc/passwd', '<script>alert(1)</script>', 'latest', '\u202e', 'A'.repeat(5000)]);
    case 'bool':
      return rnd() < 0.5;
    case 'arr':
      return [junk(rnd, depth + 1), junk(rnd, depth + 1)];
    case 'obj':
      return JSON.parse(`{"__proto__": {"polluted": true}, "constructor": ${JSON.stringify(junk(rnd, depth + 1)) ?? 'null'}}`);
    case 'big':
      return 'x'.repeat(70_000);
    case 'nul':
      return '/tmp/a\u0000b';
    case 'nan':
      return pick(rnd, [Number.NaN, Number.POSITIVE_INFINITY]);
    default:
      return -1.5;
  }
}

function wrongTypeFor(value: unknown, rnd: () => number): unknown {
  for (let i = 0; i < 20; i++) {
    const v = junk(rnd);
    if (typeof v !== typeof value || Array.isArray(v) !== Array.isArray(value) || (typeof v === 'string' && rnd() < 0.3)) return v;
  }
  return Symbol.for('unreachable');
}

export interface Malformed {
  readonly channel: unknown;
  readonly payload: unknown;
  readonly what: string;
}

function isValid(channel: unknown, payload: unknown): boolean {
  if (typeof channel !== 'string' || !(CHANNEL_NAMES as string[]).includes(channel)) return false;
  const def = CHANNELS[channel as ChannelName];
  if (def.kind === 'call') return def.request.safeParse(payload).success;
  const env = JobEnvelopeSchema.safeParse(payload);
  return env.success && def.request.safeParse(env.data.request).success;
}

function breakRequest(example: unknown, rnd: () => number): { value: unknown; what: string } {
  const r = rnd();
  if (r < 0.2 || typeof example !== 'object' || example === null) return { value: junk(rnd), what: 'wrong shape' };
  const obj = example as Record<string, unknown>;
  if (r < 0.4) return { value: { ...obj, [pick(rnd, ['extra', 'isAdmin', '__defineGetter__'])]: junk(rnd) }, what: 'unknown field' };
  const keys = Object.keys(obj);
  if (keys.length === 0) return { value: { unexpected: 1 }, what: 'unknown field' };
  const key = pick(rnd, keys);
  if (r < 0.5) {
    const { [key]: _dropped, ...rest } = obj;
    return { value: rest, what: `missing ${key}` };
  }
  return { value: { ...obj, [key]: wrongTypeFor(obj[key], rnd) }, what: `bad ${key}` };
}

export function* malformedRequests(count: number, seed = 20261127): Generator<Malformed> {
  const rnd = prng(seed);
  let made = 0;
  while (made < count) {
    let m: Malformed;
    const r = rnd();
    if (r < 0.08) {
      m = { channel: pick(rnd, ['', 'admin.exec', 'app.info ', 'APP.INFO', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'x'.repeat(300)]), payload: {}, what: 'unknown channel' };
    } else if (r < 0.1) {
      m = { channel: junk(rnd), payload: {}, what: 'channel not a string' };
    } else {
      const channel = pick(rnd, CHANNEL_NAMES);
      const example = VALID_EXAMPLES[channel];
      if (CHANNELS[channel].kind === 'job') {
        const r2 = rnd();
        if (r2 < 0.3) {
          const env = breakRequest({ jobId: JOB_ID, request: example }, rnd);
          m = { channel, payload: env.value, what: `job envelope: ${env.what}` };
        } else {
          const req = breakRequest(example, rnd);
          m = { channel, payload: { jobId: JOB_ID, request: req.value }, what: `job request: ${req.what}` };
        }
      } else {
        const req = breakRequest(example, rnd);
        m = { channel, payload: req.value, what: req.what };
      }
    }
    if (isValid(m.channel, m.payload)) continue;
    made++;
    yield m;
  }
}
