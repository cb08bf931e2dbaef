#!/usr/bin/env node
// Metadata validation benchmark: times validating a parsed index file of 100,000 blobs and a
// tree of 10,000 file nodes with the repository's validators (what every backup does after
// decrypting its index files and loading its parent snapshot's trees), next to JSON.parse of
// the same text for scale. Best of several rounds; last line: one JSON object with the figures.
// Usage: npm run build && node bench/parse-metadata.mjs [--rounds N]
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '15' } } });
const ROUNDS = Number(values.rounds);
const root = resolve(fileURLToPath(import.meta.url), '..', '..');
const repoDir = join(root, 'dist', 'src', 'core', 'repo');
const { IndexFileSchema } = await import(join(repoDir, 'index-file.js'));
const { TreeSchema } = await import(join(repoDir, 'tree.js'));

const BLOBS = 100_000;
const BLOBS_PER_PACK = 250;
const NODES = 10_000;

// Deterministic ids: the same documents on every run.
const id = (label, n) => createHash('sha256').update(`${label}/${n}`).digest('hex');

function indexText() {
  const packs = [];
  for (let p = 0; p * BLOBS_PER_PACK < BLOBS; p++) {
    const blobs = [];
    let offset = 0;
    for (let b = 0; b < BLOBS_PER_PACK; b++) {
      const length = 1_000 + ((p * 7919 + b * 104_729) % 1_000_000);
      blobs.push({ id: id('blob', p * BLOBS_PER_PACK + b), type: b === 0 ? 'tree' : 'data', offset, length, rawLength: length + 17 });
      offset += length;
    }
    packs.push({ id: id('pack', p), size: offset, blobs });
  }
  return JSON.stringify({ v: 1, packs, supersedes: [id('old', 0)] });
}

function treeText() {
  const nodes = [];
  for (let n = 0; n < NODES; n++) {
    const name = `IMG-20240101-WA${String(n).padStart(5, '0')}.jpg`;
    const content = Array.from({ length: 1 + (n % 3) }, (_, k) => id(`chunk/${n}`, k));
    nodes.push({ name, type: 'file', mode: 0o644, mtimeNs: `17040672000${String(n).padStart(8, '0')}`, inode: String(1_000_000 + n), ctimeNs: '1704067200123456789', size: 50_000 + n, content });
  }
  return JSON.stringify({ nodes });
}

/** Best time in ms over the rounds; `validate` gets a fresh JSON.parse of `text` each round. */
function best(text, validate) {
  let parseMs = Infinity;
  let validateMs = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    let t = process.hrtime.bigint();
    const json = JSON.parse(text);
    parseMs = Math.min(parseMs, Number(process.hrtime.bigint() - t) / 1e6);
    t = process.hrtime.bigint();
    const result = validate(json);
    validateMs = Math.min(validateMs, Number(process.hrtime.bigint() - t) / 1e6);
    if (!result.success) throw new Error(`the generated document was refused: ${result.error.issues[0]?.path.join('.')}`);
  }
  return { parseMs, validateMs };
}

const index = best(indexText(), (j) => IndexFileSchema.safeParse(j));
const tree = best(treeText(), (j) => TreeSchema.safeParse(j));
const fmt = (ms) => `${ms.toFixed(2).padStart(7)} ms`;
console.log(`index file, ${BLOBS.toLocaleString('en')} blobs:  validate ${fmt(index.validateMs)}   (JSON.parse ${fmt(index.parseMs)})`);
console.log(`tree, ${NODES.toLocaleString('en')} file nodes:     validate ${fmt(tree.validateMs)}   (JSON.parse ${fmt(tree.parseMs)})`);
console.log(
  JSON.stringify({
    rounds: ROUNDS,
    index_validate_ms_per_100k_blobs: +index.validateMs.toFixed(3),
    index_json_parse_ms_per_100k_blobs: +index.parseMs.toFixed(3),
    tree_validate_ms_per_10k_nodes: +tree.validateMs.toFixed(3),
    tree_json_parse_ms_per_10k_nodes: +tree.parseMs.toFixed(3),
  }),
);
