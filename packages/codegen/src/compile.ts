// compile(): Theano's `function` for WebGPU. It returns an async function that takes one
// value per input (typed arrays, nested arrays, NDArrays or DeviceTensors), checks them
// against the graph, and resolves to the outputs. Updates read the values from before
// the call and are written to the shared variables' device buffers. One call records all
// its kernels into one command buffer; calls may be issued back to back without
// awaiting, and the queue keeps them in order. Plans (kernels, pipelines, buffers) are
// built per input-shape signature and cached. On the 'reference' device the reference
// evaluator runs the same graph with the same semantics.

import * as T from '@theorbo/graph';
import { GraphError, NDArray, SharedVariable, type Variable } from '@theorbo/graph';
import { acquireDevice, type AcquiredDevice, type DeviceKind } from './device.ts';
import { debugTopic, deviceFromEnvironment, tuningFromEnvironment } from './environment.ts';
import { DeviceTensor } from './runtime/device-tensor.ts';
import { formatProfile, run, type CompileMode, type Profile } from './runtime/execute.ts';
import { buildPlan, compilePipelines, draftPlan, type Plan } from './runtime/plan.ts';
import { reacquire, Runtime, runtimeFor } from './runtime/runtime.ts';
import { resolveTuning, tuningKey, type Tuning, type TuningOptions } from './tuning.ts';
import { CpuCalls } from './cpu/calls.ts';
import type { CpuPlan } from './cpu/plan.ts';

export type { CompileMode } from './runtime/execute.ts';

export interface CompileSpec {
  inputs: readonly Variable[];
  outputs: Variable | readonly Variable[];
  updates?: T.Updates;
  givens?: T.Replacements;
  /** A device kind to acquire, or a device already acquired (default: the device chain). */
  device?: DeviceKind | AcquiredDevice;
  mode?: CompileMode;
  /**
   * Convert inputs of another dtype instead of refusing them, truncating fractions given
   * to integer inputs (Theano's allow_input_downcast). Numbers out of an integer input's
   * range are refused even so.
   */
  allowInputDowncast?: boolean;
  /** An input that no output or update depends on: an error (default), a warning, or nothing (Theano's on_unused_input). */
  onUnusedInput?: 'raise' | 'warn' | 'ignore';
  /** Resolve to DeviceTensors that stay on the device, instead of host NDArrays. */
  outputsOnDevice?: boolean;
  /**
   * false: gathers and scatters on a WebGPU device do not check their indices (an index
   * out of range then reads or writes the nearest element instead of raising, as the
   * reference evaluator does). Checking costs a flag test per gathered element and a
   * small read-back per call.
   */
  checkIndices?: boolean;
  /** false: one kernel per op and no epilogues — the unfused baseline for benchmarks. */
  fusion?: boolean;
  /** false: skip the rewrite pipeline (merge, constant folding, canonicalize, stabilize, specialize). */
  optimize?: boolean;
  /**
   * How kernels are built (never what they compute): over the device's defaults and the
   * THEORBO_* variables (environment.ts). Part of every plan's cache key.
   */
  tuning?: TuningOptions;
}

export type InputValue = T.ArrayLike | DeviceTensor;

export interface CompiledFunction {
  (...args: InputValue[]): Promise<(NDArray | DeviceTensor)[]>;
  /** The device the function runs on, acquired at the first call. */
  device(): Promise<AcquiredDevice>;
  /** Kernels of the plan for the last call's shapes (for tests and debugging). */
  kernelCount(): number;
  /** The last call's plan, if any. */
  lastPlan(): Plan | undefined;
  /** The last call's plan on the cpu device, if it ran there. */
  cpuPlan(): CpuPlan | undefined;
  /** Per-kernel times gathered in 'profile' mode, as a table. */
  profile(): string;
  /** The tuning the function's plans are built with, once its device is known. */
  tuning(): Promise<Tuning>;
  /**
   * After a DeviceLostError: acquires a new device of the same kind; shared variables that
   * lived only on the lost device restart from their last host copies.
   */
  reacquire(): Promise<AcquiredDevice>;
  /**
   * Gives the cpu device's memory that this function's plans hold (a plan per input
   * shape: inputs, intermediates, outputs) back to the device; the next call builds its
   * plan again. Done by itself when the function is garbage-collected. Shared variables
   * and device tensors keep their memory.
   */
  release(): void;
  /** Bytes of the cpu device's memory this function's plans hold (0 on other devices). */
  cpuBytes(): number;
}

/** Gives a collected compiled function's cpu plans back to the device memory. */
const cpuPlanRelease = new FinalizationRegistry<CpuCalls>((calls) => calls.release());
/** Functions with calls not yet settled, and how many: held here so that none is collected (and released) before its plan is built. */
const inFlight = new Map<object, number>();

export function compile(spec: CompileSpec): CompiledFunction {
  const outputList = spec.outputs instanceof T.Variable ? [spec.outputs] : [...spec.outputs];
  const updates = normalizeUpdates(spec);
  let graphOutputs = [...outputList, ...updates.map(([, value]) => value)];
  if (spec.givens) graphOutputs = T.clone(graphOutputs, spec.givens);
  checkInputList(spec.inputs, graphOutputs, spec.onUnusedInput ?? 'raise');
  if (spec.optimize !== false) graphOutputs = T.optimize(graphOutputs);
  const outputs = graphOutputs.slice(0, outputList.length);
  const updatePairs = updates.map(([target], i) => [target, graphOutputs[outputList.length + i]!] as const);
  checkInputs(spec.inputs, graphOutputs);
  // float64 runs only on the reference evaluator, named here or by THEORBO_DEVICE.
  const float64 = isReference(spec.device ?? (deviceFromEnvironment() as DeviceKind | undefined)) ? undefined : float64Refusal(graphOutputs);
  if (float64) throw float64;
  const mode = spec.mode ?? 'fast';

  let runtime: Promise<Runtime> | undefined;
  const plans = new Map<string, Promise<Plan>>();
  let last: Plan | undefined;
  let reference: ((...args: T.ArrayLike[]) => NDArray[]) | undefined;
  const cpuCalls = new CpuCalls({ inputs: spec.inputs, outputs, updates: updatePairs, fuse: spec.fusion ?? true, outputsOnDevice: spec.outputsOnDevice ?? false });
  const profile: Profile = new Map();
  // The environment is read once, when the function is made.
  const tuningLayers = [tuningFromEnvironment(), spec.tuning] as const;
  const tunings = new Map<Runtime, { tuning: Tuning; key: string }>();
  const tuningFor = (rt: Runtime) => {
    let entry = tunings.get(rt);
    if (!entry) {
      const tuning = resolveTuning(rt.descriptor.kind, ...tuningLayers);
      tunings.set(rt, (entry = { tuning, key: tuningKey(tuning) }));
    }
    return entry;
  };

  // Calls run in the order they are made, across compiled functions (they may share
  // variables). One that finds the device and its signature's plan ready, and no earlier
  // call still waiting, records and submits its commands synchronously, before it returns
  // its promise: a loop that does not await keeps few calls (and their output buffers) in
  // flight, and pays no promise hops. Any other call waits until every earlier call has
  // submitted; in 'nanguard' and 'profile' modes, which wait between kernels, until every
  // earlier call has finished.
  let ready: Runtime | undefined;
  const built = new Map<string, Plan>();
  // Plans built for an earlier device (before reacquire()) are not kept.
  let generation = 0;
  const serial = mode === 'nanguard' || mode === 'profile';
  const getRuntime = (): Promise<Runtime> => (runtime ??= resolveDevice(spec.device).then(runtimeFor).then((rt) => (ready = rt)));

  const prepare = (rt: Runtime, args: readonly InputValue[]) => {
    if (args.length !== spec.inputs.length) {
      throw new GraphError('function', `expects ${spec.inputs.length} inputs (${spec.inputs.map((input) => input.name ?? input.type.toString()).join(', ')}) but was called with ${args.length}`, spec.inputs[0]?.location);
    }
    rt.checkUsable();
    const values = args.map((arg, i) => {
      const input = spec.inputs[i]!;
      if (!(arg instanceof DeviceTensor)) return T.inputValue(input, arg, { allowInputDowncast: spec.allowInputDowncast });
      if (arg.dtype !== input.dtype) throw new GraphError('function', `input ${input.name ?? i} is ${input.dtype}, but the device tensor given holds ${arg.dtype}`, input.location);
      return arg;
    });
    return { values, key: `${values.map((value) => value.shape.join('x')).join('|')} ${tuningFor(rt).key}` };
  };

  // The plan of a signature, built once: the promise is cached at once, so calls issued
  // back to back share it.
  const planFor = (rt: Runtime, values: readonly (NDArray | DeviceTensor)[], key: string): Promise<Plan> => {
    let pending = plans.get(key);
    if (!pending) {
      const shapes = new Map(spec.inputs.map((input, i) => [input, values[i]!.shape] as const));
      const context = rt.planContext(tuningFor(rt).tuning, { debug: mode === 'debug' || debugTopic('shaders'), fuse: spec.fusion ?? true, checkIndices: spec.checkIndices ?? true });
      pending = (async () => {
        const draft = draftPlan(context, outputs, updatePairs, shapes);
        await compilePipelines(context, draft);
        return buildGuarded(rt, () => buildPlan(context, outputs, updatePairs, shapes, draft));
      })();
      plans.set(key, pending);
      const builtFor = generation;
      pending.then((plan) => void (generation === builtFor && built.set(key, plan)), () => void (generation === builtFor && plans.delete(key)));
      if (mode === 'debug') void pending.then((plan) => console.log(`theorbo: ${plan.kernels.length} kernels for input shapes ${key}`));
    }
    return pending;
  };

  const submit = (rt: Runtime, plan: Plan, values: readonly (NDArray | DeviceTensor)[]) => {
    last = plan;
    return run(rt, plan, values, mode, spec.outputsOnDevice ?? false, profile, outputs);
  };

  const call = (...args: InputValue[]): Promise<(NDArray | DeviceTensor)[]> => {
    // Inputs checked and converted on the fast path are kept for the wait if it has no plan yet.
    let prepared: ReturnType<typeof prepare> | undefined;
    if (order.waiting === 0 && !serial && ready && ready.descriptor.kind !== 'reference' && ready.descriptor.kind !== 'cpu') {
      try {
        prepared = prepare(ready, args);
        const plan = built.get(prepared.key);
        if (plan) return submit(ready, plan, prepared.values);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    order.waiting++;
    inFlight.set(call, (inFlight.get(call) ?? 0) + 1);
    const before = order.submitted;
    // Resolves with the call's results promise, wrapped so that it is not awaited here.
    const submission = (async (): Promise<{ results: Promise<(NDArray | DeviceTensor)[]> }> => {
      await before;
      const rt = ready ?? (await getRuntime());
      if (rt.descriptor.kind === 'reference') {
        reference ??= T.referenceFunction({ inputs: spec.inputs, outputs, updates: updatePairs, allowInputDowncast: spec.allowInputDowncast });
        return { results: Promise.resolve(reference(...args.map((arg) => (arg instanceof DeviceTensor ? arg.hostCopy() : arg)))) };
      }
      if (rt.descriptor.kind === 'cpu') {
        const { values, key } = prepare(rt, args);
        const onBuild = mode === 'debug' ? (plan: CpuPlan) => console.log(`theorbo: ${plan.kernels.length} cpu kernels for input shapes ${key}: ${plan.kernels.map((k) => `${k.label} [${k.how}]`).join('; ')}`) : undefined;
        const results = cpuCalls.call(rt.descriptor.cpu, tuningFor(rt).tuning, values, key, mode === 'nanguard' || mode === 'profile' ? mode : 'fast', profile, onBuild);
        return { results: Promise.resolve(results) };
      }
      const { values, key } = prepared ?? prepare(rt, args);
      const plan = built.get(key) ?? (await planFor(rt, values, key));
      const results = submit(rt, plan, values);
      if (serial) await results.catch(() => {});
      return { results };
    })();
    order.submitted = submission.then(() => {}, () => {}).finally(() => {
      order.waiting--;
      const count = inFlight.get(call)! - 1;
      if (count > 0) inFlight.set(call, count);
      else inFlight.delete(call);
    });
    return submission.then(({ results }) => results);
  };

  const compiled = call as CompiledFunction;
  compiled.device = async () => (await getRuntime()).descriptor;
  compiled.kernelCount = () => (cpuCalls.last ? cpuCalls.last.kernels.length : last ? last.kernels.reduce((n, k) => n + k.passes.length, 0) : 0);
  compiled.cpuPlan = () => cpuCalls.last;
  compiled.lastPlan = () => last;
  compiled.profile = () => formatProfile(profile);
  compiled.tuning = async () => tuningFor(await getRuntime()).tuning;
  compiled.reacquire = async () => {
    const old = await getRuntime();
    ready = undefined;
    generation++;
    runtime = reacquire(old).then((rt) => (ready = rt));
    plans.clear();
    built.clear();
    cpuCalls.release();
    last = undefined;
    return (await runtime).descriptor;
  };
  compiled.release = () => cpuCalls.release();
  compiled.cpuBytes = () => cpuCalls.heldBytes;
  cpuPlanRelease.register(compiled, cpuCalls);
  return compiled;
}

/** Calls of every compiled function, in the order they were made: how many still wait to submit, and when the last will have. */
const order = { waiting: 0, submitted: Promise.resolve() as Promise<void> };

function normalizeUpdates(spec: CompileSpec): [SharedVariable, Variable][] {
  const given = spec.updates instanceof Map ? [...spec.updates.entries()] : [...((spec.updates as [SharedVariable, Variable][] | undefined) ?? [])];
  const result = new Map<SharedVariable, Variable>();
  for (const [target, value] of given) {
    if (result.has(target)) throw new GraphError('compile', `${target.name ? `shared variable '${target.name}'` : `a shared variable (${target.type})`} has two updates; give each shared variable at most one`, value.location);
    if (!(target instanceof SharedVariable)) throw new GraphError('compile', `an update target must be a shared variable, but ${target} is a ${target.kind}`, value.location);
    if (value.dtype !== target.dtype || value.ndim !== target.ndim || value.shape.some((dim: number | null, i: number) => dim !== null && dim !== target.shape[i])) {
      throw new GraphError('compile', `the update of ${target.name ?? 'a shared variable'} (${target.type}) has type ${value.type}`, value.location);
    }
    result.set(target, value);
  }
  // Shared variables with a default update (random streams) advance too, as in Theano.
  const roots = [...(spec.outputs instanceof T.Variable ? [spec.outputs] : spec.outputs), ...result.values()];
  for (const variable of T.topologicalOrder(roots)) {
    if (variable instanceof SharedVariable && variable.defaultUpdate && !result.has(variable)) result.set(variable, variable.defaultUpdate);
  }
  return [...result.entries()];
}

/**
 * Each input is listed once, and (unless told otherwise) some output depends on it: an
 * input the graph ignores usually means the wrong variable was passed (Theano's rule).
 */
function checkInputList(inputs: readonly Variable[], outputs: readonly Variable[], onUnused: 'raise' | 'warn' | 'ignore'): void {
  const name = (input: Variable) => (input.name ? `input '${input.name}'` : `an unnamed input (${input.type})`);
  inputs.forEach((input, i) => {
    if (!(input instanceof T.Variable)) throw new GraphError('compile', `inputs[${i}] is ${input === undefined || input === null ? String(input) : typeof input}, not a Variable`, undefined);
    const first = inputs.indexOf(input);
    if (first !== i) throw new GraphError('compile', `${name(input)} is listed twice among the inputs (positions ${first} and ${i}); list each input once`, input.location);
  });
  if (onUnused === 'ignore') return;
  const used = new Set(T.topologicalOrder(outputs));
  for (const input of inputs) {
    if (used.has(input)) continue;
    const detail = `${name(input)} is not used by any output or update; remove it from the inputs, or pass onUnusedInput: 'warn' or 'ignore'`;
    if (onUnused === 'raise') throw new GraphError('compile', detail, input.location);
    console.warn(`theorbo: compile: ${detail}`);
  }
}

const isReference = (device: CompileSpec['device']): boolean => device === 'reference' || (typeof device === 'object' && device.kind === 'reference');

/** Every input the outputs need must be listed. */
function checkInputs(inputs: readonly Variable[], outputs: readonly Variable[]): void {
  for (const variable of T.topologicalOrder(outputs)) {
    if (variable.kind === 'input' && !inputs.includes(variable)) {
      throw new GraphError('compile', `the outputs depend on ${variable.name ? `input '${variable.name}'` : 'an unnamed input'} (${variable.type}), which is not among the function's inputs`, variable.location);
    }
  }
}

/** float64 cannot run on WebGPU (the reference evaluator runs it): the error for a graph that has it, if any. */
function float64Refusal(outputs: readonly Variable[]): GraphError | undefined {
  const variable = T.topologicalOrder(outputs).find((v) => v.dtype === 'float64');
  if (!variable) return undefined;
  return new GraphError('compile', `${variable.owner ? `this ${variable.owner.op} node` : variable.name ? `'${variable.name}'` : 'an input'} is float64 (${variable.type}), which WebGPU devices cannot run; cast to float32, or compile with device: 'reference'`, variable.location);
}

async function resolveDevice(device: CompileSpec['device']): Promise<AcquiredDevice> {
  if (device === undefined || typeof device === 'string') return acquireDevice(device ? { prefer: device } : {});
  return device;
}

/** Builds a plan inside the device's error scopes; a refused plan gives its buffers back. */
async function buildGuarded(rt: Runtime, build: () => Plan): Promise<Plan> {
  let built: Plan | undefined;
  try {
    return await rt.guard('building the kernels', () => (built = build()));
  } catch (error) {
    for (const buffer of (built as Plan | undefined)?.owned ?? []) buffer.destroy();
    throw error;
  }
}

