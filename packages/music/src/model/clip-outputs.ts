// A model's outputs for many clips in one call: a frame-wise model (every output row one
// frame, computed from that frame's input row alone: the CNN on patches, the chroma models,
// the talk's network) reads the clips' inputs stacked along frames, and each output is cut
// back into the clips' frames. One call instead of one per clip, which on the cpu device
// spends most of its time preparing each new frame count. A sequence model (the CRNN, the
// FIR front end on raw audio) is called clip by clip.
// Shapes: each input [frames_i, …]; each output [frames_i, …] per clip.

import * as T from '@theorbo/graph';
import type { ModelConfig } from './registry.ts';

/** Whether the model's output rows are its input rows' frames, one for one. */
export const isFramewise = (config: ModelConfig): boolean => config.kind !== 'crnn' && config.kind !== 'fir';

/** Each clip's outputs of `forward` (inputs [frames, …] per clip), in one call when `framewise`. */
export async function clipOutputs(forward: (...inputs: T.NDArray[]) => Promise<unknown>, inputs: readonly T.NDArray[], framewise: boolean): Promise<T.NDArray[][]> {
  if (!framewise || inputs.length <= 1) {
    const out: T.NDArray[][] = [];
    for (const input of inputs) out.push((await forward(input)) as T.NDArray[]);
    return out;
  }
  const rowShape = inputs[0]!.shape.slice(1);
  const rowSize = rowShape.reduce((a, b) => a * b, 1);
  inputs.forEach((input, i) => {
    if (input.shape.length !== rowShape.length + 1 || input.shape.slice(1).some((size, d) => size !== rowShape[d])) {
      throw new Error(`clipOutputs: clip ${i}'s input has shape [${input.shape.join(', ')}]; every clip's rows must be [${rowShape.join(', ')}] to be stacked.`);
    }
  });
  const frames = inputs.map((input) => input.shape[0]!);
  const total = frames.reduce((a, b) => a + b, 0);
  const stacked = new Float32Array(total * rowSize);
  let offset = 0;
  for (const input of inputs) {
    stacked.set(input.data as Float32Array, offset);
    offset += input.size;
  }
  const outputs = (await forward(T.array(stacked, { shape: [total, ...rowShape] }))) as T.NDArray[];
  return frames.map((count, clip) => {
    const start = frames.slice(0, clip).reduce((a, b) => a + b, 0);
    return outputs.map((output) => {
      if (output.shape[0] !== total) throw new Error(`clipOutputs: an output has ${output.shape[0]} rows for ${total} stacked frames; the model is not frame-wise.`);
      const size = output.size / total;
      const data = output.data.slice(start * size, (start + count) * size);
      return T.array(data as Float32Array, { shape: [count, ...output.shape.slice(1)] });
    });
  });
}
