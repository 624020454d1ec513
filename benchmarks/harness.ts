// The benchmark harness: every implementation of a workload is first run once and its
// outputs checked against a host reference (a mismatch is FAILED and never timed), then
// warmed up, calibrated, and timed over N iterations with one device sync at the end,
// the median of several repeats kept. It prints one table per workload and collects JSON rows.
// Left out: statistics beyond median/min/max, plotting, and any comparison across runs.
// Shapes: a workload names its sizes (M, N, K, batch …) and lists its host inputs.

import { seededRandom } from '@theorbo/graph/testing';

export const caseNames = ['elementwise', 'affine', 'sum-last', 'sum-all', 'softmax', 'matmul', 'conv2d', 'conv2d-train', 'conv1d-audio', 'rnn', 'rnn-train', 'train-step', 'compile-latency'] as const;
export type CaseName = (typeof caseNames)[number];

export interface HostTensor {
  name: string;
  shape: number[];
  data: Float32Array | Int32Array;
}
/** Seeded uniform values in [low, high): every case's inputs. */
export function uniform(length: number, low: number, high: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  const data = new Float32Array(length);
  for (let i = 0; i < length; i++) data[i] = low + (high - low) * random();
  return data;
}
export interface CheckResult {
  ok: boolean;
  /** The worst deviation found, in words: "max |Δ| 3.1e-7 at 1234 (ref 0.52)". */
  detail: string;
}

/** One case at one size: inputs, per-iteration work, and the check of any outputs. */
export interface Workload {
  caseName: CaseName;
  label: string;
  sizes: Record<string, number>;
  inputs: HostTensor[];
  /** Scalars a case needs beyond its tensors (the learning rate). */
  params?: Record<string, number>;
  /** Bytes a perfect kernel must move per iteration (for GB/s). */
  bytes?: number;
  /** Floating-point operations per iteration (for GFLOP/s). */
  flops?: number;
  /** The tolerance in words, printed above the table. */
  tolerance: string;
  check(outputs: Float32Array[]): CheckResult;
}

/** An implementation made ready for one workload, driven by the harness. */
export interface Runner {
  /** Runs once from the initial state and reads every output back: what the check sees. */
  result(): Promise<Float32Array[]>;
  /** Issues one more iteration; it need not wait for the device. */
  step(): void | Promise<void>;
  /** Resolves once every issued iteration has finished on the device. */
  sync(): Promise<void>;
  dispose?(): void | Promise<void>;
}
/**
 * An implementation timed in another process (PyTorch, and every compile-latency row),
 * with the same protocol: it brings its outputs for the harness to check, or a verdict
 * reached where the outputs were.
 */
export interface ExternalRun {
  external: true;
  outputs: Float32Array[];
  verdict?: CheckResult;
  /** Printed beneath the row (what the clock did not include, how many runs). */
  note?: string;
  /** The first call's time, when it differs from what the repeats measure. */
  firstMs?: number;
  /** Per-iteration milliseconds, one entry per repeat. */
  repeatsMs: number[];
  iterations: number;
}
export interface Unavailable { unavailable: string }
export type Prepared = Runner | ExternalRun | Unavailable;

/**
 * A row's part in the ratios: 'theorbo' (Theorbo on the WebGPU device) and 'theorbo-cpu'
 * (on the cpu device) are what every other row is divided by; 'roofline' (a WGSL copy on
 * the WebGPU device) and 'cpu-roofline' (the host's copy bandwidth) are the "% of copy"
 * columns' denominators.
 */
export type Role = 'theorbo' | 'theorbo-cpu' | 'peer' | 'roofline' | 'cpu-roofline';
export interface Impl {
  name: string;
  role: Role;
  prepare(workload: Workload): Promise<Prepared>;
  /** A roofline row (a copy kernel) checks against its own expectation, not the case's. */
  check?(workload: Workload, outputs: Float32Array[]): CheckResult;
}

export interface TimingOptions {
  repeats: number;
  warmup: number;
  /** Each repeat runs enough iterations to last about this long. */
  targetMs: number;
  maxIterations: number;
}

export type Status = 'ok' | 'FAILED' | 'error' | 'n/a';
export interface Row {
  impl: string;
  role: Role;
  status: Status;
  detail: string;
  note?: string;
  firstMs?: number;
  medianMs?: number;
  minMs?: number;
  maxMs?: number;
  iterations?: number;
  repeats?: number;
  throughput?: { value: number; unit: 'GB/s' | 'GFLOP/s' };
  /** This row's time ÷ Theorbo's on the WebGPU device (above 1: Theorbo is faster). */
  timeVsTheorbo?: number;
  /** This row's time ÷ Theorbo's on the cpu device (above 1: Theorbo on the cpu device is faster). */
  timeVsTheorboCpu?: number;
  /** The WGSL copy's time ÷ this row's time: the fraction of the WebGPU device's copy bandwidth reached. */
  ofRoofline?: number;
  /** The host copy's time ÷ this row's time: the fraction of the CPU's measured copy bandwidth reached. */
  ofCpuCopy?: number;
}
export interface WorkloadResult {
  case: CaseName;
  label: string;
  sizes: Record<string, number>;
  bytes?: number;
  flops?: number;
  tolerance: string;
  rows: Row[];
}

const now = () => performance.now();
const message = (error: unknown) => (error instanceof Error ? error.message.split('\n')[0]! : String(error));

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Repeats of an iteration slower than slowFactor repeats (the calibration's included). */
export const slowRepeats = 3;
export const slowFactor = 4;

/** A workload's amount of work, for scaling one size's time to the next: flops, else bytes, else the product of its sizes. */
export function workOf(workload: Workload): number {
  return workload.flops ?? workload.bytes ?? Object.values(workload.sizes).reduce((a, b) => a * b, 1);
}

/**
 * Why a row is not worth measuring at this size, or undefined: its time per iteration at
 * a smaller size of the same case, scaled by the work, predicts that its measurement
 * (about five iterations when each is slow) would outlast `budgetMs`. The cpu device's
 * convolutions on the reference evaluator take minutes per step at the sizes.
 */
export function predictedTooSlow(previous: { medianMs: number; workload: Workload } | undefined, workload: Workload, budgetMs: number): string | undefined {
  if (previous === undefined) return undefined;
  const estimate = previous.medianMs * (workOf(workload) / workOf(previous.workload));
  if (5 * estimate <= budgetMs) return undefined;
  return `not timed: ${formatMs(previous.medianMs)} per iteration at ${previous.workload.label} predicts about ${formatMs(estimate)} here, `
    + `and five iterations would pass the row budget of ${formatMs(budgetMs)} (--row-budget-s)`;
}

/** Checks, then times, one implementation on one workload. Never throws. */
export async function measure(impl: Impl, workload: Workload, options: TimingOptions): Promise<Row> {
  const row: Row = { impl: impl.name, role: impl.role, status: 'n/a', detail: '' };
  let prepared: Prepared;
  try {
    prepared = await impl.prepare(workload);
  } catch (error) {
    return { ...row, status: 'error', detail: `setup failed: ${message(error)}` };
  }
  if ('unavailable' in prepared) return { ...row, detail: prepared.unavailable };
  const check = (outputs: Float32Array[]) => (impl.check ? impl.check(workload, outputs) : workload.check(outputs));
  if ('external' in prepared) {
    const verdict = prepared.verdict ?? check(prepared.outputs);
    const note = prepared.note === undefined ? {} : { note: prepared.note };
    if (!verdict.ok) return { ...row, ...note, status: 'FAILED', detail: verdict.detail, ...(prepared.firstMs === undefined ? {} : { firstMs: prepared.firstMs }) };
    return { ...finish(row, workload, verdict.detail, prepared.firstMs, prepared.repeatsMs, prepared.iterations), ...note };
  }
  const runner = prepared;
  try {
    const started = now();
    const outputs = await runner.result();
    const firstMs = now() - started;
    const verdict = check(outputs);
    if (!verdict.ok) return { ...row, status: 'FAILED', detail: verdict.detail, firstMs };
    // Warmup; slow iterations (seconds each on llvmpipe) stop it early.
    const warmStart = now();
    for (let i = 0; i < Math.max(1, options.warmup) && now() - warmStart < 2 * options.targetMs; i++) await runner.step();
    await runner.sync();
    // Calibration, as timeit's autorange: grow a batch (sync included) until it lasts a
    // quarter of a repeat, so that N is right even where one sync costs many iterations.
    let batch = 1;
    let elapsed = 0;
    for (;;) {
      const t0 = now();
      for (let i = 0; i < batch; i++) await runner.step();
      await runner.sync();
      elapsed = Math.max(now() - t0, 1e-3);
      if (elapsed >= options.targetMs / 4 || batch >= options.maxIterations) break;
      batch = Math.min(options.maxIterations, Math.max(2 * batch, Math.ceil((1.2 * batch * options.targetMs) / 4 / elapsed)));
    }
    const iterations = Math.max(1, Math.min(options.maxIterations, Math.round((batch * options.targetMs) / elapsed)));
    const repeatsMs: number[] = [];
    // An iteration that alone outlasts several repeats (seconds, as the issue's
    // convolutions on llvmpipe) is timed in a few repeats of one, the calibration's
    // counting as the first: the whole measurement takes five iterations, not eight.
    const slow = batch === 1 && elapsed >= slowFactor * options.targetMs;
    if (slow) repeatsMs.push(elapsed);
    for (let r = repeatsMs.length; r < (slow ? Math.min(options.repeats, slowRepeats) : options.repeats); r++) {
      const t0 = now();
      for (let i = 0; i < iterations; i++) await runner.step();
      await runner.sync();
      repeatsMs.push((now() - t0) / iterations);
    }
    return finish(row, workload, verdict.detail, firstMs, repeatsMs, iterations);
  } catch (error) {
    return { ...row, status: 'error', detail: message(error) };
  } finally {
    try {
      await runner.dispose?.();
    } catch {
      // A failed cleanup must not hide the measurement.
    }
  }
}

function finish(row: Row, workload: Workload, checkDetail: string, firstMs: number | undefined, repeatsMs: number[], iterations: number): Row {
  const medianMs = median(repeatsMs);
  const seconds = medianMs / 1000;
  const throughput = workload.flops !== undefined
    ? { value: workload.flops / seconds / 1e9, unit: 'GFLOP/s' as const }
    : workload.bytes !== undefined ? { value: workload.bytes / seconds / 1e9, unit: 'GB/s' as const } : undefined;
  return {
    ...row, status: 'ok', detail: `check ${checkDetail}`, ...(firstMs === undefined ? {} : { firstMs }), medianMs,
    minMs: Math.min(...repeatsMs), maxMs: Math.max(...repeatsMs), iterations, repeats: repeatsMs.length,
    ...(throughput ? { throughput } : {}),
  };
}

/** Fills the ratio columns once every row of a workload is in. */
export function relate(rows: Row[]): void {
  const first = (role: Role) => rows.find((row) => row.role === role && row.status === 'ok' && row.medianMs !== undefined)?.medianMs;
  const [theorbo, theorboCpu, roofline, cpuCopy] = [first('theorbo'), first('theorbo-cpu'), first('roofline'), first('cpu-roofline')];
  for (const row of rows) {
    if (row.status !== 'ok' || row.medianMs === undefined) continue;
    if (theorbo !== undefined && row.role !== 'theorbo') row.timeVsTheorbo = row.medianMs / theorbo;
    if (theorboCpu !== undefined && row.role !== 'theorbo-cpu') row.timeVsTheorboCpu = row.medianMs / theorboCpu;
    if (row.role === 'roofline' || row.role === 'cpu-roofline') continue;
    if (roofline !== undefined) row.ofRoofline = roofline / row.medianMs;
    if (cpuCopy !== undefined) row.ofCpuCopy = cpuCopy / row.medianMs;
  }
}

// ---- printing ----

export function formatMs(ms: number | undefined): string {
  if (ms === undefined) return '';
  if (ms < 1) return `${(ms * 1000).toFixed(1)} µs`;
  if (ms < 1000) return `${ms.toPrecision(4)} ms`;
  return `${(ms / 1000).toPrecision(4)} s`;
}

export function formatTable(result: WorkloadResult): string {
  // Optional columns appear where some row has a value for them.
  const ratio = (value: number | undefined) => (value !== undefined ? `${value.toFixed(2)}×` : '');
  const percent = (value: number | undefined) => (value !== undefined ? `${(100 * value).toFixed(0)}%` : '');
  const optional = [
    { title: '× theorbo', cell: (row: Row) => ratio(row.timeVsTheorbo) },
    { title: '× theorbo (cpu)', cell: (row: Row) => ratio(row.timeVsTheorboCpu) },
    { title: '% of WGSL copy', cell: (row: Row) => percent(row.ofRoofline) },
    { title: '% of CPU copy', cell: (row: Row) => percent(row.ofCpuCopy) },
  ].filter((column) => result.rows.some((row) => column.cell(row) !== ''));
  const header = ['implementation', 'status', 'median', 'spread', 'throughput', ...optional.map((column) => column.title), 'first call', 'iters'];
  const lines = result.rows.map((row) => {
    const spread = row.medianMs && row.minMs !== undefined && row.maxMs !== undefined
      ? `${Math.round((100 * (row.minMs - row.medianMs)) / row.medianMs)}/+${Math.round((100 * (row.maxMs - row.medianMs)) / row.medianMs)}%`
      : '';
    return [
      row.impl, row.status, formatMs(row.medianMs), spread,
      row.throughput ? `${row.throughput.value.toPrecision(4)} ${row.throughput.unit}` : '',
      ...optional.map((column) => column.cell(row)),
      formatMs(row.firstMs), row.iterations !== undefined ? `${row.iterations}×${row.repeats}` : '',
    ];
  });
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column]!.length)));
  const render = (cells: string[]) => '  ' + cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd();
  const out = [`${result.case}: ${result.label}`, `  check: ${result.tolerance}`, render(header)];
  result.rows.forEach((row, i) => {
    out.push(render(lines[i]!));
    // n/a, FAILED and error rows say why beneath; ok rows keep their check detail for the JSON.
    if (row.status !== 'ok') out.push(`      ↳ ${row.detail}`);
    if (row.note !== undefined) out.push(`      ↳ ${row.note}`);
  });
  return out.join('\n');
}

// ---- checks ----

/** |out − ref| ≤ atol + rtol·|ref| elementwise; the reference is in float64. */
export function allClose(reference: ArrayLike<number>, atol: number, rtol: number, outputIndex = 0) {
  return (outputs: Float32Array[]): CheckResult => compare(outputs[outputIndex], reference, (i) => atol + rtol * Math.abs(reference[i]!));
}

/** |out − ref| ≤ rtol·scale[i] + atol: for sums, scale is the sum of the terms' magnitudes. */
export function scaledClose(reference: ArrayLike<number>, scale: ArrayLike<number>, rtol: number, atol = 1e-6, outputIndex = 0) {
  return (outputs: Float32Array[]): CheckResult => compare(outputs[outputIndex], reference, (i) => atol + rtol * scale[i]!);
}

/** Compares chosen elements only (for outputs too big to compute on the host in full). */
export function sampledClose(indices: readonly number[], reference: readonly number[], scale: readonly number[], rtol: number, atol = 1e-6, expectedLength?: number) {
  return (outputs: Float32Array[]): CheckResult => {
    const output = outputs[0];
    if (output === undefined) return { ok: false, detail: 'no output came back' };
    if (expectedLength !== undefined && output.length !== expectedLength) {
      return { ok: false, detail: `output has ${output.length} elements, expected ${expectedLength}` };
    }
    const picked = new Float32Array(indices.map((index) => output[index] ?? Number.NaN));
    return compare(picked, reference, (i) => atol + rtol * scale[i]!, (i) => indices[i]!);
  };
}

export function compare(output: Float32Array | undefined, reference: ArrayLike<number>, tolerance: (i: number) => number, position: (i: number) => number = (i) => i): CheckResult {
  if (output === undefined) return { ok: false, detail: 'no output came back' };
  if (output.length !== reference.length) return { ok: false, detail: `output has ${output.length} elements, expected ${reference.length}` };
  let worst = -1;
  let worstRatio = -1;
  let maxError = 0;
  for (let i = 0; i < output.length; i++) {
    const error = Math.abs(output[i]! - reference[i]!);
    const allowed = tolerance(i);
    const ratio = Number.isNaN(error) ? Infinity : error === 0 ? 0 : error / allowed;
    if (ratio > worstRatio) [worst, worstRatio] = [i, ratio];
    if (error > maxError || Number.isNaN(error)) maxError = Number.isNaN(error) ? Number.NaN : Math.max(maxError, error);
  }
  if (worst < 0) return { ok: true, detail: 'empty output' };
  const at = `at ${position(worst)}: ${output[worst]} vs ${Number(reference[worst]!.toPrecision(8))} (tolerance ${tolerance(worst).toExponential(1)})`;
  return { ok: worstRatio <= 1, detail: `max |Δ| ${maxError.toExponential(2)}; worst ${at}` };
}
