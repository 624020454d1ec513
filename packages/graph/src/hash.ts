// Structural identity of graphs, for merging equal nodes and for cache keys that come
// from the structure itself. Two variables are structurally equal when they are the
// same leaf (symbolic inputs and shared variables by identity), or constants of equal
// dtype, shape and bits, or outputs of the same op with equal attributes (compared
// independently of key order) applied to structurally equal inputs. Names and source
// locations do not count. structuralHash is a 53-bit summary (two 32-bit lanes folded)
// memoised per variable; equal graphs hash equal, and structurallyEqual confirms.
// Walks are iterative, so deep graphs do not overflow the stack.

import { Constant, type Variable } from './graph.ts';
import { topologicalOrder } from './traverse.ts';

const hashes = new WeakMap<Variable, number>();
const knownEqual = new WeakMap<Variable, WeakSet<Variable>>();

// ---- a small two-lane string/number mixer (MurmurHash3's finaliser per lane) ----

class Hasher {
  #a = 0x811c9dc5;
  #b = 0x01000193;
  word(value: number): this {
    this.#a = Math.imul(this.#a ^ (value >>> 0), 0xcc9e2d51);
    this.#a = Math.imul((this.#a << 15) | (this.#a >>> 17), 0x1b873593);
    this.#b = Math.imul(this.#b + (value >>> 0), 0x85ebca6b) ^ (this.#b >>> 13);
    this.#b = Math.imul(this.#b ^ (this.#b >>> 16), 0xc2b2ae35);
    return this;
  }
  text(value: string): this {
    this.word(value.length);
    for (let i = 0; i < value.length; i++) this.word(value.charCodeAt(i));
    return this;
  }
  bytes(data: Uint8Array): this {
    this.word(data.length);
    for (let i = 0; i < data.length; i += 4) {
      this.word(data[i]! | ((data[i + 1] ?? 0) << 8) | ((data[i + 2] ?? 0) << 16) | ((data[i + 3] ?? 0) << 24));
    }
    return this;
  }
  digest(): number {
    const mix = (h: number): number => {
      h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
      h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
      return (h ^ (h >>> 16)) >>> 0;
    };
    return mix(this.#a) * 0x200000 + (mix(this.#b ^ this.#a) >>> 11);
  }
}

/** Attributes as text with object keys sorted, so `{a, b}` and `{b, a}` agree; -0 and NaN are kept apart. */
export function canonicalAttrs(value: unknown): string {
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (value === null || value === undefined || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalAttrs).join(',')}]`;
  if (typeof value === 'object' && 'structuralKey' in (value as object)) return `#${(value as { structuralKey: string }).structuralKey}`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalAttrs(v)}`).join(',')}}`;
  }
  throw new Error(`attribute value ${String(value)} cannot be hashed`);
}

const bytesOf = (constant: Constant): Uint8Array => {
  const data = constant.value.data;
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
};

function ownHash(variable: Variable): number {
  const hasher = new Hasher().text(variable.kind);
  if (variable instanceof Constant) {
    hasher.text(variable.dtype).text(variable.shape.join(',')).bytes(bytesOf(variable));
  } else if (variable.owner) {
    hasher.text(variable.owner.op).text(canonicalAttrs(variable.owner.attrs));
    for (const input of variable.owner.inputs) hasher.word(hashes.get(input)! / 0x200000).word(hashes.get(input)!);
  } else {
    hasher.word(variable.id);
  }
  return hasher.digest();
}

/** A hash of the variable's structure; equal structures hash equal. */
export function structuralHash(variable: Variable): number {
  const known = hashes.get(variable);
  if (known !== undefined) return known;
  for (const current of topologicalOrder([variable], (other) => hashes.has(other))) hashes.set(current, ownHash(current));
  return hashes.get(variable)!;
}

function sameBytes(a: Constant, b: Constant): boolean {
  const [x, y] = [bytesOf(a), bytesOf(b)];
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** Whether two variables agree on everything but their inputs. */
function locallyEqual(a: Variable, b: Variable): boolean {
  if (a.kind !== b.kind) return false;
  if (a instanceof Constant || b instanceof Constant) {
    return a instanceof Constant && b instanceof Constant && a.dtype === b.dtype && a.shape.join(',') === b.shape.join(',') && sameBytes(a, b);
  }
  if (!a.owner || !b.owner) return false; // distinct inputs or shared variables
  return a.owner.op === b.owner.op && a.owner.inputs.length === b.owner.inputs.length && canonicalAttrs(a.owner.attrs) === canonicalAttrs(b.owner.attrs);
}

const isKnownEqual = (a: Variable, b: Variable): boolean => a === b || (knownEqual.get(a)?.has(b) ?? false);

function rememberEqual(a: Variable, b: Variable): void {
  for (const [x, y] of [[a, b], [b, a]] as const) {
    let set = knownEqual.get(x);
    if (!set) knownEqual.set(x, (set = new WeakSet()));
    set.add(y);
  }
}

/** True structural equality (not just equal hashes), memoised across calls. */
export function structurallyEqual(a: Variable, b: Variable): boolean {
  if (isKnownEqual(a, b)) return true;
  if (structuralHash(a) !== structuralHash(b)) return false;
  const visited: [Variable, Variable][] = [];
  const seen = new Map<Variable, Set<Variable>>();
  const pending: [Variable, Variable][] = [[a, b]];
  while (pending.length > 0) {
    const [x, y] = pending.pop()!;
    if (isKnownEqual(x, y) || seen.get(x)?.has(y)) continue;
    if (structuralHash(x) !== structuralHash(y) || !locallyEqual(x, y)) return false;
    if (!seen.has(x)) seen.set(x, new Set());
    seen.get(x)!.add(y);
    visited.push([x, y]);
    x.owner?.inputs.forEach((input, i) => pending.push([input, y.owner!.inputs[i]!]));
  }
  for (const [x, y] of visited) rememberEqual(x, y);
  return true;
}
