// The cpu device's expression renderer: a fused kernel's nodes as one JavaScript
// expression per element, the way render/builder.ts makes WGSL of them. The same
// partition (lower/partition.ts) decides what fuses; this renderer turns "v at index i"
// into JS, asking for its inputs' values at the indices it needs (elementwise ops
// broadcast the index, movement ops rewrite it). Values follow the reference evaluator
// bit for bit: each op computes in doubles with the op table's own scalar function and
// rounds to its dtype as the reference's store into a typed array does (float32 through
// Math.fround, int32 and uint32 wrapping, bool as 0/1), so a fused kernel equals the
// reference's op-by-op result. Ops it has no rule for raise Unsupported, and the kernel
// then runs on the reference evaluator (cpu/kernels.ts).
// Index legend: `index` holds JS integer expressions, one per axis of the variable.

import { resolveSlice, sliceLength, subtensorSource } from '../render/lowering.ts';
import { normalAt, uniformAt } from './random.ts';
import {
  binaryOps, castScalar, EvaluationError, formatShape, isFloat, opTable, promote, unaryOps,
  type BinaryOp, type DType, type SliceItem, type UnaryOp, type Variable,
} from '@theorbo/graph';

export class Unsupported extends Error {}

/** Rounds a double expression to how `dtype` stores it. */
export function rounded(dtype: DType, expr: string): string {
  switch (dtype) {
    case 'float32': return `Math.fround(${expr})`;
    case 'int32': return `((${expr}) | 0)`;
    case 'uint32': return `((${expr}) >>> 0)`;
    case 'bool': return `((${expr}) !== 0 ? 1 : 0)`;
    case 'float64': return expr;
  }
}

export function literal(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (Object.is(value, -0)) return '-0';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  return String(value);
}

/** Row-major offset of `index` in a buffer of `shape` (axes of size 1 contribute nothing). */
export function offsetOf(index: readonly string[], shape: readonly number[]): string {
  const terms: string[] = [];
  let stride = 1;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    if (shape[axis] !== 1 && index[axis] !== '0') terms.push(stride === 1 ? index[axis]! : `${index[axis]} * ${stride}`);
    stride *= shape[axis]!;
  }
  return terms.length === 0 ? '0' : terms.reverse().join(' + ');
}

function broadcastIndex(index: readonly string[], inShape: readonly (number | null)[], outNdim: number): string[] {
  const offset = outNdim - inShape.length;
  return inShape.map((dim, axis) => (dim === 1 ? '0' : index[axis + offset]!));
}

/** Float operations written inline (V8 inlines these; the table's closures would be calls). */
const inlineUnary: Partial<Record<UnaryOp, (a: string) => string>> = {
  neg: (a) => `(-${a})`, abs: (a) => `Math.abs(${a})`, exp: (a) => `Math.exp(${a})`, log: (a) => `Math.log(${a})`,
  sqrt: (a) => `Math.sqrt(${a})`, tanh: (a) => `Math.tanh(${a})`, square: (a) => `(${a} * ${a})`,
  reciprocal: (a) => `(1 / ${a})`, floor: (a) => `Math.floor(${a})`, ceil: (a) => `Math.ceil(${a})`,
  sin: (a) => `Math.sin(${a})`, cos: (a) => `Math.cos(${a})`, log1p: (a) => `Math.log1p(${a})`, expm1: (a) => `Math.expm1(${a})`,
};
const inlineBinary: Partial<Record<BinaryOp, (a: string, b: string) => string>> = {
  add: (a, b) => `(${a} + ${b})`, sub: (a, b) => `(${a} - ${b})`, mul: (a, b) => `(${a} * ${b})`, div: (a, b) => `(${a} / ${b})`,
  // Comparisons (a relu's mask, dropout's keep test) as the table's flag(a op b).
  eq: (a, b) => `(${a} === ${b} ? 1 : 0)`, ne: (a, b) => `(${a} !== ${b} ? 1 : 0)`, lt: (a, b) => `(${a} < ${b} ? 1 : 0)`,
  le: (a, b) => `(${a} <= ${b} ? 1 : 0)`, gt: (a, b) => `(${a} > ${b} ? 1 : 0)`, ge: (a, b) => `(${a} >= ${b} ? 1 : 0)`,
};
const unarySet = new Set<string>(unaryOps);
const binarySet = new Set<string>(binaryOps);

export class JsBuilder {
  /** Buffers read, in the order of the kernel function's parameters. */
  readonly reads: Variable[] = [];
  private readonly readNames = new Map<Variable, string>();
  /** Functions the code calls (the op table's scalars), passed in by name. */
  readonly helpers: unknown[] = [];
  private readonly helperNames = new Map<unknown, string>();
  /** Values already known by name (a reduction's accumulator, a row's results). */
  readonly overrides = new Map<Variable, string>();
  lines: string[] = [];
  private caches: Map<string, string>[] = [new Map()];
  private counter = 0;

  /** `computed`: the variables this kernel computes, never read from a buffer even where stored. */
  constructor(private readonly materialized: ReadonlySet<Variable>, private readonly computed: ReadonlySet<Variable>) {}

  buffer(variable: Variable): string {
    let name = this.readNames.get(variable);
    if (!name) {
      name = `b${this.reads.length}`;
      this.reads.push(variable);
      this.readNames.set(variable, name);
    }
    return name;
  }

  helper(fn: unknown): string {
    let name = this.helperNames.get(fn);
    if (!name) {
      name = `h${this.helpers.length}`;
      this.helpers.push(fn);
      this.helperNames.set(fn, name);
    }
    return name;
  }

  fresh(prefix = 't'): string {
    return `${prefix}${this.counter++}`;
  }

  bind(expr: string, prefix = 't'): string {
    if (/^-?[\w.]+$/.test(expr)) return expr;
    const name = this.fresh(prefix);
    this.lines.push(`const ${name} = ${expr};`);
    return name;
  }

  /** Runs `build` in a nested scope (a loop body) and returns its lines; its bindings stay inside. */
  scoped(build: () => void): string[] {
    const saved = this.lines;
    this.lines = [];
    this.caches.push(new Map());
    try {
      build();
      return this.lines;
    } finally {
      this.caches.pop();
      this.lines = saved;
    }
  }

  /** The value of `variable` at `index`, as a JS expression (a name or a literal). */
  value(variable: Variable, index: readonly string[]): string {
    const known = this.overrides.get(variable);
    if (known !== undefined) return known;
    if (variable.kind === 'constant' && variable.type.size === 1) return literal((variable as unknown as { value: { data: ArrayLike<number> } }).value.data[0]!);
    const key = `${variable.id}@${index.join(',')}`;
    for (let depth = this.caches.length - 1; depth >= 0; depth--) {
      const hit = this.caches[depth]!.get(key);
      if (hit !== undefined) return hit;
    }
    let result: string;
    if (!variable.owner || (this.materialized.has(variable) && !this.computed.has(variable))) {
      if (!this.materialized.has(variable)) throw new Unsupported(`${variable} is neither stored nor computed`);
      result = this.bind(`${this.buffer(variable)}[${offsetOf(index, variable.shape as number[])}]`, 'v');
    } else {
      result = this.bind(this.emit(variable, index));
    }
    this.caches[this.caches.length - 1]!.set(key, result);
    return result;
  }

  private emit(variable: Variable, index: readonly string[]): string {
    const node = variable.owner!;
    const op = node.op;
    const out = variable.dtype;
    const operand = (k: number): string => {
      const input = node.inputs[k]!;
      return this.value(input, broadcastIndex(index, input.shape, variable.ndim));
    };
    if (op === 'stop_gradient') return operand(0);
    if (op === 'cast') {
      const from = node.inputs[0]!.dtype;
      const x = operand(0);
      return out === 'bool' || isFloat(from) ? `${this.helper(castScalar)}(${x}, '${out}')` : rounded(out, x);
    }
    if (unarySet.has(op)) {
      const input = node.inputs[0]!;
      const info: { scalar: (x: number) => number; integer?: (x: number) => number } = opTable[op as UnaryOp];
      let x = operand(0);
      if (out === 'float32' && input.dtype !== 'float32') x = `Math.fround(${x})`;
      const float = isFloat(input.dtype);
      const inline = float ? inlineUnary[op as UnaryOp] : undefined;
      const fn = float ? info.scalar : (info.integer ?? info.scalar);
      return rounded(out, inline ? inline(x) : `${this.helper(fn)}(${x})`);
    }
    if (binarySet.has(op)) {
      const [a, b] = node.inputs as [Variable, Variable];
      const info: { scalar: (a: number, b: number) => number; integer?: (a: number, b: number) => number; dtype: string } = opTable[op as BinaryOp];
      const computeIn = info.dtype === 'float' ? out : promote(a.dtype, b.dtype);
      let [x, y] = [operand(0), operand(1)];
      if (computeIn === 'float32' && (a.dtype !== 'float32' || b.dtype !== 'float32')) [x, y] = [`Math.fround(${x})`, `Math.fround(${y})`];
      const float = isFloat(computeIn);
      const inline = float ? inlineBinary[op as BinaryOp] : undefined;
      const fn = float ? info.scalar : (info.integer ?? info.scalar);
      return rounded(out, inline ? inline(x, y) : `${this.helper(fn)}(${x}, ${y})`);
    }
    switch (op) {
      case 'where': {
        const [c, x, y] = [operand(0), operand(1), operand(2)];
        return rounded(out, `(${c} !== 0 ? ${x} : ${y})`);
      }
      case 'broadcast_to': return operand(0);
      case 'dimshuffle': {
        const pattern = (node.attrs as { pattern: readonly (number | 'x')[] }).pattern;
        const input = node.inputs[0]!;
        return this.value(input, input.shape.map((_, axis) => {
          const at = pattern.indexOf(axis);
          return at >= 0 ? index[at]! : '0';
        }));
      }
      case 'reshape': {
        const input = node.inputs[0]!;
        const flat = this.bind(offsetOf(index, variable.shape as number[]), 'f');
        return this.value(input, this.unflatten(flat, input.shape as number[]));
      }
      case 'subtensor': {
        const input = node.inputs[0]!;
        const { items } = node.attrs as { items: readonly SliceItem[] };
        return this.value(input, subtensorSource(items, input.shape, index, {
          constant: String,
          slice: (i, start, step) => (step === 1 ? (start === 0 ? i : `(${i} + ${start})`) : `(${start} + ${i} * ${step})`),
        }));
      }
      case 'pad': {
        const input = node.inputs[0]!;
        const { widths, mode, value } = node.attrs as { widths: readonly (readonly [number, number])[]; mode: string; value: number };
        const inside: string[] = [];
        const at = input.shape.map((size, axis) => {
          const [before, after] = widths[axis] ?? [0, 0];
          if (before === 0 && after === 0) return index[axis]!;
          const n = size as number;
          const j = this.bind(before === 0 ? index[axis]! : `(${index[axis]} - ${before})`, 'p');
          if (mode === 'constant') {
            inside.push(`${j} >= 0 && ${j} < ${n}`);
            return this.bind(`Math.min(Math.max(${j}, 0), ${Math.max(n - 1, 0)})`, 'p');
          }
          if (mode === 'edge') return this.bind(`Math.min(Math.max(${j}, 0), ${n - 1})`, 'p');
          return this.bind(`(${j} < 0 ? -${j} : ${j} >= ${n} ? ${2 * (n - 1)} - ${j} : ${j})`, 'p');
        });
        const inner = this.value(input, at);
        return inside.length === 0 ? inner : `(${inside.join(' && ')} ? ${inner} : ${literal(castScalar(value, out))})`;
      }
      case 'concat': {
        const { axis } = node.attrs as { axis: number };
        const i = index[axis]!;
        let offset = 0;
        const parts = node.inputs.map((input) => {
          const size = input.shape[axis] as number;
          const at = [...index];
          at[axis] = this.bind(`Math.min(Math.max(${i} - ${offset}, 0), ${Math.max(size - 1, 0)})`, 'c');
          const part = { value: rounded(out, this.value(input, at)), end: offset + size };
          offset += size;
          return part;
        });
        let expr = parts[parts.length - 1]!.value;
        for (let k = parts.length - 2; k >= 0; k--) expr = `(${i} < ${parts[k]!.end} ? ${parts[k]!.value} : ${expr})`;
        return expr;
      }
      case 'advanced_subtensor': return this.gather(variable, index);
      case 'inc_subtensor': return this.writeRegion(variable, index);
      case 'arange': {
        const [start, , step] = node.inputs as Variable[];
        return rounded(out, `(${this.value(start!, [])} + ${index[0]} * ${this.value(step!, [])})`);
      }
      case 'random': {
        const { distribution, draw } = node.attrs as { distribution: 'uniform' | 'normal'; draw: number };
        if (out !== 'float32') throw new Unsupported(`${out} draws run on the reference`);
        const state = node.inputs[0]!;
        const at = offsetOf(index, variable.shape as number[]);
        return rounded(out, `${this.helper(distribution === 'uniform' ? uniformAt : normalAt)}(${this.value(state, ['0'])}, ${this.value(state, ['1'])}, ${draw}, ${at})`);
      }
      default:
        throw new Unsupported(`no JS rule for ${op}`);
    }
  }

  /**
   * x gathered by integer tensors (numpy's advanced indexing): the output index is the x
   * axes kept before the gathered ones, the index tensors' broadcast shape, then the x
   * axes kept after (all kept axes after it where the gathered axes are not adjacent).
   * An index outside its axis (after one wrap of negatives) raises, as the reference does.
   */
  private gather(variable: Variable, index: readonly string[]): string {
    const node = variable.owner!;
    const [x, ...indices] = node.inputs as [Variable, ...Variable[]];
    const { items } = node.attrs as { items: readonly ('index' | 'all')[] };
    const indexed = x.shape.map((_, axis) => axis).filter((axis) => items[axis] === 'index');
    const kept = x.shape.map((_, axis) => axis).filter((axis) => items[axis] !== 'index');
    const adjacent = indexed.every((axis, i) => i === 0 || axis === indexed[i - 1]! + 1);
    const before = adjacent && indexed.length > 0 ? kept.filter((axis) => axis < indexed[0]!) : [];
    const after = kept.filter((axis) => !before.includes(axis));
    const gathered = variable.ndim - before.length - after.length;
    const batch = index.slice(before.length, before.length + gathered);
    const at: string[] = new Array<string>(x.ndim);
    before.forEach((axis, i) => (at[axis] = index[i]!));
    after.forEach((axis, i) => (at[axis] = index[before.length + gathered + i]!));
    const raise = this.helper((value: number, axis: number) => {
      throw new EvaluationError(node.op, `index ${value} is out of range for axis ${axis} of a value of shape ${formatShape(x.shape)} (size ${x.shape[axis]})`, node.location);
    });
    indexed.forEach((axis, k) => {
      const tensor = indices[k]!;
      const n = x.shape[axis] as number;
      const raw = this.value(tensor, broadcastIndex(batch, tensor.shape, gathered));
      const wrapped = this.bind(`(${raw} < 0 ? ${raw} + ${n} : ${raw})`, 'g');
      this.lines.push(`if (${wrapped} < 0 || ${wrapped} >= ${n}) ${raise}(${raw}, ${axis});`);
      at[axis] = wrapped;
    });
    return this.value(x, at);
  }

  /**
   * x with a basic-indexed region incremented or set by y (broadcast to the region), as
   * render/lowering.ts's incSubtensor: each element tests whether it lies in the region
   * and reads y at its place there (clamped, so the read stays in bounds either way).
   */
  private writeRegion(variable: Variable, index: readonly string[]): string {
    const node = variable.owner!;
    const [x, y] = node.inputs as [Variable, Variable];
    const { items, mode } = node.attrs as { items: readonly ({ kind: 'slice'; start: number | null; stop: number | null; step: number } | { kind: 'index'; index: number } | undefined)[]; mode: 'inc' | 'set' };
    const conditions: string[] = [];
    const region: string[] = [];
    x.shape.forEach((size, axis) => {
      const item = items[axis];
      const i = index[axis]!;
      if (!item) { region.push(i); return; }
      if (item.kind === 'index') { conditions.push(`${i} === ${item.index < 0 ? item.index + size! : item.index}`); return; }
      const { start, step } = resolveSlice(item, size!);
      const count = sliceLength(item, size!);
      const relative = this.bind(step > 0 ? `(${i} - ${start})` : `(${start} - ${i})`, 's');
      const magnitude = Math.abs(step);
      conditions.push(magnitude === 1 ? `(${relative} >= 0 && ${relative} < ${count})` : `(${relative} >= 0 && ${relative} % ${magnitude} === 0 && ${relative} / ${magnitude} < ${count})`);
      region.push(this.bind(`Math.min(Math.max(${magnitude === 1 ? relative : `((${relative} / ${magnitude}) | 0)`}, 0), ${Math.max(count - 1, 0)})`, 's'));
    });
    const base = this.value(x, index);
    const value = this.value(y, broadcastIndex(region, y.shape, region.length));
    const out = variable.dtype;
    const written = mode === 'set' ? value : out === 'bool' ? `(${base} !== 0 || ${value} !== 0 ? 1 : 0)` : `(${base} + ${value})`;
    return conditions.length === 0 ? rounded(out, written) : `(${conditions.join(' && ')} ? ${rounded(out, written)} : ${base})`;
  }

  /** Index expressions of a flat offset over `shape`, bound as names. */
  unflatten(flat: string, shape: readonly number[]): string[] {
    let stride = shape.reduce((a, b) => a * b, 1);
    return shape.map((size, axis) => {
      stride /= size;
      if (size === 1) return '0';
      const quotient = stride === 1 ? flat : `((${flat} / ${stride}) | 0)`;
      return this.bind(axis === 0 ? quotient : `(${quotient} % ${size})`, 'u');
    });
  }

  /** Compiles `body` into a function of no arguments, closing over the read buffers (by `viewOf`) and the helpers. */
  compile(body: readonly string[], extra: Record<string, unknown>, viewOf: (variable: Variable) => unknown): () => void {
    const names = [...this.reads.map((_, i) => `b${i}`), ...this.helpers.map((_, i) => `h${i}`), ...Object.keys(extra)];
    const values = [...this.reads.map(viewOf), ...this.helpers, ...Object.values(extra)];
    const source = `"use strict";\nreturn function kernel() {\n${body.join('\n')}\n};`;
    return new Function(...names, source)(...values) as () => void;
  }
}

/**
 * Nested loops over `shape` with index variables named `${prefix}0…`, the body built inside.
 * A `const` of the body that depends on none of the inner counters moves out to the
 * loop it does depend on (a scalar's power in an optimizer step, a row's scale), so it
 * is computed once per iteration of that loop instead of once per element; statements
 * other than `const` (stores, accumulations, bounds checks, nested loops) stay innermost.
 */
export function loops(builder: JsBuilder, shape: readonly number[], prefix: string, build: (index: string[]) => void): string[] {
  const index = shape.map((size, axis) => (size === 1 ? '0' : `${prefix}${axis}`));
  const inner = builder.scoped(() => build(index));
  const counters = shape.flatMap((size, axis) => (size === 1 ? [] : [`${prefix}${axis}`]));
  const levels = hoisted(inner, counters);
  let lines = levels[counters.length]!;
  for (let level = counters.length - 1; level >= 0; level--) {
    const name = counters[level]!;
    const size = shape[Number(name.slice(prefix.length))]!;
    lines = [...levels[level]!, `for (let ${name} = 0; ${name} < ${size}; ${name}++) {`, ...lines.map((line) => `  ${line}`), '}'];
  }
  return lines;
}

const constLine = /^const (\w+) = (.*);$/;
const identifier = /[A-Za-z_$][\w$]*/g;

/** `body`'s lines by loop level: level k runs inside the first k of `counters`' loops. */
function hoisted(body: readonly string[], counters: readonly string[]): string[][] {
  const innermost = counters.length;
  const levels: string[][] = Array.from({ length: innermost + 1 }, () => []);
  const levelOf = new Map<string, number>(counters.map((name, k) => [name, k + 1]));
  let depth = 0;
  for (const line of body) {
    const match = depth === 0 ? constLine.exec(line) : null;
    if (match) {
      let level = 0;
      for (const name of match[2]!.match(identifier) ?? []) level = Math.max(level, levelOf.get(name) ?? 0);
      levelOf.set(match[1]!, level);
      levels[level]!.push(line);
    } else {
      // Names a statement declares (let accumulators) are read where they change: innermost.
      if (depth === 0) for (const declared of /^let (\w+)/.exec(line)?.slice(1) ?? []) levelOf.set(declared, innermost);
      levels[innermost]!.push(line);
    }
    const trimmed = line.trim();
    if (trimmed.endsWith('{')) depth++;
    if (trimmed.startsWith('}')) depth--;
  }
  return levels;
}
