// Onset, tempo and beat metrics on hand-worked examples (each worked in the comments; the
// definitions are mir_eval's, whose implementation gives the same numbers on them).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { beatFMeasure, beatScores, beatVariations, cemgil, continuity, matchEvents, onsetScores, tempoPScore, trimBeats } from '../src/eval/index.ts';

const close = (actual: number, expected: number, what: string, tolerance = 1e-9): void =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} ≠ ${expected}`);

test('onset F-measure: a 50 ms window, each onset matched once', () => {
  // 1.04 ↔ 1.00 (40 ms) and 1.97 ↔ 2.00 match; 3.06 is 60 ms from 3.00; 2.5 matches nothing.
  // P = 2/4, R = 2/3, F = 2·(1/2)(2/3)/(1/2 + 2/3) = 4/7.
  const scores = onsetScores([1, 2, 3], [1.04, 1.97, 2.5, 3.06]);
  close(scores.precision, 0.5, 'precision');
  close(scores.recall, 2 / 3, 'recall');
  close(scores.fMeasure, 4 / 7, 'F');
  // One estimate near two references counts once: P = 1/1, R = 1/2, F = 2/3.
  close(onsetScores([1, 1.02], [1.01]).fMeasure, 2 / 3, 'one estimate, two references');
  // The window is inclusive (0.0625 is exact in binary).
  close(onsetScores([0.5], [0.5625], 0.0625).fMeasure, 1, 'on the window');
  close(onsetScores([0.5], [0.5626], 0.0625).fMeasure, 0, 'past the window');
  assert.equal(onsetScores([], [1]), { fMeasure: 0, precision: 0, recall: 0 });
  assert.throws(() => onsetScores([2, 1], [1]), /increasing order/);
  assert.throws(() => onsetScores([1], [-0.5]), /estimated time -0.5/);
});

test('matching is maximum, not nearest-first: [1.00, 1.07] against [1.04, 1.11] pairs both', () => {
  // Nearest-first would pair 1.04 with 1.07 (30 ms) and leave 1.11 (110 ms from 1.00) alone.
  assert.equal(matchEvents([1, 1.07], [1.04, 1.11], 0.05), [[0, 0], [1, 1]]);
  close(onsetScores([1, 1.07], [1.04, 1.11]).fMeasure, 1, 'F');
  // A chain: each estimate can take its own reference or the next one's.
  assert.is(matchEvents([1, 1.06, 1.12, 1.18], [1.03, 1.09, 1.15, 1.21], 0.05).length, 4);
});

test('tempo P-score: 8% around each reference tempo, weighted by salience', () => {
  // 121 is 0.8% from 120; nothing is within 8% of 60: P = 0.3·0 + 0.7·1.
  assert.equal(tempoPScore([60, 120], 0.3, [121, 200]), { pScore: 0.7, oneCorrect: true, bothCorrect: false });
  assert.equal(tempoPScore([60, 120], 0.3, [59, 118]), { pScore: 1, oneCorrect: true, bothCorrect: true });
  // 66 is 10% from 60; 300 and 66 are far from 120.
  assert.equal(tempoPScore([60, 120], 0.3, [66, 300]), { pScore: 0, oneCorrect: false, bothCorrect: false });
  // Exactly 8% away is a hit; a reference tempo of 0 never is.
  assert.equal(tempoPScore([100, 0], 1, [108, 108]), { pScore: 1, oneCorrect: true, bothCorrect: false });
  assert.throws(() => tempoPScore([0, 0], 0.5, [100, 100]), /one above 0/);
  assert.throws(() => tempoPScore([60, 120], 1.5, [60, 120]), /salience 1.5/);
});

test('beat F-measure: a 70 ms window', () => {
  // 5.56 is 60 ms from 5.5 (hit), 6.08 is 80 ms from 6.0 (miss), 6.5 hits: P = R = 2/3.
  close(beatFMeasure([5.5, 6, 6.5], [5.56, 6.08, 6.5]), 2 / 3, 'F');
  assert.is(beatFMeasure([], [1]), 0);
});

test('the metrical variations of [1, 2, 3]: off-beats, double, half on odd and on even beats', () => {
  assert.equal(beatVariations([1, 2, 3]).map((v) => Array.from(v)), [[1, 2, 3], [1.5, 2.5], [1, 1.5, 2, 2.5, 3], [1, 3], [2]]);
});

test('Cemgil: Gaussian (σ = 40 ms) credit per reference beat over the mean count, and the best variation', () => {
  // Errors 20 ms, 0 and 500 ms: (e^(−0.02²/(2·0.04²)) + 1 + e^(−78)) / ((3 + 3)/2) = (e^(−1/8) + 1)/3.
  const [raw, best] = cemgil([1, 2, 3], [1.02, 2, 3.5]);
  close(raw, (Math.exp(-1 / 8) + 1) / 3, 'raw');
  close(best, raw, 'no variation does better');
  // Estimates at double tempo: every reference beat is hit, 4/((7 + 4)/2) = 8/11; the
  // double-tempo variation matches all 7: 7/((7 + 7)/2) = 1.
  const [doubleRaw, doubleBest] = cemgil([1, 2, 3, 4], [1, 1.5, 2, 2.5, 3, 3.5, 4]);
  close(doubleRaw, 8 / 11, 'double tempo, raw');
  close(doubleBest, 1, 'double tempo, best variation');
  assert.equal(cemgil([1, 2], []), [0, 0]);
});

test('continuity: CMLc, CMLt, AMLc, AMLt', () => {
  // Estimate 3.5 is half an interval off (phase 0.5 > 0.175); estimate 4 is on a beat but
  // 0.5 s after 3.5 (period error 0.5). Correct: 1, 2, 5 → longest run 2/5, total 3/5.
  assert.equal(continuity([1, 2, 3, 4, 5], [1, 2, 3.5, 4, 5]), { cmlc: 0.4, cmlt: 0.6, amlc: 0.4, amlt: 0.6 });
  // On the off-beats nothing is correct at the reference's level, everything at the off-beat variation's.
  assert.equal(continuity([1, 2, 3, 4, 5, 6], [1.5, 2.5, 3.5, 4.5, 5.5]), { cmlc: 0, cmlt: 0, amlc: 1, amlt: 1 });
  // At half tempo every estimate's interval is twice the reference's (period error 1); the
  // odd-beat variation [1, 3, 5] matches all three.
  assert.equal(continuity([1, 2, 3, 4, 5, 6], [1, 3, 5]), { cmlc: 0, cmlt: 0, amlc: 1, amlt: 1 });
  // A one-beat variation (the off-beat of two beats) has no interval and matches nothing.
  assert.equal(continuity([1, 2], [1.5, 2.5, 3.5]), { cmlc: 0, cmlt: 0, amlc: 0, amlt: 0 });
  assert.equal(continuity([1], [1, 2]), { cmlc: 0, cmlt: 0, amlc: 0, amlt: 0 });
  // Every beat right: a run as long as the longer list.
  assert.equal(continuity([1, 2, 3], [1, 2, 3]), { cmlc: 1, cmlt: 1, amlc: 1, amlt: 1 });
});

test('beatScores trims beats before 5 s from both lists first', () => {
  const reference = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const estimate = [1.3, 2.3, 3.3, 4.3, 5, 6, 7, 8, 9, 10];
  assert.equal(Array.from(trimBeats(estimate)), [5, 6, 7, 8, 9, 10]);
  assert.equal(beatScores(reference, estimate), { fMeasure: 1, cemgil: 1, cemgilBestVariation: 1, cmlc: 1, cmlt: 1, amlc: 1, amlt: 1 });
  close(beatFMeasure(reference, estimate), 0.6, 'untrimmed: 6 of 10 within 70 ms');
});

test.run();
