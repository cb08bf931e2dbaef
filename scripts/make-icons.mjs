#!/usr/bin/env node
// `npm run icons`: every icon the installers need, rendered from build/icon.svg.
//
//   node scripts/make-icons.mjs [--out DIR]     (default: build/)
//
// Writes icon.png (1024 px; electron-builder's fallback and the macOS/Linux
// source), icons/NxN.png for N in 16..1024 (the Linux icon set), icon.ico
// (Windows: 16..256) and icon.icns (macOS: 16..1024). The outputs are
// committed, because electron-builder needs them at build time;
// test/release/icons.test.ts checks that they are exactly what this script
// makes from the SVG. Each file is written to a temporary name and renamed
// when complete.
import { Resvg } from '@resvg/resvg-js';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeIcns, encodeIco, ICO_SIZES } from './release/icon-formats.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE = join(ROOT, 'build', 'icon.svg');
export const LINUX_SIZES = Object.freeze([16, 24, 32, 48, 64, 128, 256, 512, 1024]);

/** Renders the SVG at one square size: PNG bytes and straight RGBA pixels. */
function render(svg, size) {
  const image = new Resvg(svg, { fitTo: { mode: 'width', value: size }, font: { loadSystemFonts: false } }).render();
  if (image.width !== size || image.height !== size) throw new Error(`${SOURCE} must be square: rendered ${image.width}x${image.height} for ${size}`);
  return { size, png: Buffer.from(image.asPng()), rgba: unpremultiply(Buffer.from(image.pixels)) };
}

/** resvg hands out premultiplied RGBA; bitmaps in an ICO want it straight. */
function unpremultiply(px) {
  for (let i = 0; i < px.length; i += 4) {
    const a = px[i + 3] ?? 0;
    if (a === 0 || a === 255) continue;
    for (let c = 0; c < 3; c++) px[i + c] = Math.min(255, Math.round(((px[i + c] ?? 0) * 255) / a));
  }
  return px;
}

function writeAtomic(path, bytes) {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
}

export function makeIcons(outDir) {
  const svg = readFileSync(SOURCE);
  const images = new Map(LINUX_SIZES.map((size) => [size, render(svg, size)]));
  const at = (size) => /** @type {{ size: number, png: Buffer, rgba: Buffer }} */ (images.get(size));
  const written = [];
  const put = (name, bytes) => {
    writeAtomic(join(outDir, name), bytes);
    written.push(name);
  };
  for (const size of LINUX_SIZES) put(join('icons', `${size}x${size}.png`), at(size).png);
  put('icon.png', at(1024).png);
  put('icon.ico', encodeIco(ICO_SIZES.map(at)));
  put('icon.icns', encodeIcns(new Map([...images].map(([size, img]) => [size, img.png]))));
  return written;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--out');
  const out = i > 0 ? process.argv[i + 1] : join(ROOT, 'build');
  if (!out) {
    console.error('usage: node scripts/make-icons.mjs [--out DIR]');
    process.exit(2);
  }
  const files = makeIcons(resolve(out));
  console.log(`wrote ${files.length} icon files to ${out}`);
}
