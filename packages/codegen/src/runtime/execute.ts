// Running one call of a compiled function on its plan: host inputs are written into the
// plan's buffers and device tensors bound in their place, every kernel's passes are
// recorded into one command buffer (or, in 'nanguard' and 'profile' modes, kernel by
// kernel), outputs are read back or handed over as device tensors, and updates are
// copied into the shared variables' buffers after every kernel has read the old values.

import { EvaluationError, GraphError, type NDArray, type Variable } from '@theorbo/graph';
import { DeviceTensor } from './device-tensor.ts';
import { byteSize, fromWords, stageReadback, upload, usage } from './gpu.ts';
import { indexError } from './index-errors.ts';
import { encodeLoop } from './loop.ts';
import type { Plan, PlannedKernel, PlannedPass } from './plan-types.ts';
import type { Runtime } from './runtime.ts';
import type { WebGpuDescriptor } from '../device.ts';

/**
 * How calls run: 'fast' records everything into one command buffer; 'debug' also prints
 * each kernel's WGSL when it is built; 'nanguard' runs kernel by kernel and stops at the
 * first NaN or infinity a float32 kernel writes; 'profile' times every kernel.
 */
export type CompileMode = 'fast' | 'debug' | 'nanguard' | 'profile';

/** Per-kernel times of 'profile' mode, by label. */
export type Profile = Map<string, { calls: number; ms: number }>;

export async function run(
  rt: Runtime,
  plan: Plan,
  values: readonly (NDArray | DeviceTensor)[],
  mode: CompileMode,
  onDevice: boolean,
  profile: Profile,
  originalOutputs: readonly Variable[],
): Promise<(NDArray | DeviceTensor)[]> {
  const device = (rt.descriptor as WebGpuDescriptor).device;
  const encoder = device.createCommandEncoder();
  // Each call's index flags are its own (runtime/index-errors.ts).
  if (plan.indexErrors) encoder.clearBuffer(plan.indexErrors.buffer);
  // Host values are written into the plan's input buffers; device tensors are bound as they are.
  const substitute = new Map<Variable, GPUBuffer>();
  [...plan.inputBuffers.entries()].forEach(([input, buffer], i) => {
    const value = values[i]!;
    if (!(value instanceof DeviceTensor)) return upload(device, buffer, value);
    // A tensor of another device (the cpu device's, or one read back already) goes as its host copy.
    if (value.runtime !== rt) return upload(device, buffer, value.hostCopy());
    if (value.refused instanceof EvaluationError) throw new EvaluationError('function', `input ${input.name ?? i} is a device tensor made by a call that failed: ${value.refused.message}`, input.location);
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
  const bindGroupOf = (step: PlannedPass): GPUBindGroup => (substitute.size > 0 ? plan.rebind(step, substitute) : step.bindGroup);
  // The outer graph's buffers for this call: a device tensor stands in for an input's.
  const outer = (resolve: (variable: Variable) => GPUBuffer) => (variable: Variable): GPUBuffer => substitute.get(variable) ?? resolve(variable);
  for (const shared of plan.shared) rt.store.buffer(shared);
  if (mode === 'fast' || mode === 'debug') {
    encodeKernels(encoder, plan.kernels, bindGroupOf, outer);
  } else if (mode === 'profile' && rt.descriptor.features.includes('timestamp-query')) {
    // The GPU's own clock: one pass per kernel, timestamps at its start and end.
    const count = plan.kernels.length * 2;
    const querySet = device.createQuerySet({ type: 'timestamp', count });
    for (const [k, kernel] of plan.kernels.entries()) {
      // A loop's steps record passes of their own: its time is not on the GPU's clock here.
      const pass = encoder.beginComputePass({ timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * k, endOfPassWriteIndex: 2 * k + 1 } });
      encodePasses(pass, kernel, bindGroupOf);
      pass.end();
      if (kernel.loop) encodeKernels(encoder, [kernel], bindGroupOf, outer);
    }
    const resolved = device.createBuffer({ size: count * 8, usage: queryResolve | usage.copySrc });
    encoder.resolveQuerySet(querySet, 0, count, resolved, 0);
    const read = stageReadback(device, encoder, resolved, count * 8);
    const results = finish(rt, plan, device, encoder, onDevice, originalOutputs, substitute, values);
    const stamps = new BigUint64Array(await read());
    plan.kernels.forEach((kernel, k) => record(profile, `${labelOf(kernel)} [gpu clock]`, Number(stamps[2 * k + 1]! - stamps[2 * k]!) / 1e6));
    querySet.destroy();
    resolved.destroy();
    return results;
  } else {
    // nanguard (and profile without timestamp queries) run kernel by kernel, waiting for each.
    device.queue.submit([encoder.finish()]);
    for (const kernel of plan.kernels) {
      const started = performance.now();
      const step = device.createCommandEncoder();
      encodeKernels(step, [kernel], bindGroupOf, outer);
      const output = kernel.kernel.output;
      const read = mode === 'nanguard' && output.dtype === 'float32' ? stageReadback(device, step, substitute.get(output) ?? kernel.buffer, byteSize(output.type.size ?? 0)) : undefined;
      device.queue.submit([step.finish()]);
      await device.queue.onSubmittedWorkDone();
      record(profile, `${labelOf(kernel)} [per submit]`, performance.now() - started);
      if (read) {
        const words = new Float32Array(await read());
        const bad = words.findIndex((v, i) => i < (output.type.size ?? 0) && !Number.isFinite(v));
        if (bad >= 0) {
          throw new GraphError('nanguard', `kernel ${labelOf(kernel)} produced ${words[bad]} at element ${bad} of ${output.type}; its ops: ${kernel.passes.map((p) => p.label).join('; ')}`, output.location);
        }
      }
    }
    return finish(rt, plan, device, device.createCommandEncoder(), onDevice, originalOutputs, substitute, values);
  }
  return finish(rt, plan, device, encoder, onDevice, originalOutputs, substitute, values);
}

const queryResolve = 0x200;

const labelOf = (kernel: PlannedKernel): string => kernel.passes[0]?.label ?? (kernel.loop ? `scan → ${kernel.kernel.output.type}` : `${kernel.kernel.kind} → ${kernel.kernel.output.type}`);

function encodePasses(pass: GPUComputePassEncoder, kernel: PlannedKernel, bindGroupOf: (step: PlannedPass) => GPUBindGroup): void {
  for (const step of kernel.passes) {
    pass.setPipeline(step.pipeline);
    pass.setBindGroup(0, bindGroupOf(step));
    pass.dispatchWorkgroups(...step.dispatch);
  }
}

/**
 * Records kernels into one encoder: consecutive kernels share a compute pass; a loop
 * closes it and records its steps (copies between passes). `outer` makes the resolver
 * of a loop's outer buffers for this call.
 */
function encodeKernels(
  encoder: GPUCommandEncoder,
  kernels: readonly PlannedKernel[],
  bindGroupOf: (step: PlannedPass) => GPUBindGroup,
  outer: (resolve: (variable: Variable) => GPUBuffer) => (variable: Variable) => GPUBuffer,
): void {
  let pass: GPUComputePassEncoder | undefined;
  for (const kernel of kernels) {
    if (kernel.loop) {
      pass?.end();
      pass = undefined;
      // The body's kernels bind the loop's own buffers: no substitution inside.
      encodeLoop(encoder, kernel.loop, outer(kernel.loop.resolve), (body) => encodeKernels(encoder, body, (step) => step.bindGroup, outer));
      continue;
    }
    if (kernel.passes.length === 0) continue;
    pass ??= encoder.beginComputePass();
    encodePasses(pass, kernel, bindGroupOf);
  }
  pass?.end();
}

function record(profile: Profile, label: string, ms: number): void {
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
  // An index a gather found out of range fails the call the same way, once its flags are read.
  let settle!: (refusal: Promise<GPUError | null>) => void;
  const flags = plan.indexErrors;
  const readFlags = flags ? stageReadback(device, encoder, flags.buffer, flags.buffer.size) : undefined;
  const own = new Promise<GPUError | null>((resolve) => (settle = resolve)).then(async (error) => {
    if (error) throw new Error(`WebGPU refused this call's commands (a Theorbo bug; please report it with this message): ${error.message}`);
    if (!flags || !readFlags) return;
    const found = indexError(flags, new Uint32Array(await readFlags()));
    if (found) throw found;
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

export function formatProfile(profile: ReadonlyMap<string, { calls: number; ms: number }>): string {
  const rows = [...profile.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const total = rows.reduce((sum, [, entry]) => sum + entry.ms, 0);
  const lines = ['   ms total   calls   ms/call   share  kernel'];
  for (const [label, entry] of rows) {
    lines.push(`${entry.ms.toFixed(3).padStart(11)} ${String(entry.calls).padStart(7)} ${(entry.ms / entry.calls).toFixed(4).padStart(9)} ${((100 * entry.ms) / (total || 1)).toFixed(1).padStart(6)}%  ${label}`);
  }
  return lines.join('\n');
}
