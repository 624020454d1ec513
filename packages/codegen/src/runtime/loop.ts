// Scan on the device: the loop's body is a graph drafted and planned like any other (its
// kernels fused, rendered and cached), and a call records every step into the call's one
// command buffer — no host round trip per step. Around each step's kernels, copies with
// offsets computed while recording move the step's rows:
//  - before: row t of each sequence (T' − 1 − t going backwards) into the step's input
//    buffer, and each recurrent output's value at t + tap into its tap's buffer;
//  - after: each output's value into its history, a buffer of rows (initial values first);
//    kept 'all', one row per step (an output without taps writes straight into the
//    node's buffer); kept 'last', a ring of depth + 1 rows.
// The initial values and the non-sequences are copied in before the first step, the
// results out after the last. A nested scan in the body is a loop inside the step.
// Left out: a persistent kernel that keeps a small recurrence on the device between steps.

import * as T from '@theorbo/graph';
import { Constant, GraphError, type ScanBody, type Variable } from '@theorbo/graph';
import type { Kernel, Partition } from '../lower/kernel.ts';
import { byteSize } from './gpu.ts';
import type { Draft, LoopDraft, MakeBuffer, PlannedKernel, PlannedLoop, RowCopy } from './plan-types.ts';

const groupKey = (node: Variable): string => `${(node.owner!.attrs as { body: ScanBody }).body.structuralKey}|${node.owner!.inputs.map((input) => input.id).join(',')}`;

/** The loops of a partition: one per scan, on the first kernel of its output nodes. */
export function draftLoops(parts: Partition, draftGraph: (outputs: readonly Variable[], shapes: ReadonlyMap<Variable, readonly number[]>) => Draft): Map<Kernel, LoopDraft> {
  const loops = new Map<Kernel, LoopDraft>();
  const byGroup = new Map<string, LoopDraft>();
  for (const kernel of parts.kernels) {
    if (kernel.kind !== 'scan') continue;
    const node = kernel.root;
    const { body, output } = node.owner!.attrs as { body: ScanBody; output: number };
    const key = groupKey(node);
    const known = byGroup.get(key);
    if (known) {
      known.nodes.set(output, node);
      continue;
    }
    const inputs = node.owner!.inputs;
    const { nSteps, sequences, initials, nonSequences } = body.split(inputs);
    if (!(nSteps instanceof Constant)) throw new GraphError('compile', `the number of steps of ${body.name} depends on values only the device has; it must follow from input shapes and constants`, node.location);
    const shapes = new Map<Variable, readonly number[]>();
    body.sequences.forEach((placeholder, j) => shapes.set(placeholder, (sequences[j]!.shape as number[]).slice(1)));
    body.recurrent.forEach((k, r) => {
      const initial = initials[r]!.shape as number[];
      for (const tapInput of body.outputs[k]!.tapInputs) shapes.set(tapInput, body.tapsAxis(k) ? initial.slice(1) : initial);
    });
    body.nonSequences.forEach((placeholder, j) => shapes.set(placeholder, nonSequences[j]!.shape as number[]));
    const loop: LoopDraft = { body, inputs, steps: nSteps.value.data[0]!, nodes: new Map([[output, node]]), draft: draftGraph(body.outputs.map((entry) => entry.value), shapes) };
    byGroup.set(key, loop);
    loops.set(kernel, loop);
  }
  return loops;
}

/** A buffer sized for `rows` rows of `like`'s step shape. */
function rowsOf(like: Variable, rows: number, make: MakeBuffer, label: string): GPUBuffer {
  return make(T.tensor(like.dtype, [rows, ...(like.shape as number[])]), label);
}

/**
 * Buffers and copies of one loop. `bufferOf` gives the outer graph's buffers; `planBody`
 * plans the body's kernels into the buffers given for its inputs.
 */
export function planLoop(loop: LoopDraft, bufferOf: (variable: Variable) => GPUBuffer, make: MakeBuffer, planBody: (draft: Draft, buffers: Map<Variable, GPUBuffer>) => PlannedKernel[]): PlannedLoop {
  const { body, draft, steps } = loop;
  const { sequences, initials, nonSequences } = body.split(loop.inputs);
  const stands = draft.inputs;
  const bodyBuffers = new Map<Variable, GPUBuffer>();
  for (const [placeholder, stand] of stands) bodyBuffers.set(stand, make(stand, `${body.name}: ${placeholder.name ?? 'step input'}`));
  const planned = planBody(draft, bodyBuffers);
  const stepValues = draft.specialized;
  const bodyBufferOf = (variable: Variable): GPUBuffer => {
    const buffer = bodyBuffers.get(variable);
    if (!buffer) throw new Error(`codegen: ${body.name}: no buffer for the step's ${variable}`);
    return buffer;
  };
  const before: PlannedLoop['before'] = [];
  const histories = body.outputs.map((output, k) => {
    const value = stepValues[k]!;
    const rowBytes = byteSize(value.type.size ?? 0);
    const depth = body.depth(k);
    const rows = output.keep === 'all' ? depth + steps : depth + 1;
    const node = loop.nodes.get(k);
    const buffer = depth === 0 && output.keep === 'all' && node ? bufferOf(node) : rowsOf(value, rows, make, `${body.name}: history of output ${k}`);
    return { value, rowBytes, depth, rows, node, buffer };
  });
  body.recurrent.forEach((k, r) => {
    const history = histories[k]!;
    before.push({ source: initials[r]!, target: history.buffer, targetOffset: 0, bytes: history.depth * history.rowBytes });
  });
  body.nonSequences.forEach((placeholder, j) => {
    const stand = stands.get(placeholder)!;
    before.push({ source: nonSequences[j]!, target: bodyBufferOf(stand), targetOffset: 0, bytes: byteSize(stand.type.size ?? 0) });
  });
  const sequenceCopies: PlannedLoop['sequences'] = body.sequences.map((placeholder, j) => {
    const stand = stands.get(placeholder)!;
    const length = sequences[j]!.shape[0] as number;
    return { source: sequences[j]!, target: bodyBufferOf(stand), rowBytes: byteSize(stand.type.size ?? 0), row: body.goBackwards ? (t) => length - 1 - t : (t) => t };
  });
  const taps = body.recurrent.flatMap((k) => body.outputs[k]!.taps.map((tap, i) => ({ k, tap, target: bodyBufferOf(stands.get(body.outputs[k]!.tapInputs[i]!)!) })));
  const copy = (source: GPUBuffer, sourceOffset: number, target: GPUBuffer, targetOffset: number, bytes: number): RowCopy => ({ source, target, sourceOffset, targetOffset, bytes });
  const outputBuffers = stepValues.map((value) => (value instanceof Constant || bodyBuffers.has(value) ? bodyBufferOf(value) : planned.find((kernel) => kernel.kernel.output === value)?.buffer ?? bodyBufferOf(value)));
  const after: RowCopy[] = [];
  histories.forEach((history, k) => {
    if (!history.node) return;
    const target = bufferOf(history.node);
    if (target === history.buffer) return;
    const bytes = body.outputs[k]!.keep === 'all' ? steps * history.rowBytes : history.rowBytes;
    const row = body.outputs[k]!.keep === 'all' ? history.depth : (history.depth + steps - 1) % history.rows;
    after.push(copy(history.buffer, row * history.rowBytes, target, 0, bytes));
  });
  return {
    steps,
    before,
    sequences: sequenceCopies,
    beforeStep: (t) => taps.map(({ k, tap, target }) => {
      const history = histories[k]!;
      return copy(history.buffer, ((history.depth + t + tap) % history.rows) * history.rowBytes, target, 0, history.rowBytes);
    }),
    afterStep: (t) => histories.map((history, k) => copy(outputBuffers[k]!, 0, history.buffer, ((history.depth + t) % history.rows) * history.rowBytes, history.rowBytes)),
    body: planned,
    after,
    resolve: bufferOf,
  };
}

/**
 * Records a loop: the copies in, every step (its body recorded by `encodeBody`, which
 * opens and closes its own compute passes), the copies out. `outer` resolves the outer
 * graph's buffers for this call (a device tensor may stand in for one).
 */
export function encodeLoop(encoder: GPUCommandEncoder, loop: PlannedLoop, outer: (variable: Variable) => GPUBuffer, encodeBody: (kernels: readonly PlannedKernel[]) => void): void {
  const copy = (source: GPUBuffer, sourceOffset: number, target: GPUBuffer, targetOffset: number, bytes: number) => {
    if (bytes > 0) encoder.copyBufferToBuffer(source, sourceOffset, target, targetOffset, bytes);
  };
  for (const entry of loop.before) copy(outer(entry.source), 0, entry.target, entry.targetOffset, entry.bytes);
  for (let t = 0; t < loop.steps; t++) {
    for (const sequence of loop.sequences) copy(outer(sequence.source), sequence.row(t) * sequence.rowBytes, sequence.target, 0, sequence.rowBytes);
    for (const entry of loop.beforeStep(t)) copy(entry.source, entry.sourceOffset, entry.target, entry.targetOffset, entry.bytes);
    encodeBody(loop.body);
    for (const entry of loop.afterStep(t)) copy(entry.source, entry.sourceOffset, entry.target, entry.targetOffset, entry.bytes);
  }
  for (const entry of loop.after) copy(entry.source, entry.sourceOffset, entry.target, entry.targetOffset, entry.bytes);
}
