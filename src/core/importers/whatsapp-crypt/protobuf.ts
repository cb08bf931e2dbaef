/**
 * Just enough of the protobuf wire format to read WhatsApp's backup header:
 * varints and length-delimited fields, with every length checked against the
 * bytes actually present. Unknown fields are skipped; malformed input returns
 * null instead of throwing, so callers can try another reading of the bytes.
 */

/** One field of a message: its number and either a varint value or a byte slice. */
export type ProtoField =
  | { readonly field: number; readonly wire: 'varint'; readonly value: bigint }
  | { readonly field: number; readonly wire: 'bytes'; readonly value: Buffer };

/** Longest varint protobuf allows (64 bits in 7-bit groups). */
const MAX_VARINT_BYTES = 10;

/** Reads a varint at `offset`: its value and the offset after it, or null when malformed or cut short. */
export function readVarint(buf: Buffer, offset: number): { value: bigint; next: number } | null {
  let value = 0n;
  for (let i = 0; i < MAX_VARINT_BYTES; i += 1) {
    const byte = buf[offset + i];
    if (byte === undefined) return null;
    value |= BigInt(byte & 0x7f) << BigInt(7 * i);
    if ((byte & 0x80) === 0) return { value, next: offset + i + 1 };
  }
  return null;
}

/**
 * Splits a whole message into its top-level fields. Returns null unless the
 * bytes are exactly a well-formed sequence of fields (no trailing garbage, no
 * field number 0, no deprecated groups).
 */
export function parseMessage(buf: Buffer): ProtoField[] | null {
  const fields: ProtoField[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const key = readVarint(buf, pos);
    if (!key) return null;
    pos = key.next;
    const field = Number(key.value >> 3n);
    const wireType = Number(key.value & 7n);
    if (field === 0 || field > 0x1fffffff) return null;
    switch (wireType) {
      case 0: {
        const v = readVarint(buf, pos);
        if (!v) return null;
        fields.push({ field, wire: 'varint', value: v.value });
        pos = v.next;
        break;
      }
      case 1: // fixed64: skipped, not used by the header
        if (pos + 8 > buf.length) return null;
        pos += 8;
        break;
      case 2: {
        const len = readVarint(buf, pos);
        if (!len || len.value > BigInt(buf.length - len.next)) return null;
        const end = len.next + Number(len.value);
        fields.push({ field, wire: 'bytes', value: buf.subarray(len.next, end) });
        pos = end;
        break;
      }
      case 5: // fixed32: skipped
        if (pos + 4 > buf.length) return null;
        pos += 4;
        break;
      default: // 3/4 are groups (never used here), 6/7 do not exist
        return null;
    }
  }
  return fields;
}

/** The last occurrence of a length-delimited field (protobuf's "last one wins"), or undefined. */
export function bytesField(fields: readonly ProtoField[], field: number): Buffer | undefined {
  let found: Buffer | undefined;
  for (const f of fields) if (f.field === field && f.wire === 'bytes') found = f.value;
  return found;
}

/** The last occurrence of a varint field, or undefined. */
export function varintField(fields: readonly ProtoField[], field: number): bigint | undefined {
  let found: bigint | undefined;
  for (const f of fields) if (f.field === field && f.wire === 'varint') found = f.value;
  return found;
}
