// The cpu device's second renderer, first half: a fused kernel's nodes as a small
// dataflow of float32 vector operations over affine buffer reads, the way js-render.ts
// makes JS expressions of them (the same partition, the same "value of v at index"
// walk: elementwise ops broadcast the index, movement ops rewrite it). Here an index is
// affine in the kernel's loop counters, so every read is `base + Σ coef·counter`, and
// cpu/wasm-render.ts can merge contiguous loops and load four lanes at once.
// Arithmetic matches the reference bit for bit where float32 does (+ − × ÷ √, neg, abs,
// min/max, floor/ceil, comparisons, where); exp, log, tanh and sigmoid are polynomials
// (cpu/wasm-math.ts). Comparisons make lane masks that `where` and a cast to float32
// consume; bool buffers load as masks and masks store as 0/1 bytes. Uniform float32 draws
// (a dropout mask) are Philox4x32-10 in i32x4 lanes, bit for bit cpu/random.ts. Anything
// else (other dtypes, gathers, reshapes that regroup axes, normal draws, ops without a
// vector rule) raises Unsupported: that kernel stays on JS.
// Index legend: an Affine is `constant + Σ coefs[axis]·counter[axis]` over the loop axes.

import { subtensorSource } from '../render/lowering.ts';
import type { SliceItem, Variable } from '@theorbo/graph';
import { Unsupported } from './js-render.ts';

export interface Affine { coefs: number[]; constant: number }

/**
 * Coefficients count elements; `bytes` is the element size (4: float32, 1: bool).
 * `element`: no buffer is read — the value is the element offset itself in `buffer`'s
 * shape (a random draw's Philox counter), counted as bytes of size 1.
 */
export interface Access { buffer: Variable; coefs: number[]; constant: number; bytes: 1 | 4; element?: true }

export type VectorNode =
  | { kind: 'load'; id: number; type: 'f32' | 'mask' | 'u32' | 'i32'; access: Access }
  /** An int32 arange's values: the element offset `offset` counts (start + i·step, affine in the counters). */
  | { kind: 'iota'; id: number; type: 'i32'; offset: Access }
  /** A uniform float32 draw (graph's random.ts: Philox4x32-10, key (key, draw), counter (offset, counter, 0, 0)). */
  | { kind: 'random'; id: number; type: 'f32'; key: VectorNode; counter: VectorNode; draw: number; offset: Access }
  /** A float32 splat, or a mask (value 1: all lanes set, 0: none). */
  | { kind: 'const'; id: number; type: 'f32' | 'mask' | 'i32'; value: number }
  | { kind: 'acc'; id: number; type: 'f32'; reduction: number }
  | { kind: 'op'; id: number; type: 'f32' | 'mask'; op: VectorOp; args: VectorNode[] };

/** The vector rules: ops of the graph plus the mask conversions they need. */
export const vectorUnary = ['neg', 'abs', 'sqrt', 'square', 'reciprocal', 'exp', 'log', 'tanh', 'sigmoid', 'floor', 'ceil'] as const;
export const vectorBinary = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum'] as const;
export const vectorCompare = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const;
/** Comparisons of int32 lanes (a one-hot's label against an arange) make masks too. */
export type IntCompare = `${(typeof vectorCompare)[number]}_i32`;
export type VectorOp = (typeof vectorUnary)[number] | (typeof vectorBinary)[number] | (typeof vectorCompare)[number] | IntCompare | 'where' | 'mask_to_float' | 'i32_to_float';

const unarySet = new Set<string>(vectorUnary);
/** Ops a regrouping reshape passes through to their inputs (lower's flat()). */
const flatThrough = new Set<string>([...vectorUnary, ...vectorBinary, ...vectorCompare, 'where', 'cast', 'stop_gradient']);
const sameDims = (a: readonly (number | null)[], b: readonly (number | null)[]): boolean => a.length === b.length && a.every((dim, axis) => dim === b[axis]);
const binarySet = new Set<string>(vectorBinary);
const compareSet = new Set<string>(vectorCompare);

export const affineConstant = (axes: number, value: number): Affine => ({ coefs: new Array<number>(axes).fill(0), constant: value });
export const affineAxis = (axes: number, axis: number): Affine => {
  const coefs = new Array<number>(axes).fill(0);
  coefs[axis] = 1;
  return { coefs, constant: 0 };
};
const scaled = (a: Affine, by: number, plus: number): Affine => ({ coefs: a.coefs.map((c) => c * by), constant: a.constant * by + plus });
const keyOf = (index: readonly Affine[]): string => index.map((a) => `${a.coefs.join(' ')}+${a.constant}`).join(',');

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export class VectorLowering {
  readonly nodes: VectorNode[] = [];
  readonly overrides = new Map<Variable, VectorNode>();
  private readonly cache = new Map<string, VectorNode>();

  /** `axes`: loop counters; `computed`: variables this kernel computes, never read from a buffer. */
  constructor(readonly axes: number, private readonly materialized: ReadonlySet<Variable>, private readonly computed: ReadonlySet<Variable>) {}

  private add(node: DistributiveOmit<VectorNode, 'id'>, key: string): VectorNode {
    const hit = this.cache.get(key);
    if (hit) return hit;
    const made = { ...node, id: this.nodes.length } as VectorNode;
    this.nodes.push(made);
    this.cache.set(key, made);
    return made;
  }

  constant(value: number): VectorNode {
    return this.add({ kind: 'const', type: 'f32', value: Math.fround(value) }, `c${Object.is(value, -0) ? '-0' : value}`);
  }

  accumulator(reduction: number): VectorNode {
    return this.add({ kind: 'acc', type: 'f32', reduction }, `a${reduction}`);
  }

  /** A read of a stored float32 buffer at `index` (row-major in its shape). */
  load(variable: Variable, index: readonly Affine[], shape: readonly number[] = variable.shape as number[]): VectorNode {
    if (variable.dtype !== 'float32' && variable.dtype !== 'bool' && variable.dtype !== 'int32') throw new Unsupported(`WebAssembly kernels read float32, int32 and bool buffers, not ${variable.dtype}`);
    const access = this.access(variable, index, shape);
    const type = variable.dtype === 'bool' ? 'mask' : variable.dtype === 'int32' ? 'i32' : 'f32';
    return this.add({ kind: 'load', type, access }, `l${variable.id}@${access.coefs.join(' ')}+${access.constant}`);
  }

  /** Where element `index` of `variable`'s row-major buffer lies, in elements. */
  access(variable: Variable, index: readonly Affine[], shape: readonly number[] = variable.shape as number[]): Access {
    const coefs = new Array<number>(this.axes).fill(0);
    let constant = 0;
    let stride = 1;
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      if (shape[axis] !== 1) {
        const a = index[axis]!;
        a.coefs.forEach((c, k) => (coefs[k]! += c * stride));
        constant += a.constant * stride;
      }
      stride *= shape[axis]!;
    }
    return { buffer: variable, coefs, constant, bytes: variable.dtype === 'bool' ? 1 : 4 };
  }

  private op(op: VectorOp, args: VectorNode[], type: 'f32' | 'mask'): VectorNode {
    return this.add({ kind: 'op', type, op, args }, `${op}(${args.map((a) => a.id).join(',')})`);
  }

  /** The value of `variable` at `index`, as a node. */
  value(variable: Variable, index: readonly Affine[]): VectorNode {
    const known = this.overrides.get(variable);
    if (known !== undefined) return known;
    if (variable.kind === 'constant' && variable.type.size === 1) {
      const value = (variable as unknown as { value: { data: ArrayLike<number> } }).value.data[0]!;
      // A bool scalar (a training flag the caller fixed) is a constant mask.
      if (variable.dtype === 'bool') return this.add({ kind: 'const', type: 'mask', value: value !== 0 ? 1 : 0 }, `m${value !== 0 ? 1 : 0}`);
      if (variable.dtype === 'int32') return this.add({ kind: 'const', type: 'i32', value: value | 0 }, `i${value | 0}`);
      if (variable.dtype !== 'float32') throw new Unsupported(`a ${variable.dtype} constant in a WebAssembly kernel`);
      return this.constant(value);
    }
    const key = `${variable.id}@${keyOf(index)}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    let result: VectorNode;
    if (!variable.owner || (this.materialized.has(variable) && !this.computed.has(variable))) {
      if (!this.materialized.has(variable)) throw new Unsupported(`${variable} is neither stored nor computed`);
      result = this.load(variable, index);
    } else {
      result = this.emit(variable, index);
    }
    this.cache.set(key, result);
    return result;
  }

  private emit(variable: Variable, index: readonly Affine[]): VectorNode {
    const node = variable.owner!;
    const op = node.op;
    const operand = (k: number): VectorNode => {
      const input = node.inputs[k]!;
      const offset = variable.ndim - input.ndim;
      return this.value(input, input.shape.map((dim, axis) => (dim === 1 ? affineConstant(this.axes, 0) : index[axis + offset]!)));
    };
    const float = (k: number): VectorNode => {
      const value = operand(k);
      if (value.type !== 'f32') throw new Unsupported(`${op} of a mask`);
      return value;
    };
    const out = variable.dtype;
    if (op === 'stop_gradient' || op === 'broadcast_to') return operand(0);
    if (op === 'cast') {
      const value = operand(0);
      if (out !== 'float32') throw new Unsupported(`a cast to ${out}`);
      if (value.type === 'mask') return this.op('mask_to_float', [value], 'f32');
      if (value.type === 'i32') return this.op('i32_to_float', [value], 'f32');
      if (value.type !== 'f32') throw new Unsupported(`a cast of ${node.inputs[0]!.dtype}`);
      return value;
    }
    if (unarySet.has(op)) {
      if (out !== 'float32' || node.inputs[0]!.dtype !== 'float32') throw new Unsupported(`${op} of ${node.inputs[0]!.dtype}`);
      return this.op(op as VectorOp, [float(0)], 'f32');
    }
    if (op === 'pow') {
      // x^2 and x^1 (a squared distance and its gradient) are exact in float32 lanes, as
      // the reference's Math.pow rounds them; other exponents stay on JS.
      const exponent = node.inputs[1]!;
      const value = exponent.kind === 'constant' && exponent.type.size === 1 ? (exponent as unknown as { value: { data: ArrayLike<number> } }).value.data[0] : undefined;
      if (out !== 'float32' || node.inputs[0]!.dtype !== 'float32' || (value !== 1 && value !== 2)) throw new Unsupported(`pow with exponent ${exponent}`);
      return value === 2 ? this.op('square', [float(0)], 'f32') : float(0);
    }
    if (compareSet.has(op) && node.inputs.every((input) => input.dtype === 'int32')) {
      const [a, b] = [operand(0), operand(1)];
      if (a.type !== 'i32' || b.type !== 'i32' || out !== 'bool') throw new Unsupported(`${op} of int32 values that are not lanes`);
      return this.op(`${op}_i32` as IntCompare, [a, b], 'mask');
    }
    if (binarySet.has(op) || compareSet.has(op)) {
      const compare = compareSet.has(op);
      if (node.inputs.some((input) => input.dtype !== 'float32') || out !== (compare ? 'bool' : 'float32')) throw new Unsupported(`${op} of ${node.inputs.map((i) => i.dtype).join(', ')}`);
      return this.op(op as VectorOp, [float(0), float(1)], compare ? 'mask' : 'f32');
    }
    switch (op) {
      case 'where': {
        const condition = operand(0);
        if (condition.type !== 'mask' || out !== 'float32') throw new Unsupported('where of a stored condition or a non-float32 value');
        // A constant condition (dropout's training flag, fixed by the caller) picks one side.
        if (condition.kind === 'const') return float(condition.value !== 0 ? 1 : 2);
        return this.op('where', [condition, float(1), float(2)], 'f32');
      }
      case 'dimshuffle': {
        const pattern = (node.attrs as { pattern: readonly (number | 'x')[] }).pattern;
        const input = node.inputs[0]!;
        return this.value(input, input.shape.map((_, axis) => {
          const at = pattern.indexOf(axis);
          return at >= 0 ? index[at]! : affineConstant(this.axes, 0);
        }));
      }
      case 'reshape': {
        // A stored buffer is row-major whatever its shape: read in the reshaped one (a
        // full sum's first stage reads x[1024, 1024] as [256, 4096]).
        const input = node.inputs[0]!;
        const stored = (v: Variable) => !this.overrides.has(v) && !(v.kind === 'constant' && v.type.size === 1)
          && this.materialized.has(v) && (!v.owner || !this.computed.has(v));
        // Through a chain of reshapes (a flatten, then rows): each keeps the row-major order.
        let base = input;
        while (!stored(base) && base.owner?.op === 'reshape' && !this.overrides.has(base)) base = base.owner.inputs[0]!;
        if (stored(base)) return this.load(base, index, variable.shape as number[]);
        // Otherwise only reshapes that add or drop axes of size 1 keep the index affine.
        const kept = (shape: readonly (number | null)[]) => shape.map((dim, axis) => [dim, axis] as const).filter(([dim]) => dim !== 1);
        const from = kept(input.shape), to = kept(variable.shape);
        // A regrouping reshape of values computed elementwise from buffers of its input's
        // shape (a convolution's relu and dropout, flattened for a dense layer) reads those
        // buffers at the same row-major positions: the reshape moves to the loads.
        if (from.length !== to.length || from.some(([dim], i) => dim !== to[i]![0])) return this.flat(input, index, variable.shape as number[]);
        const at = input.shape.map(() => affineConstant(this.axes, 0));
        from.forEach(([, axis], i) => (at[axis] = index[to[i]![1]]!));
        return this.value(input, at);
      }
      case 'subtensor': {
        const input = node.inputs[0]!;
        const { items } = node.attrs as { items: readonly SliceItem[] };
        return this.value(input, subtensorSource(items, input.shape, index, {
          constant: (value) => affineConstant(this.axes, value),
          slice: (i, start, step) => scaled(i, step, start),
        }));
      }
      case 'random': return this.random(variable, this.access(variable, index));
      case 'arange': {
        // int32 with constant start and step: start + i·step is affine in the counters.
        const [start, , step] = node.inputs as Variable[];
        const scalar = (v: Variable): number | undefined => (v.kind === 'constant' && v.type.size === 1 ? (v as unknown as { value: { data: ArrayLike<number> } }).value.data[0] : undefined);
        const [from, by] = [scalar(start!), scalar(step!)];
        if (out !== 'int32' || from === undefined || by === undefined) throw new Unsupported('an arange that is not int32 with constant start and step');
        const offset: Access = { buffer: variable, coefs: index[0]!.coefs.map((c) => c * by), constant: index[0]!.constant * by + from, bytes: 1, element: true };
        return this.add({ kind: 'iota', type: 'i32', offset }, `a${offset.coefs.join(' ')}+${offset.constant}`);
      }
      default:
        throw new Unsupported(`no WebAssembly rule for ${op}`);
    }
  }

  /**
   * The value of `variable` at the element whose row-major position is `index`'s in
   * `shape` (as many elements): stored buffers load there, reshapes pass it on, and
   * elementwise ops whose inputs have their shape (or one element) take it to each input.
   */
  flat(variable: Variable, index: readonly Affine[], shape: readonly number[]): VectorNode {
    if (variable.kind === 'constant' && variable.type.size === 1) return this.value(variable, []);
    if (sameDims(variable.shape, shape)) return this.value(variable, index);
    if (this.overrides.has(variable)) throw new Unsupported('a reshape of a row result');
    const key = `${variable.id}@flat ${shape.join('x')}:${keyOf(index)}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const node = variable.owner;
    let result: VectorNode;
    if (!node || (this.materialized.has(variable) && !this.computed.has(variable))) {
      if (!this.materialized.has(variable)) throw new Unsupported(`${variable} is neither stored nor computed`);
      result = this.load(variable, index, shape);
    } else if (node.op === 'reshape') {
      result = this.flat(node.inputs[0]!, index, shape);
    } else if (node.op === 'random') {
      result = this.random(variable, this.access(variable, index, shape));
    } else if (flatThrough.has(node.op) && node.inputs.every((input) => input.type.size === 1 || sameDims(input.shape, variable.shape))) {
      // The op's own rule, its inputs given their values at this position. Every input's
      // value is taken before any is overridden: a one-element operand may read an input
      // (x · x[0, 0]) that must not see the flattened value meant for the op.
      const saved = node.inputs.map((input) => [input, this.overrides.get(input)] as const);
      const zeros = variable.shape.map(() => affineConstant(this.axes, 0));
      const values = node.inputs.map((input) => input.type.size === 1
        ? this.value(input, input.shape.map(() => affineConstant(this.axes, 0)))
        : this.flat(input, index, shape));
      try {
        node.inputs.forEach((input, k) => this.overrides.set(input, values[k]!));
        result = this.emit(variable, zeros);
      } finally {
        for (const [input, before] of saved) if (before === undefined) this.overrides.delete(input); else this.overrides.set(input, before);
      }
    } else {
      throw new Unsupported('a reshape that regroups axes');
    }
    this.cache.set(key, result);
    return result;
  }

  /** A uniform float32 draw of `variable` at the element `offset` counts. */
  private random(variable: Variable, at: Access): VectorNode {
    // Uniform float32 draws only: normal ones take Box–Muller's log and cos in doubles.
    const node = variable.owner!;
    const { distribution, draw } = node.attrs as { distribution: 'uniform' | 'normal'; draw: number };
    if (distribution !== 'uniform' || variable.dtype !== 'float32') throw new Unsupported(`${distribution} ${variable.dtype} draws`);
    const state = node.inputs[0]!;
    if (state.dtype !== 'uint32' || (state.owner && !(this.materialized.has(state) && !this.computed.has(state)))) throw new Unsupported('a random state that is not a stored uint32 buffer');
    const word = (k: number): VectorNode => {
      const access = this.access(state, [affineConstant(this.axes, k)]);
      return this.add({ kind: 'load', type: 'u32', access }, `u${state.id}@${k}`);
    };
    const offset: Access = { ...at, bytes: 1, element: true };
    return this.add({ kind: 'random', type: 'f32', key: word(0), counter: word(1), draw, offset }, `r${variable.id}@${offset.coefs.join(' ')}+${offset.constant}`);
  }
}

/** The nodes `roots` need, inputs before users. */
export function schedule(roots: readonly VectorNode[]): VectorNode[] {
  const seen = new Set<number>();
  const order: VectorNode[] = [];
  const visit = (node: VectorNode): void => {
    if (seen.has(node.id)) return;
    seen.add(node.id);
    if (node.kind === 'op') node.args.forEach(visit);
    if (node.kind === 'random') [node.key, node.counter].forEach(visit);
    order.push(node);
  };
  roots.forEach(visit);
  return order;
}
