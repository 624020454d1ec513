// Learned chord transitions (eval/chord-transitions.ts): counts from label sequences and
// from .lab segments framed as the decoder frames audio, the log matrix over classes or
// triad families (rows are distributions, add-one smoothed), the file format round trip
// and its errors, and viterbiDecode with a full matrix: the sticky matrix written out
// decodes as the sticky decoder does, and a forbidden change is never taken.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chordVocabulary, vocabularyFamilies } from '../src/chords/index.ts';
import { chordTransitionsFromSegments, countTransitions, formatChordTransitions, parseChordTransitions, transitionLogMatrix, withLearnedTransitions } from '../src/eval/chord-transitions.ts';
import { viterbiDecode } from '../src/eval/decode.ts';
import { decodeChordFrames } from '../src/eval/chord-decoding.ts';
import { SeededRandom } from '../src/random/seeded-random.ts';
import { scorePredictions } from '../src/model/evaluate.ts';
import * as T from '@theorbo/graph';

test('countTransitions: frame-to-frame pairs; −1 breaks a sequence; a label out of range is an error', () => {
  const counts = countTransitions([[0, 0, 1, -1, 1, 1], [2, 0]], 3);
  // 0→0, 0→1, 1→1, 2→0
  assert.equal(Array.from(counts), [1, 1, 0, 0, 1, 0, 1, 0, 0]);
  assert.throws(() => countTransitions([[0, 3]], 3), /sequence 0 frame 1 has the label 3/);
});

test('chordTransitionsFromSegments: .lab segments framed at the model\'s rate, bass set aside, labels outside the vocabulary break the sequence', () => {
  const majmin = chordVocabulary('majmin');
  // Frames of 0.5 s centred at 0, 0.5, 1, …: C C G G | A:min/b3 (→ A:min) X
  const transitions = chordTransitionsFromSegments([
    [{ start: 0, end: 1, label: 'C:maj' }, { start: 1, end: 2, label: 'G:maj' }],
    [{ start: 0, end: 1, label: 'A:min/b3' }, { start: 1, end: 1.5, label: 'C:dim' }, { start: 1.5, end: 2.5, label: 'A:min' }],
  ], majmin, 1, 2);
  const c = majmin.indexOf('C:maj'), g = majmin.indexOf('G:maj'), a = majmin.indexOf('A:min');
  assert.is(transitions.counts[c]![c], 1);
  assert.is(transitions.counts[c]![g], 1);
  assert.is(transitions.counts[g]![g], 1);
  assert.is(transitions.counts[a]![a], 1 + 1); // 0 → 0.5, then 1.5 → 2 after C:dim broke it at 1
  const total = transitions.counts.flat().reduce((sum, count) => sum + count, 0);
  assert.is(total, 5);
  assert.is(transitions.vocabulary, 'majmin');
});

test('transitionLogMatrix: each row a distribution; families sum their members; another vocabulary, rate or size is refused naming both', () => {
  const sevenths = chordVocabulary('sevenths');
  const classes = sevenths.labels.length;
  const counts = Array.from({ length: classes }, (_, j) => Array.from({ length: classes }, (_, k) => (j === k ? 30 : (j + k) % 7)));
  const transitions = { vocabulary: 'sevenths' as const, hop: 512, sampleRate: 22050, frames: 1000, counts };
  const flat = transitionLogMatrix(transitions, sevenths, { hop: 512, sampleRate: 22050 });
  for (let j = 0; j < classes; j++) {
    let sum = 0;
    for (let k = 0; k < classes; k++) sum += Math.exp(flat[j * classes + k]!);
    assert.ok(Math.abs(sum - 1) < 1e-9, `row ${j} sums to ${sum}`);
  }
  // C:maj → C:maj is (30 + 1) / (row total + classes).
  const row0 = counts[0]!.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(flat[0]! - Math.log(31 / (row0 + classes))) < 1e-12);
  const families = vocabularyFamilies(sevenths);
  const size = Math.max(...families) + 1;
  const grouped = transitionLogMatrix(transitions, sevenths, { hop: 512, sampleRate: 22050 }, families);
  assert.is(grouped.length, size * size);
  // Family C (C:maj, C:7, C:maj7) to itself: its members' counts among themselves, plus one.
  const members = [0, 1, 2, 3, 4].map((q) => q * 12).filter((k) => families[k] === families[0]);
  let within = 0, fromFamily = 0;
  for (const j of members) for (let k = 0; k < classes; k++) { fromFamily += counts[j]![k]!; if (members.includes(k)) within += counts[j]![k]!; }
  assert.ok(Math.abs(grouped[families[0]! * size + families[0]!]! - Math.log((within + 1) / (fromFamily + size))) < 1e-12);
  assert.throws(() => transitionLogMatrix(transitions, chordVocabulary('majmin'), { hop: 512, sampleRate: 22050 }), /over the sevenths vocabulary, the decoder's is majmin/);
  assert.throws(() => transitionLogMatrix(transitions, sevenths, { hop: 1024, sampleRate: 22050 }), /512 samples at 22050 Hz, the model's frames are 1024 samples/);
  assert.throws(() => transitionLogMatrix({ ...transitions, counts: counts.slice(1).map((row) => row.slice(1)) }, sevenths, { hop: 512, sampleRate: 22050 }), /60 classes counted, the sevenths vocabulary has 61/);
  assert.throws(() => withLearnedTransitions({ decoder: 'median' }, transitions, sevenths, { hop: 512, sampleRate: 22050 }), /Viterbi's/);
});

test('the file format: round trip; errors name the file and what is wrong', () => {
  const transitions = { vocabulary: 'majmin' as const, hop: 512, sampleRate: 22050, frames: 10, counts: Array.from({ length: 25 }, (_, j) => Array.from({ length: 25 }, (_, k) => j + k)) };
  assert.equal(parseChordTransitions(formatChordTransitions(transitions), 't.json'), transitions);
  assert.throws(() => parseChordTransitions('{', 'bad.json'), /bad\.json: not chord transitions/);
  assert.throws(() => parseChordTransitions('{"format":"x"}', 'x.json'), /x\.json: not chord transitions \(no "format"/);
  const text = (patch: object) => JSON.stringify({ format: 'theorbo-chord-transitions', version: 1, ...transitions, ...patch });
  assert.throws(() => parseChordTransitions(text({ version: 2 }), 'v.json'), /v\.json: chord transitions of version 2/);
  assert.throws(() => parseChordTransitions(text({ vocabulary: 'jazz' }), 'j.json'), /j\.json: the vocabulary must be one of majmin, sevenths, full, not "jazz"/);
  assert.throws(() => parseChordTransitions(text({ counts: [[1, 2], [3]] }), 'c.json'), /c\.json: counts must be a square table/);
  assert.throws(() => parseChordTransitions(text({ counts: [[-1]] }), 'n.json'), /n\.json: counts must be a square table of numbers ≥ 0/);
  assert.throws(() => parseChordTransitions(text({ hop: 0 }), 'h.json'), /h\.json: hop and sampleRate must be positive/);
});

test('viterbiDecode with a full matrix: the sticky matrix decodes as the sticky decoder; a forbidden change is never taken', () => {
  const random = new SeededRandom(3);
  const classes = 6, frames = 200, p = 0.8;
  const scores = Array.from({ length: frames }, (_, t) => Array.from({ length: classes }, (_, k) => Math.log(random.uniform(0.05, 1)) + (k === Math.floor(t / 40) % classes ? 1 : 0)));
  const sticky = Float64Array.from({ length: classes * classes }, (_, i) => (Math.floor(i / classes) === i % classes ? Math.log(p) : Math.log((1 - p) / (classes - 1))));
  assert.equal(viterbiDecode(scores, { transitions: sticky, scores: 'logProbabilities' }), viterbiDecode(scores, { selfTransition: p, scores: 'logProbabilities' }));
  assert.equal(decodeChordFrames(scores, { decoder: 'viterbi', transitions: sticky }), decodeChordFrames(scores, { decoder: 'viterbi', selfTransition: p }));
  // 0 → 1 forbidden: the path never steps from 0 straight to 1.
  const forbidding = Float64Array.from(sticky);
  forbidding[0 * classes + 1] = -Infinity;
  const path = viterbiDecode(scores, { transitions: forbidding, scores: 'logProbabilities' });
  for (let t = 1; t < frames; t++) assert.ok(!(path[t - 1] === 0 && path[t] === 1), `frame ${t}`);
  assert.throws(() => viterbiDecode(scores, { transitions: new Float64Array(5) }), /a transition matrix of 5 entries for scores of 6 classes/);
});

test('scorePredictions with transitions: learned counts that never enter N take N\'s recall from 1 to 0; a median decoding with them is refused', () => {
  const majmin = chordVocabulary('majmin');
  const classes = 25, frames = 40, hop = 512, sampleRate = 22050, second = hop / sampleRate;
  // C:maj for 20 frames, then N for 20, each frame's log score mildly favouring the truth.
  const scores = new Float32Array(frames * classes).fill(Math.log(0.5 / 24));
  for (let t = 0; t < frames; t++) scores[t * classes + (t < 20 ? 0 : 24)] = Math.log(0.5);
  const clip = {
    reference: [{ start: 0, end: 20 * second, label: 'C:maj' }, { start: 20 * second, end: frames * second, label: 'N' }],
    frameLabels: Int32Array.from({ length: frames }, (_, t) => (t < 20 ? 0 : 24)), predicted: Int32Array.from({ length: frames }, (_, t) => (t < 20 ? 0 : 24)),
    logScores: T.array(scores, { shape: [frames, classes] }), duration: frames * second,
  };
  const options = { hop, sampleRate, medianWidth: 9, decoding: { decoder: 'viterbi' as const }, vocabulary: majmin };
  assert.is(scorePredictions([clip], options).noChordRecall, 1);
  const counts = Array.from({ length: classes }, () => Array.from({ length: classes }, (_, k) => (k === classes - 1 ? 0 : 1e300)));
  const transitions = { vocabulary: 'majmin' as const, hop, sampleRate, frames, counts };
  const learned = scorePredictions([clip], { ...options, transitions });
  assert.is(learned.noChordRecall, 0);
  assert.is(learned.majmin, 0.5, 'C:maj read on through the N');
  assert.throws(() => scorePredictions([clip], { ...options, decoding: { decoder: 'median' }, transitions }), /Viterbi's/);
});

test.run();
