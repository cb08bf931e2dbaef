/**
 * WhatsApp keeps its key files as a Java-serialized `byte[]` (what
 * ObjectOutputStream.writeObject writes for a byte array). The layout is
 * fixed, so it is checked byte by byte rather than with a general
 * deserializer:
 *
 *   AC ED 00 05          stream magic and version
 *   75                   TC_ARRAY
 *   72                   TC_CLASSDESC
 *   00 02 5B 42          class name "[B"
 *   8 bytes              serialVersionUID (any value accepted)
 *   02                   flags: SC_SERIALIZABLE
 *   00 00                no fields
 *   78 70                TC_ENDBLOCKDATA, TC_NULL (no superclass)
 *   4 bytes big-endian   array length n
 *   n bytes              the array
 */

const PREFIX = Buffer.from([0xac, 0xed, 0x00, 0x05, 0x75, 0x72, 0x00, 0x02, 0x5b, 0x42]);
const AFTER_UID = Buffer.from([0x02, 0x00, 0x00, 0x78, 0x70]);
const UID_LENGTH = 8;
const HEADER_LENGTH = PREFIX.length + UID_LENGTH + AFTER_UID.length + 4;

/** True when the bytes start like a Java serialization stream. */
export function looksJavaSerialized(buf: Buffer): boolean {
  return buf.length >= 2 && buf[0] === 0xac && buf[1] === 0xed;
}

/** The array inside a serialized `byte[]`, or null when the bytes are anything else (or have extra bytes after it). */
export function readJavaByteArray(buf: Buffer): Buffer | null {
  if (buf.length < HEADER_LENGTH) return null;
  if (!buf.subarray(0, PREFIX.length).equals(PREFIX)) return null;
  const afterUid = PREFIX.length + UID_LENGTH;
  if (!buf.subarray(afterUid, afterUid + AFTER_UID.length).equals(AFTER_UID)) return null;
  const length = buf.readUInt32BE(HEADER_LENGTH - 4);
  if (buf.length !== HEADER_LENGTH + length) return null;
  return buf.subarray(HEADER_LENGTH);
}
