// Tempo and beats: lags and BPM, the candidates' range and prior by hand; the tempogram
// graph (DFT pair) against the direct host sums and against hand-computed
// autocorrelations; librosa 0.11's tempo (static and per frame) and beat_track on the
// five fixture signals, from librosa's envelope and from ours; the tempo graph's arg max;
// beats on synthetic pulse trains (given tempo, per-frame tempo, trim); gradients.
// Reference evaluator only; features-device.test.ts compiles.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import { verifyGrad } from '@theorbo/autodiff';
import { expectGraphError } from '@theorbo/graph/testing';
import { beatTrack, onsetStrengthHost, tempo, tempoCandidates, tempoFrequencies, tempogram, tempogramHost, tempoHost, tempoPair, tempoScores } from '../src/rhythm/index.ts';
import { fixtureNames, librosaFixture } from './librosa-fixtures.ts';
import { maxDifference } from './signal-fixtures.ts';

test('lags and BPM: lag k is 60·sr/(hop·k); 8 s at hop 512 is 344 lags; lags 1–8 are 320 BPM or faster', () => {
  const bpm = tempoFrequencies(4);
  assert.equal(Array.from(bpm), [Infinity, 2583.984375, 1291.9921875, 861.328125]);
  const candidates = tempoCandidates();
  assert.is(candidates.winLength, 344);
  assert.is(candidates.firstLag, 9, '2583.98/8 = 323 ≥ 320, 2583.98/9 = 287.1');
  assert.is(candidates.bpm.length, 344 - 9);
  assert.is(candidates.bpm[22 - 9], 2583.984375 / 22);
  // The prior is 0 at startBpm's octave and −½ one octave away.
  const prior = tempoCandidates({ startBpm: 2583.984375 / 20, stdBpm: 1 });
  assert.ok(Math.abs(prior.logPrior[20 - 9]!) < 1e-12 && Math.abs(prior.logPrior[40 - 9]! + 0.5) < 1e-12);
  assert.is(tempoCandidates({ maxTempo: null }).firstLag, 1);
  assert.throws(() => tempoCandidates({ startBpm: 0 }), /startBpm 0 must be positive/);
});

test('the tempogram by hand: a Hann-windowed frame\'s autocorrelation over its lag-0 value, ramps at the ends', () => {
  // winLength 4, not centred: one window [1, 2, 3, 4] · hann(4) = [1, 2, 3, 4] · [0, ½, 1, ½] = [0, 1, 3, 2]
  // → autocorrelation [14, 9, 2, 0].
  const close = (actual: ArrayLike<number>, expected: number[], what: string): void =>
    expected.forEach((value, i) => assert.ok(Math.abs(actual[i]! - value) < 1e-12, `${what} lag ${i}: ${actual[i]} ≠ ${value}`));
  const host = tempogramHost([1, 2, 3, 4], { winLength: 4, center: false });
  assert.equal([...host.shape], [1, 4]);
  close(host.data, [1, 9 / 14, 2 / 14, 0], 'not centred');
  const x = T.tensor('float64', [1, 4], 'envelope');
  const graph = T.evaluate(tempogram(x, { winLength: 4, center: false }), [[x, T.array([[1, 2, 3, 4]], { dtype: 'float64' })]]);
  assert.ok(maxDifference(graph, host.reshape([1, 1, 4])) < 1e-12);
  // Centred, the envelope is padded to [0, ½, 1, 2, 3, 4, 2, 0] (linear ramps to zero) and
  // window t holds padded frames t … t + 3: window 0 is [0, ½, 1, 2] · hann = [0, ¼, 1, 1] →
  // [2.0625, 1.25, 0.25, 0]; window 3 is [2, 3, 4, 2] · hann = [0, 1.5, 4, 1] → [19.25, 10, 1.5, 0].
  const centred = tempogramHost([1, 2, 3, 4], { winLength: 4, norm: null });
  assert.equal([...centred.shape], [4, 4]);
  close(centred.data.slice(0, 4), [2.0625, 1.25, 0.25, 0], 'centred window 0');
  close(centred.data.slice(12, 16), [19.25, 10, 1.5, 0], 'centred window 3');
  const centredGraph = T.evaluate(tempogram(x, { winLength: 4 }), [[x, T.array([[1, 2, 3, 4]], { dtype: 'float64' })]]);
  close(centredGraph.data.slice(12, 16), [1, 10 / 19.25, 1.5 / 19.25, 0], 'centred graph window 3');
});

test('the tempogram graph (a DFT of length 2W and back) equals the direct sums on a fixture envelope', () => {
  const envelope = librosaFixture('noise').onsetStrength;
  const frames = envelope.length;
  const x = T.tensor('float32', [1, frames], 'envelope');
  const graph = T.evaluate(tempogram(x, { winLength: 344 }), [[x, T.array(envelope, { shape: [1, frames] })]]);
  const host = tempogramHost(envelope, { winLength: 344 });
  assert.ok(maxDifference(graph, host.reshape([1, frames, 344])) < 2e-6, `${maxDifference(graph, host.reshape([1, frames, 344]))}`);
  expectGraphError(() => tempogram(x, { winLength: 400, center: false }), 'tempogram', 'hold no window of 400 frames');
});

for (const name of fixtureNames) {
  test(`librosa ${name}: tempo and tempo per frame exactly, beats exactly, from librosa's envelope and from ours`, () => {
    const fixture = librosaFixture(name);
    const ours = onsetStrengthHost(fixture.y).data;
    for (const [whose, envelope] of [['librosa\'s', fixture.onsetStrength], ['our', ours]] as const) {
      assert.equal(Array.from(tempoHost(envelope)), [fixture.tempo], `${whose} envelope: tempo`);
      assert.equal(Array.from(tempoHost(envelope, { aggregate: null })), Array.from(fixture.tempoPerFrame), `${whose} envelope: per frame`);
      const beats = beatTrack(envelope);
      assert.is(beats.tempo, fixture.beatTempo, `${whose} envelope: beat tempo`);
      // The test allows one frame; on these files the beats agree exactly.
      assert.is(beats.frames.length, fixture.beatFrames.length, `${whose} envelope: beat count`);
      beats.frames.forEach((frame, i) => assert.ok(Math.abs(frame - fixture.beatFrames[i]!) <= 1, `${whose} envelope: beat ${i} at ${frame}, librosa ${fixture.beatFrames[i]}`));
    }
  });
}

test('the tempo graph: its arg max gives librosa\'s tempo for a batch of two envelopes, and per frame', () => {
  const [first, second] = [librosaFixture('chirp_100_5000'), librosaFixture('noise')];
  const frames = second.onsetStrength.length;
  const x = T.tensor('float32', [2, frames], 'envelopes');
  const batch = new Float32Array(2 * frames);
  batch.set(first.onsetStrength.subarray(0, frames));
  batch.set(second.onsetStrength, frames);
  const value = T.array(batch, { shape: [2, frames] });
  const [staticTempo, perFrame] = T.evaluate([tempo(x), tempo(x, { aggregate: null })], [[x, value]]);
  assert.equal([...staticTempo!.shape], [2]);
  assert.equal(Array.from(staticTempo!.data), [Math.fround(tempoHost(first.onsetStrength.subarray(0, frames))[0]!), Math.fround(second.tempo)]);
  assert.equal(Array.from(perFrame!.data.subarray(frames)), Array.from(second.tempoPerFrame, Math.fround));
  const { scores, candidates } = tempoScores(x);
  assert.equal([...scores.shape], [2, 1, candidates.bpm.length]);
});

/** An envelope of unit pulses every `period` frames from `first`, over a little noise. */
function pulses(frames: number, period: (i: number) => number, first: number): { envelope: Float64Array; onsets: number[] } {
  const envelope = Float64Array.from({ length: frames }, (_, i) => 0.05 * (1 + Math.sin(i * 12.9898)));
  const onsets: number[] = [];
  for (let t = first; Math.round(t) < frames; t += period(t)) onsets.push(Math.round(t));
  for (const t of onsets) envelope[t] = 1;
  return { envelope, onsets };
}

test('tempoPair: the best lag, then the better of its octave relatives (by the scores, or by a second row of scores); windowHop keeps every k-th window', () => {
  const candidates = tempoCandidates();
  const at = (lag: number) => lag - candidates.firstLag;
  const scores = new Float64Array(candidates.bpm.length).fill(-5);
  scores[at(40)] = 3; // the best: 64.6 BPM
  scores[at(20)] = 1; // half its lag: double tempo
  scores[at(81)] = 2; // within one of twice its lag: half tempo, the better relative
  scores[at(30)] = 2.5; // higher, but no octave relative
  assert.equal(tempoPair(scores, candidates), [candidates.bpm[at(40)]!, candidates.bpm[at(81)]!]);
  const other = scores.slice();
  other[at(79)] = 9;
  assert.equal(tempoPair(scores, candidates, other), [candidates.bpm[at(40)]!, candidates.bpm[at(79)]!]);
  assert.throws(() => tempoPair(scores.slice(1), candidates), /tempoPair: 334 and 334 scores for 335 candidate lags 9 … 343/);
  const envelope = T.array(Float32Array.from({ length: 60 }, (_, i) => (i % 7 === 0 ? 1 : 0.1)), { shape: [1, 60], dtype: 'float32' });
  const [every, third] = T.evaluate([tempogram(T.constant(envelope), { winLength: 16 }), tempogram(T.constant(envelope), { winLength: 16, windowHop: 3 })]);
  assert.equal(third!.shape, [1, 20, 16]);
  assert.equal(Array.from(third!.data), Array.from({ length: 20 * 16 }, (_, k) => every!.data[(Math.floor(k / 16) * 3) * 16 + (k % 16)]!));
});

test('beats on pulse trains: every pulse found at its tempo, with the tempo given, and with a tempo per frame', () => {
  // The envelopes end 5 frames after a pulse, less than half a beat: from a longer tail the
  // DP (as librosa's) may end on a beat in the tail, placed by the tempo rather than a pulse.
  const steady = pulses(590, () => 25, 10);
  const estimated = beatTrack(steady.envelope);
  assert.is(estimated.tempo, 2583.984375 / 25);
  assert.equal(Array.from(estimated.frames), steady.onsets);
  assert.ok(Math.abs(estimated.times[1]! - (35 * 512) / 22050) < 1e-12);
  assert.equal(Array.from(beatTrack(steady.envelope, { bpm: 103.36 }).frames), steady.onsets);
  // Tempo rising from 20 to 30 frames per beat: a fixed tempo would drift, the per-frame one follows.
  const accelerating = pulses(700, (t) => 30 - (10 * t) / 700, 5);
  const length = Math.min(700, accelerating.onsets.at(-1)! + 5);
  accelerating.envelope = accelerating.envelope.slice(0, length);
  const bpm = Float64Array.from({ length }, (_, t) => (60 * 22050) / 512 / (30 - (10 * t) / 700));
  // trim's threshold is half the RMS of the beats' scores smoothed by [½, 1, ½], about one
  // beat's own score when all pulses are equal, so equal pulses sit on its edge: off here.
  const followed = beatTrack(accelerating.envelope, { bpm, trim: false });
  assert.equal(Array.from(followed.frames), accelerating.onsets);
  const fixed = beatTrack(accelerating.envelope, { trim: false }).frames;
  assert.ok(accelerating.onsets.filter((t) => !fixed.includes(t)).length >= 5, `one tempo misses the late pulses: ${Array.from(fixed)}`);
  assert.throws(() => beatTrack(steady.envelope, { bpm: [100, 120] }), /give one, or one per frame/);
  assert.equal(beatTrack(new Float64Array(50)), { tempo: 0, frames: new Int32Array(0), times: new Float64Array(0) });
});

test('trim drops beats in weak leading and trailing stretches; trim false keeps them', () => {
  const { envelope } = pulses(600, () => 25, 10);
  // Silence the first and last 100 frames: the DP still places beats there at the tempo.
  for (let i = 0; i < 600; i++) if (i < 100 || i >= 500) envelope[i] = 0;
  const kept = beatTrack(envelope, { trim: false }).frames;
  const trimmed = beatTrack(envelope).frames;
  assert.ok(trimmed[0]! >= 100 && trimmed.at(-1)! < 500, `trimmed: ${Array.from(trimmed)}`);
  assert.ok(kept.length > trimmed.length && kept.at(-1)! >= 500, `kept: ${Array.from(kept)}`);
});

test('gradients flow through the tempogram and the tempo scores (finite differences)', () => {
  const envelope = T.array(Float64Array.from({ length: 2 * 12 }, (_, i) => 1 + Math.sin(i * 0.9) + (i % 4 === 0 ? 2 : 0)), { shape: [2, 12], dtype: 'float64' });
  const report = verifyGrad((x) => tempogram(x, { winLength: 6 }), [envelope], { rtol: 1e-5, atol: 1e-8 });
  assert.ok(report.worstRatio <= 1, `tempogram: worst ratio ${report.worstRatio}`);
  // The last lag's autocorrelation is 0 (the Hann window's first sample is 0), where the DFT's
  // rounding, times log1p's slope of 10⁶, is all there is to differentiate: it is left out.
  const scores = verifyGrad((x) => T.get(tempoScores(x, { acSize: 0.2, hop: 512, maxTempo: null }).scores, '...', T.slice(0, -1)), [envelope], { rtol: 1e-5, atol: 1e-8 });
  assert.ok(scores.worstRatio <= 1, `tempo scores: worst ratio ${scores.worstRatio}`);
});

test.run();
