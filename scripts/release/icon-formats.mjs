// The two icon containers the installers need, written from rendered images.
//
// ICO (Windows): a 6-byte header, one 16-byte directory entry per image, then
// the images. The 256 px image is stored as PNG (Windows Vista and later read
// PNG entries); the smaller ones as 32-bit BGRA bitmaps with an all-zero AND
// mask, the form every Windows tool (and NSIS's installer icon) reads.
//
// ICNS (macOS): the magic 'icns' and the total length, then one chunk per
// image: a four-letter type, the chunk length (header included), PNG data.
// All lengths are big-endian. The types say the size in points and the scale
// (ic11 = 16 pt @2x = 32 px), as Apple's iconutil writes them.

/** ICNS chunk types and the pixel size each one holds. */
export const ICNS_TYPES = Object.freeze({
  icp4: 16,
  icp5: 32,
  ic11: 32,
  ic12: 64,
  ic07: 128,
  ic13: 256,
  ic08: 256,
  ic14: 512,
  ic09: 512,
  ic10: 1024,
});

/** The pixel sizes a Windows icon carries. */
export const ICO_SIZES = Object.freeze([16, 24, 32, 48, 64, 128, 256]);

/**
 * @param {Array<{ size: number, png: Buffer, rgba: Buffer }>} images
 *   square images; `rgba` is straight (not premultiplied) RGBA, top row first
 * @returns {Buffer}
 */
export function encodeIco(images) {
  const bodies = images.map((img) => (img.size >= 256 ? img.png : bitmap(img.size, img.rgba)));
  const header = Buffer.alloc(6 + 16 * images.length);
  header.writeUInt16LE(0, 0); // reserved
  header.writeUInt16LE(1, 2); // 1 = icon
  header.writeUInt16LE(images.length, 4);
  let offset = header.length;
  images.forEach((img, i) => {
    const e = 6 + 16 * i;
    const body = /** @type {Buffer} */ (bodies[i]);
    header.writeUInt8(img.size >= 256 ? 0 : img.size, e); // 0 means 256
    header.writeUInt8(img.size >= 256 ? 0 : img.size, e + 1);
    header.writeUInt8(0, e + 2); // no palette
    header.writeUInt8(0, e + 3); // reserved
    header.writeUInt16LE(1, e + 4); // colour planes
    header.writeUInt16LE(32, e + 6); // bits per pixel
    header.writeUInt32LE(body.length, e + 8);
    header.writeUInt32LE(offset, e + 12);
    offset += body.length;
  });
  return Buffer.concat([header, ...bodies]);
}

/** A 32-bit BMP icon image: BITMAPINFOHEADER, BGRA rows bottom-up, AND mask. */
function bitmap(size, rgba) {
  if (rgba.length !== size * size * 4) throw new Error(`icon image ${size}x${size} has ${rgba.length} bytes of pixels`);
  const maskRow = Math.ceil(size / 32) * 4; // 1 bit per pixel, rows padded to 32 bits
  const out = Buffer.alloc(40 + size * size * 4 + maskRow * size);
  out.writeUInt32LE(40, 0); // header size
  out.writeInt32LE(size, 4);
  out.writeInt32LE(size * 2, 8); // height counts the XOR image and the AND mask
  out.writeUInt16LE(1, 12); // planes
  out.writeUInt16LE(32, 14); // bits per pixel
  out.writeUInt32LE(0, 16); // BI_RGB, uncompressed
  out.writeUInt32LE(size * size * 4 + maskRow * size, 20);
  for (let y = 0; y < size; y++) {
    const src = y * size * 4;
    const dst = 40 + (size - 1 - y) * size * 4;
    for (let x = 0; x < size; x++) {
      const s = src + x * 4;
      const d = dst + x * 4;
      out[d] = rgba[s + 2] ?? 0;
      out[d + 1] = rgba[s + 1] ?? 0;
      out[d + 2] = rgba[s] ?? 0;
      out[d + 3] = rgba[s + 3] ?? 0;
    }
  }
  return out; // the AND mask stays zero: transparency comes from the alpha channel
}

/**
 * @param {Map<number, Buffer>} pngsBySize PNG images by pixel size; every size in ICNS_TYPES must be present
 * @returns {Buffer}
 */
export function encodeIcns(pngsBySize) {
  const chunks = Object.entries(ICNS_TYPES).map(([type, size]) => {
    const png = pngsBySize.get(size);
    if (!png) throw new Error(`no ${size}x${size} image for the ICNS chunk ${type}`);
    const head = Buffer.alloc(8);
    head.write(type, 0, 'latin1');
    head.writeUInt32BE(png.length + 8, 4);
    return Buffer.concat([head, png]);
  });
  const head = Buffer.alloc(8);
  head.write('icns', 0, 'latin1');
  head.writeUInt32BE(8 + chunks.reduce((n, c) => n + c.length, 0), 4);
  return Buffer.concat([head, ...chunks]);
}
