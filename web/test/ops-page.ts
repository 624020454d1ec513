// The browser tests' op checks, bundled beside the app and run in the page: for every op
// of the graph package, one case of packages/codegen/test/op-cases.ts that uses it is
// compiled on the page's device (WebGPU through navigator.gpu, SwiftShader in CI) and
// compared with the reference evaluator; for every differentiable op, one case of
// packages/autodiff/test/grad-cases.ts has its gradient checked against finite
// differences (verifyGrad, float64 on the reference evaluator, in the browser's engine),
// and that case's gradient graph (in float32) is compiled on the page's device and
// compared with the reference evaluator, as codegen's cpu tests do for every case.
// Cases are chosen greedily, smallest graph first (SwiftShader compiles big kernels
// slowly), so a case that covers several ops counts once.
// Left out: the lists' other cases (Node runs them all).

import * as T from '@theorbo/graph';
import { assertClose } from '@theorbo/graph/testing';
import type { NDArray, OpName, Variable } from '@theorbo/graph';
import { grad, notDifferentiable, verifyGrad, vjpTable } from '@theorbo/autodiff';
import { acquireDevice, compile } from '@theorbo/codegen';
import { cases as deviceCases } from '../../packages/codegen/test/op-cases.ts';
import { cases as gradCases } from '../../packages/autodiff/test/grad-cases.ts';

type Build = (...inputs: Variable[]) => Variable;
export interface CaseResult { name: string; ops: OpName[]; ok: boolean; error?: string; ms: number }
export interface OpReport {
  device: string; kind: string; forward: CaseResult[]; gradients: CaseResult[];
  /** Gradient graphs run on the device; `deviceGradientsSkipped` names cases with no float32 gradient graph. */
  deviceGradients: CaseResult[]; deviceGradientsSkipped: string[]; uncovered: string[];
}

/** Inputs of unknown sizes except size-1 axes, as the Node op tests build them. */
const inputsFor = (values: readonly NDArray[]): Variable[] =>
  values.map((value, i) => T.tensor(value.dtype, value.shape.map((dim) => (dim === 1 ? 1 : null)), `in${i}`));

/** The ops of the case's graph, each node counted (a case's size: big graphs compile slowly on SwiftShader). */
function opsIn(build: Build, values: readonly NDArray[], optimize: boolean): OpName[] {
  let outputs = [build(...inputsFor(values))];
  if (optimize) outputs = T.optimize(outputs);
  return T.topologicalOrder(outputs).flatMap((variable) => (variable.owner ? [variable.owner.op] : []));
}

/** Cases that together use every op in `wanted`: the smallest graphs first, ties in list order. */
function cover<C extends readonly [string, Build, NDArray[], ...unknown[]]>(cases: readonly C[], wanted: ReadonlySet<OpName>, optimize: boolean): { chosen: [C, OpName[]][]; uncovered: OpName[] } {
  const left = new Set(wanted);
  const chosen: [C, OpName[]][] = [];
  const sized = cases.flatMap((entry) => {
    try {
      return [{ entry, ops: opsIn(entry[1], entry[2], optimize) }];
    } catch {
      return []; // a case that needs static sizes; Node's tests build it with them
    }
  });
  sized.sort((a, b) => a.ops.length - b.ops.length);
  for (const { entry, ops } of sized) {
    const fresh = [...new Set(ops)].filter((op) => left.has(op));
    if (fresh.length === 0) continue;
    for (const op of fresh) left.delete(op);
    chosen.push([entry, fresh]);
  }
  return { chosen, uncovered: [...left] };
}

// 32×32 matmul tiles: SwiftShader compiles the default 64- and 128-wide tiles' unrolled
// shaders for seconds each, and the tile size is not what the page checks.
const tuning = { matmulTile: 32 } as const;

// WGSL promises sin and cos only to an absolute error of 2^-11 on [-π, π] (tan inherits
// it from sin/cos, the normal draws from Box–Muller's cos): Dawn on llvmpipe does far
// better, which the Node tests' 2e-5 assumes; SwiftShader is off by up to 2e-4. Cases using
// these ops are held to the spec's bound instead.
const wgslAbsoluteError: Partial<Record<OpName, number>> = { sin: 2 ** -11, cos: 2 ** -11, tan: 2 ** -11, random: 2 ** -11 };

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error)).slice(0, 600);

export async function runOpChecks(): Promise<OpReport> {
  const device = await acquireDevice();
  const forward = cover(deviceCases, new Set(T.opNames), true);
  const differentiable = new Set(T.opNames.filter((op) => vjpTable[op] !== notDifferentiable));
  const gradients = cover(gradCases, differentiable, false);
  const report: OpReport = {
    device: device.describe().split('\n')[0]!, kind: device.kind, forward: [], gradients: [], deviceGradients: [], deviceGradientsSkipped: [],
    uncovered: [...forward.uncovered.map((op) => `${op} (device)`), ...gradients.uncovered.map((op) => `${op} (gradient)`)],
  };
  for (const [[name, build, values, rtol = 2e-5], ops] of forward.chosen) {
    const started = performance.now();
    try {
      const inputs = inputsFor(values);
      const output = build(...inputs);
      const want = T.evaluate(output, inputs.map((input, i) => [input, values[i]!] as const));
      const [got] = await compile({ inputs, outputs: [output], device, tuning })(...values);
      const atol = Math.max(rtol, ...[...opsIn(build, values, true)].map((op) => wgslAbsoluteError[op] ?? 0));
      assertClose(got as NDArray, want, { rtol, atol }, `${name} on ${device.kind}`);
      report.forward.push({ name, ops, ok: true, ms: performance.now() - started });
    } catch (error) {
      report.forward.push({ name, ops, ok: false, error: message(error), ms: performance.now() - started });
    }
  }
  for (const [[name, build, values], ops] of gradients.chosen) {
    const started = performance.now();
    try {
      verifyGrad(build, values);
      report.gradients.push({ name, ops, ok: true, ms: performance.now() - started });
    } catch (error) {
      report.gradients.push({ name, ops, ok: false, error: message(error), ms: performance.now() - started });
    }
  }
  for (const [[name, build, values], ops] of gradients.chosen) {
    const started = performance.now();
    const graph = gradientGraph(build, values);
    if (typeof graph === 'string') {
      report.deviceGradientsSkipped.push(`${name} (${graph})`);
      continue;
    }
    try {
      const want = T.evaluate(graph.gradients, graph.inputs.map((input, i) => [input, graph.values[i]!] as const));
      const got = (await compile({ inputs: graph.inputs, outputs: graph.gradients, device, tuning, onUnusedInput: 'ignore' })(...graph.values)) as NDArray[];
      // The projection's weights reach 1.5, so WGSL's sin/cos error bound doubles; tan's
      // derivative 1 + tan² magnifies its error relative to its size, hence rtol 1e-3.
      const bounds = [...opsReached(graph.gradients)].map((op) => wgslAbsoluteError[op] ?? 0);
      const atol = Math.max(1e-5, ...bounds.map((bound) => 2 * bound));
      const rtol = bounds.some((bound) => bound > 0) ? 1e-3 : 1e-4;
      got.forEach((value, i) => assertClose(value, want[i]!, { rtol, atol }, `gradient ${i} of ${name} on ${device.kind}`));
      report.deviceGradients.push({ name, ops, ok: true, ms: performance.now() - started });
    } catch (error) {
      report.deviceGradients.push({ name, ops, ok: false, error: message(error), ms: performance.now() - started });
    }
  }
  return report;
}

/** The ops of a graph, its loops' step graphs included. */
function opsReached(outputs: readonly Variable[], found = new Set<OpName>()): Set<OpName> {
  for (const variable of T.topologicalOrder(outputs)) {
    const node = variable.owner;
    if (!node || (found.has(node.op) && node.op !== 'scan')) continue;
    found.add(node.op);
    if (node.op === 'scan') opsReached((node.attrs as { body: T.ScanBody }).body.outputs.map((output) => output.value), found);
  }
  return found;
}

/**
 * The gradient graph of a gradient case in float32: d/d(float inputs) of sum(output ·
 * fixed weights), with the inputs and their float32 values; or why the case has none.
 */
function gradientGraph(build: Build, values: readonly NDArray[]): { inputs: Variable[]; values: NDArray[]; gradients: Variable[] } | string {
  const values32 = values.map((value) => (T.isFloat(value.dtype) ? value.astype('float32') : value));
  const inputs = values32.map((value, i) => T.tensor(value.dtype, value.shape, `in${i}`));
  const output = build(...inputs);
  if (output.dtype !== 'float32') return `its output is ${output.dtype}`;
  const projection = T.constant(T.array(Float32Array.from({ length: output.type.size ?? 0 }, (_, i) => 0.5 + ((i * 0.61) % 1)), { shape: output.shape as number[] }));
  const cost = output.ndim === 0 ? output : T.sum(T.mul(output, projection));
  const gradients = grad(cost, inputs.filter((input) => input.dtype === 'float32'), { disconnected: 'zero' });
  if (T.topologicalOrder(gradients).some((variable) => variable.dtype === 'float64')) return 'a float64 constant in its function';
  return { inputs, values: values32, gradients };
}

/** An array as it crosses between Node and the page (JSON-safe). */
export interface WireArray { dtype: T.DType; shape: number[]; data: number[] }

/** Loads a graph saved in Node (saveGraph), compiles it on the page's device and runs it on `inputs`. */
export async function runSavedGraph(json: string, inputs: readonly WireArray[]): Promise<{ device: string; outputs: WireArray[] }> {
  const device = await acquireDevice();
  const loaded = T.loadGraph(json, { file: 'the graph saved in Node' });
  const run = compile({ inputs: loaded.inputs, outputs: loaded.outputs, updates: loaded.updates, device });
  const results = (await run(...inputs.map((input) => T.array(input.data, { dtype: input.dtype, shape: input.shape })))) as NDArray[];
  return { device: device.describe().split('\n')[0]!, outputs: results.map((result) => ({ dtype: result.dtype, shape: [...result.shape], data: Array.from(result.data) })) };
}
