// scan on the reference evaluator against closed forms: a one-pole IIR filter's impulse
// response, a biquad against a direct-form filter written here, taps reading two steps
// back, going backwards, nSteps without sequences, outputs kept 'last', values read from
// outside the step, random draws inside the step (new numbers each step and each call),
// updates fn returns, nested scans; and each bad input's sentence.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as t from '../src/index.ts';
import { assertClose, expectGraphError, randomArray } from '../src/testing.ts';

const f64 = (values: number[]) => t.array(new Float64Array(values), { shape: [values.length] });

test('a one-pole IIR y[t] = a·y[t−1] + x[t] has the impulse response aᵗ', () => {
  const x = t.dvector('x');
  const a = t.dscalar('a');
  const { outputs: [y] } = t.scan({ fn: (xt, previous, gain) => t.add(t.mul(gain, previous), xt), sequences: x, outputsInfo: [t.constant(0, { dtype: 'float64' })], nonSequences: [a] });
  const impulse = f64([1, 0, 0, 0, 0, 0, 0, 0]);
  assertClose(t.evaluate(y!, [[x, impulse], [a, t.array(new Float64Array([-0.8]), { shape: [] })]]), f64(Array.from({ length: 8 }, (_, n) => (-0.8) ** n)));
});

test('a biquad by scan (taps −2 and −1) equals a direct-form filter written on the host', () => {
  const [b0, b1, b2, a1, a2] = [0.2, 0.3, -0.1, -1.1, 0.5];
  const input = randomArray('float64', [40], { seed: 3 });
  const x = t.dvector('x');
  // Direct form I: y[n] = b0 x[n] + b1 x[n−1] + b2 x[n−2] − a1 y[n−1] − a2 y[n−2], zero initial state.
  const xPrev = t.concat([t.zeros([1], 'float64'), t.get(x, t.slice(null, -1))], 0);
  const xPrev2 = t.concat([t.zeros([2], 'float64'), t.get(x, t.slice(null, -2))], 0);
  const { outputs: [y] } = t.scan({
    fn: (x0, x1, x2, y2, y1) => t.sub(t.add(t.add(t.mul(b0, x0), t.mul(b1, x1)), t.mul(b2, x2)), t.add(t.mul(a1, y1), t.mul(a2, y2))),
    sequences: [x, xPrev, xPrev2],
    outputsInfo: [{ initial: t.zeros([2], 'float64'), taps: [-2, -1] }],
  });
  const want = new Float64Array(40);
  for (let n = 0; n < 40; n++) {
    const at = (k: number) => (n - k >= 0 ? input.data[n - k]! : 0);
    const out = (k: number) => (n - k >= 0 ? want[n - k]! : 0);
    want[n] = b0 * at(0) + b1 * at(1) + b2 * at(2) - a1 * out(1) - a2 * out(2);
  }
  assertClose(t.evaluate(y!, [[x, input]]), t.array(want, { shape: [40] }), { rtol: 1e-12, atol: 1e-12 });
});

test('going backwards, nSteps, keep last, several outputs and a value read from outside', () => {
  const x = t.dvector('x');
  const offset = t.dscalar('offset');
  const { outputs: [sums, doubled, last] } = t.scan({
    fn: (xt, total, finalValue) => [t.add(total, t.add(xt, offset)), t.mul(xt, 2), t.add(finalValue, 1)],
    sequences: x,
    outputsInfo: [t.constant(0, { dtype: 'float64' }), null, { initial: t.constant(10, { dtype: 'float64' }), keep: 'last' }],
    goBackwards: true,
    nSteps: 3,
  });
  const givens = [[x, f64([1, 2, 3, 4])], [offset, t.array(new Float64Array([0.5]), { shape: [] })]] as const;
  const [s, d, l] = t.evaluate([sums!, doubled!, last!], givens);
  assert.equal([...s!.data], [4.5, 8, 10.5]);
  assert.equal([...d!.data], [8, 6, 4]);
  assert.equal(l!.shape, []);
  assert.equal([...l!.data], [13]);
});

test('random draws inside the step differ per step and per call; updates fn returns are applied', () => {
  const streams = new t.RandomStreams(5);
  const counter = t.shared(new Float64Array([0]), 'counter');
  const { outputs: [draws], updates } = t.scan({
    fn: () => ({ outputs: streams.uniform([2], { dtype: 'float64' }), updates: [[counter, t.add(counter, 1)]] }),
    nSteps: 3,
  });
  assert.equal(updates.map(([target]) => target.name).sort(), ['counter', 'random_state']);
  const run = t.referenceFunction({ inputs: [], outputs: [draws!], updates });
  const [first] = run();
  const [second] = run();
  const rows = [0, 1, 2].map((i) => [...first!.data.slice(2 * i, 2 * i + 2)].join());
  assert.is(new Set(rows).size, 3, 'each step draws new numbers');
  assert.not.equal([...first!.data], [...second!.data]);
  assert.equal([...counter.get().data], [6]);
});

test('nested scans: the sum of each row\'s running products', () => {
  const x = t.dmatrix('x');
  const { outputs: [totals] } = t.scan({
    fn: (row, total) => {
      const { outputs: [products] } = t.scan({ fn: (e, p) => t.mul(p, e), sequences: row, outputsInfo: [t.constant(1, { dtype: 'float64' })] });
      return t.add(total, t.sum(products!));
    },
    sequences: x,
    outputsInfo: [t.constant(0, { dtype: 'float64' })],
  });
  const value = t.evaluate(totals!, [[x, t.array(new Float64Array([1, 2, 3, 2, 2, 2]), { shape: [2, 3] })]]);
  assert.equal([...value.data], [1 + 2 + 6, 9 + 2 + 4 + 8]);
});

test('bad scans name scan, the types and the fix', () => {
  const x = t.dvector('x');
  expectGraphError(() => t.scan({ fn: (xt, h) => t.cast(t.add(xt, h), 'float32'), sequences: x, outputsInfo: [t.constant(0, { dtype: 'float64' })] }), 'scan', 'output 0 is float32[]', 'initial value of step type float64[]');
  expectGraphError(() => t.scan({ fn: (xt, h) => t.stack([t.add(xt, h), xt]), sequences: x, outputsInfo: [t.constant(0, { dtype: 'float64' })] }), 'scan', 'float64[2]', 'same dtype and shape');
  expectGraphError(() => t.scan({ fn: (h) => h, outputsInfo: [t.constant(0, { dtype: 'float64' })] }), 'scan', 'needs sequences to iterate over or nSteps');
  expectGraphError(() => t.scan({ fn: (xt) => xt, sequences: t.dscalar('s') }), 'sequence 0 is float64[]');
  expectGraphError(() => t.scan({ fn: (a, b) => t.add(a, b), sequences: x, outputsInfo: [{ initial: t.zeros([1], 'float64'), taps: [-2, -1] }] }), 'reads back 2 steps', 'leading axis of at least 2');
  expectGraphError(() => t.scan({ fn: (a, b) => t.add(a, b), sequences: x, outputsInfo: [{ initial: t.zeros([3], 'float64'), taps: [-1, -3] }] }), 'taps [-1,-3] must be negative integers in ascending order');
  expectGraphError(() => t.scan({ fn: (a) => [a, a], sequences: x, outputsInfo: [null] }), 'outputsInfo describes 1 outputs but fn returned 2');
  expectGraphError(() => t.scan({ fn: (a) => a, sequences: t.constant(new Float64Array(3)), nSteps: 5 }), 'nSteps is 5 but a sequence has only 3 elements');
});

test.run();
