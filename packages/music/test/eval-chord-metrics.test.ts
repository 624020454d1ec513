// mir_eval.chord's rules and segmentation scores, on examples worked out by hand from
// their definitions (chord-rules.ts, chord-segmentation.ts): one table row per label pair
// gives the expected comparison under all twelve rules (1 match, 0 no match, −1 left out),
// including the documented examples (thirds: A:7 ~ A:maj and A:min ~ A:dim; triads: only
// the first; mirex: three shared notes), N and X, inversions and mir_eval's quirks; then
// duration-weighted recall over segments, and directional Hamming over-/under-segmentation
// with neighbour merging and the estimate fitted to the reference's span.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Segment } from '../src/chords/index.ts';
import { chordRules, chordScores, compareChordLabels, directionalHammingDistance, segmentationScores, weightedChordSymbolRecall } from '../src/eval/index.ts';

const seg = (start: number, end: number, label: string): Segment => ({ start, end, label });
const close = (actual: number, expected: number, label: string): void => assert.ok(Math.abs(actual - expected) < 1e-12, `${label}: ${actual}, expected ${expected}`);

// Columns in chordRules' order:
//   root majmin majmin_inv mirex thirds thirds_inv triads triads_inv sevenths sevenths_inv tetrads tetrads_inv
const comparisons: [string, string, number[], string][] = [
  ['C:maj', 'C:7', [1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0], 'a seventh added: equal up to the fifth, not as a tetrad'],
  ['C:7', 'C:maj', [1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0], 'a seventh missed: a 7 reference is maj for majmin'],
  ['A:7', 'A:maj', [1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0], 'documented: thirds and triads call A:7 and A:maj equal'],
  ['A:min', 'A:dim', [1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0], 'documented: thirds calls A:min and A:dim equal, triads does not'],
  ['A:min7', 'C:maj', [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0], 'mirex: A C E G and C E G share three notes; other roots differ'],
  ['C:dim', 'C:min', [1, -1, -1, 0, 1, 1, 0, 0, -1, -1, 0, 0], 'a dim reference is outside majmin and sevenths'],
  ['C:maj/3', 'C:maj', [1, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1, 0], 'an inversion missed: only the _inv rules mind the bass'],
  ['C:maj/b7', 'C:7', [1, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1, 0], 'the bass joins the notes: C:maj/b7 is C:7 as a tetrad (and majmin_inv scores it, as mir_eval does)'],
  ['C:maj/2', 'C:maj', [1, -1, -1, 1, 1, 0, 0, 0, -1, -1, 0, 0], 'a bass outside the triad takes the reference out of majmin and sevenths'],
  ['N', 'N', [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], 'N matches N under every rule'],
  ['N', 'C:maj', [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 'a chord over silence'],
  ['C:maj', 'N', [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 'silence over a chord'],
  ['N', 'X', [1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0], 'mir_eval\'s quirk: an X estimate has root −1 like N, so root and mirex count it'],
  ['X', 'C:maj', [-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1], 'an X reference is left out everywhere'],
  ['C:5', 'C:maj', [1, -1, -1, -1, 1, 1, 0, 0, -1, -1, 0, 0], 'a power chord: two notes are too few for mirex'],
  ['C:maj', 'C:sus4', [1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0], 'sus4 has no third, and neither (in semitone 3) has maj'],
  ['Db:min7', 'C#:min7', [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], 'enharmonic spellings'],
  ['G:maj7', 'G:7', [1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0], 'maj7 and 7 differ only as tetrads'],
];

test('each rule compares label pairs as worked out by hand from mir_eval\'s definitions', () => {
  assert.is(chordRules.length, 12);
  for (const [reference, estimate, expected, why] of comparisons) {
    const actual = chordRules.map((rule) => compareChordLabels(reference, estimate, rule));
    assert.equal(actual, expected, `${reference} vs ${estimate} (${why}): ${chordRules.map((rule, i) => `${rule} ${actual[i]}`).join(', ')}`);
  }
});

test('recall weighs pieces by duration, over the boundaries of both, leaving out what a rule leaves out', () => {
  // Pieces: [0,1] C:maj/C:7, [1,2] C:maj/C:min, [2,3] C:dim/C:min, [3,4] X (left out).
  const reference = [seg(0, 2, 'C:maj'), seg(2, 3, 'C:dim'), seg(3, 4, 'X')];
  const estimate = [seg(0, 1, 'C:7'), seg(1, 3.5, 'C:min'), seg(3.5, 4, 'N')];
  const expected: Partial<Record<(typeof chordRules)[number], number>> = {
    root: 1, majmin: 1 / 2, mirex: 1 / 3, thirds: 2 / 3, triads: 1 / 3, sevenths: 0, tetrads: 0,
  };
  const scores = chordScores(reference, estimate);
  for (const [rule, value] of Object.entries(expected)) close(scores[rule as keyof typeof expected]!, value, rule);
  close(weightedChordSymbolRecall(reference, estimate, 'thirds'), 2 / 3, 'weightedChordSymbolRecall with a new rule');
  // Segmentation: the reference is cut at 1 (in [0,2]) and 3.5 (in [3,4]): (1 + 0.5)/4;
  // the estimate's [1,3.5] is cut at 2 and 3, its longest piece 1 s: 1.5/4.
  close(scores.overSegmentation, 1 - 1.5 / 4, 'over');
  close(scores.underSegmentation, 1 - 1.5 / 4, 'under');
  close(scores.segmentation, 0.625, 'seg');
});

test('directional Hamming: an estimate that splits a chord is over-segmented, one that joins chords under-segmented', () => {
  const whole = [seg(0, 4, 'C')];
  const split = [seg(0, 1, 'C'), seg(1, 2, 'G'), seg(2, 4, 'C')];
  // Reference [0,4] cut at 1 and 2: its longest uncut part is 2 s, so d = (4 − 2)/4.
  close(directionalHammingDistance(whole, split), 0.5, 'd(reference → split)');
  close(directionalHammingDistance(split, whole), 0, 'd(split → reference)');
  assert.equal(segmentationScores(whole, split), { overSegmentation: 0.5, underSegmentation: 1, segmentation: 0.5 });
  assert.equal(segmentationScores(split, whole), { overSegmentation: 1, underSegmentation: 0.5, segmentation: 0.5 });
  // Equal neighbours merge first ('C' and 'C:maj' are one chord): this estimate is perfect.
  assert.equal(segmentationScores([seg(0, 1, 'C'), seg(1, 2, 'C:maj'), seg(2, 4, 'G')], [seg(0, 2, 'C'), seg(2, 4, 'G')]), { overSegmentation: 1, underSegmentation: 1, segmentation: 1 });
  // …but an inversion is another chord, so the boundary at 1 stays and cuts the estimate's [0,2].
  close(segmentationScores([seg(0, 1, 'C'), seg(1, 2, 'C/3'), seg(2, 4, 'G')], [seg(0, 2, 'C'), seg(2, 4, 'G')]).underSegmentation, 0.75, 'inversion boundary');
  // The estimate is fitted to the reference's span [1,3]: [1,2] G, [2,3] C.
  assert.equal(segmentationScores([seg(1, 3, 'C')], [seg(0, 2, 'G'), seg(2, 5, 'C')]), { overSegmentation: 0.5, underSegmentation: 1, segmentation: 0.5 });
  // An estimate shorter than the reference is padded with N: [0,3] C, [3,4] N cuts the reference's [0,4].
  close(segmentationScores(whole, [seg(0, 3, 'C')]).overSegmentation, 0.75, 'padding with N');
});

test('bad input is refused with the function and the problem named', () => {
  assert.throws(() => segmentationScores([], [seg(0, 1, 'C')]), /segmentationScores: the reference has no segments/);
  assert.throws(() => segmentationScores([seg(0, 1, 'C:foo')], []), /reference segment 0 .* invalid label/);
  assert.throws(() => directionalHammingDistance([seg(1, 1, 'C')], []), /spans 0 s/);
  assert.throws(() => compareChordLabels('C', 'C', 'fifths' as 'root'), /the rule must be one of root, majmin/);
});

test.run();
