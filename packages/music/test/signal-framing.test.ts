// Windows and framing: window values against their closed forms and numpy's, frame
// counts, framed values against frames cut by a plain loop (centred with zeros or
// reflection, uncentred, hops that do and do not divide nFft, view and gather paths),
// and the errors a user meets. Reference evaluator only; signal-device.test.ts compiles.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import { assertClose, expectGraphError, fromFunction, seededRandom } from '@theorbo/graph/testing';
import { centredWindow, frameCount, frameSignal, paddedSample, window } from '../src/signal/index.ts';

test('periodic windows follow their closed forms; symmetric ones equal numpy.hanning/hamming/blackman', () => {
  const n = 16;
  const hann = window('hann', n);
  const hamming = window('hamming', n);
  const blackman = window('blackman', n);
  for (let i = 0; i < n; i++) {
    const c = Math.cos((2 * Math.PI * i) / n);
    assert.ok(Math.abs(hann[i]! - (0.5 - 0.5 * c)) < 1e-15);
    assert.ok(Math.abs(hamming[i]! - (0.54 - 0.46 * c)) < 1e-15);
    assert.ok(Math.abs(blackman[i]! - (0.42 - 0.5 * c + 0.08 * Math.cos((4 * Math.PI * i) / n))) < 1e-15);
  }
  // numpy.hanning(5), numpy.hamming(4), numpy.blackman(3):
  assertClose(T.array(window('hann', 5, { periodic: false })), [0, 0.5, 1, 0.5, 0], { atol: 1e-15 });
  assertClose(T.array(window('hamming', 4, { periodic: false })), [0.08, 0.77, 0.77, 0.08], { atol: 1e-15 });
  assertClose(T.array(window('blackman', 3, { periodic: false })), [0, 1, 0], { atol: 1e-15 });
  assertClose(T.array(window('rectangular', 4)), [1, 1, 1, 1]);
  assert.throws(() => window('kaiser' as 'hann', 8), /unknown window 'kaiser'/);
});

test('centredWindow at an even integer width is the periodic window shifted by half its length', () => {
  const width = 10;
  const periodic = window('hann', width);
  for (let t = -width / 2; t < width / 2; t++) assert.ok(Math.abs(centredWindow('hann', width, t) - periodic[t + width / 2]!) < 1e-15);
  assert.is(centredWindow('hann', width, width / 2), 0);
  assert.is(centredWindow('rectangular', 7.5, 3), 1);
  assert.is(centredWindow('rectangular', 7.5, 4), 0);
});

test('frame counts: 1 + ⌊samples/hop⌋ centred, 1 + ⌊(samples − nFft)/hop⌋ otherwise', () => {
  assert.is(frameCount(22050), 44);
  assert.is(frameCount(22050 * 10), 431);
  assert.is(frameCount(2048, { center: false }), 1);
  assert.is(frameCount(2047, { center: false }), 0);
  assert.is(frameCount(5000, { nFft: 1024, hop: 256, center: false }), 16);
});

function randomSignal(batch: number, samples: number, seed: number): T.NDArray {
  const random = seededRandom(seed);
  return fromFunction('float32', [batch, samples], () => random() * 2 - 1);
}

/** Frames cut by a loop, the expected values. */
function loopFrames(signal: T.NDArray, nFft: number, hop: number, center: boolean, padMode: 'constant' | 'reflect'): T.NDArray {
  const [batch, samples] = signal.shape as [number, number];
  const count = frameCount(samples, { nFft, hop, center });
  const start = center ? -Math.floor(nFft / 2) : 0;
  return fromFunction('float32', [batch, count, nFft], ([b, f, n]) =>
    paddedSample(signal.data.subarray(b! * samples, (b! + 1) * samples) as Float32Array, start + f! * hop + n!, padMode));
}

const framingCases = [
  { nFft: 16, hop: 4, center: true, padMode: 'constant' },
  { nFft: 16, hop: 4, center: true, padMode: 'reflect' },
  { nFft: 16, hop: 6, center: false, padMode: 'constant' },
  { nFft: 12, hop: 5, center: true, padMode: 'reflect' },
  { nFft: 8, hop: 8, center: true, padMode: 'constant' },
  { nFft: 8, hop: 11, center: false, padMode: 'constant' },
] as const;

for (const { nFft, hop, center, padMode } of framingCases) {
  test(`frames (nFft ${nFft}, hop ${hop}, ${center ? `centred, ${padMode}` : 'uncentred'}) equal a loop's, by view and by gather`, () => {
    const signal = randomSignal(2, 61, nFft * 100 + hop);
    const x = T.tensor('float32', [null, 61], 'x');
    const expected = loopFrames(signal, nFft, hop, center, padMode);
    for (const method of ['view', 'gather'] as const) {
      const frames = frameSignal(x, { nFft, hop, center, padMode, method });
      assert.equal([...frames.shape], [null, expected.shape[1], nFft]);
      assertClose(T.evaluate(frames, [[x, signal]]), expected, { rtol: 0, atol: 0 }, method);
    }
  });
}

test('framing builds views: the auto method uses only movement ops at the defaults', () => {
  const x = T.tensor('float32', [null, 22050], 'x');
  const ops = new Set(T.topologicalOrder([frameSignal(x)]).flatMap((v) => (v.owner ? [v.owner.op] : [])));
  assert.equal([...ops].sort(), ['concat', 'pad', 'reshape', 'subtensor']);
});

test('framing errors name the op and what to change', () => {
  expectGraphError(() => frameSignal(T.vector('x')), 'frameSignal', 'batch of signals [batch, samples]', "dimshuffle(x, 'x', 0)");
  expectGraphError(() => frameSignal(T.matrix('x')), 'frameSignal', 'sample count', 'statically');
  expectGraphError(() => frameSignal(T.tensor('int32', [1, 100], 'x')), 'float32');
  expectGraphError(() => frameSignal(T.tensor('float32', [1, 100], 'x'), { center: false }), 'holds no frame of 2048 samples');
  expectGraphError(() => frameSignal(T.tensor('float32', [1, 100], 'x'), { padMode: 'reflect' }), 'reflect padding by 1024 samples', "padMode 'constant'");
  expectGraphError(() => frameSignal(T.tensor('float32', [1, 100], 'x'), { hop: 0 }), 'hop 0 must be a positive integer');
  expectGraphError(() => frameSignal(T.tensor('float32', [1, 100], 'x'), { padMode: 'edge' as 'reflect' }), "padMode 'edge' is not supported");
});

test.run();
