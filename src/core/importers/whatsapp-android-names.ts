/**
 * Names for WhatsApp ids (jids): contact names from `wa.db` when it is there,
 * otherwise the phone number in international form. `@lid` ids (WhatsApp's
 * privacy ids since 2023) are mapped to phone jids through `jid_map` first.
 */
import type Database from 'better-sqlite3';
import type { ChatKind } from '../catalog/types.js';
import { cleanName } from '../catalog/validate.js';
import { openSourceDb, tableNames, columnNames } from './sqlite-source.js';

export class ContactNames {
  private readonly names = new Map<string, string>();

  /** Loads `wa_contacts` from a wa.db; returns how many names were read. Throws ChatsafeError for an unreadable file. */
  loadWaDb(path: string): number {
    const src = openSourceDb(path);
    try {
      if (!tableNames(src.db).has('wa_contacts')) return 0;
      const cols = columnNames(src.db, 'wa_contacts');
      const pick = ['display_name', 'wa_name', 'given_name'].filter((c) => cols.has(c));
      if (!cols.has('jid') || pick.length === 0) return 0;
      let n = 0;
      for (const row of src.db.prepare(`SELECT jid, ${pick.join(', ')} FROM wa_contacts`).iterate() as Iterable<Record<string, unknown>>) {
        const jid = typeof row.jid === 'string' ? row.jid : null;
        if (!jid) continue;
        const name = cleanName(row.display_name) ?? cleanName(row.wa_name) ?? cleanName(row.given_name);
        if (name && !this.names.has(jid)) {
          this.names.set(jid, name);
          n += 1;
        }
      }
      return n;
    } finally {
      src.close();
    }
  }

  set(jid: string, name: string): void {
    this.names.set(jid, name);
  }

  has(jid: string): boolean {
    return this.names.has(jid);
  }

  nameFor(jid: string | null): string | null {
    if (!jid) return null;
    return this.names.get(jid) ?? numberFromJid(jid);
  }
}

/** "491701234567@s.whatsapp.net" -> "+491701234567"; other jids are returned as they are. */
export function numberFromJid(jid: string): string {
  const m = /^(\d{5,20})(?::\d+)?@s\.whatsapp\.net$/.exec(jid);
  return m ? `+${m[1]}` : jid;
}

export function chatKindFromJid(jid: string | null): ChatKind {
  if (!jid) return 'unknown';
  if (jid === 'status@broadcast') return 'status';
  if (jid.endsWith('@g.us')) return 'group';
  if (jid.endsWith('@broadcast')) return 'broadcast';
  if (jid.endsWith('@newsletter')) return 'channel';
  if (jid.endsWith('@s.whatsapp.net') || jid.endsWith('@lid') || jid.endsWith('@c.us')) return 'direct';
  return 'unknown';
}

/** jid row id -> raw jid string, with `@lid` rows replaced by the phone jid they map to. */
export function loadJids(db: Database.Database, tables: Set<string>): Map<number, string> {
  const out = new Map<number, string>();
  if (!tables.has('jid')) return out;
  const cols = columnNames(db, 'jid');
  const raw = cols.has('raw_string') ? 'raw_string' : "user || '@' || server";
  for (const r of db.prepare(`SELECT _id, ${raw} AS raw, user, server FROM jid`).iterate() as Iterable<{ _id: number; raw: unknown; user: unknown; server: unknown }>) {
    const s = typeof r.raw === 'string' ? r.raw : typeof r.user === 'string' && typeof r.server === 'string' ? `${r.user}@${r.server}` : null;
    if (s && Number.isSafeInteger(r._id)) out.set(r._id, s.slice(0, 256));
  }
  if (tables.has('jid_map')) {
    for (const m of db.prepare('SELECT lid_row_id, jid_row_id FROM jid_map').iterate() as Iterable<{ lid_row_id: number; jid_row_id: number }>) {
      const phone = out.get(m.jid_row_id);
      if (phone && out.has(m.lid_row_id)) out.set(m.lid_row_id, phone);
    }
  }
  return out;
}
