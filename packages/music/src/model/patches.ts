// CQT patches over time, the CNN's input: for each frame, the frames from `radius` before
// it to `radius` after it, so that a model sees a chord's onset, its sustain and what
// follows. Frames beyond a clip's ends repeat its first or last frame (zeros would look
// like silence, i.e. no chord, at every clip's edge). Patches are built per clip, never
// across clips, and then stacked like the frames they centre on.
// Shapes: frames [frames, bins] → patches [frames, 2·radius + 1, bins].
// Left out: strided or dilated context, patches that straddle clips.

import * as T from '@theorbo/graph';

/** The patch of every frame of one clip: [frames, 2·radius + 1, bins], edges repeated. */
export function framePatches(frames: T.NDArray, radius: number): T.NDArray {
  if (frames.ndim !== 2) throw new Error(`framePatches: expects frames [frames, bins], not [${frames.shape.join(', ')}]`);
  if (!Number.isInteger(radius) || radius < 0) throw new Error(`framePatches: the radius is a whole number of frames on each side, not ${radius}`);
  const [count, bins] = frames.shape as [number, number];
  const context = 2 * radius + 1;
  const out = new Float32Array(count * context * bins);
  for (let f = 0; f < count; f++) {
    for (let c = 0; c < context; c++) {
      const source = Math.min(count - 1, Math.max(0, f + c - radius));
      out.set(frames.data.subarray(source * bins, (source + 1) * bins) as Float32Array, (f * context + c) * bins);
    }
  }
  return T.array(out, { shape: [count, context, bins] });
}

/** Every `stride`-th patch of each clip's frames, stacked: rows in stackFrames' order. */
export function stackPatches(clipFrames: readonly T.NDArray[], radius: number, stride = 1): T.NDArray {
  const context = 2 * radius + 1;
  const bins = clipFrames[0]?.shape[1] ?? 0;
  const rows = clipFrames.reduce((n, frames) => n + Math.ceil(frames.shape[0]! / stride), 0);
  const out = new Float32Array(rows * context * bins);
  let row = 0;
  for (const frames of clipFrames) {
    const patches = framePatches(frames, radius).data as Float32Array;
    const size = context * bins;
    for (let f = 0; f < frames.shape[0]!; f += stride) out.set(patches.subarray(f * size, (f + 1) * size), (row++) * size);
  }
  return T.array(out, { shape: [rows, context, bins] });
}
