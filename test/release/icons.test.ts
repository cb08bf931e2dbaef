/**
 * `npm run icons` (scripts/make-icons.mjs): every size the installers need,
 * in valid PNG, ICO and ICNS containers, and the committed icons in build/
 * are exactly what the script makes from build/icon.svg. The containers are
 * read here by their documented layouts, independently of the writer.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tempDir } from '../helpers/tmp.js';
import { cleanEnv, REPO_ROOT, runScript } from './release-scripts.js';

const LINUX_SIZES = [16, 24, 32, 48, 64, 128, 256, 512, 1024];
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Width and height from a PNG's IHDR chunk, after checking the signature. */
function pngSize(png: Buffer): { width: number; height: number } {
  assert.ok(png.subarray(0, 8).equals(PNG_SIGNATURE), 'PNG signature');
  assert.equal(png.toString('latin1', 12, 16), 'IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

let out: { dir: string; cleanup: () => void };
before(() => {
  out = tempDir('chatsafe-icons-');
  const r = runScript('scripts/make-icons.mjs', ['--out', out.dir], cleanEnv());
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^wrote 12 icon files to /);
});
after(() => out.cleanup());
const made = (name: string) => readFileSync(join(out.dir, name));

describe('icons', () => {
  test('the Linux set and icon.png: every size, square, valid PNG', () => {
    assert.deepEqual(readdirSync(join(out.dir, 'icons')).sort(), LINUX_SIZES.map((n) => `${n}x${n}.png`).sort());
    for (const n of LINUX_SIZES) assert.deepEqual(pngSize(made(join('icons', `${n}x${n}.png`))), { width: n, height: n });
    assert.deepEqual(pngSize(made('icon.png')), { width: 1024, height: 1024 });
  });

  test('icon.ico: 16 to 256 px, bitmaps below 256 and PNG at 256', () => {
    const ico = made('icon.ico');
    assert.equal(ico.readUInt16LE(0), 0, 'reserved');
    assert.equal(ico.readUInt16LE(2), 1, 'type 1 = icon');
    const count = ico.readUInt16LE(4);
    const sizes: number[] = [];
    for (let i = 0; i < count; i++) {
      const e = 6 + 16 * i;
      const size = ico.readUInt8(e) || 256;
      assert.equal(ico.readUInt8(e + 1) || 256, size, 'square');
      assert.equal(ico.readUInt16LE(e + 6), 32, 'bits per pixel');
      const length = ico.readUInt32LE(e + 8);
      const offset = ico.readUInt32LE(e + 12);
      assert.ok(offset + length <= ico.length, 'image inside the file');
      const image = ico.subarray(offset, offset + length);
      if (size === 256) {
        assert.deepEqual(pngSize(image), { width: 256, height: 256 });
      } else {
        assert.equal(image.readUInt32LE(0), 40, 'BITMAPINFOHEADER');
        assert.equal(image.readInt32LE(4), size);
        assert.equal(image.readInt32LE(8), size * 2, 'height includes the AND mask');
        assert.equal(image.readUInt16LE(14), 32);
        assert.equal(length, 40 + size * size * 4 + Math.ceil(size / 32) * 4 * size);
        const alpha = [...Array(size * size).keys()].map((p) => image[40 + p * 4 + 3] ?? 0);
        assert.ok(alpha.some((a) => a === 0) && alpha.some((a) => a === 255), 'transparent corners, opaque body');
      }
      sizes.push(size);
    }
    assert.deepEqual(sizes, [16, 24, 32, 48, 64, 128, 256]);
  });

  test('icon.icns: the magic, the total length, every chunk a PNG of its type\'s size', () => {
    const icns = made('icon.icns');
    assert.equal(icns.toString('latin1', 0, 4), 'icns');
    assert.equal(icns.readUInt32BE(4), icns.length);
    const expected: Record<string, number> = { icp4: 16, icp5: 32, ic11: 32, ic12: 64, ic07: 128, ic13: 256, ic08: 256, ic14: 512, ic09: 512, ic10: 1024 };
    const seen: string[] = [];
    for (let at = 8; at < icns.length; ) {
      const type = icns.toString('latin1', at, at + 4);
      const length = icns.readUInt32BE(at + 4);
      assert.ok(length > 8 && at + length <= icns.length, `chunk ${type} inside the file`);
      const size = expected[type];
      assert.ok(size, `known chunk type ${type}`);
      assert.deepEqual(pngSize(icns.subarray(at + 8, at + length)), { width: size, height: size }, type);
      seen.push(type);
      at += length;
    }
    assert.deepEqual(seen.sort(), Object.keys(expected).sort());
  });

  test('the committed icons in build/ are exactly what the script makes from build/icon.svg', () => {
    const names = ['icon.png', 'icon.ico', 'icon.icns', ...LINUX_SIZES.map((n) => join('icons', `${n}x${n}.png`))];
    const stale = names.filter((name) => !readFileSync(join(REPO_ROOT, 'build', name)).equals(made(name)));
    assert.deepEqual(stale, [], 'out of date with build/icon.svg: run `npm run icons` and commit build/');
  });
});
