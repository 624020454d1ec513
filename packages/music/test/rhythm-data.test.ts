// Labelled rhythm tracks (data/rhythm-tracks.ts): the same seed gives the same audio and
// labels; kits and patterns of the test split are never used by training tracks; the
// labels are where the sound is (every labelled onset of a click track starts a burst of
// energy; beats are 60/bpm apart within the rubato's 4%); librosa's onset detector and
// tempo find them on a held-out click track. Short tracks (4–8 s), host code and one
// FluidSynth call for the GM drum tracks among them (~5 s).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { referenceTempi, rhythmKitKinds, rhythmSplits, synthesizeRhythmDataset, synthesizeRhythmTrack, tappingResonance } from '../src/data/rhythm-tracks.ts';
import { framesToTime, onsetDetect, onsetStrengthHost } from '../src/rhythm/index.ts';
import { onsetScores } from '../src/eval/index.ts';

test('the same seed gives the same tracks; another seed, other tracks', () => {
  const [a, b, c] = [7, 7, 8].map((seed) => synthesizeRhythmTrack(seed, 'train', 1, { duration: 4 }));
  assert.ok(a!.audio.every((value, i) => value === b!.audio[i]), 'audio differs between two runs of one seed');
  assert.equal(Array.from(a!.onsets), Array.from(b!.onsets));
  assert.equal(Array.from(a!.beats), Array.from(b!.beats));
  assert.ok(a!.audio.some((value, i) => value !== c!.audio[i]), 'seeds 7 and 8 gave the same audio');
});

test('no kit or pattern of the test split is heard in training', () => {
  const dealt = rhythmSplits(7);
  const names = (split: 'train' | 'validation' | 'test', what: 'kits' | 'patterns') => new Set(dealt[split][what].map((item) => item.name));
  for (const what of ['kits', 'patterns'] as const) {
    const [train, validation, heldOut] = [names('train', what), names('validation', what), names('test', what)];
    assert.ok(heldOut.size > 0 && validation.size > 0, `${what}: empty held-out split`);
    for (const name of heldOut) assert.not.ok(train.has(name) || validation.has(name), `${what}: ${name} is in two splits`);
  }
  for (const kind of rhythmKitKinds) assert.ok(dealt.test.kits.some((kit) => kit.kind === kind), `no ${kind} kit in the test split`);
  const tracks = synthesizeRhythmDataset({ seed: 7, tracks: { train: 3, test: 3 }, duration: 2 });
  for (const track of tracks) {
    assert.ok(names(track.split, 'kits').has(track.kit), `${track.split} track ${track.index} plays kit ${track.kit} of another split`);
    assert.ok(names(track.split, 'patterns').has(track.pattern), `${track.split} track ${track.index} plays ${track.pattern} of another split`);
  }
});

test('labels are where the sound is: onsets start bursts, beats are 60/bpm apart, librosa finds them', () => {
  // Track 0 of each split plays the split's first kit; the dealing puts a click kit first here.
  const track = Array.from({ length: 6 }, (_, i) => synthesizeRhythmTrack(7, 'test', i, { duration: 8 })).find((t) => t.kit.startsWith('click'))!;
  assert.ok(track, 'no click track among the first six test tracks');
  const rms = (from: number, to: number): number => {
    let sum = 0;
    for (let n = Math.max(0, from); n < to; n++) sum += track.audio[n]! ** 2;
    return Math.sqrt(sum / Math.max(1, to - Math.max(0, from)));
  };
  const window = Math.round(0.005 * track.sampleRate);
  for (const onset of track.onsets) {
    const at = Math.round(onset * track.sampleRate);
    assert.ok(rms(at, at + window) > 2 * rms(at - window, at), `no burst at the labelled onset ${onset.toFixed(3)} s`);
  }
  const period = 60 / track.bpm;
  for (let i = 1; i < track.beats.length; i++) {
    const interval = track.beats[i]! - track.beats[i - 1]!;
    assert.ok(Math.abs(interval - period) <= 0.041 * period, `beat interval ${interval.toFixed(3)} s at ${track.bpm.toFixed(1)} BPM`);
  }
  const detected = framesToTime(onsetDetect(onsetStrengthHost(track.audio).data));
  const f = onsetScores(track.onsets, detected).fMeasure;
  assert.ok(f >= 0.9, `librosa's onset detector scores F ${f.toFixed(3)} on a click track`);
});

test('tempo labels: the quarter note and the neighbouring level nearer 120 BPM (half for swing), salience by the tapping resonance', () => {
  const straightSlow = referenceTempi(80, 0.5);
  assert.equal(straightSlow.tempi, [80, 160]);
  assert.ok(Math.abs(straightSlow.salience - tappingResonance(80) / (tappingResonance(80) + tappingResonance(160))) < 1e-12);
  assert.equal(referenceTempi(150, 0.5).tempi, [75, 150]);
  assert.equal(referenceTempi(80, 0.6).tempi, [40, 80], 'swung eighths are no steady level');
  assert.ok(referenceTempi(80, 0.6).salience < 0.3, 'few listeners tap 40 BPM');
  assert.ok(Math.abs(tappingResonance(240) - Math.exp(-0.5)) < 1e-12);
  assert.throws(() => referenceTempi(0, 0.5), /referenceTempi: bpm 0 must be positive/);
  // Every track's label holds its quarter-note tempo, which its beats keep on average (the rubato is symmetric).
  for (const track of synthesizeRhythmDataset({ seed: 7, tracks: { train: 4, validation: 2, test: 2 }, duration: 6, cacheDir: null })) {
    assert.ok(track.tempi.includes(track.bpm) && track.tempoSalience > 0 && track.tempoSalience < 1, `${track.split} ${track.index}: ${track.tempi} ${track.tempoSalience}`);
    const intervals = Array.from(track.beats.subarray(1), (time, i) => time - track.beats[i]!).sort((a, b) => a - b);
    const median = intervals[Math.floor(intervals.length / 2)]!;
    assert.ok(Math.abs(60 / median - track.bpm) <= 0.04 * track.bpm, `${track.split} ${track.index}: beats ${(60 / median).toFixed(1)} BPM, label ${track.bpm.toFixed(1)}`);
  }
});

test.run();
