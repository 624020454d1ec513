// Frame-level scores over vocabulary indices (0–24, −1 = excluded reference frame):
// accuracy and the confusion matrix (rows: reference class, columns: estimated class).
// Frames whose reference is −1 are left out of both, as majmin recall leaves them out.

import { vocabulary } from '../chords/vocabulary.ts';

export interface ConfusionMatrix {
  /** counts[reference][estimate]: the number of frames. */
  counts: number[][];
  /** Each row of counts divided by its sum (a row with no frames stays all zeros). */
  normalized: number[][];
}

/** The fraction of frames (with a reference class ≥ 0) whose estimate equals the reference; 0 when none. */
export function frameAccuracy(reference: ArrayLike<number>, estimate: ArrayLike<number>): number {
  checkSameLength('frameAccuracy', reference, estimate);
  let counted = 0;
  let correct = 0;
  for (let i = 0; i < reference.length; i++) {
    if (reference[i]! < 0) continue;
    counted++;
    if (estimate[i] === reference[i]) correct++;
  }
  return counted > 0 ? correct / counted : 0;
}

/** The classCount × classCount confusion matrix of frame labels, counts and row-normalized. */
export function confusionMatrix(reference: ArrayLike<number>, estimate: ArrayLike<number>, classCount = vocabulary.length): ConfusionMatrix {
  checkSameLength('confusionMatrix', reference, estimate);
  const counts = Array.from({ length: classCount }, () => new Array<number>(classCount).fill(0));
  for (let i = 0; i < reference.length; i++) {
    const row = reference[i]!;
    if (row < 0) continue;
    const column = estimate[i]!;
    for (const [what, value] of [['reference', row], ['estimate', column]] as const) {
      if (!Number.isInteger(value) || value >= classCount || (what === 'estimate' && value < 0)) {
        throw new Error(`confusionMatrix: frame ${i} has ${what} class ${value}, outside 0–${classCount - 1}.`);
      }
    }
    counts[row]![column]!++;
  }
  const normalized = counts.map((row) => {
    const total = row.reduce((sum, count) => sum + count, 0);
    return row.map((count) => (total > 0 ? count / total : 0));
  });
  return { counts, normalized };
}

function checkSameLength(operation: string, reference: ArrayLike<number>, estimate: ArrayLike<number>): void {
  if (reference.length !== estimate.length) {
    throw new Error(`${operation}: the reference has ${reference.length} frames but the estimate has ${estimate.length}.`);
  }
}
