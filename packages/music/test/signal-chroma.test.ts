// Chroma: the octave-folding matrices (12 and 36 bins per octave, each spread), the STFT
// chroma filter bank's shape, normalizations against plain formulas, and the physics: A4
// lands on A, a C major triad (sines and harmonic tones) gives C, E and G as the three
// largest, from the CQT and from the STFT. Also tuning estimation in cents.
// Reference evaluator only; signal-device.test.ts compiles.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import { assertClose, expectGraphError } from '@theorbo/graph/testing';
import { chroma, chromaFromStft, chromaMatrix, cqt, estimateTuning, normalizeFrames, stft, stftChromaMatrix } from '../src/signal/index.ts';
import { argmax, batchOf, row, tone, topIndices } from './signal-fixtures.ts';

const A = 9;
const cMajor = [261.6256, 329.6276, 391.9954];

test('12 per octave from C1: bin b folds onto pitch class b mod 12 with weight 1', () => {
  const matrix = chromaMatrix();
  assert.equal([...matrix.shape], [84, 12]);
  for (let b = 0; b < 84; b++) assert.equal(row(matrix, b), Array.from({ length: 12 }, (_, c) => (c === b % 12 ? 1 : 0)));
  // From A0 (27.5 Hz) bin 0 is an A.
  assert.is(argmax(row(chromaMatrix({ fmin: 27.5 }), 0)), A);
});

test('36 per octave: each pitch class centred on its semitone bin; boxcar, centre and gaussian spreads', () => {
  const options = { binsPerOctave: 36, nBins: 252 };
  const boxcar = chromaMatrix(options);
  const centre = chromaMatrix({ ...options, spread: 'centre' });
  const gaussian = chromaMatrix({ ...options, spread: 'gaussian', sigma: 0.5 });
  for (let b = 0; b < 252; b++) {
    const pitchClass = Math.round(b / 3) % 12;
    const onSemitone = b % 3 === 0;
    assert.equal(row(boxcar, b), Array.from({ length: 12 }, (_, c) => (c === pitchClass ? 1 : 0)), `boxcar bin ${b}`);
    assert.is(row(centre, b)[pitchClass], onSemitone ? 1 : 0, `centre bin ${b}`);
    const expected = onSemitone ? 1 : Math.fround(Math.exp(-((1 / 3) ** 2) / (2 * 0.25)));
    assert.ok(Math.abs(row(gaussian, b)[pitchClass]! - expected) < 1e-6, `gaussian bin ${b}`);
  }
  // Bin 2 is a third of a semitone below C#: it belongs to C#.
  assert.is(argmax(row(boxcar, 2)), 1);
});

test('the STFT chroma filter bank: [1025, 12], each FFT bin mapped near its own pitch class', () => {
  const bank = stftChromaMatrix();
  assert.equal([...bank.shape], [1025, 12]);
  const binOf = (f: number): number => Math.round((f * 2048) / 22050);
  assert.is(argmax(row(bank, binOf(440))), A);
  assert.is(argmax(row(bank, binOf(261.63))), 0);
  assert.is(argmax(row(bank, binOf(1661.2))), 8, 'G#6');
  // The octave weighting peaks at octave 5 above A0 (880 Hz) and fades away from it.
  const strength = (f: number): number => Math.max(...row(bank, binOf(f)));
  assert.ok(strength(880) > strength(110) && strength(880) > strength(7040));
});

test('normalizations: max, l1, l2 and none per frame', () => {
  const values = T.array([[[1, -2, 3, 0], [0, 0, 0, 0]]], { dtype: 'float64' });
  const x = T.tensor('float64', [1, 2, 4], 'x');
  const run = (norm: 'max' | 'l1' | 'l2' | 'none'): T.NDArray => T.evaluate(normalizeFrames(x, norm), [[x, values]]);
  assertClose(run('max'), [[[1 / 3, -2 / 3, 1, 0], [0, 0, 0, 0]]]);
  assertClose(run('l1'), [[[1 / 6, -2 / 6, 3 / 6, 0], [0, 0, 0, 0]]]);
  assertClose(run('l2'), [[[1, -2, 3, 0].map((v) => v / Math.sqrt(14)), [0, 0, 0, 0]]]);
  assertClose(run('none'), values);
  expectGraphError(() => normalizeFrames(x, 'linf' as 'max'), 'normalizeFrames', "norm 'linf'");
});

const clips = [
  tone([440], 22050),
  tone(cMajor, 22050),
  tone(cMajor, 22050, { harmonics: 6 }),
];

for (const binsPerOctave of [12, 36]) {
  test(`CQT chroma (${binsPerOctave} per octave): A4 → A; C major triad, sines and harmonic tones → C, E, G`, () => {
    const x = T.tensor('float32', [null, 22050], 'x');
    const options = { binsPerOctave, nBins: 7 * binsPerOctave };
    const out = T.evaluate(chroma(cqt(x, options), options), [[x, batchOf(clips)]]);
    assert.equal([...out.shape], [3, 44, 12]);
    const middle = (clip: number): number[] => row(out, clip, 22);
    assert.is(argmax(middle(0)), A);
    assert.is(Math.max(...middle(0)), 1, 'max-normalized');
    assert.equal(topIndices(middle(1), 3).sort(), [0, 4, 7]);
    assert.equal(topIndices(middle(2), 3).sort(), [0, 4, 7]);
  });
}

test('STFT chroma: A4 → A; C major triad → C, E, G; l2 normalization', () => {
  const x = T.tensor('float32', [null, 22050], 'x');
  const out = T.evaluate(chromaFromStft(stft(x, { scale: 'power' }), { norm: 'l2' }), [[x, batchOf(clips)]]);
  const middle = (clip: number): number[] => row(out, clip, 22);
  assert.is(argmax(middle(0)), A);
  assert.ok(Math.abs(Math.hypot(...middle(0)) - 1) < 1e-5);
  assert.equal(topIndices(middle(1), 3).sort(), [0, 4, 7]);
  assert.equal(topIndices(middle(2), 3).sort(), [0, 4, 7]);
  expectGraphError(() => chroma(T.tensor('float32', [1, 3, null])), 'chroma', 'number of CQT bins');
  expectGraphError(() => chromaFromStft(T.tensor('float32', [1, 3, 513])), 'has 513 bins', 'expect 1025');
});

test('tuning estimation returns the offset from A440 in cents, ±2', () => {
  const cents = (offset: number, options = {}): number => estimateTuning(tone(cMajor.map((f) => f * 2 ** (offset / 1200)), 22050, options));
  for (const offset of [0, 25, -30, 45]) {
    assert.ok(Math.abs(cents(offset) - offset) <= 2, `sines at ${offset} cents: ${cents(offset)}`);
    assert.ok(Math.abs(cents(offset, { harmonics: 5 }) - offset) <= 2, `harmonic tones at ${offset} cents: ${cents(offset, { harmonics: 5 })}`);
  }
  assert.is(estimateTuning(new Float32Array(22050)), 0, 'silence has no tuning');
});

test.run();
