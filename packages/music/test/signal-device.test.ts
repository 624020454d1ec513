// The signal graphs compiled with @theorbo/codegen on the acquired WebGPU device (Mesa's
// llvmpipe on machines without a GPU), against the reference evaluator and fft.js: the
// STFT (framing fused into the DFT matmul, no copy), the gather framing path, the
// decimator, the CQT with both kernel domains, and chroma, with their physics checked
// on the device's own output. Clips are a second or less so llvmpipe stays quick.
// THEORBO_LONG adds the timing of STFT + CQT + chroma on 10 s at the defaults.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import { compile, releaseDevices } from '@theorbo/codegen';
import { seededRandom } from '@theorbo/graph/testing';
import { chroma, cqt, decimateByTwo, frameSignal, signalInput, stft, stftHost } from '../src/signal/index.ts';
import { argmax, batchOf, maxAbs, maxDifference, row, tone, topIndices, webGpuDevice } from './signal-fixtures.ts';

const cMajor = [261.6256, 329.6276, 391.9954];
const noise = (samples: number, seed: number): Float32Array => {
  const random = seededRandom(seed);
  return Float32Array.from({ length: samples }, () => random() * 2 - 1);
};

test.after(async () => {
  await releaseDevices();
});

async function runCompiled(inputs: T.Variable[], outputs: T.Variable[], values: T.NDArray[]): Promise<{ results: T.NDArray[]; kernels: number }> {
  const device = await webGpuDevice();
  const fn = compile({ inputs, outputs, device });
  const results = (await fn(...values)) as T.NDArray[];
  return { results, kernels: fn.kernelCount() };
}

test('STFT on the device equals the reference evaluator and fft.js; framing costs no kernel of its own', async () => {
  const clips = [noise(22050, 3), tone(cMajor, 22050, { harmonics: 4 })];
  const x = signalInput(22050);
  const magnitude = stft(x);
  const { results: [device], kernels } = await runCompiled([x], [magnitude], [batchOf(clips)]);
  // One matmul reading the frames straight from the signal, one magnitude kernel.
  assert.is(kernels, 2);
  const reference = T.evaluate(magnitude, [[x, batchOf(clips)]]);
  assert.ok(maxDifference(device!, reference) < 5e-6 * maxAbs(reference.data), `device vs reference: ${maxDifference(device!, reference)}`);
  clips.forEach((clip, b) => {
    const host = stftHost(clip);
    const slice = T.array(device!.data.slice(b * host.size, (b + 1) * host.size), { shape: host.shape, dtype: 'float32' });
    assert.ok(maxDifference(slice, host) < 5e-6 * maxAbs(host.data), `device vs fft.js, clip ${b}: ${maxDifference(slice, host)}`);
  });
});

test('gather framing (a hop sharing few factors with nFft) and the decimator on the device equal the reference', async () => {
  const clips = [noise(5000, 4), noise(5000, 5)];
  const x = signalInput(5000);
  const outputs = [stft(x, { nFft: 1024, hop: 300, window: 'blackman' }), decimateByTwo(x), frameSignal(x, { nFft: 64, hop: 7, method: 'gather' })];
  const { results } = await runCompiled([x], outputs, [batchOf(clips)]);
  const reference = T.evaluate(outputs, [[x, batchOf(clips)]]);
  results.forEach((result, i) => {
    assert.ok(maxDifference(result, reference[i]!) < 5e-6 * Math.max(1, maxAbs(reference[i]!.data)), `output ${i}: ${maxDifference(result, reference[i]!)}`);
  });
});

test('CQT and chroma on the device equal the reference evaluator; A4 → A and C major → C, E, G there', async () => {
  const clips = [tone([440], 22050), tone(cMajor, 22050, { harmonics: 6 })];
  const x = signalInput(22050);
  const spectrum = cqt(x);
  const pitchClasses = chroma(spectrum);
  const { results: [deviceCqt, deviceChroma] } = await runCompiled([x], [spectrum, pitchClasses], [batchOf(clips)]);
  const [referenceCqt, referenceChroma] = T.evaluate([spectrum, pitchClasses], [[x, batchOf(clips)]]);
  assert.ok(maxDifference(deviceCqt!, referenceCqt!) < 1e-5, `cqt: ${maxDifference(deviceCqt!, referenceCqt!)}`);
  assert.ok(maxDifference(deviceChroma!, referenceChroma!) < 1e-5, `chroma: ${maxDifference(deviceChroma!, referenceChroma!)}`);
  assert.is(argmax(row(deviceCqt!, 0, 22)), 45, 'A4 is CQT bin 45');
  assert.is(argmax(row(deviceChroma!, 0, 22)), 9);
  assert.equal(topIndices(row(deviceChroma!, 1, 22), 3).sort(), [0, 4, 7]);
});

test('the spectral-kernel CQT (|K·X| on the rectangular STFT) on the device equals the time-domain reference', async () => {
  // Smaller frames and fewer bins than the defaults keep the [nFft, nFft + 2] DFT matrices small.
  const clips = [tone([82.4, 440, 1500], 11025, { harmonics: 3, amplitude: 0.3 })];
  const x = signalInput(11025);
  const options = { nFft: 1024, hop: 256, fmin: 65.40639, nBins: 60 };
  const spectrum = cqt(x, { ...options, kernelDomain: 'spectrum' });
  const { results: [device] } = await runCompiled([x], [spectrum], [batchOf(clips)]);
  // The reference runs the time-domain form, the same linear map (signal-cqt.test.ts
  // shows the two equal in float64) and far cheaper for the evaluator.
  const reference = T.evaluate(cqt(x, options), [[x, batchOf(clips)]]);
  assert.ok(maxDifference(device!, reference) < 1e-5, `${maxDifference(device!, reference)}`);
});

if (process.env.THEORBO_LONG) {
  test('timing: STFT + CQT + chroma of 10 s at the defaults, checked against fft.js first', async () => {
    const samples = 220500;
    const clip = tone(cMajor, samples, { harmonics: 6, amplitude: 0.3 });
    const x = signalInput(samples);
    const spectrum = cqt(x);
    const outputs = [stft(x), spectrum, chroma(spectrum)];
    const device = await webGpuDevice();
    const fn = compile({ inputs: [x], outputs, device });
    const input = batchOf([clip]);
    let start = performance.now();
    const [magnitude] = (await fn(input)) as T.NDArray[];
    const first = performance.now() - start;
    const host = stftHost(clip);
    assert.ok(maxDifference(magnitude!.reshape(host.shape), host) < 5e-6 * maxAbs(host.data));
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      start = performance.now();
      await fn(input);
      times.push(performance.now() - start);
    }
    console.log(`\n  ${device.kind} (${device.adapterInfo.description || device.adapterInfo.device}): STFT+CQT+chroma of 10 s: first call ${first.toFixed(0)} ms (with compiling), then ${times.map((t) => t.toFixed(0)).join(', ')} ms; ${fn.kernelCount()} kernels`);
  });
}

test.run();
