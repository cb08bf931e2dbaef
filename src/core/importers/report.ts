/** Collects what an importer did not understand, for the import report. */
import type { MessageKind } from '../catalog/types.js';
import { toCount } from '../catalog/validate.js';
import type { ImportCounts, UnknownRows } from './types.js';

const MAX_EXAMPLES = 3;
/** Bound the number of distinct (where, value) pairs so hostile input cannot grow the report without limit. */
const MAX_DISTINCT = 200;

export class ReportCollector {
  readonly counts: ImportCounts = { chats: 0, messages: 0, media: 0, calls: 0, reactions: 0 };
  readonly warnings: string[] = [];
  private readonly unknowns = new Map<string, UnknownRows>();
  private overflow = 0;

  unknown(where: string, value: unknown, example: string | number, count = 1): void {
    const v = String(value ?? 'null').slice(0, 64);
    const key = `${where}\u0000${v}`;
    let entry = this.unknowns.get(key);
    if (!entry) {
      if (this.unknowns.size >= MAX_DISTINCT) {
        this.overflow += 1;
        return;
      }
      this.unknowns.set(key, (entry = { where, value: v, count: 0, examples: [] }));
    }
    entry.count += count;
    if (entry.examples.length < MAX_EXAMPLES) entry.examples.push(String(example));
  }

  warn(message: string): void {
    if (this.warnings.length < 100 && !this.warnings.includes(message)) this.warnings.push(message);
  }

  unknownList(): UnknownRows[] {
    const list = [...this.unknowns.values()].sort((a, b) => b.count - a.count);
    if (this.overflow > 0) list.push({ where: 'other', value: 'more distinct unknown values', count: this.overflow, examples: [] });
    return list;
  }
}

/** A source's numeric message type through its table of known codes; unknown codes become kind "unknown" and are reported. */
export function kindFromCode(report: ReportCollector, where: string, raw: unknown, codes: Record<number, MessageKind>, example: string | number): MessageKind {
  const code = toCount(raw);
  const kind = code !== null ? codes[code] : undefined;
  if (kind) return kind;
  report.unknown(where, raw, example);
  return 'unknown';
}
