/**
 * Structured logs, one JSON object per line. Callers pass fields explicitly
 * and only from an allow-list (route, status, duration, IP, account id,
 * outcome): request bodies, OPAQUE messages, tokens and keys never reach a
 * log line. Audit entries are logged too, marked `audit: true`.
 */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

const ALLOWED = new Set(['route', 'method', 'status', 'ms', 'ip', 'account', 'event', 'outcome', 'audit', 'node', 'listen', 'store', 'masterKey', 'maxAttempts', 'error', 'attemptsLeft', 'retryAfter', 'version']);

export interface Logger {
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

export function jsonLogger(out: NodeJS.WritableStream): Logger {
  const write = (level: string, msg: string, fields: LogFields = {}) => {
    const line: Record<string, unknown> = { time: new Date().toISOString(), level, msg };
    for (const [k, v] of Object.entries(fields)) if (ALLOWED.has(k) && v !== undefined) line[k] = v;
    out.write(`${JSON.stringify(line)}\n`);
  };
  return {
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}
