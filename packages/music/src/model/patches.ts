// CQT patches over time, the CNN's input: for each frame, the frames from `radius` before
// it to `radius` after it, so that a model sees a chord's onset, its sustain and what
// follows. Frames beyond a clip's ends repeat its first or last frame (zeros would look
// like silence, i.e. no chord, at every clip's edge). Patches are built per clip, never
// across clips, and then stacked like the frames they centre on, or kept in sequences of
// consecutive frames for the CRNN (chunks of a clip for training, the whole clip to run).
// Shapes: frames [frames, bins] → patches [frames, 2·radius + 1, bins];
// chunks [chunks, length, 2·radius + 1, bins] with labels [chunks, length].
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

/** A whole clip's patches as one sequence: [1, frames, 2·radius + 1, bins], the CRNN's input. */
export function clipSequence(frames: T.NDArray, radius: number): T.NDArray {
  const patches = framePatches(frames, radius);
  return T.array(patches.data as Float32Array, { shape: [1, ...patches.shape] });
}

/**
 * Each clip's patches cut into chunks of `length` consecutive frames, with their labels.
 * Chunks start every `hop` frames (default `length`: every frame in one chunk), and a
 * last chunk ends at the clip's last frame so that the clip's end is covered; a clip
 * shorter than `length` frames gives none. Patches reach across chunks (not clips), as
 * they do when a whole clip runs.
 */
export function chunkPatches(clips: readonly { cqt: T.NDArray; labels: Int32Array }[], radius: number, length: number, hop = length): { patches: T.NDArray; labels: T.NDArray } {
  if (!Number.isInteger(length) || length < 1 || !Number.isInteger(hop) || hop < 1) throw new Error(`chunkPatches: the chunk length and hop are positive whole numbers of frames, not ${length} and ${hop}`);
  const starts = clips.map(({ labels }) => {
    const list: number[] = [];
    for (let start = 0; start + length <= labels.length; start += hop) list.push(start);
    const last = labels.length - length;
    if (last > 0 && list[list.length - 1] !== last) list.push(last);
    return list;
  });
  const chunks = starts.reduce((n, list) => n + list.length, 0);
  const context = 2 * radius + 1;
  const bins = clips[0]?.cqt.shape[1] ?? 0;
  const size = length * context * bins;
  const patches = new Float32Array(chunks * size);
  const labels = new Int32Array(chunks * length);
  let chunk = 0;
  clips.forEach((clip, c) => {
    const all = framePatches(clip.cqt, radius).data as Float32Array;
    for (const start of starts[c]!) {
      patches.set(all.subarray(start * context * bins, start * context * bins + size), chunk * size);
      labels.set(clip.labels.subarray(start, start + length), chunk * length);
      chunk++;
    }
  });
  return { patches: T.array(patches, { shape: [chunks, length, context, bins] }), labels: T.array(labels, { shape: [chunks, length] }) };
}
