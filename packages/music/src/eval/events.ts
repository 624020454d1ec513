// Matching events in time as mir_eval does (util.match_events): a reference event and an
// estimated one may pair when they are at most `window` seconds apart (inclusive), each
// event pairs at most once, and the pairing is a maximum one — as many pairs as any
// assignment allows, found by augmenting paths (Kuhn's algorithm; mir_eval uses
// Hopcroft–Karp, which finds a matching of the same size). Nearest-first greedy pairing
// can fall short of that, e.g. reference [1.00, 1.07] and estimate [1.04, 1.11] with a
// 50 ms window: greedy pairs 1.04 with 1.07 and leaves 1.11 alone; the maximum is 2.
// Also the F-measure and mir_eval's checks on event lists (finite, non-negative,
// increasing, at most 30000 s).

/** Checks a list of event times as mir_eval's validate_events does; `what` names it in the error. */
export function checkEvents(op: string, what: string, events: ArrayLike<number>): void {
  for (let i = 0; i < events.length; i++) {
    const t = events[i]!;
    if (!Number.isFinite(t) || t < 0 || t > 30000) throw new Error(`${op}: ${what} time ${t} at index ${i} is not a time in seconds from 0 to 30000`);
    if (i > 0 && t < events[i - 1]!) throw new Error(`${op}: ${what} times must be in increasing order, but ${t} at index ${i} follows ${events[i - 1]}`);
  }
}

/** A maximum set of [referenceIndex, estimateIndex] pairs at most `window` apart, sorted by reference index. */
export function matchEvents(reference: ArrayLike<number>, estimate: ArrayLike<number>, window: number): [number, number][] {
  if (!(window >= 0)) throw new Error(`matchEvents: window ${window} must be non-negative`);
  // Candidates of each reference event: the estimates within the window (both lists are sorted).
  const candidates: number[][] = [];
  let first = 0;
  for (let r = 0; r < reference.length; r++) {
    while (first < estimate.length && estimate[first]! < reference[r]! - window) first++;
    const near: number[] = [];
    for (let e = first; e < estimate.length && estimate[e]! <= reference[r]! + window; e++) {
      if (Math.abs(estimate[e]! - reference[r]!) <= window) near.push(e);
    }
    candidates.push(near);
  }
  const partnerOfEstimate = new Int32Array(estimate.length).fill(-1);
  const augment = (r: number, visited: Uint8Array): boolean => {
    for (const e of candidates[r]!) {
      if (visited[e]) continue;
      visited[e] = 1;
      if (partnerOfEstimate[e] === -1 || augment(partnerOfEstimate[e]!, visited)) {
        partnerOfEstimate[e] = r;
        return true;
      }
    }
    return false;
  };
  for (let r = 0; r < reference.length; r++) augment(r, new Uint8Array(estimate.length));
  const pairs: [number, number][] = [];
  partnerOfEstimate.forEach((r, e) => {
    if (r >= 0) pairs.push([r, e]);
  });
  return pairs.sort((a, b) => a[0] - b[0]);
}

/** The F-measure 2PR/(P + R), 0 when both are 0. */
export function fMeasure(precision: number, recall: number): number {
  return precision === 0 && recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
}

export interface EventScores {
  fMeasure: number;
  precision: number;
  recall: number;
}

/** Precision, recall and F of a maximum matching within `window` (0 for all three when either list is empty). */
export function eventScores(op: string, reference: ArrayLike<number>, estimate: ArrayLike<number>, window: number): EventScores {
  checkEvents(op, 'reference', reference);
  checkEvents(op, 'estimated', estimate);
  if (reference.length === 0 || estimate.length === 0) return { fMeasure: 0, precision: 0, recall: 0 };
  const matched = matchEvents(reference, estimate, window).length;
  const precision = matched / estimate.length;
  const recall = matched / reference.length;
  return { fMeasure: fMeasure(precision, recall), precision, recall };
}
