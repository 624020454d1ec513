// Out-of-range indices on the device. Gathers and scatters flag an index outside its
// axis (render/builder.ts checkIndex) in a buffer of flags that each plan owns, a slice
// per checking pass (bind-group offsets keep the kernels' text free of plan-specific
// numbers, so pipelines stay shared). Each call clears the buffer, runs, and copies it
// back with its results; a flagged site becomes the reference evaluator's error: the
// op, the index and the bound. The kernels clamp the index all the same, so a flagged
// call never reads outside a buffer; its updates are written before the error is known.

import { EvaluationError, formatShape } from '@theorbo/graph';
import type { RenderedPass } from '../render/render.ts';
import { storageUsage } from './gpu.ts';

/** The plan's flags: one buffer, each checking pass's slice at an offset bind groups may use. */
export interface IndexErrorSlots {
  buffer: GPUBuffer;
  slices: Map<RenderedPass, { offset: number; bytes: number }>;
}

/** WebGPU's largest minStorageBufferOffsetAlignment: every device accepts offsets that are multiples of it. */
const alignment = 256;

/** The flags buffer for the passes that check indices, or undefined when none does. */
export function indexErrorSlots(device: GPUDevice, passes: readonly RenderedPass[], owned: GPUBuffer[]): IndexErrorSlots | undefined {
  const slices = new Map<RenderedPass, { offset: number; bytes: number }>();
  let end = 0;
  for (const pass of passes) {
    if (pass.checks.length === 0 || slices.has(pass)) continue;
    const bytes = Math.ceil((pass.checks.length * 8) / alignment) * alignment;
    slices.set(pass, { offset: end, bytes });
    end += bytes;
  }
  if (end === 0) return undefined;
  const buffer = device.createBuffer({ size: end, usage: storageUsage, label: 'index errors' });
  owned.push(buffer);
  return { buffer, slices };
}

/** The error of the first flagged site in the words read back, if any. */
export function indexError(slots: IndexErrorSlots, words: Uint32Array): EvaluationError | undefined {
  for (const [pass, { offset }] of slots.slices) {
    for (const [site, check] of pass.checks.entries()) {
      const at = offset / 4 + 2 * site;
      if (words[at] === 0) continue;
      const index = words[at + 1]! | 0;
      return new EvaluationError(check.op, `index ${index} is out of range for axis ${check.axis} of a value of shape ${formatShape(check.shape)} (size ${check.bound}), found on the device (compile({ checkIndices: false }) skips this check)`, check.location);
    }
  }
  return undefined;
}
