// The IIR filterbank: RBJ band-passes (unit gain at the centre), the stable parameters'
// inverse map, the bank initialized from designed band-passes against the float64
// direct-form filter on the host (reference evaluator in float64; the device in float32),
// band energies against host sums, |pole| < 1 at extreme parameter values, gradients
// against finite differences and on the device, system identification (a known biquad's
// coefficients recovered from white noise and its output by Adam through the scan), and
// the errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import { grad, verifyGrad } from '@theorbo/autodiff';
import { compile, releaseDevices } from '@theorbo/codegen';
import { expectGraphError } from '@theorbo/graph/testing';
import {
  bandEnergies, bandPassBiquad, biquadArrays, biquadFilterHost, biquadPoles, biquadsFromParameters, cqtBandPassBank, identifyBiquad, iirFilterbank,
  stableDenominator, stableIirFilterbank, stableOffsets, stableParameters, type Biquad,
} from '../src/signal/index.ts';
import { SeededRandom } from '../src/random/seeded-random.ts';
import { batchOf, maxAbs, sampleRate, tone, webGpuDevice } from './signal-fixtures.ts';

test.after(async () => {
  await releaseDevices();
});

const chordBank = { fmin: 130.8127826502993, nBins: 48 };
const noise = (samples: number, seed: number): Float32Array => {
  const random = new SeededRandom(seed);
  return Float32Array.from({ length: samples }, () => random.uniform(-0.5, 0.5));
};
const clipsOf = (samples: number): Float32Array[] => [tone([261.6256, 329.6276, 391.9954], samples, { harmonics: 6, amplitude: 0.3 }), noise(samples, 3)];
const coefficients = ['b0', 'b1', 'b2', 'a1', 'a2'] as const;

/** |H(e^{iω})| of a biquad at `frequency` Hz. */
function gainAt({ b0, b1, b2, a1, a2 }: Biquad, frequency: number): number {
  const w = (2 * Math.PI * frequency) / sampleRate;
  const polynomial = (c0: number, c1: number, c2: number) => Math.hypot(c0 + c1 * Math.cos(w) + c2 * Math.cos(2 * w), c1 * Math.sin(w) + c2 * Math.sin(2 * w));
  return polynomial(b0, b1, b2) / polynomial(1, a1, a2);
}

/** Largest |bank − host filter| over clips and bands, as a fraction of each clip's largest host output. */
function worstRelative(out: T.NDArray, clips: readonly ArrayLike<number>[], biquads: readonly Biquad[]): number {
  const samples = clips[0]!.length;
  assert.equal([...out.shape], [clips.length, biquads.length, samples], 'responses are [N, B, L]');
  let worst = 0;
  clips.forEach((clip, c) => {
    let [error, peak] = [0, 0];
    biquads.forEach((biquad, b) => {
      const host = biquadFilterHost(clip, biquad);
      for (let n = 0; n < samples; n++) {
        error = Math.max(error, Math.abs(out.data[(c * biquads.length + b) * samples + n]! - host[n]!));
        peak = Math.max(peak, Math.abs(host[n]!));
      }
    });
    worst = Math.max(worst, error / peak);
  });
  return worst;
}

/** The largest pole magnitude of z² + a1·z + a2. */
function largestPole(a1: number, a2: number): number {
  const discriminant = a1 * a1 - 4 * a2;
  if (discriminant < 0) return Math.sqrt(a2);
  return Math.max(Math.abs((-a1 + Math.sqrt(discriminant)) / 2), Math.abs((-a1 - Math.sqrt(discriminant)) / 2));
}

test('RBJ band-passes: unit gain at the centre frequency, the half-power band about f/Q wide; the CQT bank\'s centres and Q', () => {
  const bank = cqtBandPassBank(chordBank);
  assert.is(bank.biquads.length, 48);
  assert.ok(Math.abs(bank.q - 1 / (2 ** (1 / 12) - 1)) < 1e-12, `Q ${bank.q}`);
  for (const b of [0, 20, 47]) {
    const [biquad, f] = [bank.biquads[b]!, bank.frequencies[b]!];
    assert.ok(Math.abs(gainAt(biquad, f) - 1) < 1e-9, `gain at the centre of band ${b}: ${gainAt(biquad, f)}`);
    assert.ok(gainAt(biquad, f * 2 ** (1 / 12)) < 0.75 && gainAt(biquad, f * 2 ** (-1 / 12)) < 0.75, 'a semitone away is below −2.5 dB');
    // Half power about f/(2Q) either side (exactly so in the bilinear-warped frequency).
    const edge = gainAt(biquad, f * (1 + 1 / (2 * bank.q)));
    assert.ok(Math.abs(edge - Math.SQRT1_2) < 0.05, `band ${b}: gain ${edge} at f·(1 + 1/2Q)`);
  }
  const sine = Float64Array.from({ length: 20000 }, (_, n) => Math.sin((2 * Math.PI * 1000 * n) / sampleRate));
  const settled = maxAbs(biquadFilterHost(sine, bandPassBiquad(1000, 8, sampleRate)).subarray(15000));
  assert.ok(Math.abs(settled - 1) < 1e-3, `a sine at the centre passes with amplitude ${settled}`);
});

test('the inverse map: designed biquads → (b, ρ, θ) → the same biquads, in the graph and on the host', () => {
  const { biquads } = cqtBandPassBank({ nBins: 84, binsPerOctave: 12 });
  const values = stableParameters(biquads, 'float64');
  const back = biquadsFromParameters(values);
  const [denominator] = T.evaluate([stableDenominator(values.radiusLogit, values.angle)], []);
  const [offsets] = T.evaluate([stableOffsets(values.radiusLogit, values.angle)], []);
  biquads.forEach((biquad, b) => {
    for (const name of coefficients) assert.ok(Math.abs(back[b]![name] - biquad[name]) < 1e-12, `band ${b} ${name}: ${back[b]![name]} vs ${biquad[name]}`);
    assert.ok(Math.abs(denominator!.data[2 * b]! - biquad.a1) < 1e-12 && Math.abs(denominator!.data[2 * b + 1]! - biquad.a2) < 1e-12);
    // The offsets a1 + 2 and 1 − a2 to their own relative precision (C1's 1 − a2 is 5.6e-4).
    assert.ok(Math.abs(offsets!.data[2 * b]! - (biquad.a1 + 2)) < 1e-9 * (biquad.a1 + 2), `band ${b} c1`);
    assert.ok(Math.abs(offsets!.data[2 * b + 1]! - (1 - biquad.a2)) < 1e-9 * (1 - biquad.a2), `band ${b} c2`);
  });
});

test('reference evaluator, float64: the initialized bank reproduces the designed band-passes to 1e-5 of the peak ([N, L] and [N, 1, L] in)', () => {
  const clips = clipsOf(3000);
  const { biquads } = cqtBandPassBank(chordBank);
  const x = T.tensor('float64', [null, null], 'x');
  const stable = T.evaluate(stableIirFilterbank(x, stableParameters(biquads, 'float64')), [[x, batchOf(clips, 'float64')]]);
  const stableError = worstRelative(stable, clips, biquads);
  const { numerator, denominator } = biquadArrays(biquads, 'float64');
  const x3 = T.tensor('float64', [null, 1, null], 'x3');
  const raw = T.evaluate(iirFilterbank(x3, numerator, denominator), [[x3, batchOf(clips, 'float64').reshape([2, 1, 3000])]]);
  const rawError = worstRelative(raw, clips, biquads);
  // Measured: about 1e-14 for both.
  assert.ok(stableError < 1e-5, `stable parameters: ${stableError.toExponential(2)} of the peak`);
  assert.ok(rawError < 1e-5, `coefficients: ${rawError.toExponential(2)} of the peak`);
});

test('device, float32: the initialized bank reproduces the float64 designed filters to 1e-4 of the peak, from C3 and from C1', async () => {
  const device = await webGpuDevice();
  const clips = clipsOf(4096);
  for (const fmin of [chordBank.fmin, 32.70319566257483]) {
    const { biquads } = cqtBandPassBank({ fmin, nBins: 48 });
    const x = T.tensor('float32', [null, null], 'x');
    const [stable] = (await compile({ inputs: [x], outputs: [stableIirFilterbank(x, stableParameters(biquads))], device })(batchOf(clips))) as T.NDArray[];
    const { numerator, denominator } = biquadArrays(biquads);
    const [raw] = (await compile({ inputs: [x], outputs: [iirFilterbank(x, numerator, denominator)], device })(batchOf(clips))) as T.NDArray[];
    const [stableError, rawError] = [worstRelative(stable!, clips, biquads), worstRelative(raw!, clips, biquads)];
    // Measured on llvmpipe: 7e-6 (C3) and 2e-5 (C1) with the stable parameters, whose offsets
    // keep float32's relative precision; 8e-5 and 7e-4 from a1, a2 rounded to float32.
    assert.ok(stableError < 1e-4, `from ${fmin.toFixed(1)} Hz, stable parameters: ${stableError.toExponential(2)} of the peak`);
    assert.ok(rawError < 2e-3, `from ${fmin.toFixed(1)} Hz, float32 coefficients: ${rawError.toExponential(2)} of the peak`);
  }
});

test('band energies are the mean of y² over each frame; the chord\'s notes hold the largest', () => {
  const clips = clipsOf(4096);
  const { biquads } = cqtBandPassBank(chordBank);
  const x = T.tensor('float64', [null, null], 'x');
  const [hop, frame] = [512, 1024];
  const energies = T.evaluate(bandEnergies(stableIirFilterbank(x, stableParameters(biquads, 'float64')), { hop, frame }), [[x, batchOf(clips, 'float64')]]);
  const frames = Math.floor((4096 - frame) / hop) + 1;
  assert.equal([...energies.shape], [2, 48, frames]);
  clips.forEach((clip, c) => {
    biquads.forEach((biquad, b) => {
      const y = biquadFilterHost(clip, biquad);
      for (let f = 0; f < frames; f++) {
        const mean = y.subarray(f * hop, f * hop + frame).reduce((sum, v) => sum + v * v, 0) / frame;
        assert.ok(Math.abs(energies.data[(c * 48 + b) * frames + f]! - mean) < 1e-12, `clip ${c} band ${b} frame ${f}`);
      }
    });
  });
  // C4, E4, G4 are bands 12, 16, 19 from C3; their energies in the last frame lead.
  const last = Array.from({ length: 48 }, (_, b) => energies.data[b * frames + frames - 1]!);
  const top = last.map((value, b) => ({ value, b })).sort((p, q) => q.value - p.value).slice(0, 3).map((entry) => entry.b).sort((p, q) => p - q);
  assert.equal(top, [12, 16, 19]);
});

test('extreme parameter values still give |pole| < 1, on the reference evaluator and the device, and bounded responses', async () => {
  const logits = [-1e4, -40, -3, 0, 3, 20, 40, 1e4];
  const angles = [0, 1e-9, 0.5, Math.PI / 2, Math.PI, 4, -7, 1e4];
  const rho = logits.flatMap((l) => angles.map(() => l));
  const theta = logits.flatMap(() => angles);
  const count = rho.length;
  const device = await webGpuDevice();
  const check = (offsets: T.NDArray, where: string) => {
    for (let i = 0; i < count; i++) {
      const [c1, c2] = [offsets.data[2 * i]!, offsets.data[2 * i + 1]!];
      // The recursion runs on the offsets: its poles are those of z² + (c1 − 2)z + (1 − c2).
      assert.ok(largestPole(c1 - 2, 1 - c2) < 1, `${where}: ρ = ${rho[i]}, θ = ${theta[i]} gives offsets ${c1}, ${c2}`);
    }
  };
  for (const dtype of ['float64', 'float32'] as const) {
    const typed = (values: number[]) => T.array(dtype === 'float64' ? Float64Array.from(values) : Float32Array.from(values), { shape: [values.length], dtype });
    check(T.evaluate(stableOffsets(typed(rho), typed(theta)), []), `reference ${dtype}`);
  }
  // a1 and a2 themselves in float64 (rounded to float32, θ = 0 and r = 0.99999 would put a pole on the circle: why the bank runs the offsets).
  const denominator = T.evaluate(stableDenominator(Float64Array.from(rho), Float64Array.from(theta)), []);
  for (let i = 0; i < count; i++) assert.ok(largestPole(denominator.data[2 * i]!, denominator.data[2 * i + 1]!) < 1, `ρ = ${rho[i]}, θ = ${theta[i]}: a = ${denominator.data[2 * i]}, ${denominator.data[2 * i + 1]}`);
  const [logit, angle] = [T.tensor('float32', [count], 'rho'), T.tensor('float32', [count], 'theta')];
  const [offsets] = (await compile({ inputs: [logit, angle], outputs: [stableOffsets(logit, angle)], device })(Float32Array.from(rho), Float32Array.from(theta))) as T.NDArray[];
  check(offsets!, 'device');
  // A pole radius at the bound (0.99999) on the device: the response to noise stays finite and bounded.
  const x = T.tensor('float32', [null, null], 'x');
  const parameters = { numerator: T.array(new Float32Array([1, 0, 0, 1, 0, 0]), { shape: [2, 3] }), radiusLogit: new Float32Array([1e4, 40]), angle: new Float32Array([0.3, 1e4]) };
  const [out] = (await compile({ inputs: [x], outputs: [stableIirFilterbank(x, parameters)], device })(batchOf([noise(2000, 9)]))) as T.NDArray[];
  const peak = maxAbs(out!.data);
  assert.ok(Number.isFinite(peak) && peak < 1e4, `peak response ${peak}`);
});

test('the gradient with respect to the signal, b, ρ and θ matches finite differences (float64)', () => {
  const random = new SeededRandom(5);
  const values = (shape: number[], low: number, high: number) => T.array(Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random.uniform(low, high)), { shape, dtype: 'float64' });
  const inputs = [values([2, 14], -1, 1), values([3, 3], -1, 1), values([3], -1, 3), values([3], 0.2, 2.8)];
  const report = verifyGrad((x, b, rho, theta) => stableIirFilterbank(x, { numerator: b, radiusLogit: rho, angle: theta }), inputs, { rtol: 1e-5, atol: 1e-8 });
  assert.ok(report.worstRatio <= 1, `worst ratio ${report.worstRatio}`);
});

test('device: backpropagation through the scan gives the reference evaluator\'s gradients', async () => {
  const device = await webGpuDevice();
  const { biquads } = cqtBandPassBank({ fmin: 440, nBins: 4, binsPerOctave: 4 });
  const initial = stableParameters(biquads);
  const [b, rho, theta] = [T.shared(initial.numerator, 'b'), T.shared(initial.radiusLogit, 'rho'), T.shared(initial.angle, 'theta')];
  const x = T.tensor('float32', [null, null], 'x');
  const target = T.tensor('float32', [null, 4, null], 'target');
  const difference = T.sub(stableIirFilterbank(x, { numerator: b, radiusLogit: rho, angle: theta }), target);
  const gradients = grad(T.mean(T.mul(difference, difference)), [b, rho, theta]);
  const signal = batchOf([noise(300, 1), noise(300, 2)]);
  const wanted = T.array(Float32Array.from(noise(2 * 4 * 300, 4)), { shape: [2, 4, 300] });
  const onDevice = (await compile({ inputs: [x, target], outputs: gradients, device })(signal, wanted)) as T.NDArray[];
  const reference = T.evaluate(gradients, [[x, signal], [target, wanted]]);
  reference.forEach((expected, i) => {
    const scale = maxAbs(expected.data);
    for (let k = 0; k < expected.size; k++) assert.ok(Math.abs(onDevice[i]!.data[k]! - expected.data[k]!) < 1e-3 * scale, `gradient ${i}[${k}]: ${onDevice[i]!.data[k]} vs ${expected.data[k]}`);
  });
});

test('system identification: a known biquad\'s coefficients recovered to 1e-3 from white noise and its output, by Adam through the scan', async () => {
  const truth: Biquad = { b0: 0.4, b1: -0.3, b2: 0.2, a1: -2 * 0.9 * Math.cos(0.7), a2: 0.81 };
  const start: Biquad = { b0: 1, b1: 0, b2: 0, a1: -2 * 0.5 * Math.cos(1.2), a2: 0.25 };
  // 16 segments of 64 samples, each filtered from zero state (0.9⁶⁴ ≈ 1e-3: the response fits);
  // Adam for 300 steps on the float64 reference evaluator.
  const [segments, samples] = [16, 64];
  const random = new SeededRandom(7);
  const input = new Float64Array(segments * samples);
  const output = new Float64Array(segments * samples);
  for (let s = 0; s < segments; s++) {
    const segment = Float64Array.from({ length: samples }, () => random.uniform(-1, 1));
    input.set(segment, s * samples);
    output.set(biquadFilterHost(segment, truth), s * samples);
  }
  const data = [T.array(input, { shape: [segments, samples], dtype: 'float64' }), T.array(output, { shape: [segments, samples], dtype: 'float64' })] as const;
  const { biquad: recovered, losses } = await identifyBiquad(...data, { start, steps: 300 });
  // Measured: loss 0.196 → 7e-10, every coefficient within 5e-5.
  for (const name of coefficients) assert.ok(Math.abs(recovered[name] - truth[name]) < 1e-3, `${name}: recovered ${recovered[name]}, true ${truth[name]} (loss ${losses[0]} → ${losses[299]})`);
  assert.ok(losses[299]! < 1e-6 * losses[0]!, `loss ${losses[0]} → ${losses[299]}`);
  assert.ok(largestPole(recovered.a1, recovered.a2) < 1);
});

test('errors name the op and what it needs', () => {
  const x = T.tensor('float32', [null, 100], 'x');
  const numerator = T.tensor('float32', [4, 3], 'b');
  expectGraphError(() => iirFilterbank(T.tensor('float32', [100], 'x'), numerator, T.tensor('float32', [4, 2], 'a')), 'iirFilterbank', '[batch, samples]');
  expectGraphError(() => iirFilterbank(T.tensor('float32', [2, 3, 100], 'x'), numerator, T.tensor('float32', [4, 2], 'a')), 'one channel');
  expectGraphError(() => iirFilterbank(x, T.tensor('float32', [4, 2], 'b'), T.tensor('float32', [4, 2], 'a')), 'numerator [bands, 3]');
  expectGraphError(() => iirFilterbank(x, numerator, T.tensor('float32', [4, 3], 'a')), 'denominator [bands, 2]');
  expectGraphError(() => iirFilterbank(x, numerator, T.tensor('float32', [5, 2], 'a')), '4 numerators but 5 denominators');
  expectGraphError(() => bandEnergies(T.tensor('float32', [null, 4, 100], 'y'), { hop: 0 }), 'bandEnergies', 'hop 0');
  assert.throws(() => biquadPoles({ b0: 1, b1: 0, b2: 0, a1: -1.5, a2: 0.5 }), /real poles/);
  assert.throws(() => stableParameters([bandPassBiquad(1000, 4, sampleRate)], 'float32', 1), /maxRadius 1 must lie strictly between 0 and 1/);
  assert.throws(() => stableParameters([bandPassBiquad(30, 200, sampleRate)], 'float32', 0.999), /raise maxRadius/);
  assert.throws(() => bandPassBiquad(12000, 4, sampleRate), /Nyquist/);
});

test.run();
