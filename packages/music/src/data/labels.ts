// Frame labels from a clip's segments (browser-safe; dataset.ts re-exports it).

import { noChordIndex } from '../chords/vocabulary.ts';
import type { PlannedSegment } from './clip-plan.ts';

/**
 * The class index (0–24) at each time: that of the segment holding it (a segment holds
 * [start, end)); times before the first or after the last segment are no-chord.
 */
export function labelsAtTimes(segments: readonly PlannedSegment[], times: ArrayLike<number>): Int32Array {
  const out = new Int32Array(times.length);
  for (let i = 0; i < times.length; i++) {
    const time = times[i] as number;
    out[i] = segments.find((segment) => time >= segment.start && time < segment.end)?.classIndex ?? noChordIndex;
  }
  return out;
}
