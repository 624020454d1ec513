// A plan: everything one call signature (the inputs' shapes) needs on the device —
// the specialized graph, its kernels as pipelines with their bind groups, and buffers
// planned by liveness (a buffer is reused once its last reader has run). Plans are
// built once per signature and replayed: a call writes its inputs, records every
// kernel into one command buffer, copies updates into the shared variables' buffers,
// and submits. A scan's body is planned the same way, as a graph of its own
// (runtime/loop.ts records its steps).

import * as T from '@theorbo/graph';
import { Constant, GraphError, SharedVariable, type Variable } from '@theorbo/graph';
import { instantiate } from '../lower/instantiate.ts';
import type { Kernel } from '../lower/kernel.ts';
import { partition } from '../lower/partition.ts';
import { indexErrorFlags } from '../render/builder.ts';
import { renderKernel, type RenderedPass } from '../render/render.ts';
import { indexErrorSlots } from './index-errors.ts';
import { WgslError } from './errors.ts';
import { byteSize, storageUsage, upload } from './gpu.ts';
import { draftLoops, planLoop } from './loop.ts';
import type { Draft, MakeBuffer, Plan, PlanContext, PlannedKernel, PlannedPass } from './plan-types.ts';

export type { Draft, Plan, PlanContext, PlannedKernel, PlannedPass } from './plan-types.ts';

export function draftPlan(
  context: PlanContext,
  outputs: readonly Variable[],
  updates: readonly (readonly [SharedVariable, Variable])[],
  inputShapes: ReadonlyMap<Variable, readonly number[]>,
): Draft {
  // An update whose value is another shared variable this call updates would copy from
  // that variable's buffer after the kernels, when an in-place kernel or an earlier copy
  // may have overwritten it (a swap): a copy kernel takes the old value first.
  const targets = new Set<Variable>(updates.map(([target]) => target));
  const values = updates.map(([, value]) => (value instanceof SharedVariable && targets.has(value) ? T.stopGradient(value) : value));
  return draftGraph(context, [...outputs, ...values], inputShapes, outputs.length, updates.map(([target]) => target));
}

/**
 * Instantiates, partitions and renders a graph for static input shapes. The first
 * `outputCount` outputs are the function's; the rest are the new values of `targets`
 * (updates, which may be written in place). Loops are drafted recursively.
 */
export function draftGraph(context: PlanContext, all: readonly Variable[], inputShapes: ReadonlyMap<Variable, readonly number[]>, outputCount = all.length, targets: readonly Variable[] = []): Draft {
  const { outputs: specialized, inputs } = instantiate(all, inputShapes, context.tuning);
  const updatePairs = targets.map((target, i) => [target, specialized[outputCount + i]!] as const);
  updatePairs.forEach(([target, value], i) => {
    if (!T.shapeFits(value.shape as number[], target.shape)) throw T.updateShapeError(target as SharedVariable, all[outputCount + i]!, value.shape as number[]);
  });
  const keepOld = new Set<Variable>(specialized.slice(0, outputCount).filter((output) => output instanceof SharedVariable));
  const parts = partition(specialized, { maxBuffers: context.maxBuffers, fuse: context.fuse, updates: updatePairs, keepOld });
  const rendered = new Map(parts.kernels.filter((kernel) => kernel.kind !== 'scan').map((kernel) => [kernel, renderKernel(kernel, parts.materialized, describeKernel(kernel), { subgroups: context.subgroups, tuning: context.tuning, checkIndices: context.checkIndices })] as const));
  const loops = draftLoops(parts, (outputs, shapes) => draftGraph(context, outputs, shapes));
  return { specialized, inputs, partition: parts, rendered, loops };
}

/** Every pass of a draft, its loops' bodies included. */
function allPasses(draft: Draft): RenderedPass[] {
  return [...[...draft.rendered.values()].flat(), ...[...draft.loops.values()].flatMap((loop) => allPasses(loop.draft))];
}

/**
 * Compiles the draft's pipelines that the cache lacks, all at once and off the main
 * thread (createComputePipelineAsync), so that a plan with many kernels does not wait
 * for them one after another.
 */
export async function compilePipelines(context: PlanContext, draft: Draft): Promise<void> {
  const passes = allPasses(draft);
  const missing = new Map(passes.filter((pass) => !context.pipelines.has(pass.code)).map((pass) => [pass.code, pass] as const));
  await Promise.all([...missing.values()].map(async (pass) => {
    const module = context.device.createShaderModule({ code: pass.code, label: pass.label });
    try {
      const pipeline = await context.device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: pass.label });
      context.pipelines.set(pass.code, pipeline);
    } catch (error) {
      const info = await module.getCompilationInfo();
      const lines = pass.code.split('\n');
      const where = info.messages.filter((m) => m.type === 'error').map((m) => `  line ${m.lineNum}: ${m.message}\n    ${lines[m.lineNum - 1]?.trim() ?? ''}`).join('\n');
      throw new WgslError(`a generated kernel, ${pass.label}, does not compile (a Theorbo bug; please report it with this message):\n${where || (error as Error).message}`);
    }
  }));
}

export function buildPlan(
  context: PlanContext,
  outputs: readonly Variable[],
  updates: readonly (readonly [SharedVariable, Variable])[],
  inputShapes: ReadonlyMap<Variable, readonly number[]>,
  draft: Draft = draftPlan(context, outputs, updates, inputShapes),
): Plan {
  const { specialized, inputs } = draft;
  const owned: GPUBuffer[] = [];
  const make = bufferMaker(context, owned);
  context.indexErrors = indexErrorSlots(context.device, allPasses(draft), owned);
  const buffers = new Map<Variable, GPUBuffer>();
  const inputBuffers = new Map<Variable, GPUBuffer>();
  for (const [original, stand] of inputs) {
    const buffer = make(stand, `input ${original.name ?? ''}`);
    buffers.set(stand, buffer);
    inputBuffers.set(original, buffer);
  }
  // Updates computed in place write into the shared variable's own buffer.
  for (const kernel of draft.partition.kernels) if (kernel.writesInto) buffers.set(kernel.output, context.store.buffer(kernel.writesInto as SharedVariable));
  const planned = planGraph(context, draft, buffers, make);
  // Variables a kernel writes into a buffer of their own (not a shared variable's).
  const written = new Set<Variable>();
  for (const kernel of draft.partition.kernels) {
    // (A loop writes its outputs' buffers from the planned loop, not a substituted one.)
    if (!kernel.writesInto && kernel.kind !== 'scan') written.add(kernel.output);
    if (kernel.alsoStoresRoot) written.add(kernel.root);
  }
  const bufferOf = (variable: Variable): GPUBuffer => {
    if (variable instanceof SharedVariable) return context.store.buffer(variable);
    const buffer = buffers.get(variable);
    if (!buffer) throw new Error(`codegen: no buffer for ${variable}`);
    return buffer;
  };
  return {
    kernels: planned,
    inputBuffers,
    inputStands: inputs,
    rebind: rebinder(context, (variable) => buffers.get(variable)),
    outputs: specialized.slice(0, outputs.length).map((variable) =>
      variable instanceof Constant ? { variable, constant: variable.value, ownBuffer: false } : { variable, buffer: bufferOf(variable), ownBuffer: written.has(variable) }),
    shared: [...draft.partition.materialized].filter((variable): variable is SharedVariable => variable instanceof SharedVariable),
    updates: updates.map(([target], i) => {
      const value = specialized[outputs.length + i]!;
      return { target, value, buffer: bufferOf(value), bytes: byteSize(target.type.size ?? 0) };
    }),
    owned,
    indexErrors: context.indexErrors,
  };
}

function bufferMaker(context: PlanContext, owned: GPUBuffer[]): MakeBuffer {
  return (variable, label) => {
    const bytes = byteSize(variable.type.size ?? 0);
    if (bytes > context.maxBindingBytes) {
      throw new GraphError('compile', `${variable.type} needs ${bytes} bytes, more than this device binds in one storage buffer (${context.maxBindingBytes} bytes)`, variable.location);
    }
    const buffer = context.device.createBuffer({ size: bytes, usage: storageUsage, label });
    owned.push(buffer);
    return buffer;
  };
}

/**
 * Buffers for a drafted graph's constants and intermediates (into `buffers`, which holds
 * its inputs' already), then each kernel's pipelines and bind groups, and each loop's plan.
 */
export function planGraph(context: PlanContext, draft: Draft, buffers: Map<Variable, GPUBuffer>, make: MakeBuffer): PlannedKernel[] {
  const { specialized } = draft;
  const { kernels, materialized, reads } = draft.partition;
  const constant = (variable: Constant): GPUBuffer => {
    let buffer = buffers.get(variable);
    if (!buffer) {
      buffer = make(variable, 'constant');
      upload(context.device, buffer, variable.value);
      buffers.set(variable, buffer);
    }
    return buffer;
  };
  for (const variable of materialized) if (variable instanceof Constant) constant(variable);
  // Outputs that folded to constants still need a buffer to copy from.
  for (const variable of specialized) if (variable instanceof Constant) constant(variable);
  // A loop writes all its output nodes' buffers at its first node's place: none may come from the pool.
  const loopOutputs = kernels.filter((kernel) => kernel.kind === 'scan').map((kernel) => kernel.output);
  assignIntermediates(kernels, reads, new Set([...specialized, ...loopOutputs]), buffers, make);
  const bufferOf = (variable: Variable): GPUBuffer => {
    if (variable instanceof SharedVariable) return context.store.buffer(variable);
    if (variable instanceof Constant) return constant(variable);
    const buffer = buffers.get(variable);
    if (!buffer) throw new Error(`codegen: no buffer for ${variable}`);
    return buffer;
  };
  return kernels.map((kernel) => {
    const loop = draft.loops.get(kernel);
    if (loop) return { kernel, passes: [], buffer: buffers.get(kernel.output)!, loop: planLoop(loop, bufferOf, make, (body, bodyBuffers) => planGraph(context, body, bodyBuffers, make)) };
    const passes = (draft.rendered.get(kernel) ?? []).map((pass): PlannedPass => {
      context.onShader?.(pass.label, pass.code);
      const pipeline = pipelineFor(context, pass);
      return { pipeline, dispatch: pass.dispatch, label: pass.label, code: pass.code, rendered: pass, bindGroup: bindGroupFor(context, pipeline, pass, (variable) => buffers.get(variable)) };
    });
    return { kernel, passes, buffer: buffers.get(kernel.output)! };
  });
}

function describeKernel(kernel: Kernel): string {
  const ops: string[] = [];
  const seen = new Set<Variable>();
  const visit = (variable: Variable, top: boolean): void => {
    if (seen.has(variable) || !variable.owner) return;
    if (!top && variable !== kernel.root && ops.length > 12) return;
    seen.add(variable);
    ops.push(variable.owner.op);
    for (const input of variable.owner.inputs) visit(input, false);
  };
  visit(kernel.output, true);
  return `${kernel.kind}[${[...new Set(ops)].join(',')}] → ${kernel.output.type}`;
}

/**
 * Liveness-based buffer reuse: walking kernels in order, a buffer returns to the pool
 * after the last kernel that reads it; outputs and update values stay until the end.
 */
function assignIntermediates(
  kernels: readonly Kernel[],
  reads: ReadonlyMap<Kernel, ReadonlySet<Variable>>,
  keep: ReadonlySet<Variable>,
  buffers: Map<Variable, GPUBuffer>,
  make: (variable: Variable, label: string) => GPUBuffer,
): void {
  const lastRead = new Map<Variable, number>();
  kernels.forEach((kernel, k) => {
    for (const read of reads.get(kernel)!) lastRead.set(read, k);
  });
  const pool: { buffer: GPUBuffer; bytes: number }[] = [];
  const held = new Map<GPUBuffer, number>();
  kernels.forEach((kernel, k) => {
    const variable = kernel.output;
    const bytes = byteSize(variable.type.size ?? 0);
    let buffer: GPUBuffer | undefined = buffers.get(variable);
    if (!buffer && !keep.has(variable)) {
      // Best fit among free buffers large enough.
      let best = -1;
      pool.forEach((entry, i) => {
        if (entry.bytes >= bytes && (best < 0 || entry.bytes < pool[best]!.bytes)) best = i;
      });
      if (best >= 0) buffer = pool.splice(best, 1)[0]!.buffer;
    }
    buffer ??= make(variable, variable.owner?.op ?? 'value');
    buffers.set(variable, buffer);
    held.set(buffer, bytes);
    if (kernel.alsoStoresRoot) {
      // Stored for other kernels: its own buffer, held like any other output.
      const root = kernel.root;
      const rootBuffer = make(root, `${root.owner?.op ?? 'value'} (also stored)`);
      buffers.set(root, rootBuffer);
      held.set(rootBuffer, byteSize(root.type.size ?? 0));
    }
    // Free what this kernel was the last to read (never an output or update value).
    for (const read of reads.get(kernel)!) {
      if (lastRead.get(read) === k && read.owner && !keep.has(read)) {
        const freed = buffers.get(read);
        if (!freed) throw new Error(`codegen: kernel ${k} (${kernel.kind} → ${kernel.output.type}) reads ${read.owner?.op} ${read.type}, which no earlier kernel wrote (root of kernel: ${kernels.findIndex((other) => other.output === read || other.root === read)})`);
        pool.push({ buffer: freed, bytes: Math.max(freed.size, held.get(freed) ?? 0) });
      }
    }
  });
}

function pipelineFor(context: PlanContext, pass: RenderedPass): GPUComputePipeline {
  // The WGSL text is generated from the kernel's structure and sizes alone, so it is the
  // structural key: equal text means an identical pipeline.
  const cached = context.pipelines.get(pass.code);
  if (cached) return cached;
  const pipeline = createPipeline(context.device, pass.code, pass.label);
  context.pipelines.set(pass.code, pipeline);
  return pipeline;
}

/**
 * A compute pipeline from generated WGSL. Dawn reports a shader that does not compile
 * as a validation error carrying the line and the module's label (the kernel's ops),
 * which the runtime's error scope turns into a WgslError.
 */
export function createPipeline(device: GPUDevice, code: string, label: string): GPUComputePipeline {
  const module = device.createShaderModule({ code, label });
  return device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label });
}

/** Plan.rebind, with its bind groups kept per pass and per combination of substituted buffers. */
function rebinder(context: PlanContext, planned: (variable: Variable) => GPUBuffer | undefined): Plan['rebind'] {
  const kept = new WeakMap<object, Map<string, GPUBindGroup>>();
  const ids = new WeakMap<GPUBuffer, number>();
  let nextId = 0;
  return (pass, substitute) => {
    let key = '';
    for (const binding of pass.rendered.bindings) {
      const buffer = substitute.get(binding.variable);
      if (!buffer) continue;
      let id = ids.get(buffer);
      if (id === undefined) ids.set(buffer, (id = nextId++));
      key += `${binding.index}:${id} `;
    }
    if (key === '') return pass.bindGroup;
    let groups = kept.get(pass);
    if (!groups) kept.set(pass, (groups = new Map()));
    let group = groups.get(key);
    if (!group) {
      if (groups.size >= 64) groups.clear(); // buffers that come and go: keep only recent ones
      group = bindGroupFor(context, pass.pipeline, pass.rendered, (variable) => substitute.get(variable) ?? planned(variable));
      groups.set(key, group);
    }
    return group;
  };
}

function bindGroupFor(context: PlanContext, pipeline: GPUComputePipeline, pass: RenderedPass, bufferOf: (variable: Variable) => GPUBuffer | undefined): GPUBindGroup {
  return context.device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: pass.bindings.map((binding) => {
      const variable = binding.variable;
      if (variable === indexErrorFlags) {
        const slice = context.indexErrors?.slices.get(pass);
        if (!slice) throw new Error(`codegen: kernel '${pass.label}' checks indices but its plan has no slice of the flags`);
        return { binding: binding.index, resource: { buffer: context.indexErrors!.buffer, offset: slice.offset, size: slice.bytes } };
      }
      const buffer = variable instanceof SharedVariable ? context.store.buffer(variable) : bufferOf(variable);
      if (!buffer) throw new Error(`codegen: kernel '${pass.label}' reads ${variable}, which has no buffer`);
      return { binding: binding.index, resource: { buffer } };
    }),
  });
}
