// The mel, MFCC, delta, onset-strength, tempogram and tempo graphs compiled with
// @theorbo/codegen on the acquired WebGPU device (Mesa's llvmpipe on machines without a
// GPU), against the reference evaluator and the host peers, on clips of a second or less
// cut from the librosa fixtures so llvmpipe stays quick.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import { compile, releaseDevices } from '@theorbo/codegen';
import { delta, melSpectrogram, mfccFromLogMel, mfccHost, powerToDb, signalInput } from '../src/signal/index.ts';
import { onsetStrength, onsetStrengthHost, tempo, tempogram, tempogramHost, tempoHost } from '../src/rhythm/index.ts';
import { elementRelativeError, frameRelativeError, librosaFixture } from './librosa-fixtures.ts';
import { batchOf, webGpuDevice } from './signal-fixtures.ts';

test.after(async () => {
  await releaseDevices();
});

async function runCompiled(inputs: T.Variable[], outputs: T.Variable[], values: T.NDArray[]): Promise<T.NDArray[]> {
  const device = await webGpuDevice();
  const fn = compile({ inputs, outputs, device });
  return (await fn(...values)) as T.NDArray[];
}

const samples = 16384;
const clips = [librosaFixture('drums_96bpm').y.slice(0, samples), librosaFixture('chords_C_Am_F_G').y.slice(20000, 20000 + samples)];

test('mel, decibels, MFCCs, deltas and onset strength on the device equal the reference evaluator and the host', async () => {
  const x = signalInput(samples);
  const logMel = powerToDb(melSpectrogram(x));
  const coefficients = mfccFromLogMel(logMel);
  const outputs = [logMel, coefficients, delta(coefficients), onsetStrength(x)];
  const device = await runCompiled([x], outputs, [batchOf(clips)]);
  const reference = T.evaluate(outputs, [[x, batchOf(clips)]]);
  const frames = 1 + Math.floor(samples / 512);
  // Per frame for the spectra and coefficients; over the whole array for the deltas, whose
  // small values amplify the float32 differences of the coefficients they are made from.
  outputs.forEach((_, i) => {
    const width = i === 2 ? device[i]!.size : device[i]!.shape[device[i]!.ndim - 1]!;
    const error = frameRelativeError(device[i]!.reshape([device[i]!.size / width, width]), reference[i]!.reshape([reference[i]!.size / width, width]));
    assert.ok(error < 1e-5, `output ${i}: ${error} of ${i === 2 ? 'the' : 'a frame\'s'} largest value`);
  });
  clips.forEach((clip, b) => {
    const mfcc = T.array(device[1]!.data.slice(b * frames * 20, (b + 1) * frames * 20), { shape: [frames, 20], dtype: 'float32' });
    assert.ok(frameRelativeError(mfcc, mfccHost(clip)) < 1e-5, `clip ${b}: MFCCs against the host`);
    const envelope = device[3]!.data.slice(b * frames, (b + 1) * frames);
    assert.ok(elementRelativeError(envelope, onsetStrengthHost(clip).data, 1e-6) < 1e-3, `clip ${b}: onset strength against the host`);
  });
});

test('the tempogram and the tempo arg max on the device equal the host on librosa\'s envelopes', async () => {
  const envelopes = [librosaFixture('noise').onsetStrength, librosaFixture('chirp_100_5000').onsetStrength.slice(0, 173)];
  const envelope = T.tensor('float32', [null, 173], 'envelope');
  const gram = tempogram(envelope, { winLength: 344 });
  const [deviceGram, deviceTempo] = await runCompiled([envelope], [gram, tempo(envelope)], [batchOf(envelopes)]);
  envelopes.forEach((values, b) => {
    const host = tempogramHost(values, { winLength: 344 });
    const ours = T.array(deviceGram!.data.slice(b * host.size, (b + 1) * host.size), { shape: host.shape, dtype: 'float32' });
    assert.ok(frameRelativeError(ours, host) < 1e-5, `envelope ${b}: tempogram`);
    assert.is(deviceTempo!.data[b], Math.fround(tempoHost(values)[0]!), `envelope ${b}: tempo`);
  });
  assert.is(deviceTempo!.data[0], Math.fround(librosaFixture('noise').tempo));
});

test.run();
