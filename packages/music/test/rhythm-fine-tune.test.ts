// Fine-tuning the rhythm front end (rhythm/fine-tune.ts, front-end.ts): before training
// the front end's onset and beat envelopes are librosa's (the host peer's, float64), its
// tempo scores and pair are librosa's tempo, and the prior the designed one; the onset
// loss's gradient matches finite differences; a short training run on four short tracks
// lowers the onset loss and the tempo loss, moves the trained parameter sets, and a saved
// and reloaded front end gives the trained envelopes, prior and settings again, and the
// CLI's commands take it (--model; the designed front end changes nothing there). Tempo
// targets cover the candidates within 4%. cpu device for the training (a few seconds).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as T from '@theorbo/graph';
import { verifyGrad } from '@theorbo/autodiff';
import { acquireDevice, compile, readShared, releaseDevices } from '@theorbo/codegen';
import { synthesizeRhythmDataset } from '../src/data/rhythm-tracks.ts';
import { loadFrontEnd } from '../src/rhythm/front-end-model.ts';
import {
  designedFrontEnd, fineTuneFrontEnd, frontEndEnvelopes, frontEndLogPrior, frontEndParams, frontEndTempoScores, onsetEnvelopeFromDb, frontEndDb, onsetLoss,
  onsetStrengthHost, stackRows, tempoCandidates, tempoHost, tempoPair, tempoTarget, trackPower, frontEndOnsetTimes, framesToTime, onsetDetect, medianLag,
  activationLoss, envelopesFromDb,
} from '../src/rhythm/index.ts';
import { saveModel } from '../src/train/index.ts';
import { writeWav } from '../src/audio/index.ts';
import { spawnSync } from 'node:child_process';
import { beatsOf, onsetTimesOf, tempoOf } from '../src/cli/rhythm-commands.ts';

const tracks = synthesizeRhythmDataset({ seed: 3, tracks: { train: 4 }, duration: 3 });
const power = stackRows(tracks.map((track) => trackPower(track.audio)));
const powerInput = T.tensor('float32', [null, ...(power.shape.slice(1) as number[])], 'power');

test('before training: librosa\'s onset envelope and the designed tempo prior', () => {
  const frontEnd = designedFrontEnd();
  const one = T.array(power.data.subarray(0, power.size / 4), { shape: [1, ...(power.shape.slice(1) as number[])], dtype: 'float32' });
  const { onset, beat } = frontEndEnvelopes(powerInput, frontEnd);
  const [envelope, beatEnvelope, prior, scores] = T.evaluate([onset, beat, frontEndLogPrior(frontEnd), frontEndTempoScores(beat, frontEnd)], [[powerInput, one]]);
  const expected = onsetStrengthHost(tracks[0]!.audio).data;
  const peak = Math.max(...expected);
  assert.is(envelope!.size, expected.length);
  for (const [name, values] of [['onset', envelope!], ['beat', beatEnvelope!]] as const) {
    const worst = Math.max(...Array.from(values.data, (value, i) => Math.abs(value - expected[i]!)));
    assert.ok(worst <= 1e-3 * peak, `${name} envelope differs from onsetStrengthHost by ${worst} (peak ${peak})`);
  }
  assert.equal(Array.from(prior!.data), Array.from(Float32Array.from(tempoCandidates().logPrior)));
  assert.is(tempoPair(scores!.data, frontEnd.candidates)[0], tempoHost(beatEnvelope!.data)[0], 'the designed scores pick librosa\'s tempo');
});

test('the onset loss\'s gradient matches finite differences', () => {
  const random = T.array(Float64Array.from({ length: 24 }, (_, i) => 0.1 + ((i * 7919) % 23) / 10), { shape: [2, 12] });
  const target = T.array(Float64Array.from({ length: 24 }, (_, i) => (i % 5 === 2 ? 1 : 0)), { shape: [2, 12] });
  const far = T.array(Float64Array.from({ length: 24 }, (_, i) => (i % 5 === 0 ? 1 : 0)), { shape: [2, 12] });
  const report = verifyGrad((envelope, t, f) => onsetLoss(envelope!, t!, f!), [random, target, far], { rtol: 1e-4, atol: 1e-6 });
  assert.ok(report.worstRatio <= 1, `worst ratio ${report.worstRatio}`);
});

test('the activation loss\'s and the activation network\'s gradients match finite differences', () => {
  const envelope = T.array(Float64Array.from({ length: 24 }, (_, i) => 0.1 + ((i * 7919) % 23) / 10), { shape: [2, 12] });
  const target = T.array(Float64Array.from({ length: 24 }, (_, i) => (i % 5 === 2 ? 1 : 0)), { shape: [2, 12] });
  const scalars = [T.array(Float64Array.of(7)), T.array(Float64Array.of(-3))];
  const report = verifyGrad((e, t, k, c) => activationLoss(e!, t!, k!, c!), [envelope, target, ...scalars], { rtol: 1e-4, atol: 1e-6 });
  assert.ok(report.worstRatio <= 1, `loss: worst ratio ${report.worstRatio}`);
  // The envelopes with the network's activations, through a small decibel spectrogram; the output weights moved off 0 so that every path carries gradient.
  const frontEnd = designedFrontEnd();
  const out = frontEnd.activationOut.get();
  frontEnd.activationOut.set(T.array(Float32Array.from({ length: out.size }, (_, i) => ((i * 37) % 11) / 50 - 0.1), { shape: out.shape as number[], dtype: 'float32' }));
  const db = T.array(Float64Array.from({ length: 2 * 10 * 128 }, (_, i) => -40 + 30 * Math.sin(i * 0.37) + ((i * 7919) % 13)), { shape: [2, 10, 128] });
  const network = verifyGrad((d) => { const { onset, beat } = envelopesFromDb(d!, frontEnd); return T.add(T.sum(T.square(onset)), T.sum(beat)); }, [db], { rtol: 1e-3, atol: 1e-5 });
  assert.ok(network.worstRatio <= 1, `network: worst ratio ${network.worstRatio}`);
});

test('medianLag: the median of estimate − reference within the window; none, 0', () => {
  assert.ok(Math.abs(medianLag([[1, 2, 3]], [[1.02, 2.03, 3.01, 5]]) - 0.02) < 1e-12);
  assert.ok(Math.abs(medianLag([[1], [2]], [[1.01], [2.04]]) - 0.025) < 1e-12);
  assert.is(medianLag([[1]], [[1.5]]), 0);
});

test('tempo targets: uniform over the candidates within 4%', () => {
  const candidates = tempoCandidates();
  const target = tempoTarget(120, candidates);
  let total = 0;
  candidates.bpm.forEach((bpm, j) => {
    total += target[j]!;
    assert.is(target[j]! > 0, Math.abs(bpm - 120) / 120 <= 0.04, `candidate ${bpm.toFixed(1)} BPM`);
  });
  assert.ok(Math.abs(total - 1) < 1e-6);
});

test('training lowers the onset and tempo losses, moves every trained parameter set, and a saved front end reloads', async () => {
  const device = await acquireDevice({ prefer: 'cpu' });
  try {
    const frontEnd = designedFrontEnd();
    const data = { power, onsets: tracks.map((track) => track.onsets), beats: tracks.map((track) => track.beats), bpm: tracks.map((track) => track.bpm) };
    const frames = power.shape[1]!;
    const targetInput = T.tensor('float32', [null, frames]);
    const farInput = T.tensor('float32', [null, frames]);
    const { onsetTargets } = await import('../src/rhythm/fine-tune.ts');
    const rows = tracks.map((track) => onsetTargets(track.onsets, frames));
    const stack = (pick: (row: (typeof rows)[number]) => Float32Array) => T.array(Float32Array.from(rows.flatMap((row) => Array.from(pick(row)))), { shape: [rows.length, frames], dtype: 'float32' });
    const lossOf = compile({ inputs: [powerInput, targetInput, farInput], outputs: [onsetLoss(onsetEnvelopeFromDb(frontEndDb(powerInput, frontEnd), frontEnd), targetInput, farInput)], device });
    const before = ((await lossOf(power, stack((row) => row.target), stack((row) => row.far))) as T.NDArray[])[0]!.data[0]!;
    frontEnd.settings.maxSize = 3;
    const losses = await fineTuneFrontEnd(frontEnd, data, { device, epochs: { onset: 4, activation: 4, tempo: 4 }, batchSize: 4, learningRate: { onset: 0.05, activation: 0.01, tempo: 0.01 }, windowHop: 64, tempoParams: ['beatBands', 'prior', 'relatives'] });
    const after = ((await lossOf(power, stack((row) => row.target), stack((row) => row.far))) as T.NDArray[])[0]!.data[0]!;
    assert.ok(after < before, `onset loss ${before} → ${after}`);
    assert.ok(losses.tempoLoss.at(-1)! < losses.tempoLoss[0]!, `tempo loss ${losses.tempoLoss.join(' → ')}`);
    assert.ok(losses.activationLoss.at(-1)! < losses.activationLoss[0]!, `activation loss ${losses.activationLoss.join(' → ')}`);
    for (const param of [frontEnd.bandLogWeights, frontEnd.beatBandWeights, frontEnd.priorBasisWeights, frontEnd.relativeWeights, frontEnd.activationOut]) {
      assert.ok((await readShared(param)).data.some((value) => value !== 0), `${param.name} did not move`);
    }

    const dir = mkdtempSync(join(tmpdir(), 'theorbo-rhythm-model-'));
    frontEnd.settings.delta = 0.1;
    frontEnd.settings.onsetLatency = 0.02;
    await saveModel(dir, frontEndParams(frontEnd), { kind: 'rhythm-front-end', nMels: 128, candidates: frontEnd.candidates.bpm.length, ...frontEnd.settings });
    const loaded = loadFrontEnd(dir);
    assert.equal(loaded.settings, { maxSize: 3, delta: 0.1, onsetLatency: 0.02 });
    const envelope = Float32Array.from({ length: 40 }, (_, i) => (i % 10 === 5 ? 1 : 0));
    assert.equal(Array.from(frontEndOnsetTimes(envelope, loaded)), Array.from(framesToTime(onsetDetect(envelope, { delta: 0.1 })), (time) => time - 0.02), 'onset times less the latency');
    const run = (end: typeof frontEnd) => {
      const { onset, beat } = frontEndEnvelopes(powerInput, end);
      return compile({ inputs: [powerInput], outputs: [onset, beat, frontEndLogPrior(end), frontEndTempoScores(beat, end)], device })(power) as Promise<T.NDArray[]>;
    };
    const [trained, reloaded] = [await run(frontEnd), await run(loaded)];
    trained.forEach((array, i) => assert.equal(Array.from(reloaded[i]!.data), Array.from(array.data), `output ${i} of the reloaded front end differs`));
    // The CLI's --model path: the designed front end changes nothing; the loaded one runs.
    const signal = tracks[0]!.audio;
    assert.equal(Array.from(await onsetTimesOf(signal, device, { frontEnd: designedFrontEnd() })), Array.from(await onsetTimesOf(signal, device)));
    assert.is(await tempoOf(signal, device, { frontEnd: designedFrontEnd() }), await tempoOf(signal, device));
    const beats = await beatsOf(signal, device, { frontEnd: loaded });
    assert.ok(beats.tempo > 0 && beats.times.length > 0, `no beats with the loaded front end (${beats.tempo} BPM)`);
    // Through the command line: tempo with --model prints a BPM; --n-mels 64 with it is refused before any device starts.
    const root = join(import.meta.dirname, '..', '..', '..');
    const audioPath = join(dir, 'track.wav');
    writeWav(audioPath, { sampleRate: 22050, channels: [signal] });
    const cli = (...args: string[]) => spawnSync(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'packages/music/src/cli/theorbo.ts'), '--device', 'cpu', ...args], { cwd: dir, encoding: 'utf8' });
    const tempoRun = cli('tempo', audioPath, '--model', dir);
    assert.is(tempoRun.status, 0, tempoRun.stderr);
    assert.ok(Number(tempoRun.stdout.trim()) > 0, `tempo printed '${tempoRun.stdout}'`);
    const refused = cli('mel', audioPath, '--n-mels', '64', '--model', dir);
    assert.is(refused.status, 2, refused.stderr);
    assert.match(refused.stderr, /--n-mels 64 cannot go with --model/);
    const other = mkdtempSync(join(tmpdir(), 'theorbo-rhythm-model-'));
    await saveModel(other, [frontEnd.priorBasisWeights], { kind: 'cnn' });
    assert.throws(() => loadFrontEnd(other), /config\.json.*'cnn' model, not a rhythm front end/);
    const partial = mkdtempSync(join(tmpdir(), 'theorbo-rhythm-model-'));
    await saveModel(partial, [frontEnd.melLogGain, frontEnd.priorBasisWeights], { kind: 'rhythm-front-end', nMels: 128, candidates: frontEnd.candidates.bpm.length });
    assert.throws(() => loadFrontEnd(partial), /weights\.npz.*has no array 'rhythm_band_log_weights'/);
    const beforeNetwork = mkdtempSync(join(tmpdir(), 'theorbo-rhythm-model-'));
    await saveModel(beforeNetwork, frontEndParams(frontEnd).filter((param) => !param.name!.startsWith('rhythm_activation')), { kind: 'rhythm-front-end', nMels: 128, candidates: frontEnd.candidates.bpm.length });
    assert.throws(() => loadFrontEnd(beforeNetwork), /weights\.npz.*has no array 'rhythm_activation_hidden'.*saved before the front end had an activation network.*pnpm train:rhythm/);
    // The input's gain: the trained front end finds the same onsets at −20 dB (its features, like the flux, are decibels relative to the clip).
    const quiet = Float32Array.from(signal, (value) => value * 0.1);
    assert.equal(Array.from(await onsetTimesOf(quiet, device, { frontEnd: loaded })), Array.from(await onsetTimesOf(signal, device, { frontEnd: loaded })));
    // Silence through the trained front end: no onsets, no beats (the activations scale with the envelope's peak, 0 here).
    const silence = new Float32Array(3 * 22050);
    assert.equal(Array.from(await onsetTimesOf(silence, device, { frontEnd: loaded })), []);
    assert.is((await beatsOf(silence, device, { frontEnd: loaded })).times.length, 0);
    const badSetting = mkdtempSync(join(tmpdir(), 'theorbo-rhythm-model-'));
    await saveModel(badSetting, frontEndParams(frontEnd), { kind: 'rhythm-front-end', nMels: 128, candidates: frontEnd.candidates.bpm.length, maxSize: 2.5 });
    assert.throws(() => loadFrontEnd(badSetting), /config\.json.*maxSize 2\.5; it must be a positive integer/);
  } finally {
    await releaseDevices();
  }
});

test.run();
