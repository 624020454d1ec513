// Differential fuzz test of the compiler: seeded random well-typed float32 graphs, built
// from the partitioner's hard cases — shared subexpressions with several consumers (some
// broadcasting them), reductions over the last and over other axes feeding elementwise
// ops (row fusion, epilogues), chains of reductions (x − max(x), then sum), matmuls (2-D,
// batched, transposed operands) with epilogues and other consumers, movement (reshape,
// dimshuffle, broadcastTo, strided and reversed slices, concat, pad, roll, writes into
// slices, scatters), gathers,
// int32 and bool paths, several outputs, and updates of shared variables (reading other
// shared variables' old values, reading themselves at other positions, also outputs) —
// run over three calls by `compile()` on the acquired device and by the reference
// evaluator, outputs and final shared values compared (float32 tolerance, ints exact).
// Shapes are small, with some last axes above 256 (row kernels loop) and, rarely, a
// reduction over 2¹⁶+ elements (the two-stage split). 250 graphs here (a few seconds on
// llvmpipe); THEORBO_LONG=1 runs 4000. A failure prints the seed and the graph; THEORBO_SEED=n runs one seed;
// THEORBO_TIMING=1 prints the seeds that take over 150 ms.
import { test } from 'uvu';
import * as T from '@theorbo/graph';
import type { NDArray, SharedVariable, Variable } from '@theorbo/graph';
import { Dice, randomArray } from '@theorbo/graph/testing';
import { acquireDevice, compile, readShared, type TuningOptions } from '../src/index.ts';

const long = process.env.THEORBO_LONG === '1';
const only = process.env.THEORBO_SEED === undefined ? undefined : Number(process.env.THEORBO_SEED);
const graphCount = long ? 4000 : 250;
const calls = 3;

type Shape = number[];
const key = (shape: Shape): string => shape.join('x');
const sizeOf = (shape: Shape): number => shape.reduce((a, b) => a * b, 1);
const insert = <V>(items: readonly V[], at: number, item: V): V[] => [...items.slice(0, at), item, ...items.slice(at)];
const replace = <V>(items: readonly V[], at: number, item: V): V[] => items.map((old, i) => (i === at ? item : old));

class Generator extends Dice {
  /** Inputs with one value per call. */
  readonly inputs: { variable: Variable; values: NDArray[] }[] = [];
  readonly shared: SharedVariable[] = [];
  /** Float32 expressions built so far, by shape: later picks reuse them (shared subexpressions). */
  readonly pool = new Map<string, Variable[]>();

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

  input(shape: Shape, dtype: 'float32' | 'int32' = 'float32', range: [number, number] = dtype === 'int32' ? [-4, 5] : [-2, 2]): Variable {
    const typed = shape.map((size) => (size > 1 && this.chance(0.3) ? null : size));
    const variable = T.tensor(dtype, typed, `in${this.inputs.length}`);
    const values = Array.from({ length: calls }, (_, call) => randomArray(dtype, shape, { low: range[0], high: range[1], seed: this.seed * 1013 + this.inputs.length * 31 + call }));
    this.inputs.push({ variable, values });
    return variable;
  }

  /** Pools a float32 expression of run-time shape `shape` for reuse; checks the generator's bookkeeping. */
  remember(variable: Variable, shape: Shape): Variable {
    if (variable.ndim !== shape.length || variable.shape.some((size, i) => size !== null && size !== shape[i])) {
      throw new Error(`generator bug: built ${variable.type} for shape [${shape}]`);
    }
    if (variable.dtype === 'float32') this.pool.set(key(shape), [...(this.pool.get(key(shape)) ?? []), variable]);
    return variable;
  }

  leaf(shape: Shape): Variable {
    const reusable = this.pool.get(key(shape)) ?? [];
    if (reusable.length > 0 && this.chance(0.45)) return this.pick(reusable);
    const shared = this.shared.filter((variable) => variable.dtype === 'float32' && key(variable.shape as number[]) === key(shape));
    if (shared.length > 0 && this.chance(0.5)) return this.pick(shared);
    if (this.chance(0.1)) return T.constant(randomArray('float32', shape, { seed: this.int(1e6) }));
    return this.input(shape);
  }

  /** An operand that broadcasts against `shape`: the same shape, a suffix, size 1 in some axes, a scalar. */
  broadcastable(shape: Shape, depth: number): Variable | number {
    const choice = this.int(4);
    if (choice === 0 || shape.length === 0) return this.expression(shape, depth);
    if (choice === 1) return this.expression(shape.slice(this.int(shape.length) + 1), depth);
    if (choice === 2) return this.expression(shape.map((size) => (this.chance(0.5) ? 1 : size)), depth);
    return this.pick([0.5, -1, 2, 0.25]);
  }

  /** A float32 expression of run-time shape `shape`. */
  expression(shape: Shape, depth: number): Variable {
    if (depth <= 0 || this.chance(0.12)) return this.leaf(shape);
    const d = depth - 1;
    const sub = (s: Shape = shape) => this.expression(s, d);
    const forms: (() => Variable)[] = [
      () => this.pick([T.neg, T.abs, T.tanh, T.sigmoid, T.square, T.sin, T.relu])(sub()),
      () => T.exp(T.tanh(sub())),
      () => this.pick([T.log, T.sqrt])(T.add(T.abs(sub()), 0.5)),
      () => this.pick([T.add, T.sub, T.mul, T.maximum, T.minimum])(sub(), this.broadcastable(shape, d)),
      () => this.pick([T.add, T.mul])(this.broadcastable(shape, d), sub()),
      () => T.div(sub(), T.add(T.abs(this.broadcastable(shape, d)), 0.5)),
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
    if (shape.length > 0) forms.push(() => this.normalization(shape, d), () => this.normalization(shape, d));
    return this.remember(this.pick(forms)(), shape);
  }

  /** Reductions over new axes (one or two, kept and dropped, or kept and broadcast back). */
  reduction(shape: Shape, d: number): Variable {
    const reduce = this.pick([T.sum, T.max, T.min, T.mean]);
    const p = shape.length === 0 || this.chance(0.4) ? shape.length : this.int(shape.length + 1);
    const long = sizeOf(shape) <= 16 && this.chance(0.2);
    const inner = this.expression(insert(shape, p, long ? 257 + this.int(300) : this.size()), d);
    const choice = this.int(4);
    if (choice === 0) return reduce(inner, p);
    if (choice === 1) return T.dimshuffle(reduce(inner, p, true), ...shape.map((_, i) => (i < p ? i : i + 1)));
    if (choice === 2) {
      const q = this.int(shape.length + 2);
      const twice = this.expression(insert(insert(shape, p, this.size()), q, this.size()), d);
      const keep = this.chance(0.5);
      const once = reduce(twice, q, keep);
      return keep ? reduce(once, [q <= p ? p + 1 : p, q]) : reduce(once, p);
    }
    // Reduced with keepdims and combined with a same-shaped expression (row fusion's case
    // when the axis is the last): x − max(x), x / sum(x), over the shape itself.
    if (shape.length === 0) return reduce(inner, p);
    const axis = this.chance(0.6) ? shape.length - 1 : this.int(shape.length);
    const x = this.expression(shape, d);
    // Long sums become means: x · sum(x) over hundreds of values, fed to a product, leaves
    // values whose float32 rounding no tolerance on the output's scale can judge.
    const along = reduce === T.sum && shape[axis]! > 64 ? T.mean : reduce;
    return this.pick([T.sub, T.mul, T.add])(x, along(this.chance(0.5) ? x : this.expression(shape, d), axis, true));
  }

  /** Softmax-like chains: max, then a sum of what subtracts it, then elementwise again. */
  normalization(shape: Shape, d: number): Variable {
    const axis = this.chance(0.65) ? shape.length - 1 : this.int(shape.length);
    const x = this.expression(shape, d);
    switch (this.int(5)) {
      case 0: return T.softmax(x, axis);
      case 1: return T.logSoftmax(x, axis);
      case 2: {
        const centered = T.sub(x, T.max(x, axis, true));
        const total = T.sum(T.exp(centered), axis, true);
        return this.chance(0.5) ? T.div(T.exp(centered), total) : T.sub(x, T.add(T.log(total), T.max(x, axis, true)));
      }
      case 3: {
        const centered = T.sub(x, T.mean(x, axis, true));
        return T.div(centered, T.sqrt(T.add(T.mean(T.square(centered), axis, true), 0.1)));
      }
      default: return T.sub(x, T.logsumexp(x, axis, true));
    }
  }

  movement(shape: Shape, d: number): Variable {
    const choice = this.int(9);
    const axis = shape.length === 0 ? 0 : this.int(shape.length);
    if (choice === 0) {
      const flat = this.expression([sizeOf(shape)], d);
      return this.chance(0.5) ? T.reshape(flat, shape) : T.reshape(T.reshape(flat, [...shape].reverse()), shape);
    }
    if (shape.length === 0) return T.sum(this.expression([1], d));
    if (choice === 1 && shape.length > 1) {
      const order = shape.map((_, i) => i).sort(() => this.random() - 0.5);
      const inverse = order.map((_, i) => order.indexOf(i));
      return T.dimshuffle(this.expression(inverse.map((i) => shape[i]!), d), ...order);
    }
    if (choice === 2) return T.broadcastTo(this.expression(shape.map((size, i) => (i === axis || this.chance(0.3) ? 1 : size)), d), shape);
    // (A slice of size 1 would be typed unknown, not 1, and could not broadcast as the caller may need.)
    if (choice === 3 && shape[axis]! > 1) {
      // A strided, reversed or offset slice of a larger expression.
      const n = shape[axis]!;
      const kind = this.int(3);
      const bigger = kind === 0 ? 2 * n : kind === 1 ? n + 2 : n;
      const item = kind === 0 ? T.slice(null, null, 2) : kind === 1 ? T.slice(1, -1) : T.slice(null, null, -1);
      const inner = this.expression(replace(shape, axis, bigger), d);
      return T.get(inner, ...shape.slice(0, axis).map(() => ':' as const), item);
    }
    if (choice === 4 && shape[axis]! >= 2) {
      const first = 1 + this.int(shape[axis]! - 1);
      return T.concat([this.expression(replace(shape, axis, first), d), this.expression(replace(shape, axis, shape[axis]! - first), d)], axis);
    }
    if (choice === 5 && shape[axis]! >= 2) {
      const mode = this.pick(['constant', 'edge', 'reflect'] as const);
      const inner = shape[axis]! - 1;
      const widths = shape.map((_, i) => (i === axis ? (this.chance(0.5) ? [1, 0] : [0, 1]) : [0, 0]) as [number, number]);
      if (mode === 'reflect' && inner < 2) return T.pad(this.expression(replace(shape, axis, inner), d), widths);
      return T.pad(this.expression(replace(shape, axis, inner), d), widths, { mode, value: 0.5 });
    }
    if (choice === 6) return T.roll(this.expression(shape, d), this.pick([1, -1, 2]), axis);
    if (choice === 7) {
      // A write into part of an expression: a strided slice, or rows gathered by an index (a scatter).
      const lead = shape.slice(0, axis).map(() => ':' as const);
      const write = this.pick([T.setSubtensor, T.incSubtensor]);
      if (this.chance(0.5)) return write(this.expression(shape, d), [...lead, T.slice(null, null, 2)], this.expression(replace(shape, axis, Math.ceil(shape[axis]! / 2)), d));
      // Set at distinct positions (a repeated one has no defined winner on a device); inc may repeat.
      const count = 1 + this.int(Math.min(3, shape[axis]!));
      const distinct = Array.from({ length: shape[axis]! }, (_, i) => i).sort(() => this.random() - 0.5).slice(0, count);
      const index = write === T.setSubtensor ? T.constant(new Int32Array(distinct)) : this.input([count], 'int32', [0, shape[axis]!]);
      return write(this.expression(shape, d), [...lead, index], this.expression(replace(shape, axis, count), d));
    }
    return T.flip(this.expression(shape, d), axis);
  }

  /** A gather along one axis by an int32 index (an input, or computed exactly from one). */
  gather(shape: Shape, d: number): Variable {
    if (shape.length === 0) return T.get(this.expression([3], d), this.int(3));
    const axis = this.int(shape.length);
    const source = this.size() + 1;
    let index = this.input([shape[axis]!], 'int32', [0, source]);
    if (this.chance(0.4)) index = T.mod(T.add(index, this.input([shape[axis]!], 'int32')), source);
    return T.get(this.expression(replace(shape, axis, source), d), ...shape.slice(0, axis).map(() => ':' as const), index);
  }

  integer(shape: Shape, d: number): Variable {
    let value = this.input(shape, 'int32');
    for (let i = 0; i < 1 + this.int(d + 1); i++) {
      const other = this.chance(0.6) ? this.input(shape.map((size) => (this.chance(0.3) ? 1 : size)), 'int32') : this.pick([1, -1, 2, 3]);
      value = this.pick([T.add, T.sub, T.mul, T.maximum, T.minimum])(value, other);
      if (this.chance(0.2)) value = this.pick([T.neg, T.abs])(value);
      if (this.chance(0.2)) value = this.pick([T.mod, T.intDiv])(value, this.pick([2, 3, 5]));
    }
    if (this.chance(0.3)) value = T.dimshuffle(T.sum(T.dimshuffle(value, ...shape.map((_, i) => i), 'x'), -1, true), ...shape.map((_, i) => i));
    return value;
  }

  integerPath(shape: Shape, d: number): Variable {
    const value = this.integer(shape, d);
    if (shape.length > 0 && this.chance(0.3)) {
      // An integer reduction broadcast back.
      const axis = this.int(shape.length);
      return T.cast(T.add(value, this.pick([T.sum, T.max])(value, axis, true)), 'float32');
    }
    return T.mul(T.cast(value, 'float32'), this.chance(0.5) ? 0.5 : this.expression(shape, d));
  }

  /** Comparisons (of inputs, so that no rounding decides them), logic, where, any/all. */
  boolPath(shape: Shape, d: number): Variable {
    const a = this.input(shape);
    let condition = this.pick([T.gt, T.lt, T.ge])(a, this.chance(0.5) ? 0 : this.input(shape.map((size) => (this.chance(0.4) ? 1 : size))));
    if (this.chance(0.4)) condition = this.pick([T.logicalAnd, T.logicalOr, T.logicalXor])(condition, T.lt(this.input(shape, 'int32'), 1));
    if (this.chance(0.3)) condition = T.logicalNot(condition);
    if (shape.length > 0 && this.chance(0.3)) condition = this.pick([T.any, T.all])(T.dimshuffle(condition, ...shape.map((_, i) => i), 'x'), -1);
    if (this.chance(0.5)) return T.where(condition, this.expression(shape, d), this.broadcastable(shape, d));
    return T.add(T.cast(condition, 'float32'), this.expression(shape, d));
  }

  /** Matmuls (vector, matrix, batched; transposed operands), with epilogues, remembered for other consumers. */
  product(shape: Shape, d: number): Variable {
    const k = this.chance(0.3) ? 17 + this.int(40) : this.size();
    const operand = (rows: number, columns: number, batch: number[]): Variable =>
      this.chance(0.35) ? T.dimshuffle(this.expression([...batch, columns, rows], d), ...batch.map((_, i) => i), batch.length + 1, batch.length) : this.expression([...batch, rows, columns], d);
    let result: Variable;
    if (shape.length === 0) result = T.matmul(this.expression([k], d), this.expression([k], d));
    else if (shape.length === 1) result = T.matmul(this.expression([k], d), operand(k, shape[0]!, []));
    else {
      const batch = shape.slice(0, -2);
      const [n, m] = shape.slice(-2) as [number, number];
      const left = operand(n, k, batch);
      const right = this.chance(0.3) ? operand(k, m, []) : operand(k, m, batch);
      result = T.matmul(left, right);
    }
    this.remember(result, shape);
    const choice = this.int(3);
    if (choice === 0) return result;
    if (choice === 1) return T.relu(T.add(result, this.broadcastable(shape, d)));
    return T.tanh(T.mul(result, 0.2));
  }

  /** A shared variable of `shape` (float32, or int32) the graph may read and update. */
  sharedVariable(shape: Shape, dtype: 'float32' | 'int32' = 'float32'): SharedVariable {
    const variable = T.shared(randomArray(dtype, shape, { low: -2, high: 2, seed: this.seed * 7 + this.shared.length }), `s${this.shared.length}`);
    this.shared.push(variable);
    return variable;
  }

  /** An update's new value for `target`: in place, reading itself elsewhere, or other shared variables. */
  update(target: SharedVariable, d: number): Variable {
    const shape = target.shape as number[];
    if (target.dtype === 'int32') return T.add(target, this.chance(0.5) ? 1 : this.integer(shape, d));
    const others = this.shared.filter((other) => other !== target && other.dtype === 'float32' && key(other.shape as number[]) === key(shape));
    const forms: (() => Variable)[] = [
      () => T.add(T.mul(target, 0.5), T.tanh(this.expression(shape, d))),
      () => T.sub(target, T.mul(0.1, this.expression(shape, d))),
      () => T.tanh(this.expression(shape, d)),
    ];
    if (shape.length > 0) {
      const axis = this.int(shape.length);
      forms.push(
        () => T.add(T.mul(T.roll(target, 1, axis), 0.5), T.tanh(this.expression(shape, d))),
        () => T.sub(target, T.mean(target, axis, true)),
        () => T.mul(target, T.tanh(T.sum(target, this.chance(0.5) ? axis : undefined, true))),
        () => T.flip(target, axis),
      );
    }
    if (others.length > 0) forms.push(() => T.add(T.mul(this.pick(others), 0.5), T.mul(target, 0.25)), () => this.pick(others));
    return this.pick(forms)();
  }
}

function compare(label: string, got: NDArray, want: NDArray): void {
  if (got.dtype !== want.dtype || key(got.shape as number[]) !== key(want.shape as number[])) {
    throw new Error(`${label}: ${got.dtype}[${got.shape}], expected ${want.dtype}[${want.shape}]`);
  }
  let scale = 1;
  for (const v of want.data) if (Number.isFinite(v)) scale = Math.max(scale, Math.abs(v));
  const exact = got.dtype !== 'float32';
  for (let i = 0; i < want.size; i++) {
    const [a, b] = [got.data[i]!, want.data[i]!];
    if (Object.is(a, b) || a === b || (Number.isNaN(a) && Number.isNaN(b))) continue;
    if (exact || !Number.isFinite(b) || !(Math.abs(a - b) <= 1e-4 * scale + 1e-4 * Math.abs(b))) {
      throw new Error(`${label}: element ${i} is ${a}, expected ${b} (scale ${scale})`);
    }
  }
}

interface Case {
  generator: Generator;
  outputs: Variable[];
  updates: [SharedVariable, Variable][];
}

function generate(seed: number): Case {
  const generator = new Generator(seed);
  const updates: [SharedVariable, Variable][] = [];
  const sharedCount = generator.chance(0.6) ? 1 + generator.int(3) : 0;
  for (let i = 0; i < sharedCount; i++) {
    const same = i > 0 && generator.chance(0.5);
    generator.sharedVariable(same ? (generator.shared[0]!.shape as number[]) : generator.shape(), generator.chance(0.15) ? 'int32' : 'float32');
  }
  const outputs: Variable[] = [];
  const count = 1 + generator.int(3);
  for (let i = 0; i < count; i++) {
    const shape = i === 0 || generator.chance(0.5) ? generator.shape() : generator.shape();
    const output = generator.expression(shape, 2 + generator.int(3));
    outputs.push(output);
    // Integer and bool outputs compare inputs, not computed values: a computed value near
    // the threshold (the mean of a layer norm is 0 up to rounding) would decide by rounding.
    if (generator.chance(0.15)) outputs.push(generator.pick([T.cast(T.gt(generator.input(shape), 0), 'int32'), T.lt(generator.input(shape), 0.5)]));
  }
  if (generator.chance(0.03)) {
    // A reduction over more than 2¹⁶ elements: the two-stage split.
    const big = generator.input([260, 256 + generator.int(4)]);
    outputs.push(generator.pick([T.sum, T.max, T.mean])(generator.chance(0.5) ? big : T.tanh(big)));
  }
  for (const target of generator.shared) {
    if (generator.chance(0.85)) updates.push([target, generator.update(target, 1 + generator.int(3))]);
    if (generator.chance(0.25)) outputs.push(target);
  }
  return { generator, outputs, updates };
}

/** What the compiled plans contained, tallied so the test can insist the hard cases were reached. */
const coverage = new Map<string, number>();
const count = (name: string): void => void coverage.set(name, (coverage.get(name) ?? 0) + 1);

async function runCase(seed: number, device: Awaited<ReturnType<typeof acquireDevice>>, tuning?: TuningOptions): Promise<void> {
  const { generator, outputs, updates } = generate(seed);
  const inputs = generator.inputs.map((input) => input.variable);
  const initial = generator.shared.map((variable) => variable.get());
  const describe = (): string => `seed ${seed} (THEORBO_SEED=${seed}); updates: ${updates.map(([target]) => target.name).join(', ') || 'none'}\n${T.debugprint([...outputs, ...updates.map(([, value]) => value)])}`;
  const want: NDArray[][] = [];
  try {
    const reference = T.referenceFunction({ inputs, outputs, updates });
    for (let call = 0; call < calls; call++) want.push(reference(...generator.inputs.map((input) => input.values[call]!)));
  } catch (error) {
    throw new Error(`the generated graph fails on the reference evaluator: ${(error as Error).message}\n${describe()}`);
  }
  const finals = generator.shared.map((variable) => variable.get());
  generator.shared.forEach((variable, i) => variable.set(initial[i]!));
  try {
    const fn = compile({ inputs, outputs, updates, device, tuning });
    for (let call = 0; call < calls; call++) {
      const got = await fn(...generator.inputs.map((input) => input.values[call]!));
      got.forEach((value, i) => compare(`call ${call}, output ${i}`, value as NDArray, want[call]![i]!));
    }
    for (const { kernel } of fn.lastPlan()?.kernels ?? []) {
      count(kernel.kind);
      if (kernel.writesInto) count('update in place');
      if (kernel.alsoStoresRoot) count('epilogue, root stored too');
      else if (kernel.root !== kernel.output) count('epilogue');
      if (kernel.kind === 'reduce' && (kernel.root.owner!.inputs[0]!.type.size ?? 0) >= 1 << 16) count('two-stage reduction');
    }
    for (const [i, variable] of generator.shared.entries()) compare(`final value of ${variable.name}`, await readShared(variable), finals[i]!);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${describe()}`);
  }
}

async function runSeeds(seeds: readonly number[], tuning?: TuningOptions): Promise<void> {
  const device = await acquireDevice();
  if (device.kind === 'reference') throw new Error(`no WebGPU device: ${device.skipped.map((s) => s.reason).join('; ')}`);
  const failures: string[] = [];
  const started = performance.now();
  for (const seed of seeds) {
    const begun = performance.now();
    if (long && seed % 250 === 0) console.log(`  seed ${seed}, ${((begun - started) / 1000).toFixed(0)} s`);
    try {
      await runCase(seed, device, tuning);
      const took = performance.now() - begun;
      if (process.env.THEORBO_TIMING === '1' && took > 150) console.log(`  seed ${seed}: ${took.toFixed(0)} ms`);
      if (long && took > 5000) console.log(`  seed ${seed} took ${(took / 1000).toFixed(1)} s (THEORBO_SEED=${seed} reruns it)`);
    } catch (error) {
      failures.push((error as Error).message);
      if (!long || failures.length >= 5) break;
    }
  }
  if (failures.length > 0) throw new Error(failures.join('\n\n'));
}

test(`${only === undefined ? graphCount : 1} random graphs agree between compile() and the reference evaluator`, async () => {
  await runSeeds(only === undefined ? Array.from({ length: graphCount }, (_, i) => i + 1) : [only]);
  if (only !== undefined) return;
  const expected = ['elementwise', 'reduce', 'matmul', 'rows', 'scatter', 'update in place', 'epilogue', 'epilogue, root stored too', 'two-stage reduction'];
  const missing = expected.filter((name) => !coverage.has(name));
  if (missing.length > 0) throw new Error(`the generated graphs never compiled to: ${missing.join(', ')}`);
  if (long) console.log([...coverage].map(([name, n]) => `${name}: ${n}`).join(', '));
});

// The plans a GPU gets (workgroup reductions and row kernels everywhere, small matmul
// tiles, split-K), on whatever device this is: the CPU device's own plans use
// thread-per-output reductions and rows where there are outputs enough.
test(`${long ? 1000 : 120} random graphs agree with GPU-shaped plans (tuning.workgroupTarget 256)`, async () => {
  if (only !== undefined) return;
  await runSeeds(Array.from({ length: long ? 1000 : 120 }, (_, i) => 100001 + i), { workgroupTarget: 256 });
});

test.run();
