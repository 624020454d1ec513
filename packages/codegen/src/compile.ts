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
import { acquireDevice, type AcquiredDevice, type DeviceKind, type WebGpuDescriptor } from './device.ts';
import { DeviceTensor } from './runtime/device-tensor.ts';
import { byteSize, fromWords, stageReadback, upload, usage } from './runtime/gpu.ts';
import { buildPlan, compilePipelines, draftPlan, type Plan } from './runtime/plan.ts';
import { reacquire, Runtime, runtimeFor } from './runtime/runtime.ts';

export type CompileMode = 'fast' | 'debug' | 'nanguard' | 'profile';

export interface CompileSpec {
  inputs: readonly Variable[];
  outputs: Variable | readonly Variable[];
  updates?: T.Updates;
  givens?: T.Replacements;
  /** A device kind to acquire, or a device already acquired (default: the device chain). */
  device?: DeviceKind | AcquiredDevice;
  mode?: CompileMode;
  /** Convert inputs of another dtype instead of refusing them (Theano's allow_input_downcast). */
  allowInputDowncast?: boolean;
  /** Resolve to DeviceTensors that stay on the device, instead of host NDArrays. */
  outputsOnDevice?: boolean;
  /** false: one kernel per op and no epilogues — the unfused baseline for benchmarks. */
  fusion?: boolean;
  /** false: skip the rewrite pipeline (merge, constant folding, canonicalize, stabilize, specialize). */
  optimize?: boolean;
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
  /** Per-kernel times gathered in 'profile' mode, as a table. */
  profile(): string;
  /**
   * After a DeviceLostError: acquires a new device of the same kind; shared variables that
   * lived only on the lost device restart from their last host copies.
   */
  reacquire(): Promise<AcquiredDevice>;
}

export function compile(spec: CompileSpec): CompiledFunction {
  const outputList = spec.outputs instanceof T.Variable ? [spec.outputs] : [...spec.outputs];
  const updates = normalizeUpdates(spec);
  let graphOutputs = [...outputList, ...updates.map(([, value]) => value)];
  if (spec.givens) graphOutputs = T.clone(graphOutputs, spec.givens);
  if (spec.optimize !== false) graphOutputs = T.optimize(graphOutputs);
  const outputs = graphOutputs.slice(0, outputList.length);
  const updatePairs = updates.map(([target], i) => [target, graphOutputs[outputList.length + i]!] as const);
  checkInputs(spec.inputs, graphOutputs);
  const mode = spec.mode ?? 'fast';

  let runtime: Promise<Runtime> | undefined;
  const plans = new Map<string, Promise<Plan>>();
  let last: Plan | undefined;
  let reference: ((...args: T.ArrayLike[]) => NDArray[]) | undefined;
  const profile = new Map<string, { calls: number; ms: number }>();

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
    const values = args.map((arg, i) => (arg instanceof DeviceTensor ? arg : T.inputValue(spec.inputs[i]!, arg, { allowDowncast: spec.allowInputDowncast })));
    return { values, key: values.map((value) => value.shape.join('x')).join('|') };
  };

  // The plan of a signature, built once: the promise is cached at once, so calls issued
  // back to back share it.
  const planFor = (rt: Runtime, values: readonly (NDArray | DeviceTensor)[], key: string): Promise<Plan> => {
    let pending = plans.get(key);
    if (!pending) {
      const shapes = new Map(spec.inputs.map((input, i) => [input, values[i]!.shape] as const));
      const context = rt.planContext(mode === 'debug', spec.fusion ?? true);
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
    if (order.waiting === 0 && !serial && ready && ready.descriptor.kind !== 'reference') {
      try {
        prepared = prepare(ready, args);
        const plan = built.get(prepared.key);
        if (plan) return submit(ready, plan, prepared.values);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    order.waiting++;
    const before = order.submitted;
    // Resolves with the call's results promise, wrapped so that it is not awaited here.
    const submission = (async (): Promise<{ results: Promise<(NDArray | DeviceTensor)[]> }> => {
      await before;
      const rt = ready ?? (await getRuntime());
      if (rt.descriptor.kind === 'reference') {
        reference ??= T.referenceFunction({ inputs: spec.inputs, outputs, updates: updatePairs, allowDowncast: spec.allowInputDowncast });
        return { results: Promise.resolve(reference(...args.map((arg) => (arg instanceof DeviceTensor ? arg.hostCopy() : arg)))) };
      }
      const { values, key } = prepared ?? prepare(rt, args);
      const plan = built.get(key) ?? (await planFor(rt, values, key));
      const results = submit(rt, plan, values);
      if (serial) await results.catch(() => {});
      return { results };
    })();
    order.submitted = submission.then(() => {}, () => {}).finally(() => void order.waiting--);
    return submission.then(({ results }) => results);
  };

  const compiled = call as CompiledFunction;
  compiled.device = async () => (await getRuntime()).descriptor;
  compiled.kernelCount = () => (last ? last.kernels.reduce((n, k) => n + k.passes.length, 0) : 0);
  compiled.lastPlan = () => last;
  compiled.profile = () => formatProfile(profile);
  compiled.reacquire = async () => {
    const old = await getRuntime();
    ready = undefined;
    generation++;
    runtime = reacquire(old).then((rt) => (ready = rt));
    plans.clear();
    built.clear();
    last = undefined;
    return (await runtime).descriptor;
  };
  return compiled;
}

/** Calls of every compiled function, in the order they were made: how many still wait to submit, and when the last will have. */
const order = { waiting: 0, submitted: Promise.resolve() as Promise<void> };

function normalizeUpdates(spec: CompileSpec): [SharedVariable, Variable][] {
  const given = spec.updates instanceof Map ? [...spec.updates.entries()] : [...((spec.updates as [SharedVariable, Variable][] | undefined) ?? [])];
  const result = new Map<SharedVariable, Variable>();
  for (const [target, value] of given) {
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

/** float64 cannot run on WebGPU, and every input the outputs need must be listed. */
function checkInputs(inputs: readonly Variable[], outputs: readonly Variable[]): void {
  for (const variable of T.topologicalOrder(outputs)) {
    if (variable.dtype === 'float64') {
      throw new GraphError('compile', `${variable.owner ? `this ${variable.owner.op} node` : variable.name ? `'${variable.name}'` : 'an input'} is float64 (${variable.type}), which WebGPU devices cannot run; cast to float32, or evaluate with the reference evaluator`, variable.location);
    }
    if (variable.kind === 'input' && !inputs.includes(variable)) {
      throw new GraphError('compile', `the outputs depend on ${variable.name ? `input '${variable.name}'` : 'an unnamed input'} (${variable.type}), which is not among the function's inputs`, variable.location);
    }
  }
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

async function run(
  rt: Runtime,
  plan: Plan,
  values: readonly (NDArray | DeviceTensor)[],
  mode: CompileMode,
  onDevice: boolean,
  profile: Map<string, { calls: number; ms: number }>,
  originalOutputs: readonly Variable[],
): Promise<(NDArray | DeviceTensor)[]> {
  const device = (rt.descriptor as WebGpuDescriptor).device;
  const encoder = device.createCommandEncoder();
  // Host values are written into the plan's input buffers; device tensors are bound as they are.
  const substitute = new Map<Variable, GPUBuffer>();
  [...plan.inputBuffers.entries()].forEach(([input, buffer], i) => {
    const value = values[i]!;
    if (!(value instanceof DeviceTensor)) return upload(device, buffer, value);
    if (value.dtype !== input.dtype) throw new GraphError('function', `input ${input.name ?? i} is ${input.dtype}, but the device tensor given holds ${value.dtype}`, input.location);
    if (value.refused) throw new GraphError('function', `input ${input.name ?? i} is a device tensor whose values were never written, because the device refused the call that made it: ${value.refused.message}`, input.location);
    substitute.set(plan.inputStands.get(input)!, value.buffer);
  });
  // Device outputs are written by their kernels straight into buffers the caller then owns.
  if (onDevice) {
    plan.outputs.forEach((output, i) => {
      if (!output.ownBuffer || substitute.has(output.variable)) return;
      substitute.set(output.variable, rt.takeBuffer(byteSize(output.variable.type.size ?? 0), originalOutputs[i]?.name ?? 'output'));
    });
  }
  const bindGroupOf = (step: Plan['kernels'][number]['passes'][number]): GPUBindGroup => (substitute.size > 0 ? plan.rebind(step, substitute) : step.bindGroup);
  for (const shared of plan.shared) rt.store.buffer(shared);
  if (mode === 'fast' || mode === 'debug') {
    const pass = encoder.beginComputePass();
    for (const kernel of plan.kernels) {
      for (const step of kernel.passes) {
        pass.setPipeline(step.pipeline);
        pass.setBindGroup(0, bindGroupOf(step));
        pass.dispatchWorkgroups(...step.dispatch);
      }
    }
    pass.end();
  } else if (mode === 'profile' && rt.descriptor.features.includes('timestamp-query')) {
    // The GPU's own clock: one pass per kernel, timestamps at its start and end.
    const count = plan.kernels.length * 2;
    const querySet = device.createQuerySet({ type: 'timestamp', count });
    for (const [k, kernel] of plan.kernels.entries()) {
      const pass = encoder.beginComputePass({ timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * k, endOfPassWriteIndex: 2 * k + 1 } });
      for (const part of kernel.passes) {
        pass.setPipeline(part.pipeline);
        pass.setBindGroup(0, bindGroupOf(part));
        pass.dispatchWorkgroups(...part.dispatch);
      }
      pass.end();
    }
    const resolved = device.createBuffer({ size: count * 8, usage: queryResolve | usage.copySrc });
    encoder.resolveQuerySet(querySet, 0, count, resolved, 0);
    const read = stageReadback(device, encoder, resolved, count * 8);
    const results = finish(rt, plan, device, encoder, onDevice, originalOutputs, substitute, values);
    const stamps = new BigUint64Array(await read());
    plan.kernels.forEach((kernel, k) => record(profile, `${kernel.passes[0]!.label} [gpu clock]`, Number(stamps[2 * k + 1]! - stamps[2 * k]!) / 1e6));
    querySet.destroy();
    resolved.destroy();
    return results;
  } else {
    // nanguard (and profile without timestamp queries) run kernel by kernel, waiting for each.
    device.queue.submit([encoder.finish()]);
    for (const kernel of plan.kernels) {
      const started = performance.now();
      const step = device.createCommandEncoder();
      const pass = step.beginComputePass();
      for (const part of kernel.passes) {
        pass.setPipeline(part.pipeline);
        pass.setBindGroup(0, bindGroupOf(part));
        pass.dispatchWorkgroups(...part.dispatch);
      }
      pass.end();
      const output = kernel.kernel.output;
      const read = mode === 'nanguard' && output.dtype === 'float32' ? stageReadback(device, step, substitute.get(output) ?? kernel.buffer, byteSize(output.type.size ?? 0)) : undefined;
      device.queue.submit([step.finish()]);
      await device.queue.onSubmittedWorkDone();
      record(profile, `${kernel.passes[0]!.label} [per submit]`, performance.now() - started);
      if (read) {
        const words = new Float32Array(await read());
        const bad = words.findIndex((v, i) => i < (output.type.size ?? 0) && !Number.isFinite(v));
        if (bad >= 0) {
          throw new GraphError('nanguard', `kernel ${kernel.passes[0]!.label} produced ${words[bad]} at element ${bad} of ${output.type}; its ops: ${kernel.passes.map((p) => p.label).join('; ')}`, output.location);
        }
      }
    }
    return finish(rt, plan, device, device.createCommandEncoder(), onDevice, originalOutputs, substitute, values);
  }
  return finish(rt, plan, device, encoder, onDevice, originalOutputs, substitute, values);
}

const queryResolve = 0x200;

function record(profile: Map<string, { calls: number; ms: number }>, label: string, ms: number): void {
  const entry = profile.get(label) ?? { calls: 0, ms: 0 };
  entry.calls++;
  entry.ms += ms;
  profile.set(label, entry);
}

async function finish(
  rt: Runtime,
  plan: Plan,
  device: GPUDevice,
  encoder: GPUCommandEncoder,
  onDevice: boolean,
  originalOutputs: readonly Variable[],
  substitute: ReadonlyMap<Variable, GPUBuffer>,
  values: readonly (NDArray | DeviceTensor)[],
): Promise<(NDArray | DeviceTensor)[]> {
  const bufferOf = (variable: Variable, planned: GPUBuffer): GPUBuffer => substitute.get(variable) ?? planned;
  // Commands the device refuses would otherwise only be logged, and the call would resolve
  // with stale values: the scope turns a refusal into this call's error.
  let settle!: (refusal: Promise<GPUError | null>) => void;
  const own = new Promise<GPUError | null>((resolve) => (settle = resolve)).then((error) => {
    if (error) throw new Error(`WebGPU refused this call's commands (a Theorbo bug; please report it with this message): ${error.message}`);
  });
  // A device tensor taken as an input whose own call is refused later holds stale values,
  // and so then do this call's outputs.
  const inputs = values.filter((value): value is DeviceTensor => value instanceof DeviceTensor);
  const accepted = inputs.length === 0 ? own : Promise.all([own, ...inputs.map((input) => input.accepted())]).then(() => {});
  const claimed = new Set<GPUBuffer>();
  const results = plan.outputs.map((output, i): (() => Promise<NDArray | DeviceTensor>) => {
    if (output.constant) return () => Promise.resolve(output.constant!);
    const bytes = byteSize(output.variable.type.size ?? 0);
    const dtype = output.variable.dtype;
    const shape = output.variable.shape as number[];
    if (onDevice) {
      // Written in place where the plan allows (the buffer substituted in run()); copied otherwise.
      let buffer = substitute.get(output.variable);
      if (!buffer || claimed.has(buffer) || !output.ownBuffer) {
        const copy = rt.takeBuffer(bytes, originalOutputs[i]?.name ?? 'output');
        encoder.copyBufferToBuffer(bufferOf(output.variable, output.buffer!), 0, copy, 0, bytes);
        buffer = copy;
      }
      claimed.add(buffer);
      const tensor = new DeviceTensor(rt, buffer, dtype, shape, accepted);
      return () => Promise.resolve(tensor);
    }
    const read = stageReadback(device, encoder, bufferOf(output.variable, output.buffer!), bytes);
    return async () => fromWords(await read(), dtype, shape);
  });
  // Updates: the new values go into the shared variables' buffers after every kernel and
  // every output copy read the old ones.
  for (const update of plan.updates) {
    const target = rt.store.buffer(update.target);
    const source = bufferOf(update.value, update.buffer);
    if (target !== source) encoder.copyBufferToBuffer(source, 0, target, 0, update.bytes);
  }
  device.pushErrorScope('validation');
  device.queue.submit([encoder.finish()]);
  settle(device.popErrorScope());
  for (const update of plan.updates) rt.store.markUpdated(update.target);
  // Device outputs resolve at once (a loop need not wait for the device); a refusal then
  // surfaces when one of them is read or passed to another call. Host outputs wait anyway.
  if (!onDevice || plan.outputs.every((output) => output.constant)) await accepted;
  return Promise.all(results.map((result) => rt.guardAsync<NDArray | DeviceTensor>('reading results', result)));
}

function formatProfile(profile: ReadonlyMap<string, { calls: number; ms: number }>): string {
  const rows = [...profile.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const total = rows.reduce((sum, [, entry]) => sum + entry.ms, 0);
  const lines = ['   ms total   calls   ms/call   share  kernel'];
  for (const [label, entry] of rows) {
    lines.push(`${entry.ms.toFixed(3).padStart(11)} ${String(entry.calls).padStart(7)} ${(entry.ms / entry.calls).toFixed(4).padStart(9)} ${((100 * entry.ms) / (total || 1)).toFixed(1).padStart(6)}%  ${label}`);
  }
  return lines.join('\n');
}
