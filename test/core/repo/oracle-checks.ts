/**
 * Checking a hand-written validator against the zod schema it replaced (the
 * oracle): a table of hostile documents both must refuse, the validator naming
 * the bad field; and seeded random mutations of a valid document, each parsed
 * by both as it would arrive from storage, on which they must agree: the same
 * acceptance and, when they accept, the same value.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JsonValidator } from '../../../src/core/repo/json-shape.js';

/** What the tests need of a zod schema, without the test helpers depending on zod's types. */
export interface Oracle {
  safeParse(json: unknown): { success: boolean; data?: unknown };
}

/** Deep copy through JSON, as documents arrive in practice. */
export const viaJson = (x: unknown): unknown => JSON.parse(JSON.stringify(x)) as unknown;

/** Turns a copy of a valid document into a hostile one. */
export type Mutation = (doc: any) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any

/** One row of a hostile-input table: what it is, how to make it, and the path the validator must name. */
export type HostileCase = readonly [what: string, mutate: Mutation, path: string];

export function assertRefusedLikeOracle(validator: JsonValidator<unknown>, oracle: Oracle, make: () => unknown, table: readonly HostileCase[]): void {
  for (const [what, mutate, path] of table) {
    const doc = viaJson(mutate(viaJson(make())));
    const ours = validator.safeParse(doc);
    assert.equal(ours.success, false, `${what} was accepted`);
    if (ours.success) continue;
    assert.equal(ours.error.issues[0]?.path.join('.'), path, what);
    assert.ok((ours.error.issues[0]?.message.length ?? 0) > 0, what);
    assert.equal(oracle.safeParse(doc).success, false, `${what}: the table is wrong, the former schema accepted it`);
  }
}

/** mulberry32: a seeded PRNG, so a failure reproduces. */
/** What a kind of document's hostile table needs: its name, both parsers, a valid document and the table. */
export type HostileTable = readonly [kind: string, validator: JsonValidator<unknown>, oracle: Oracle, make: () => unknown, table: readonly HostileCase[]];

/** One test per kind of document: every row of its table refused, the bad field named, as the former schema refuses it. */
export function testHostileTables(tables: readonly HostileTable[]): void {
  for (const [kind, validator, oracle, make, table] of tables) {
    test(`hostile ${kind}s are refused naming the bad field, as by the former schema`, () => assertRefusedLikeOracle(validator, oracle, make, table));
  }
}

export function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Place {
  readonly parent: Record<string, unknown> | unknown[];
  readonly key: string | number;
}

/** Every property and element of a document, so a mutation can land anywhere. */
function places(x: unknown, out: Place[] = []): Place[] {
  if (Array.isArray(x)) {
    x.forEach((v, i) => {
      out.push({ parent: x, key: i });
      places(v, out);
    });
  } else if (typeof x === 'object' && x !== null) {
    for (const [k, v] of Object.entries(x)) {
      out.push({ parent: x as Record<string, unknown>, key: k });
      places(v, out);
    }
  }
  return out;
}

/** What a mutation may put in: values on or next to some rule's boundary, and key names (known ones and strangers). */
export interface MutationVocabulary {
  readonly values: readonly unknown[];
  readonly keys: readonly string[];
  /** Inserted into strings by small edits. */
  readonly fragments: readonly string[];
}

export function mutate(doc: unknown, random: () => number, vocabulary: MutationVocabulary): unknown {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const all = places(doc);
  if (all.length === 0) return pick(vocabulary.values);
  const { parent, key } = pick(all);
  const p = parent as Record<string | number, unknown>;
  switch (Math.floor(random() * 6)) {
    case 0: // another value
      p[key] = structuredClone(pick(vocabulary.values));
      break;
    case 1: // the value from another place of the document (often valid there too)
      p[key] = structuredClone(pick(all).parent[pick(all).key as never]);
      break;
    case 2: // gone
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete p[key];
      break;
    case 3: {
      // a key added to some object
      const objects = all.map((s) => s.parent).filter((o) => !Array.isArray(o));
      if (objects.length > 0) {
        Object.defineProperty(pick(objects), pick(vocabulary.keys), { value: structuredClone(pick(vocabulary.values)), enumerable: true, configurable: true, writable: true });
      }
      break;
    }
    case 4: // an element repeated or two swapped (order and uniqueness)
      if (Array.isArray(parent) && parent.length > 1) {
        const j = Math.floor(random() * parent.length);
        if (random() < 0.5) parent.splice(j, 0, structuredClone(parent[key as number]));
        else [parent[j], parent[key as number]] = [parent[key as number], parent[j]];
      }
      break;
    default: // a small change to a string or number, keeping its type
      if (typeof p[key] === 'string') {
        const s = p[key];
        const i = Math.floor(random() * (s.length + 1));
        p[key] = s.slice(0, i) + pick(vocabulary.fragments) + s.slice(i + (random() < 0.5 ? 1 : 0));
      } else if (typeof p[key] === 'number') {
        p[key] = pick([(p[key] as number) + 1, (p[key] as number) - 1, -(p[key] as number), (p[key] as number) * 2, (p[key] as number) + 0.5]);
      }
  }
  return doc;
}

export interface Differential {
  readonly validator: JsonValidator<unknown>;
  readonly oracle: Oracle;
  readonly make: () => unknown;
  readonly seed: number;
  readonly documents: number;
  readonly vocabulary: MutationVocabulary;
  /** Also compare the JSON text, for validators that build a fresh object the way zod did rather than return the parsed one. */
  readonly sameKeyOrder: boolean;
}

/**
 * Mutates `documents` copies of a valid document one to three times each and
 * asserts both parsers agree, and return equal values when they accept.
 * Both outcomes must be well represented, or the comparison proves little.
 */
export function assertAgreeOnMutations({ validator, oracle, make, seed, documents, vocabulary, sameKeyOrder }: Differential): void {
  const random = prng(seed);
  let accepted = 0;
  for (let n = 0; n < documents; n++) {
    let doc: unknown = viaJson(make());
    const rounds = 1 + Math.floor(random() * 3);
    for (let r = 0; r < rounds; r++) doc = mutate(doc, random, vocabulary);
    // As it would arrive from storage; an own __proto__ key survives this.
    const text = JSON.stringify(doc);
    const ours = validator.safeParse(JSON.parse(text));
    const theirs = oracle.safeParse(JSON.parse(text));
    assert.equal(ours.success, theirs.success, `document ${n} (seed ${seed}): ${text.slice(0, 2000)}`);
    if (ours.success) {
      // Through JSON: chunk lists are held as bytes, and give back the same arrays.
      assert.deepEqual(viaJson(ours.data), theirs.data, `document ${n} (seed ${seed})`);
      if (sameKeyOrder) assert.equal(JSON.stringify(ours.data), JSON.stringify(theirs.data), `document ${n} (seed ${seed}): key order`);
      accepted++;
    } else {
      assert.ok(Array.isArray(ours.error.issues[0]?.path));
    }
  }
  assert.ok(accepted > documents / 20 && accepted < documents - documents / 20, `${accepted} of ${documents} accepted`);
}
