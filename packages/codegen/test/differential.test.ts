// Differential fuzz test of the compiler: seeded random well-typed float32 graphs, built
// from the partitioner's hard cases — shared subexpressions with several consumers (some
// broadcasting them), reductions over the last and over other axes feeding elementwise
// ops (row fusion, epilogues), chains of reductions (x − max(x), then sum), matmuls (2-D,
// batched, transposed operands) with epilogues and other consumers, movement (reshape,
// dimshuffle, broadcastTo, strided and reversed slices, concat, pad, roll, writes into
// slices, scatters), gathers, convolutions and pools, small loops (scan),
// int32 and bool paths, several outputs, and updates of shared variables (reading other
// shared variables' old values, reading themselves at other positions, also outputs) —
// run over three calls by `compile()` on the acquired device and by the reference
// evaluator, outputs and final shared values compared (float32 tolerance, ints exact).
// A few graphs are built to be refused in some call (an index out of range, a size-1
// dimension typed unknown that would broadcast): the device must refuse that call too,
// with the reference's error class and op.
// Shapes are small, with some last axes above 256 (row kernels loop) and, rarely, a
// reduction over 2¹⁶+ elements (the two-stage split). 250 graphs here (a few seconds on
// llvmpipe); THEORBO_LONG=1 runs 4000. A failure prints the seed and the graph; THEORBO_SEED=n runs one seed;
// THEORBO_TIMING=1 prints the seeds that take over 150 ms.
import { test } from 'uvu';
import * as T from '@theorbo/graph';
import type { NDArray, SharedVariable, Variable } from '@theorbo/graph';
import { RandomGraph, shapeKey } from '@theorbo/graph/random-graph';
import { acquireDevice, compile, readShared, type TuningOptions } from '../src/index.ts';

const long = process.env.THEORBO_LONG === '1';
const only = process.env.THEORBO_SEED === undefined ? undefined : Number(process.env.THEORBO_SEED);
const graphCount = long ? 4000 : 250;
const calls = 3;
/** How often a graph is built to be refused (an index out of range, a size 1 typed unknown that would broadcast). */
const faults = 0.04;

/** The shared generator, with float32 expressions, three calls' values, and updates of shared variables. */
class Generator extends RandomGraph {
  constructor(seed: number) {
    super(seed, { dtype: 'float32', calls, unknownChance: 0.3, faults });
  }

  /** An update's new value for `target`: in place, reading itself elsewhere, or other shared variables. */
  update(target: SharedVariable, d: number): Variable {
    const shape = target.shape as number[];
    if (target.dtype === 'int32') return T.add(target, this.chance(0.5) ? 1 : this.integer(shape, d));
    const others = this.shared.filter((other) => other !== target && other.dtype === 'float32' && shapeKey(other.shape as number[]) === shapeKey(shape));
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
  if (got.dtype !== want.dtype || shapeKey(got.shape) !== shapeKey(want.shape)) {
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
  // The reference evaluator's results call by call, up to the first call it refuses (if any).
  const want: NDArray[][] = [];
  let refused: Error | undefined;
  const reference = (() => {
    try {
      return T.referenceFunction({ inputs, outputs, updates });
    } catch (error) {
      throw new Error(`the generated graph fails on the reference evaluator: ${(error as Error).message}\n${describe()}`);
    }
  })();
  for (let call = 0; call < calls && !refused; call++) {
    try {
      want.push(reference(...generator.inputs.map((input) => input.values[call]!)));
    } catch (error) {
      if (!(error instanceof T.EvaluationError)) throw new Error(`the reference evaluator fails with ${String(error)}\n${describe()}`);
      refused = error;
    }
  }
  const finals = generator.shared.map((variable) => variable.get());
  generator.shared.forEach((variable, i) => variable.set(initial[i]!));
  try {
    const fn = compile({ inputs, outputs, updates, device, tuning, onUnusedInput: 'ignore' });
    for (let call = 0; call < calls; call++) {
      const args = generator.inputs.map((input) => input.values[call]!);
      if (call === want.length) {
        // Whatever the reference refuses, the device refuses: the same class, naming the same op.
        const error = await fn(...args).then(() => undefined, (caught: unknown) => caught as Error);
        if (!error) throw new Error(`call ${call}: the reference evaluator refused it (${refused!.message}), but the device returned results`);
        if (!(error instanceof T.EvaluationError) || !error.message.startsWith(`${(refused as T.EvaluationError).op}:`)) {
          throw new Error(`call ${call}: the reference evaluator refused it with\n  ${refused!.name}: ${refused!.message}\nbut the device with\n  ${error.name}: ${error.message}`);
        }
        count(`refused: ${/out of range/.test(refused!.message) ? 'index' : /broadcast/.test(refused!.message) ? 'broadcast' : 'other'}`);
        // (The device may have written updates before it knew: shared values are not compared.)
        return;
      }
      const got = await fn(...args);
      got.forEach((value, i) => compare(`call ${call}, output ${i}`, value as NDArray, want[call]![i]!));
    }
    for (const kernel of fn.cpuPlan()?.kernels ?? []) count(`cpu ${kernel.how}`);
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

async function runSeeds(seeds: readonly number[], tuning?: TuningOptions, kind?: 'cpu'): Promise<void> {
  const device = await acquireDevice(kind ? { prefer: kind } : {});
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
  const expected = ['elementwise', 'reduce', 'matmul', 'rows', 'scatter', 'update in place', 'epilogue', 'epilogue, root stored too', 'two-stage reduction', 'window', 'scan', 'refused: index', 'refused: broadcast'];
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

// The same graphs on the cpu device (JS and WebAssembly kernels, the reference evaluator
// for kernels it has no rule for): its results and its refusals must agree too.
test(`${long ? 4000 : graphCount} random graphs agree between the cpu device and the reference evaluator`, async () => {
  if (only !== undefined) return;
  coverage.clear();
  await runSeeds(Array.from({ length: long ? 4000 : graphCount }, (_, i) => i + 1), undefined, 'cpu');
  if (!coverage.has('cpu js')) throw new Error('no kernel ran as JS on the cpu device');
  console.log(`  cpu kernels: ${[...coverage].filter(([name]) => name.startsWith('cpu ')).map(([name, n]) => `${name.slice(4)} ${n}`).join(', ')}`);
});

test.run();
