// A seeded generator of random well-typed graphs, for the differential tests of every
// package (exported as `@theorbo/graph/random-graph`): the rewrite pipeline's
// (packages/graph/test/rewrite-differential.test.ts) and the compiler's
// (packages/codegen/test/differential.test.ts) subclass it with the forms their own
// rules look for. It builds float expressions of a requested run-time shape from
// elementwise ops with broadcasting, reductions over new axes (one or two, kept, dropped
// or broadcast back), softmax-like normalizations, movement (reshape, dimshuffle,
// broadcast, strided and reversed slices, concat, pad, roll, flip, writes into slices
// and scatters), gathers, int32 and bool paths and matrix products; expressions are
// pooled by shape and reused (shared subexpressions with several consumers). Inputs get
// one seeded value per call. A subclass adds forms by overriding `forms`.

import { constant, shared, tensor, type SharedVariable, type Variable } from './graph.ts';
import { type NDArray } from './ndarray.ts';
import * as t from './index.ts';
import { Dice, randomArray } from './testing.ts';

export type Shape = number[];

export interface RandomGraphOptions {
  /** The float dtype of the expressions. */
  dtype: 'float32' | 'float64';
  /** Values drawn per input (one per call of the compiled function). */
  calls: number;
  /** How often an input's size above 1 is typed unknown. */
  unknownChance: number;
  /**
   * Whether reductions sometimes run over hundreds of elements (row kernels loop) and
   * products over dozens, which also makes values large enough that float64
   * cancellations (which a stabilizing rewrite removes) show beyond any tolerance.
   */
  longAxes: boolean;
  /**
   * How often a graph is built to be refused at run time, for tests that compare errors:
   * an index of a gather or scatter out of range in one call, or a size-1 dimension of an
   * input typed unknown, which then must not broadcast. 0 (the default) draws nothing
   * extra, so seeds give the graphs they gave before.
   */
  faults: number;
}

export const shapeKey = (shape: readonly number[]): string => shape.join('x');
export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
export const insert = <V>(items: readonly V[], at: number, item: V): V[] => [...items.slice(0, at), item, ...items.slice(at)];
export const replace = <V>(items: readonly V[], at: number, item: V): V[] => items.map((old, i) => (i === at ? item : old));

type Reduce = (x: Variable, axis?: number | number[] | null, keepdims?: boolean) => Variable;

export class RandomGraph extends Dice {
  /** Inputs with one value per call. */
  readonly inputs: { variable: Variable; values: NDArray[] }[] = [];
  readonly shared: SharedVariable[] = [];
  /** Float expressions built so far, by shape: later picks reuse them (shared subexpressions). */
  readonly pool = new Map<string, Variable[]>();
  readonly options: RandomGraphOptions;
  /** The reductions `reduction` draws from. */
  reductions: Reduce[] = [t.sum, t.max, t.min, t.mean];

  constructor(seed: number, options: Partial<RandomGraphOptions> = {}) {
    super(seed);
    this.options = { dtype: 'float32', calls: 1, unknownChance: 0.3, longAxes: true, faults: 0, ...options };
  }

  get dtype(): 'float32' | 'float64' {
    return this.options.dtype;
  }

  /** The (input, value) pairs of one call, for the reference evaluator. */
  givens(call = 0): [Variable, NDArray][] {
    return this.inputs.map(({ variable, values }) => [variable, values[call]!]);
  }

  size(): number {
    return 1 + this.int(5);
  }

  /**
   * A shape of rank 0–3; sometimes a last axis over 256, so that row kernels loop, and
   * sometimes 8–20 rows, so that matmuls fill (and overrun) the CPU device's 8-row blocks.
   */
  shape(): Shape {
    const shape = Array.from({ length: this.int(4) }, () => this.size());
    if (shape.length > 0 && this.chance(0.2)) shape[shape.length - 1] = 257 + this.int(500);
    if (shape.length > 1 && this.chance(0.15)) shape[shape.length - 2] = 8 + this.int(13);
    return shape;
  }

  input(shape: Shape, dtype: 'float32' | 'float64' | 'int32' = this.dtype, range: [number, number] = dtype === 'int32' ? [-4, 5] : [-2, 2], mayFault = true): Variable {
    // A fault here: sizes of 1 typed unknown (refused where they would broadcast).
    const faulty = mayFault && this.options.faults > 0 && shape.includes(1) && this.chance(this.options.faults * 3);
    const typed = shape.map((size) => (size > 1 && this.chance(this.options.unknownChance)) || (faulty && size === 1) ? null : size);
    const variable = tensor(dtype, typed, `in${this.inputs.length}`);
    const values = Array.from({ length: this.options.calls }, (_, call) => randomArray(dtype, shape, { low: range[0], high: range[1], seed: this.seed * 1013 + this.inputs.length * 31 + call }));
    this.inputs.push({ variable, values });
    return variable;
  }

  /**
   * An int32 index input of `length` values in [0, bound); with the faults option, one
   * call's values sometimes hold one outside it (past the end, or before the start by
   * more than negative indexing wraps).
   */
  indexInput(length: number, bound: number): Variable {
    const variable = this.input([length], 'int32', [0, bound], false);
    if (this.options.faults > 0 && length > 0 && this.chance(this.options.faults * 4)) {
      const values = this.inputs[this.inputs.length - 1]!.values;
      const call = this.int(values.length);
      values[call]!.data[this.int(length)] = this.chance(0.5) ? bound + this.int(3) : -bound - 1 - this.int(3);
    }
    return variable;
  }

  /** Pools a float expression of run-time shape `shape` for reuse; checks the generator's bookkeeping. */
  remember(variable: Variable, shape: Shape): Variable {
    if (variable.ndim !== shape.length || variable.shape.some((size, i) => size !== null && size !== shape[i])) {
      throw new Error(`random graph generator bug: built ${variable.type} for shape [${shape}]`);
    }
    if (variable.dtype === this.dtype) this.pool.set(shapeKey(shape), [...(this.pool.get(shapeKey(shape)) ?? []), variable]);
    return variable;
  }

  leaf(shape: Shape): Variable {
    const reusable = this.pool.get(shapeKey(shape)) ?? [];
    if (reusable.length > 0 && this.chance(0.45)) return this.pick(reusable);
    const sharedOnes = this.shared.filter((variable) => variable.dtype === this.dtype && shapeKey(variable.shape as number[]) === shapeKey(shape));
    if (sharedOnes.length > 0 && this.chance(0.5)) return this.pick(sharedOnes);
    if (this.chance(0.1)) return constant(randomArray(this.dtype, shape, { seed: this.int(1e6) }), { dtype: this.dtype });
    return this.input(shape);
  }

  /** A scalar operand: an ordinary one, or one of the neutral elements rewrites look for. */
  scalar(): number {
    return this.pick([0.5, -1, 2, 0.25]);
  }

  /** An operand that broadcasts against `shape`: the same shape, a suffix, size 1 in some axes, a scalar. */
  broadcastable(shape: Shape, depth: number): Variable | number {
    const choice = this.int(4);
    if (choice === 0 || shape.length === 0) return this.expression(shape, depth);
    if (choice === 1) return this.expression(shape.slice(this.int(shape.length) + 1), depth);
    if (choice === 2) return this.expression(shape.map((size) => (this.chance(0.5) ? 1 : size)), depth);
    return this.scalar();
  }

  /** A float expression of run-time shape `shape`. */
  expression(shape: Shape, depth: number): Variable {
    if (depth <= 0 || this.chance(0.12)) return this.leaf(shape);
    return this.remember(this.pick(this.forms(shape, depth - 1))(), shape);
  }

  /** The forms an expression of `shape` is drawn from, each building one with subexpressions of depth `d`. */
  forms(shape: Shape, d: number): (() => Variable)[] {
    const sub = (s: Shape = shape) => this.expression(s, d);
    const forms: (() => Variable)[] = [
      () => this.pick([t.neg, t.abs, t.tanh, t.sigmoid, t.square, t.sin, t.relu])(sub()),
      () => t.exp(t.tanh(sub())),
      () => this.pick([t.log, t.sqrt])(t.add(t.abs(sub()), 0.5)),
      () => this.pick([t.add, t.sub, t.mul, t.maximum, t.minimum])(sub(), this.broadcastable(shape, d)),
      () => this.pick([t.add, t.mul])(this.broadcastable(shape, d), sub()),
      () => t.div(sub(), t.add(t.abs(this.broadcastable(shape, d)), 0.5)),
      () => this.reduction(shape, d),
      () => this.reduction(shape, d),
      () => this.movement(shape, d),
      () => this.movement(shape, d),
      () => this.gather(shape, d),
      () => this.integerPath(shape, d),
      () => this.boolPath(shape, d),
      () => this.product(shape, d),
      () => this.product(shape, d),
    ];
    if (shape.length > 0) forms.push(() => this.normalization(shape, d), () => this.normalization(shape, d), () => this.loop(shape, d));
    if (shape.length === 3 || shape.length === 4) forms.push(() => this.window(shape, d));
    return forms;
  }

  /** Reductions over new axes (one or two, kept and dropped, or kept and broadcast back). */
  reduction(shape: Shape, d: number): Variable {
    const reduce = this.pick(this.reductions);
    const p = shape.length === 0 || this.chance(0.4) ? shape.length : this.int(shape.length + 1);
    const long = this.options.longAxes && sizeOf(shape) <= 16 && this.chance(0.2);
    const inner = this.expression(insert(shape, p, long ? 257 + this.int(300) : this.size()), d);
    const choice = this.int(4);
    if (choice === 0) return reduce(inner, p);
    if (choice === 1) return t.dimshuffle(reduce(inner, p, true), ...shape.map((_, i) => (i < p ? i : i + 1)));
    if (choice === 2) {
      // A reduction of a reduction: two new axes, reduced one after the other.
      const q = this.int(shape.length + 2);
      const twice = this.expression(insert(insert(shape, p, this.size()), q, this.size()), d);
      const keep = this.chance(0.5);
      const once = reduce(twice, q, keep);
      // With the first axis kept, the second reduction takes it along.
      return keep ? reduce(once, [q <= p ? p + 1 : p, q]) : reduce(once, p);
    }
    // Reduced with keepdims and combined with a same-shaped expression (row fusion's case
    // when the axis is the last): x − max(x), x / sum(x), over the shape itself.
    if (shape.length === 0) return reduce(inner, p);
    const axis = this.chance(0.6) ? shape.length - 1 : this.int(shape.length);
    const x = this.expression(shape, d);
    // Long sums become means: x · sum(x) over hundreds of values, fed to a product, leaves
    // values whose float32 rounding no tolerance on the output's scale can judge.
    const along = reduce === t.sum && shape[axis]! > 64 ? t.mean : reduce;
    return this.pick([t.sub, t.mul, t.add])(x, along(this.chance(0.5) ? x : this.expression(shape, d), axis, true));
  }

  /** Softmax-like chains: max, then a sum of what subtracts it, then elementwise again. */
  normalization(shape: Shape, d: number): Variable {
    const axis = this.chance(0.65) ? shape.length - 1 : this.int(shape.length);
    const x = this.expression(shape, d);
    switch (this.int(5)) {
      case 0: return t.softmax(x, axis);
      case 1: return t.logSoftmax(x, axis);
      case 2: {
        const centered = t.sub(x, t.max(x, axis, true));
        const total = t.sum(t.exp(centered), axis, true);
        return this.chance(0.5) ? t.div(t.exp(centered), total) : t.sub(x, t.add(t.log(total), t.max(x, axis, true)));
      }
      case 3: {
        const centered = t.sub(x, t.mean(x, axis, true));
        return t.div(centered, t.sqrt(t.add(t.mean(t.square(centered), axis, true), 0.1)));
      }
      default: return t.sub(x, t.logsumexp(x, axis, true));
    }
  }

  movement(shape: Shape, d: number): Variable {
    const choice = this.int(9);
    const axis = shape.length === 0 ? 0 : this.int(shape.length);
    if (choice === 0) {
      const flat = this.expression([sizeOf(shape)], d);
      return this.chance(0.5) ? t.reshape(flat, shape) : t.reshape(t.reshape(flat, [...shape].reverse()), shape);
    }
    if (shape.length === 0) return t.sum(this.expression([1], d));
    if (choice === 1 && shape.length > 1) {
      const order = shape.map((_, i) => i).sort(() => this.random() - 0.5);
      const inverse = order.map((_, i) => order.indexOf(i));
      return t.dimshuffle(this.expression(inverse.map((i) => shape[i]!), d), ...order);
    }
    if (choice === 2) return t.broadcastTo(this.expression(shape.map((size, i) => (i === axis || this.chance(0.3) ? 1 : size)), d), shape);
    // (A slice of size 1 would be typed unknown, not 1, and could not broadcast as the caller may need.)
    if (choice === 3 && shape[axis]! > 1) {
      // A strided, reversed or offset slice of a larger expression.
      const n = shape[axis]!;
      const kind = this.int(3);
      const bigger = kind === 0 ? 2 * n : kind === 1 ? n + 2 : n;
      const item = kind === 0 ? t.slice(null, null, 2) : kind === 1 ? t.slice(1, -1) : t.slice(null, null, -1);
      const inner = this.expression(replace(shape, axis, bigger), d);
      return t.get(inner, ...shape.slice(0, axis).map(() => ':' as const), item);
    }
    if (choice === 4 && shape[axis]! >= 2) {
      const first = 1 + this.int(shape[axis]! - 1);
      return t.concat([this.expression(replace(shape, axis, first), d), this.expression(replace(shape, axis, shape[axis]! - first), d)], axis);
    }
    if (choice === 5 && shape[axis]! >= 2) {
      const mode = this.pick(['constant', 'edge', 'reflect'] as const);
      const inner = shape[axis]! - 1;
      const widths = shape.map((_, i) => (i === axis ? (this.chance(0.5) ? [1, 0] : [0, 1]) : [0, 0]) as [number, number]);
      if (mode === 'reflect' && inner < 2) return t.pad(this.expression(replace(shape, axis, inner), d), widths);
      return t.pad(this.expression(replace(shape, axis, inner), d), widths, { mode, value: 0.5 });
    }
    if (choice === 6) return t.roll(this.expression(shape, d), this.pick([1, -1, 2]), axis);
    if (choice === 7) {
      // A write into part of an expression: a strided slice, or rows gathered by an index (a scatter).
      const lead = shape.slice(0, axis).map(() => ':' as const);
      const write = this.pick([t.setSubtensor, t.incSubtensor]);
      if (this.chance(0.5)) return write(this.expression(shape, d), [...lead, t.slice(null, null, 2)], this.expression(replace(shape, axis, Math.ceil(shape[axis]! / 2)), d));
      // Set at distinct positions (a repeated one has no defined winner on a device); inc may repeat.
      const count = 1 + this.int(Math.min(3, shape[axis]!));
      const distinct = Array.from({ length: shape[axis]! }, (_, i) => i).sort(() => this.random() - 0.5).slice(0, count);
      const index = write === t.setSubtensor ? constant(new Int32Array(distinct)) : this.indexInput(count, shape[axis]!);
      return write(this.expression(shape, d), [...lead, index], this.expression(replace(shape, axis, count), d));
    }
    return t.flip(this.expression(shape, d), axis);
  }

  /** A gather along one axis by an int32 index (an input, or computed exactly from one). */
  gather(shape: Shape, d: number): Variable {
    if (shape.length === 0) return t.get(this.expression([3], d), this.int(3));
    const axis = this.int(shape.length);
    const source = this.size() + 1;
    let index = this.indexInput(shape[axis]!, source);
    if (this.chance(0.4)) index = t.mod(t.add(index, this.input([shape[axis]!], 'int32')), source);
    return t.get(this.expression(replace(shape, axis, source), d), ...shape.slice(0, axis).map(() => ':' as const), index);
  }

  integer(shape: Shape, d: number): Variable {
    let value = this.input(shape, 'int32');
    for (let i = 0; i < 1 + this.int(d + 1); i++) {
      const other = this.chance(0.6) ? this.input(shape.map((size) => (this.chance(0.3) ? 1 : size)), 'int32') : this.pick([1, -1, 2, 3, 0]);
      value = this.pick([t.add, t.sub, t.mul, t.maximum, t.minimum])(value, other);
      if (this.chance(0.2)) value = this.pick([t.neg, t.abs])(value);
      if (this.chance(0.2)) value = this.pick([t.mod, t.intDiv])(value, this.pick([2, 3, 5]));
    }
    if (this.chance(0.3)) value = t.dimshuffle(t.sum(t.dimshuffle(value, ...shape.map((_, i) => i), 'x'), -1, true), ...shape.map((_, i) => i));
    return value;
  }

  integerPath(shape: Shape, d: number): Variable {
    const value = this.integer(shape, d);
    if (shape.length > 0 && this.chance(0.3)) {
      // An integer reduction broadcast back.
      const axis = this.int(shape.length);
      return t.cast(t.add(value, this.pick([t.sum, t.max])(value, axis, true)), this.dtype);
    }
    return t.mul(t.cast(value, this.dtype), this.chance(0.5) ? 0.5 : this.expression(shape, d));
  }

  /** Comparisons (of inputs, so that no rounding decides them), logic, where, any/all. */
  boolPath(shape: Shape, d: number): Variable {
    const a = this.input(shape);
    let condition = this.pick([t.gt, t.lt, t.ge])(a, this.chance(0.5) ? 0 : this.input(shape.map((size) => (this.chance(0.4) ? 1 : size))));
    if (this.chance(0.4)) condition = this.pick([t.logicalAnd, t.logicalOr, t.logicalXor])(condition, t.lt(this.input(shape, 'int32'), 1));
    if (this.chance(0.3)) condition = t.logicalNot(condition);
    if (shape.length > 0 && this.chance(0.3)) condition = this.pick([t.any, t.all])(t.dimshuffle(condition, ...shape.map((_, i) => i), 'x'), -1);
    if (this.chance(0.5)) return t.where(condition, this.expression(shape, d), this.broadcastable(shape, d));
    return t.add(t.cast(condition, this.dtype), this.expression(shape, d));
  }

  /** Matmuls (vector, matrix, batched; transposed operands), with epilogues, remembered for other consumers. */
  product(shape: Shape, d: number): Variable {
    const k = this.options.longAxes && this.chance(0.3) ? 17 + this.int(40) : this.size();
    const operand = (rows: number, columns: number, batch: number[]): Variable =>
      this.chance(0.35) ? t.dimshuffle(this.expression([...batch, columns, rows], d), ...batch.map((_, i) => i), batch.length + 1, batch.length) : this.expression([...batch, rows, columns], d);
    let result: Variable;
    if (shape.length === 0) result = t.matmul(this.expression([k], d), this.expression([k], d));
    else if (shape.length === 1) result = t.matmul(this.expression([k], d), operand(k, shape[0]!, []));
    else {
      const batch = shape.slice(0, -2);
      const [n, m] = shape.slice(-2) as [number, number];
      const left = operand(n, k, batch);
      const right = this.chance(0.3) ? operand(k, m, []) : operand(k, m, batch);
      result = t.matmul(left, right);
    }
    this.remember(result, shape);
    const choice = this.int(3);
    if (choice === 0) return result;
    if (choice === 1) return t.relu(t.add(result, this.broadcastable(shape, d)));
    return t.tanh(t.mul(result, 0.2));
  }

  /**
   * A convolution or pooling whose output has `shape` ([N, C, L] or [N, C, H, W]): stride,
   * dilation, padding and groups drawn small, the input's sizes worked back from them.
   */
  window(shape: Shape, d: number): Variable {
    const [n, channels, ...spatial] = shape as [number, number, ...number[]];
    const draw = (max: number) => 1 + this.int(max);
    if (this.chance(0.4)) {
      const size = spatial.map(() => draw(3));
      const stride = spatial.map(() => draw(2));
      const inner = spatial.map((out, axis) => (out - 1) * stride[axis]! + size[axis]!);
      const x = this.expression([n, channels, ...inner], d);
      const options = { stride, ceilMode: false };
      const mode = this.pick(['max', 'avg'] as const);
      // (Output sizes follow the input's types: the reshape says the ones this shape knows.)
      return t.reshape(spatial.length === 1 ? (mode === 'max' ? t.maxPool1d(x, size, options) : t.avgPool1d(x, size, options)) : mode === 'max' ? t.maxPool2d(x, size, options) : t.avgPool2d(x, size, options), shape);
    }
    const groups = channels % 2 === 0 && this.chance(0.3) ? 2 : 1;
    const perGroup = draw(3);
    const kernel = spatial.map(() => draw(3));
    const stride = spatial.map(() => draw(2));
    const dilation = spatial.map(() => draw(2));
    const padding = spatial.map(() => [this.int(2), this.int(2)] as [number, number]);
    const inner = spatial.map((out, axis) => (out - 1) * stride[axis]! + dilation[axis]! * (kernel[axis]! - 1) + 1 - padding[axis]![0] - padding[axis]![1]);
    inner.forEach((size, axis) => {
      // Padding can only cover what the input lacks: with too little input, pad less.
      if (size < 1) { padding[axis] = [0, 0]; inner[axis] = (spatial[axis]! - 1) * stride[axis]! + dilation[axis]! * (kernel[axis]! - 1) + 1; }
    });
    const x = this.expression([n, perGroup * groups, ...inner], d);
    const w = t.mul(this.expression([channels, perGroup, ...kernel], d), 0.5);
    const options = { stride, dilation, padding, groups };
    return t.reshape(spatial.length === 1 ? t.conv1d(x, w, options) : t.conv2d(x, w, options), shape);
  }

  /**
   * A small loop whose output has `shape` ([T, ...state]): a damped recurrence over a
   * sequence, reading one or two steps back, maybe backwards, maybe with a value from
   * outside the step; or the last state of such a loop ([...state]).
   */
  loop(shape: Shape, d: number): Variable {
    const keepLast = this.chance(0.25);
    const steps = keepLast ? 1 + this.int(4) : shape[0]!;
    const state = keepLast ? shape : shape.slice(1);
    const sequence = this.expression([steps, ...state], d);
    const twoTaps = this.chance(0.3);
    const initial = this.expression(twoTaps ? [2, ...state] : state, d);
    const outside = this.chance(0.4) ? this.broadcastable(state, d) : 0.5;
    const [a, b] = [this.pick([0.5, -0.3, 0.8]), this.pick([0.2, -0.4])];
    const { outputs: [result] } = t.scan({
      fn: (x, ...previous) => {
        const [older, last] = twoTaps ? previous : [undefined, previous[0]!];
        const recurrence = t.add(t.mul(last!, a), older ? t.mul(older, b) : 0);
        return t.tanh(t.add(t.add(recurrence, x), t.mul(x, outside)));
      },
      sequences: sequence,
      outputsInfo: [{ initial, taps: twoTaps ? [-2, -1] : [-1], keep: keepLast ? 'last' : 'all' }],
      goBackwards: this.chance(0.3),
    });
    // The step's sizes follow its placeholders' types: say the ones this shape knows.
    return t.reshape(result!, shape);
  }

  /** A shared variable of `shape` (the float dtype, or int32) the graph may read and update. */
  sharedVariable(shape: Shape, dtype: 'float32' | 'float64' | 'int32' = this.dtype): SharedVariable {
    const variable = shared(randomArray(dtype, shape, { low: -2, high: 2, seed: this.seed * 7 + this.shared.length }), `s${this.shared.length}`);
    this.shared.push(variable);
    return variable;
  }
}
