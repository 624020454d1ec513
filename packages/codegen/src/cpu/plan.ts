// A plan for the cpu device: the graph instantiated for one call signature and
// partitioned into kernels exactly as for WebGPU (lower/), each kernel made into a
// function over buffers in the device's shared memory (cpu/kernels.ts), and the list of
// them run in order by each call. Shared variables live in the device memory between
// calls (uploaded when the host value changes; the host copy is refreshed after each
// update, so `get()` never sees a stale value); updates are written in place where the
// partition allows, else copied after the kernels read the old values.
// Left out: liveness-based reuse of intermediate buffers (a plan keeps its own).

import * as T from '@theorbo/graph';
import { Constant, GraphError, NDArray, SharedVariable, sizeOf, type TypedArray, type Variable } from '@theorbo/graph';
import { instantiate } from '../lower/instantiate.ts';
import { isInlineConstant } from '../lower/kernel.ts';
import { partition } from '../lower/partition.ts';
import type { Tuning } from '../tuning.ts';
import { cpuKernel, type CpuKernel, type Gemm } from './kernels.ts';
import { recordKernelTime, timingKernels } from './kernel-times.ts';
import { copyOut, type CpuMemory } from './memory.ts';
import type { WasmRunner } from './wasm-kernels.ts';

/**
 * Shared variables in the device memory: one region each, and the host version it holds.
 * A variable's region is given back when the variable is garbage-collected (no plan can
 * read it then: a plan holds the shared variables of its graph).
 */
export class CpuStore {
  private readonly residents = new WeakMap<SharedVariable, { view: TypedArray; version: number }>();
  private readonly collected: FinalizationRegistry<{ offset: number; bytes: number }>;
  constructor(private readonly memory: CpuMemory) {
    this.collected = new FinalizationRegistry(({ offset, bytes }) => memory.give(offset, bytes));
  }

  view(shared: SharedVariable): TypedArray {
    let resident = this.residents.get(shared);
    if (!resident) {
      // The store's, not the plan's that first reads it: it outlives every plan.
      resident = { view: this.memory.unowned(() => this.memory.region(shared.dtype, shared.type.size ?? 0).view), version: -1 };
      this.residents.set(shared, resident);
      this.collected.register(shared, { offset: resident.view.byteOffset, bytes: resident.view.byteLength });
    }
    if (resident.version !== shared.version) {
      resident.view.set(shared.hostValue().data);
      resident.version = shared.version;
    }
    return resident.view;
  }

  /**
   * After an update wrote the device copy: the host gets the same value when it next asks
   * (copied then, from the region, which holds the newest value until the next update
   * installs another reader), and no upload follows.
   */
  written(shared: SharedVariable): void {
    const resident = this.residents.get(shared)!;
    shared.setFromDevice(() => new NDArray(shared.dtype, shared.shape as number[], copyOut(resident.view)));
    resident.version = shared.version;
  }
}

export interface CpuDeviceParts {
  memory: CpuMemory;
  store: CpuStore;
  gemm?: Gemm;
  wasm?: WasmRunner;
}

export interface CpuPlan {
  kernels: CpuKernel[];
  inputs: TypedArray[];
  outputs: { variable: Variable; view?: TypedArray; constant?: NDArray }[];
  shared: SharedVariable[];
  updates: { target: SharedVariable; view: TypedArray; inPlace: boolean }[];
  /** Outputs written straight into the regions the plan was built for (`boundOutputs`). */
  boundOutputs: ReadonlySet<number>;
}

export function buildCpuPlan(
  device: CpuDeviceParts,
  outputs: readonly Variable[],
  updates: readonly (readonly [SharedVariable, Variable])[],
  inputShapes: ReadonlyMap<Variable, readonly number[]>,
  options: { fuse: boolean; tuning: Tuning; bound?: ReadonlyMap<number, TypedArray>; boundOutputs?: ReadonlyMap<number, TypedArray> },
): CpuPlan {
  // As on WebGPU (runtime/plan.ts): a swap of two updated variables copies the old value first.
  const targets = new Set<Variable>(updates.map(([target]) => target));
  const values = updates.map(([, value]) => (value instanceof SharedVariable && targets.has(value) ? T.stopGradient(value) : value));
  const all = [...outputs, ...values];
  const { outputs: specialized, inputs } = instantiate(all, inputShapes, options.tuning);
  const updatePairs = updates.map(([target], i) => [target, specialized[outputs.length + i]!] as const);
  updatePairs.forEach(([target, value], i) => {
    if (!T.shapeFits(value.shape as number[], target.shape)) throw T.updateShapeError(target, all[outputs.length + i]!, value.shape as number[]);
  });
  const keepOld = new Set<Variable>(specialized.slice(0, outputs.length).filter((output) => output instanceof SharedVariable));
  const parts = partition(specialized, { maxBuffers: 1 << 20, fuse: options.fuse, updates: updatePairs, keepOld });

  const { memory, store } = device;
  const views = new Map<Variable, TypedArray>();
  const regionOf = (variable: Variable): TypedArray => memory.region(variable.dtype, sizeOf(variable.shape as number[])).view;
  // An input bound to a device tensor's region reads it there (compile's cpu calls, cpu/calls.ts).
  const inputViews = [...inputShapes.keys()].map((original, i) => {
    const view = options.bound?.get(i) ?? regionOf(inputs.get(original)!);
    views.set(inputs.get(original)!, view);
    return view;
  });
  for (const kernel of parts.kernels) if (kernel.writesInto) views.set(kernel.output, store.view(kernel.writesInto as SharedVariable));
  // An output bound to a device tensor's region is written there by its kernel, unless it
  // has a buffer of its own already (an input, a shared variable, a constant, an output twice).
  const boundOutputs = new Set<number>();
  options.boundOutputs?.forEach((view, i) => {
    const variable = specialized[i]!;
    if (variable instanceof SharedVariable || variable instanceof Constant || views.has(variable) || view.length !== sizeOf(variable.shape as number[])) return;
    views.set(variable, view);
    boundOutputs.add(i);
  });
  const viewOf = (variable: Variable): TypedArray => {
    if (variable instanceof SharedVariable) return store.view(variable);
    let view = views.get(variable);
    if (!view) {
      view = regionOf(variable);
      if (variable instanceof Constant) view.set(variable.value.data);
      views.set(variable, view);
    }
    return view;
  };
  const base = (view: TypedArray): number => view.byteOffset;
  const kernels = parts.kernels.map((kernel) => cpuKernel(kernel, {
    materialized: parts.materialized,
    reads: parts.reads.get(kernel)!,
    viewOf,
    scratch: (dtype, size) => memory.region(dtype, size),
    offsetOf: base,
    gemm: device.gemm,
    wasm: device.wasm,
    // Only fuse and tuning: a bound plan's `bound` regions are the caller's device tensors,
    // which a step plan (cached for the device) must never take as its own buffers.
    evaluate: (graphOutputs, givens) => runStep(device, { fuse: options.fuse, tuning: options.tuning }, graphOutputs, givens),
  }));
  const shared = [...new Set(T.topologicalOrder(specialized).filter((variable): variable is SharedVariable => variable instanceof SharedVariable))];
  const planOutputs = specialized.slice(0, outputs.length).map((variable) =>
    variable instanceof Constant && isInlineConstant(variable) ? { variable, constant: variable.value } : { variable, view: viewOf(variable) });
  const written = new Set(parts.kernels.filter((kernel) => kernel.writesInto).map((kernel) => kernel.output));
  const planUpdates = updatePairs.map(([target, value]) => ({ target, view: viewOf(value), inPlace: written.has(value) && viewOf(value) === store.view(target) }));
  return { kernels, inputs: inputViews, outputs: planOutputs, shared, updates: planUpdates, boundOutputs };
}

/**
 * Step plans by device, then by the step graph's first output (held weakly: when the graph
 * is collected with the function that held it, `stepRelease` gives its plans' buffers back).
 */
type StepRegions = { offset: number; bytes: number }[];
const stepPlans = new WeakMap<CpuDeviceParts, WeakMap<Variable, { plans: Map<string, CpuPlan>; regions: StepRegions }>>();
const stepRelease = new FinalizationRegistry<{ memory: CpuDeviceParts['memory']; regions: StepRegions }>(({ memory, regions }) => {
  for (const { offset, bytes } of regions) memory.give(offset, bytes);
});

/**
 * A scan's step graph run as a plan of this device (built once per set of outputs, shapes
 * of the givens and options, then reused by every step and call): what a loop kernel
 * passes to ScanBody.run in place of the reference evaluator.
 */
function runStep(device: CpuDeviceParts, options: { fuse: boolean; tuning: Tuning }, outputs: readonly Variable[], givens: readonly (readonly [Variable, NDArray])[]): NDArray[] {
  let byGraph = stepPlans.get(device);
  if (!byGraph) stepPlans.set(device, (byGraph = new WeakMap()));
  const first = outputs[0]!;
  let cached = byGraph.get(first);
  if (!cached) {
    byGraph.set(first, (cached = { plans: new Map(), regions: [] }));
    stepRelease.register(first, { memory: device.memory, regions: cached.regions });
  }
  const { plans, regions } = cached;
  const key = `${outputs.map((output) => output.id).join(',')}|${givens.map(([variable, value]) => `${variable.id}:${value.shape.join('x')}`).join(',')}|${options.fuse}|${JSON.stringify(options.tuning)}`;
  let plan = plans.get(key);
  if (!plan) {
    // Cached with the step graph, so its buffers belong to no compiled function's plan: they go back when the graph is collected.
    const built = device.memory.owned(() => buildCpuPlan(device, outputs, [], new Map(givens.map(([variable, value]) => [variable, value.shape] as const)), options));
    plan = built.value;
    regions.push(...built.regions);
    plans.set(key, plan);
  }
  return runCpuPlan(plan, device.store, givens.map(([, value]) => value.data), 'fast').map(hostOutput);
}

/** A plan output as a host value: its constant, or its buffer copied into ordinary memory. */
export function hostOutput({ variable, view, constant }: CpuPlan['outputs'][number]): NDArray {
  return constant ?? new NDArray(variable.dtype, variable.shape as number[], copyOut(view!));
}

/**
 * One call: inputs copied in (an undefined value: the input is bound to its buffer
 * already), kernels run, updates applied. The outputs' views are the plan's buffers,
 * valid until the next call: the caller copies them out.
 */
export function runCpuPlan(plan: CpuPlan, store: CpuStore, values: readonly (TypedArray | undefined)[], mode: 'fast' | 'nanguard' | 'profile', profile?: Map<string, { calls: number; ms: number }>): CpuPlan['outputs'] {
  for (const shared of plan.shared) store.view(shared);
  values.forEach((value, i) => value && plan.inputs[i]!.set(value));
  for (const kernel of plan.kernels) {
    const started = mode === 'profile' || timingKernels ? performance.now() : 0;
    kernel.run();
    if (timingKernels) recordKernelTime(kernel, performance.now() - started);
    if (mode === 'profile' && profile) {
      const label = `${kernel.label} [${kernel.how}]`;
      const entry = profile.get(label) ?? { calls: 0, ms: 0 };
      entry.calls++;
      entry.ms += performance.now() - started;
      profile.set(label, entry);
    }
  }
  if (mode === 'nanguard') checkFinite(plan);
  // An output that is an updated shared variable's buffer (its old value) is copied before the update.
  const targets = new Set(plan.updates.map((update) => store.view(update.target)));
  const results = plan.outputs.map((output) => (output.view && targets.has(output.view) ? { ...output, view: copyOut(output.view) } : output));
  for (const update of plan.updates) if (!update.inPlace) store.view(update.target).set(update.view);
  for (const update of plan.updates) store.written(update.target);
  return results;
}

function checkFinite(plan: CpuPlan): void {
  for (const { variable, view } of plan.outputs) {
    if (!view || variable.dtype !== 'float32') continue;
    const bad = view.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new GraphError('nanguard', `an output holds ${view[bad]} at element ${bad} of ${variable.type}`, variable.location);
  }
}
