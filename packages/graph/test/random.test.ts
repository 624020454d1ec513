// Philox4x32-10 against Random123's known answers, the element mapping of the random op,
// distribution moments on 100k samples, and how random streams advance.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as t from '../src/index.ts';
import { mulHigh32, philox4x32 } from '../src/random.ts';
import { assertClose, expectEvaluationError, expectGraphError, seededRandom } from '../src/testing.ts';

const words = (text: string): number[] => text.split(' ').map((hex) => parseInt(hex, 16));
const hex = (values: ArrayLike<number>): string => Array.from(values, (v) => (v >>> 0).toString(16).padStart(8, '0')).join(' ');

// Random123 tests/kat_vectors, the "philox4x32 10" lines: counter words, key words, output words.
const knownAnswers: [string, string, string][] = [
  ['00000000 00000000 00000000 00000000', '00000000 00000000', '6627e8d5 e169c58d bc57ac4c 9b00dbd8'],
  ['ffffffff ffffffff ffffffff ffffffff', 'ffffffff ffffffff', '408f276d 41c83b0e a20bc7c6 6d5451fd'],
  ['243f6a88 85a308d3 13198a2e 03707344', 'a4093822 299f31d0', 'd16cfe09 94fdcceb 5001e420 24126ea1'],
];

test('Philox4x32-10 matches the Random123 known-answer vectors', () => {
  for (const [counter, key, expected] of knownAnswers) {
    const out = philox4x32(words(counter) as [number, number, number, number], words(key) as [number, number]);
    assert.is(hex(out), expected, `philox(${counter}; ${key}) = ${hex(out)}, expected ${expected}`);
  }
});

test('mulHigh32 agrees with BigInt products', () => {
  const random = seededRandom(5);
  const pairs = [[0, 0], [0xffffffff, 0xffffffff], [0xd2511f53, 0xffffffff], [1, 0xffffffff], [0x10000, 0x10000]];
  for (let i = 0; i < 2000; i++) pairs.push([Math.floor(random() * 2 ** 32), Math.floor(random() * 2 ** 32)]);
  for (const [a, b] of pairs) {
    const want = Number((BigInt(a!) * BigInt(b!)) >> 32n);
    const got = mulHigh32(a!, b!);
    assert.ok(got === want, `mulHigh32(${a}, ${b}) = ${got}, expected ${want}`);
  }
});

test('element i of draw d uses key (seed, d) and counter (i, counter, 0, 0)', () => {
  const streams = new t.RandomStreams(1234);
  const first = streams.uniform([5]);
  const second = streams.uniform([5]);
  streams.state.set(new Uint32Array([1234, 7]));
  const [a, b] = t.evaluate([first, second]);
  for (let i = 0; i < 5; i++) {
    const wantA = (philox4x32([i, 7, 0, 0], [1234, 0])[0]! >>> 8) * 2 ** -24;
    const wantB = (philox4x32([i, 7, 0, 0], [1234, 1])[0]! >>> 8) * 2 ** -24;
    assert.ok(a!.data[i] === wantA && b!.data[i] === wantB, `element ${i}: ${a!.data[i]}, ${b!.data[i]}; expected ${wantA}, ${wantB}`);
  }
  // float64: 27 bits of word 0 over 26 bits of word 1.
  const wide = new t.RandomStreams(99).uniform([3], { dtype: 'float64' });
  const values = t.evaluate(wide);
  for (let i = 0; i < 3; i++) {
    const [w0, w1] = philox4x32([i, 0, 0, 0], [99, 0]);
    const want = ((w0! >>> 5) * 2 ** 26 + (w1! >>> 6)) * 2 ** -53;
    assert.ok(values.data[i] === want, `float64 element ${i} is ${values.data[i]}, expected ${want}`);
  }
});

test('an element does not depend on the shape it is drawn in', () => {
  const flat = t.evaluate(new t.RandomStreams(3).normal([12]));
  const grid = t.evaluate(new t.RandomStreams(3).normal([3, 4]));
  assertClose(grid, flat.reshape([3, 4]), { rtol: 0, atol: 0 });
});

/** Mean, variance, skewness and excess kurtosis of a sample. */
function moments(data: ArrayLike<number>): { mean: number; variance: number; skew: number; kurtosis: number } {
  const n = data.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += data[i]!;
  mean /= n;
  let m2 = 0, m3 = 0, m4 = 0;
  for (let i = 0; i < n; i++) {
    const d = data[i]! - mean;
    m2 += d * d;
    m3 += d * d * d;
    m4 += d * d * d * d;
  }
  m2 /= n; m3 /= n; m4 /= n;
  return { mean, variance: m2, skew: m3 / m2 ** 1.5, kurtosis: m4 / (m2 * m2) - 3 };
}

function within(label: string, actual: number, expected: number, bound: number): void {
  assert.ok(Math.abs(actual - expected) <= bound, `${label} is ${actual}, expected ${expected} ± ${bound}`);
}

const n = 100_000;
// Bounds are five standard errors of each statistic for n samples.

test('uniform float32 and float64: range and moments', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    const sample = t.evaluate(new t.RandomStreams(11).uniform([n], { dtype }));
    assert.is(sample.dtype, dtype, `dtype ${sample.dtype}, expected ${dtype}`);
    let low = 1, high = 0;
    for (const v of sample.data) { low = Math.min(low, v); high = Math.max(high, v); }
    assert.ok(low >= 0 && low < 1e-3 && high < 1 && high > 1 - 1e-3, `${dtype} range [${low}, ${high}] is not inside [0, 1) or does not fill it`);
    const m = moments(sample.data);
    within(`${dtype} mean`, m.mean, 0.5, 5 * Math.sqrt(1 / 12 / n));
    within(`${dtype} variance`, m.variance, 1 / 12, 5 * Math.sqrt((1 / 80 - 1 / 144) / n));
  }
  // float64 uses more than 24 bits.
  const wide = t.evaluate(new t.RandomStreams(11).uniform([100], { dtype: 'float64' }));
  assert.ok(!wide.toArray().every((v) => Number.isInteger(v * 2 ** 24)), 'float64 uniforms carry only 24 bits');
});

test('uniform with low and high', () => {
  const sample = t.evaluate(new t.RandomStreams(12).uniform([n], { low: -3, high: 5 }));
  const m = moments(sample.data);
  assert.ok(!sample.toArray().some((v) => v < -3 || v >= 5), 'a value lies outside [-3, 5)');
  within('mean', m.mean, 1, 5 * 8 * Math.sqrt(1 / 12 / n));
  within('variance', m.variance, 64 / 12, 5 * 64 * Math.sqrt((1 / 80 - 1 / 144) / n));
});

test('normal float32 and float64: moments', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    const m = moments(t.evaluate(new t.RandomStreams(13).normal([n], { dtype })).data);
    within(`${dtype} mean`, m.mean, 0, 5 / Math.sqrt(n));
    within(`${dtype} variance`, m.variance, 1, 5 * Math.sqrt(2 / n));
    within(`${dtype} skewness`, m.skew, 0, 5 * Math.sqrt(6 / n));
    within(`${dtype} excess kurtosis`, m.kurtosis, 0, 5 * Math.sqrt(24 / n));
  }
  const shifted = moments(t.evaluate(new t.RandomStreams(14).normal([n], { mean: 3, std: 2 })).data);
  within('shifted mean', shifted.mean, 3, 5 * 2 / Math.sqrt(n));
  within('shifted variance', shifted.variance, 4, 5 * 4 * Math.sqrt(2 / n));
});

test('bernoulli rate and dtype', () => {
  for (const p of [0.3, 0.9]) {
    const sample = t.evaluate(new t.RandomStreams(15).bernoulli([n], p));
    assert.ok(sample.dtype === 'float32' && !sample.toArray().some((v) => v !== 0 && v !== 1), 'bernoulli values must be float32 0 or 1');
    within(`rate for p=${p}`, moments(sample.data).mean, p, 5 * Math.sqrt((p * (1 - p)) / n));
  }
  const bools = new t.RandomStreams(15).bernoulli([4], 0.5, 'bool');
  assert.is(bools.dtype, 'bool', `dtype ${bools.dtype}, expected bool`);
  // p as a tensor broadcast against the shape.
  const rates = t.evaluate(new t.RandomStreams(16).bernoulli([n, 2], t.constant([0, 1])));
  for (let i = 0; i < n; i++) assert.ok(rates.at(i, 0) === 0 && rates.at(i, 1) === 1, `row ${i} of bernoulli with p [0, 1] is wrong`);
});

test('the same seed gives the same stream; another seed another one', () => {
  const a = t.evaluate(new t.RandomStreams(42).normal([64]));
  const b = t.evaluate(new t.RandomStreams(42).normal([64]));
  const c = t.evaluate(new t.RandomStreams(43).normal([64]));
  assertClose(a, b, { rtol: 0, atol: 0 });
  assert.ok(!a.toArray().some((v, i) => v === c.data[i]), 'seeds 42 and 43 share values');
});

test('draws differ within a call, and successive calls differ and advance the counter', () => {
  const streams = new t.RandomStreams(7);
  const first = streams.uniform([32]);
  const second = streams.uniform([32]);
  const fn = t.referenceFunction({ inputs: [], outputs: [first, second] });
  const [a1, b1] = fn();
  const [a2] = fn();
  assert.ok(!a1!.toArray().some((v, i) => v === b1!.data[i]), 'two draws in one call share values');
  assert.ok(!a1!.toArray().some((v, i) => v === a2!.data[i]), 'two calls gave the same values');
  assert.is(streams.state.get().toArray().join(','), '7,2', `state after two calls is ${streams.state.get().toArray()}, expected 7,2`);
  // seed() restarts the stream; the second call's values are the stream at counter 1.
  streams.seed(7);
  assert.is(streams.state.get().toArray().join(','), '7,0', 'seed(7) did not restart the state at counter 0');
  assertClose(t.evaluate(first), a1!, { rtol: 0, atol: 0 });
  streams.state.set(new Uint32Array([7, 1]));
  assertClose(t.evaluate(first), a2!, { rtol: 0, atol: 0 });
  // evaluate reads the state without advancing it.
  assert.is(streams.state.get().toArray().join(','), '7,1', 'evaluate advanced the state');
});

test('symbolic sizes', () => {
  const x = t.matrix('x');
  const draw = new t.RandomStreams(8).uniform([t.dim(x, 0), 3, t.dim(x, 1)]);
  assert.is(draw.shape.join(','), ',3,', `static shape [${draw.shape}], expected [?,3,?]`);
  const value = t.evaluate(draw, [[x, t.array([[1, 2], [3, 4], [5, 6], [7, 8], [9, 0]])]]);
  assert.is(value.shape.join(','), '5,3,2', `shape [${value.shape}], expected [5,3,2]`);
  const n = t.iscalar('n');
  const empty = t.evaluate(new t.RandomStreams(8).normal([n]), [[n, 0]]);
  assert.is(empty.size, 0, 'a draw of size 0 is not empty');
  const negative = t.iscalar('negative');
  expectEvaluationError(() => t.evaluate(new t.RandomStreams(8).normal([negative]), [[negative, -2]]), 'random', '-2');
});

test('bad arguments name the function, the value and the place', () => {
  const streams = new t.RandomStreams(1);
  expectGraphError(() => streams.uniform([3], { dtype: 'int32' as 'float32' }), 'uniform', 'int32', 'random.test.ts:');
  expectGraphError(() => streams.normal([2.5]), 'normal', '2.5', 'random.test.ts:');
  expectGraphError(() => streams.normal([t.vector('v')]), 'normal', 'float32[?]', 'random.test.ts:');
  expectGraphError(() => new t.RandomStreams(0.5), 'RandomStreams', '0.5', 'random.test.ts:');
  const state = t.shared(new Float32Array(2), 'state');
  expectGraphError(() => t.applyOp('random', [state], { distribution: 'uniform', draw: 0, shape: [2], dtype: 'float32' }), 'random', 'uint32[2]', 'float32[2]', 'random.test.ts:');
});

test.run();
