// Inversions (chords/bass.ts): Harte bass degrees written and read back as mir_eval reads
// them, the estimate on hand-made CQT frames (the lowest sounding chord tone votes; weak
// peaks, non-chord tones and N are passed over; twins of the same notes chosen by the bass), and on real audio through the CQT: a
// first inversion, a second inversion and a root-position chord with their partials.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import { bassEstimable, bassOptionsFor, chordVocabulary, encodeChord, estimateBass, labelWithLowestNote, vocabularyHasTwins, withBass, type Segment } from '../src/chords/index.ts';
import { chordScores } from '../src/eval/chord-segmentation.ts';
import { clipFeatures, featureDefaults } from '../src/model/features.ts';

test('withBass writes Harte degrees that encodeChord reads back as the same interval; root position and N stay as they are', () => {
  assert.is(withBass('C:maj', 4), 'C:maj/3');
  assert.is(withBass('A:min', 3), 'A:min/b3');
  assert.is(withBass('G:7', 7), 'G:7/5');
  assert.is(withBass('B:dim', 6), 'B:dim/b5');
  assert.is(withBass('F:aug', 8), 'F:aug/#5');
  assert.is(withBass('D:min7', 10), 'D:min7/b7');
  assert.is(withBass('C:maj', 0), 'C:maj');
  assert.is(withBass('C:maj', 12), 'C:maj');
  assert.is(withBass('N', 4), 'N');
  for (let semitones = 1; semitones < 12; semitones++) assert.is(encodeChord(withBass('Eb:maj', semitones)).bass, semitones, `interval ${semitones}`);
  assert.throws(() => withBass('C:maj/3', 7), /already names a bass/);
});

test('labelWithLowestNote: the lowest note\'s interval above the root (E3 under C, A:min with C in the bass)', () => {
  assert.is(labelWithLowestNote('C:maj', 0, 52), 'C:maj/3');
  assert.is(labelWithLowestNote('A:min', 9, 48), 'A:min/b3');
  assert.is(labelWithLowestNote('A:min', 9, 45), 'A:min');
  assert.is(labelWithLowestNote('N', null, undefined), 'N');
});

test('bassOptionsFor: the pitch class of the CQT\'s first bin (C1 → 0, A1 → 9, C3 → 0)', () => {
  assert.is(bassOptionsFor({ fmin: 32.70319566257483, binsPerOctave: 12 }).firstPitchClass, 0);
  assert.is(bassOptionsFor({ fmin: 55, binsPerOctave: 12 }).firstPitchClass, 9);
  assert.is(bassOptionsFor({ fmin: 130.8127826502993, binsPerOctave: 12 }).firstPitchClass, 0);
});

/** CQT frames (84 bins from C1, log1p units): each frame a set of (bin, value) peaks over a floor of 0. */
function frames(...peaks: [number, number][][]): T.NDArray {
  const data = new Float32Array(peaks.length * 84);
  peaks.forEach((frame, f) => frame.forEach(([bin, value]) => (data[f * 84 + bin] = value)));
  return T.array(data, { shape: [peaks.length, 84] });
}

test('estimateBass on hand-made frames: the lowest chord tone within the floor votes; weaker peaks, non-chord tones and N are passed over', () => {
  const hop = 512, rate = 22050, frame = hop / rate;
  const options = bassOptionsFor(featureDefaults, 1.25);
  // C major (C3 = bin 24, E = 28 / 40, G = 31 / 43).
  const firstInversion = [[28, 5], [36, 6], [43, 5.5]] as [number, number][]; // E2 under C3, G3
  const weakRoot = [[12, 3], [28, 5], [36, 6], [43, 5.5]] as [number, number][]; // C1 more than 1.25 below the strongest
  const nonChordTone = [[26, 6], [31, 5.5], [36, 6], [40, 5]] as [number, number][]; // D2 (not in C) under G2
  const segments: Segment[] = [
    { start: 0, end: 3 * frame, label: 'C:maj' },
    { start: 3 * frame, end: 5 * frame, label: 'C:maj' },
    { start: 5 * frame, end: 7 * frame, label: 'N' },
    { start: 7 * frame, end: 8 * frame, label: 'C:maj' },
  ];
  const cqt = frames(firstInversion, weakRoot, firstInversion, nonChordTone, nonChordTone, firstInversion, firstInversion, []);
  const got = estimateBass(cqt, segments, hop, rate, options);
  assert.equal(got.map((s) => s.label), ['C:maj/3', 'C:maj/5', 'N', 'C:maj']);
  assert.equal(got.map((s) => [s.start, s.end]), segments.map((s) => [s.start, s.end]));
  // The bass is a chord tone: rules without _inv score the labels as without it.
  const reference: Segment[] = [{ start: 0, end: 8 * frame, label: 'C:maj/3' }];
  const plain = chordScores(reference, segments), inverted = chordScores(reference, got);
  for (const rule of ['root', 'majmin', 'mirex', 'thirds', 'triads', 'sevenths', 'tetrads'] as const) assert.is(inverted[rule], plain[rule], rule);
  assert.ok(inverted.majmin_inv > plain.majmin_inv, `majmin_inv ${plain.majmin_inv} → ${inverted.majmin_inv}`);
  assert.throws(() => estimateBass(cqt, segments, hop, rate, { ...options, binsPerOctave: 36 }), /12/);
});

test('estimateBass with the vocabulary: a chord whose bass is its twin\'s root becomes the twin in root position (A:min7 over C → C:maj6, C:sus4 over F → F:sus2, C:aug over E → E:aug; equal neighbours merge); without twins or the vocabulary, the bass is written', () => {
  const hop = 512, rate = 22050, frame = hop / rate;
  const full = chordVocabulary('full');
  const options = { ...bassOptionsFor(featureDefaults), vocabulary: full };
  // C2 (bin 12) lowest under A2 E3 G3; then A1 (bin 9) lowest; then F2 (bin 17) under C3 G3.
  const cLowest = [[12, 6], [21, 6], [28, 5.5], [31, 5]] as [number, number][];
  const aLowest = [[9, 6], [24, 6], [28, 5.5], [31, 5]] as [number, number][];
  const fLowest = [[17, 6], [24, 6], [31, 5]] as [number, number][];
  const cqt = frames(cLowest, cLowest, aLowest, aLowest, fLowest, fLowest, cLowest);
  const segments: Segment[] = [
    { start: 0, end: 2 * frame, label: 'A:min7' },
    { start: 2 * frame, end: 4 * frame, label: 'A:min7' },
    { start: 4 * frame, end: 6 * frame, label: 'C:sus4' },
    { start: 6 * frame, end: 7 * frame, label: 'A:min' },
  ];
  assert.equal(estimateBass(cqt, segments, hop, rate, options).map((s) => s.label), ['C:maj6', 'A:min7', 'F:sus2', 'A:min/b3']);
  assert.equal(estimateBass(cqt, segments, hop, rate, bassOptionsFor(featureDefaults)).map((s) => s.label), ['A:min7/b3', 'A:min7', 'C:sus4/4', 'A:min/b3']);
  // sevenths has no two classes of the same notes: the vocabulary changes nothing there.
  const sevenths = estimateBass(cqt, segments.slice(0, 2), hop, rate, { ...options, vocabulary: chordVocabulary('sevenths') });
  assert.equal(sevenths.map((s) => s.label), ['A:min7/b3', 'A:min7']);
  // C:maj6 then A:min7 over C: both C:maj6, one segment; C:aug over E (bin 16) → E:aug.
  const eLowest = [[16, 6], [24, 6], [32, 5]] as [number, number][];
  const merged = estimateBass(frames(cLowest, cLowest, eLowest), [
    { start: 0, end: frame, label: 'C:maj6' }, { start: frame, end: 2 * frame, label: 'A:min7' }, { start: 2 * frame, end: 3 * frame, label: 'C:aug' },
  ], hop, rate, options);
  assert.equal(merged, [{ start: 0, end: 2 * frame, label: 'C:maj6' }, { start: 2 * frame, end: 3 * frame, label: 'E:aug' }]);
  assert.ok(vocabularyHasTwins(chordVocabulary('full')));
  assert.not.ok(vocabularyHasTwins(chordVocabulary('sevenths')));
  assert.not.ok(vocabularyHasTwins(chordVocabulary('majmin')));
});

test('estimateBass: digital silence votes for nothing (root position), and a loud frame outweighs quieter ones', () => {
  const hop = 512, rate = 22050, frame = hop / rate;
  const options = bassOptionsFor(featureDefaults);
  const silent = estimateBass(frames([], [], [], []), [{ start: 0, end: 4 * frame, label: 'G:maj' }], hop, rate, options);
  assert.is(silent[0]!.label, 'G:maj');
  // One loud first-inversion frame (E2 under C) against two quiet second-inversion frames (G1 under C).
  const loud = [[28, 8], [36, 9], [43, 8.5]] as [number, number][];
  const quiet = [[19, 1.5], [36, 2], [40, 1.8]] as [number, number][];
  const mixed = estimateBass(frames(loud, quiet, quiet), [{ start: 0, end: 3 * frame, label: 'C:maj' }], hop, rate, options);
  assert.is(mixed[0]!.label, 'C:maj/3');
});

test('bassEstimable: the models\' CQT (C1, 12 bins an octave) yes; a FIR model\'s (C3) or 36 bins an octave no', () => {
  assert.ok(bassEstimable(featureDefaults));
  assert.not.ok(bassEstimable({ fmin: 130.8127826502993, binsPerOctave: 12 }));
  assert.not.ok(bassEstimable({ fmin: 32.70319566257483, binsPerOctave: 36 }));
});

/** Notes (MIDI) with four decaying partials each, 1.5 s at 22050 Hz. */
function chord(notes: readonly number[]): Float32Array {
  const rate = 22050;
  const samples = new Float32Array(Math.round(rate * 1.5));
  for (const midi of notes) {
    const f = 440 * 2 ** ((midi - 69) / 12);
    for (let i = 0; i < samples.length; i++) for (let h = 1; h <= 4; h++) samples[i]! += (0.1 / h) * Math.sin((2 * Math.PI * f * h * i) / rate) * Math.exp(-i / rate);
  }
  return samples;
}

test('estimateBass through the CQT of real audio: C/E, C/G, C with C2 in the bass, A:min/C', () => {
  const cases: [number[], string, string][] = [
    [[52, 60, 67, 72], 'C:maj', 'C:maj/3'],
    [[43, 52, 60, 64], 'C:maj', 'C:maj/5'],
    [[36, 55, 64, 72], 'C:maj', 'C:maj'],
    [[48, 57, 64, 69], 'A:min', 'A:min/b3'],
  ];
  for (const [notes, label, want] of cases) {
    const features = clipFeatures(chord(notes), [], featureDefaults);
    const duration = 1.5;
    const [segment] = estimateBass(features.cqt, [{ start: 0, end: duration, label }], featureDefaults.hop, featureDefaults.sampleRate, bassOptionsFor(featureDefaults));
    assert.is(segment!.label, want, `${notes.join(' ')}`);
  }
});

test.run();
