// Evaluation: weighted chord symbol recall on hand-made reference/estimate pairs with
// answers worked out by hand (non-aligned boundaries, gaps, estimates shorter and longer
// than the reference, excluded chords) and against a brute-force time sampler; frame
// accuracy, confusion, median filtering, Viterbi against exhaustive search, and the
// frame/segment conversions.
import { test } from 'uvu';
import { expectError, seededRandom } from '@theorbo/graph/testing';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import type { Segment } from '../src/chords/index.ts';
import { chordIndex, encodeChord } from '../src/chords/index.ts';
import {
  compareChords, confusionMatrix, frameAccuracy, framesToSegments, medianFilterFrames, segmentsToFrames, viterbiDecode,
  weightedChordSymbolRecall,
} from '../src/eval/index.ts';

const seg = (start: number, end: number, label: string): Segment => ({ start, end, label });
const close = (actual: number, expected: number, label: string, tolerance = 1e-12): void =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${label}: ${actual}, expected ${expected}`);


/** [reference, estimate, root recall, majmin recall, what the case shows] */
const cases: [Segment[], Segment[], number, number, string][] = [
  [[seg(0, 2, 'C'), seg(2, 4, 'G')], [seg(0, 2, 'C:maj'), seg(2, 4, 'G:maj')], 1, 1, 'identical up to spelling'],
  [[seg(0, 2, 'C'), seg(2, 4, 'G')], [seg(0, 1, 'C'), seg(1, 3, 'G'), seg(3, 4, 'G')], 0.75, 0.75, 'boundaries that do not align'],
  [[seg(0, 0.5, 'C'), seg(0.5, 2, 'A:min')], [seg(0, 1.25, 'C'), seg(1.25, 2, 'A:min')], 0.625, 0.625, 'fractional overlaps weigh by duration'],
  [[seg(0, 4, 'C')], [seg(0, 3, 'C')], 0.75, 0.75, 'estimate shorter: the rest counts as N'],
  [[seg(0, 3, 'C'), seg(3, 4, 'N')], [seg(0, 3, 'C')], 1, 1, 'estimate shorter over a reference N'],
  [[seg(1, 3, 'A:min')], [seg(0, 5, 'A:min7')], 1, 1, 'estimate longer: cut to the reference'],
  [[seg(1, 3, 'A:min')], [seg(0, 2, 'G'), seg(2, 5, 'A:min')], 0.5, 0.5, 'estimate longer with a wrong head'],
  [[seg(0, 1, 'C:dim'), seg(1, 3, 'C:maj'), seg(3, 4, 'X')], [seg(0, 4, 'C')], 1, 1, 'dim (majmin only) and X are left out'],
  [[seg(0, 1, 'C:dim'), seg(1, 3, 'C:maj'), seg(3, 4, 'X')], [seg(0, 4, 'G')], 0, 0, 'left-out pieces do not count as correct either'],
  [[seg(0, 1, 'C:dim'), seg(1, 3, 'C:maj')], [seg(0, 3, 'C:sus4')], 1, 0, 'same root, a quality outside maj/min'],
  [[seg(0, 2, 'G:7'), seg(2, 4, 'A:min7')], [seg(0, 2, 'G'), seg(2, 4, 'A:maj')], 1, 0.5, 'sevenths reduce to triads; wrong third'],
  [[seg(0, 1, 'N'), seg(1, 2, 'C')], [seg(0, 2, 'C')], 0.5, 0.5, 'N in the reference is scored'],
  [[seg(0, 1, 'N'), seg(1, 2, 'C')], [seg(0, 1, 'N'), seg(1, 2, 'C')], 1, 1, 'N matches N'],
  [[seg(0, 1, 'C'), seg(2, 3, 'G')], [seg(0, 3, 'C')], 0.5, 0.5, 'a gap in the reference is not scored'],
  [[seg(0, 1, 'C'), seg(1, 2, 'N'), seg(2, 3, 'G')], [seg(0, 1, 'C'), seg(2, 3, 'G')], 1, 1, 'a gap in the estimate is N'],
  [[seg(0, 2, 'Db:maj'), seg(2, 3, 'E#:min')], [seg(0, 2, 'C#'), seg(2, 3, 'F:min')], 1, 1, 'enharmonic spellings agree'],
  [[seg(0, 2, 'C')], [], 0, 0, 'an empty estimate is all N'],
  [[seg(0, 1, 'X'), seg(1, 2, 'C:aug')], [seg(0, 2, 'C')], 1, 0, 'nothing scorable under majmin gives 0, as mir_eval'],
];
for (const [reference, estimate, root, majmin, what] of cases) {
  test(`weightedChordSymbolRecall: ${what}`, () => {
    close(weightedChordSymbolRecall(reference, estimate, 'root'), root, 'root');
    close(weightedChordSymbolRecall(reference, estimate, 'majmin'), majmin, 'majmin');
  });
}

test('compareChords follows mir_eval: X estimates share N\'s root, X references are left out', () => {
  assert.is(compareChords('N', 'X', 'root'), 1); // both have root −1 in mir_eval
  assert.is(compareChords('N', 'X', 'majmin'), 0);
  assert.is(compareChords('X', 'C', 'root'), -1);
  assert.is(compareChords('C:maj/5', 'C', 'majmin'), 1);
  assert.is(compareChords('C:hdim7', 'C:min', 'majmin'), -1);
});


function randomSegments(random: () => number, end: number, labels: string[], gaps: boolean): Segment[] {
  const segments: Segment[] = [];
  let time = random() * 0.5;
  while (time < end) {
    const next = Math.min(end, time + 0.05 + random() * 1.5);
    if (!(gaps && random() < 0.15)) segments.push(seg(time, next, labels[Math.floor(random() * labels.length)]!));
    time = next;
  }
  return segments;
}

test('weightedChordSymbolRecall agrees with sampling the timeline at 50,000 points', () => {
  const random = seededRandom(7);
  const labels = ['C', 'C:min', 'C:7', 'A:min7', 'A:min', 'G', 'G:sus4', 'D:dim', 'N', 'X', 'Db:maj/3', 'C#:maj'];
  for (let trial = 0; trial < 12; trial++) {
    const reference = randomSegments(random, 10, labels, true);
    const estimate = randomSegments(random, 12, labels, trial % 2 === 0);
    if (reference.length === 0) continue;
    const spanStart = reference[0]!.start;
    const spanEnd = reference[reference.length - 1]!.end;
    const at = (segments: Segment[], time: number): string | undefined => segments.find((s) => s.start <= time && time < s.end)?.label;
    for (const rule of ['root', 'majmin'] as const) {
      let scored = 0;
      let correct = 0;
      const samples = 50_000;
      for (let i = 0; i < samples; i++) {
        const time = spanStart + ((i + 0.5) / samples) * (spanEnd - spanStart);
        const ref = at(reference, time);
        if (ref === undefined) continue;
        const est = at(estimate, time) ?? 'N';
        // Independent of compareChords: the rules written out from mir_eval's definitions.
        const refEncoded = encodeChord(ref);
        const excluded = rule === 'root' ? refEncoded.semitones[0]! < 0 : chordIndex(ref) < 0;
        if (excluded) continue;
        scored++;
        const same = rule === 'root' ? refEncoded.root === encodeChord(est).root : chordIndex(ref) === chordIndex(est);
        if (same) correct++;
      }
      const expected = scored > 0 ? correct / scored : 0;
      close(weightedChordSymbolRecall(reference, estimate, rule), expected, `trial ${trial} ${rule}`, 1e-3);
    }
  }
});

test('weightedChordSymbolRecall refuses malformed input, naming the segment', () => {
  expectError(() => weightedChordSymbolRecall([seg(0, 2, 'C'), seg(1, 3, 'G')], [], 'root'), 'reference segment 1', 'overlap');
  expectError(() => weightedChordSymbolRecall([seg(0, 2, 'C')], [seg(0, 1, 'C:foo')], 'majmin'), 'estimate segment 0', "'C:foo'");
  expectError(() => weightedChordSymbolRecall([seg(2, 1, 'C')], [], 'root'), 'reference segment 0', 'end ≥ start');
  expectError(() => weightedChordSymbolRecall([], [seg(0, 1, 'C')], 'root'), 'no segments');
  expectError(() => weightedChordSymbolRecall([seg(0, 1, 'C')], [], 'fifths' as 'root'), "'fifths'", 'tetrads_inv');
});

test('frameAccuracy leaves out frames whose reference is −1', () => {
  close(frameAccuracy([0, 0, 1, 24, -1, -1], [0, 1, 1, 24, 3, 0]), 3 / 4, 'accuracy');
  close(frameAccuracy(Int32Array.from([5, 5]), Int32Array.from([5, 5])), 1, 'typed arrays');
  close(frameAccuracy([-1], [0]), 0, 'nothing counted');
  expectError(() => frameAccuracy([0, 1], [0]), 'frameAccuracy', '2 frames', '1');
});

test('confusionMatrix counts reference rows against estimate columns and normalizes rows', () => {
  const { counts, normalized } = confusionMatrix([0, 0, 0, 1, 24, -1], [0, 0, 12, 1, 0, 5]);
  assert.is(counts.length, 25);
  assert.is(counts[0]!.length, 25);
  assert.is(counts[0]![0], 2);
  assert.is(counts[0]![12], 1);
  assert.is(counts[1]![1], 1);
  assert.is(counts[24]![0], 1);
  assert.is(counts.flat().reduce((a, b) => a + b, 0), 5);
  close(normalized[0]![0]!, 2 / 3, 'row 0');
  close(normalized[0]![12]!, 1 / 3, 'row 0');
  assert.equal(normalized[5], new Array(25).fill(0));
  assert.equal(confusionMatrix([1, 0], [0, 0], 2).counts, [[1, 0], [1, 0]]);
  expectError(() => confusionMatrix([0], [25]), 'confusionMatrix', 'frame 0', '25');
});

test('medianFilterFrames on labels: majority in the window, ties to the centre, then the smallest', () => {
  assert.equal(medianFilterFrames([0, 0, 1, 0, 0, 2, 2, 2, 1, 2], 3), [0, 0, 0, 0, 0, 2, 2, 2, 2, 2]);
  assert.equal(medianFilterFrames([1, 1, 0, 2, 2], 5)[2], 1);
  assert.equal(medianFilterFrames(Int32Array.from([3, 4, 3]), 1), [3, 4, 3]);
  assert.equal(medianFilterFrames([], 3), []);
  expectError(() => medianFilterFrames([1, 2], 4), 'odd', '4');
});

test('medianFilterFrames on scores: running median per class, windows shrink at the ends', () => {
  const scores = [[1, 0], [5, 0], [2, 9], [3, 1]];
  const expected = [[3, 0], [2, 0], [3, 1], [2.5, 5]];
  assert.equal(medianFilterFrames(scores, 3), expected);
  const asArray = T.array(scores.flat(), { shape: [4, 2], dtype: 'float64' });
  assert.equal(medianFilterFrames(asArray, 3), expected);
});

test('viterbiDecode finds the best path, as exhaustive search over all paths does', () => {
  const random = seededRandom(3);
  for (let trial = 0; trial < 20; trial++) {
    const classes = 3;
    const frames = 6;
    const probabilities = Array.from({ length: frames }, () => Array.from({ length: classes }, () => random()));
    const selfTransition = 0.2 + 0.75 * random();
    const logStay = Math.log(selfTransition);
    const logMove = Math.log((1 - selfTransition) / (classes - 1));
    let bestScore = -Infinity;
    let bestPath: number[] = [];
    for (let code = 0; code < classes ** frames; code++) {
      const path = Array.from({ length: frames }, (_, t) => Math.floor(code / classes ** t) % classes);
      let score = 0;
      path.forEach((state, t) => {
        score += Math.log(probabilities[t]![state]!);
        if (t > 0) score += state === path[t - 1] ? logStay : logMove;
      });
      if (score > bestScore) { bestScore = score; bestPath = path; }
    }
    assert.equal(viterbiDecode(probabilities, { selfTransition }), bestPath, `trial ${trial}`);
    const logs = probabilities.map((row) => row.map(Math.log));
    assert.equal(viterbiDecode(logs, { selfTransition, scores: 'logProbabilities' }), bestPath, `trial ${trial}, log input`);
  }
});

test('viterbiDecode: sticky transitions remove a one-frame blip; uniform ones give the per-frame argmax', () => {
  const frame = (winner: number): number[] => Array.from({ length: 4 }, (_, k) => (k === winner ? 0.6 : 0.4 / 3));
  const scores = [0, 0, 0, 2, 0, 0, 1, 1, 1, 1].map(frame);
  assert.equal(viterbiDecode(scores, { selfTransition: 0.99 }), [0, 0, 0, 0, 0, 0, 1, 1, 1, 1]);
  assert.equal(viterbiDecode(scores, { selfTransition: 0.25 }), [0, 0, 0, 2, 0, 0, 1, 1, 1, 1]);
  const asArray = T.array(scores.flat(), { shape: [10, 4], dtype: 'float32' });
  assert.equal(viterbiDecode(asArray, { selfTransition: 0.99 }), [0, 0, 0, 0, 0, 0, 1, 1, 1, 1]);
  assert.equal(viterbiDecode([]), []);
  expectError(() => viterbiDecode(scores, { selfTransition: 1 }), 'viterbiDecode', 'between 0 and 1');
  expectError(() => viterbiDecode([[1, 2], [1]]), 'frame 1', '1 class scores');
});

test('framesToSegments merges runs into vocabulary-labelled segments; segmentsToFrames inverts it', () => {
  const labels = [0, 0, 24, 24, 24, 21, -1];
  const hop = 512;
  const rate = 22050;
  const segments = framesToSegments(labels, hop, rate);
  assert.equal(segments, [
    seg(0, 1024 / rate, 'C:maj'),
    seg(1024 / rate, 2560 / rate, 'N'),
    seg(2560 / rate, 3072 / rate, 'A:min'),
    seg(3072 / rate, 3584 / rate, 'X'),
  ]);
  assert.equal(segmentsToFrames(segments, labels.length, hop, rate), labels);
  assert.equal(segmentsToFrames(segments, 9, hop, rate, { fill: 24 }), [...labels, 24, 24]);
  const clipped = framesToSegments(labels, hop, rate, { duration: 0.1 });
  assert.is(clipped.length, 2);
  assert.is(clipped[1]!.end, 0.1);
  const centred = framesToSegments([3, 3, 4], hop, rate, { offset: -hop / 2 / rate });
  assert.equal(centred.map((s) => s.label), ['D#:maj', 'E:maj']);
  [0, 768 / rate, 768 / rate, 1280 / rate].forEach((time, i) => close([centred[0]!.start, centred[0]!.end, centred[1]!.start, centred[1]!.end][i]!, time, `centred time ${i}`, 1e-15));
  assert.equal(framesToSegments([], hop, rate), []);
  expectError(() => framesToSegments([0], 0, rate), 'framesToSegments', 'positive');
});

test.run();
