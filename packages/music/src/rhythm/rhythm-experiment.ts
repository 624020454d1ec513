// The rhythm experiment (issue 18): synthesize labelled tracks (data/rhythm-tracks.ts),
// evaluate the hand-designed front end on the held-out test split (kits and patterns
// never heard in training), fine-tune the filterbank and the tempo prior on the training
// split (fine-tune.ts), evaluate again on the same test tracks, and save the fine-tuned
// front end as a model folder (weights.npz + config.json) for `--model DIR`.
// Scores, mir_eval's definitions (eval/rhythm.ts), averaged over tracks: onset F-measure
// (50 ms), tempo P-score (8%; the reference is the track's one tempo with salience 1, so
// it is the fraction of tracks whose tempo is within 8%: a half or double tempo counts as
// wrong) and beat F-measure (70 ms, beats before 5 s trimmed).
// Both front ends run through the same graph (power → max(W, 0) → dB → flux; tempo with
// the log prior) and the same host peak picker and beat tracker.

import * as T from '@theorbo/graph';
import { compile, type AcquiredDevice } from '@theorbo/codegen';
import { synthesizeRhythmDataset, type RhythmTrack } from '../data/rhythm-tracks.ts';
import { beatScores, onsetScores, tempoPScore } from '../eval/rhythm.ts';
import { saveModel } from '../train/index.ts';
import { beatTrack } from './beat.ts';
import { designedFrontEnd, fineTuneDefaults, fineTuneFrontEnd, frontEndEnvelope, frontEndLogPrior, stackRows, trackPower, type RhythmFrontEnd } from './fine-tune.ts';
import { framesToTime, onsetDetect } from './onset-detect.ts';
import { tempo } from './tempo.ts';

export interface RhythmScores {
  name: string;
  onsetF: number;
  tempoP: number;
  beatF: number;
  /** The first test track as this front end saw it, for the report's figure (times in seconds). */
  example?: RhythmExample;
}

export interface RhythmExample {
  envelope: Float32Array;
  onsets: Float64Array;
  beats: Float64Array;
  bpm: number;
  reference: { onsets: Float64Array; beats: Float64Array; bpm: number };
}

export interface RhythmExperimentOptions {
  seed: number;
  tracks: { train: number; test: number };
  device: AcquiredDevice;
  epochs?: { onset: number; tempo: number };
  learningRate?: { onset: number; tempo: number };
  smoothness?: number;
  /** Where the fine-tuned front end is saved (weights.npz, config.json). */
  modelDir?: string;
  log?: (line: string) => void;
}

export const rhythmExperimentDefaults = { seed: 7, tracks: { train: 36, test: 24 } } as const;

/** What config.json says of a saved rhythm front end. */
export interface RhythmModelConfig { kind: 'rhythm-front-end'; nMels: number; candidates: number }

/** Scores of a front end on tracks (power [tracks, nFrames, bins]). */
export async function evaluateFrontEnd(name: string, frontEnd: RhythmFrontEnd, tracks: readonly RhythmTrack[], power: T.NDArray, device: AcquiredDevice): Promise<RhythmScores> {
  const input = T.tensor('float32', [null, ...(power.shape.slice(1) as number[])], 'power');
  const envelope = frontEndEnvelope(input, frontEnd);
  const [envelopes, bpms] = (await compile({ inputs: [input], outputs: [envelope, tempo(envelope, { logPrior: frontEndLogPrior(frontEnd) })], device })(power)) as T.NDArray[];
  const frames = envelopes!.shape[1]!;
  const totals = { onsetF: 0, tempoP: 0, beatF: 0 };
  let example: RhythmExample | undefined;
  tracks.forEach((track, i) => {
    const values = envelopes!.data.subarray(i * frames, (i + 1) * frames);
    const bpm = bpms!.data[i]!;
    const onsets = framesToTime(onsetDetect(values));
    const beats = bpm > 0 ? beatTrack(values, { bpm }).times : new Float64Array(0);
    totals.onsetF += onsetScores(track.onsets, onsets).fMeasure;
    totals.tempoP += tempoPScore([track.bpm, 0], 1, [bpm, bpm]).pScore;
    totals.beatF += beatScores(track.beats, beats).fMeasure;
    example ??= { envelope: Float32Array.from(values), onsets, beats, bpm, reference: { onsets: track.onsets, beats: track.beats, bpm: track.bpm } };
  });
  return { name, onsetF: totals.onsetF / tracks.length, tempoP: totals.tempoP / tracks.length, beatF: totals.beatF / tracks.length, ...(example ? { example } : {}) };
}

export interface RhythmExperimentResult {
  rows: RhythmScores[];
  trainTracks: number;
  testTracks: number;
  seconds: number;
  losses: { onsetLoss: number[]; tempoLoss: number[] };
}

/** Hand-designed versus fine-tuned on the test split; see the file comment. */
export async function runRhythmExperiment(options: RhythmExperimentOptions): Promise<RhythmExperimentResult> {
  const log = options.log ?? (() => {});
  const started = performance.now();
  const tracks = synthesizeRhythmDataset({ seed: options.seed, tracks: { train: options.tracks.train, test: options.tracks.test } });
  const trainTracks = tracks.filter((track) => track.split === 'train');
  const testTracks = tracks.filter((track) => track.split === 'test');
  const power = (list: RhythmTrack[]): T.NDArray => stackRows(list.map((track) => trackPower(track.audio)));
  const [trainPower, testPower] = [power(trainTracks), power(testTracks)];
  log(`rhythm data: ${trainTracks.length} training and ${testTracks.length} test tracks (${tracks[0]?.audio.length ?? 0} samples each) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const frontEnd = designedFrontEnd();
  const hand = await evaluateFrontEnd('hand-designed (librosa mel, flux, log-normal tempo prior)', frontEnd, testTracks, testPower, options.device);
  const losses = await fineTuneFrontEnd(frontEnd, { power: trainPower, onsets: trainTracks.map((t) => t.onsets), bpm: trainTracks.map((t) => t.bpm) }, {
    device: options.device, epochs: options.epochs ?? fineTuneDefaults.epochs, seed: options.seed,
    ...(options.learningRate ? { learningRate: options.learningRate } : {}), ...(options.smoothness !== undefined ? { smoothness: options.smoothness } : {}),
  });
  log(`fine-tuned: onset loss ${losses.onsetLoss[0]?.toFixed(4)} → ${losses.onsetLoss.at(-1)?.toFixed(4)}, tempo loss ${losses.tempoLoss[0]?.toFixed(3)} → ${losses.tempoLoss.at(-1)?.toFixed(3)}`);
  const tuned = await evaluateFrontEnd('fine-tuned (mel weights on onsets, tempo prior)', frontEnd, testTracks, testPower, options.device);
  if (options.modelDir) {
    const config: RhythmModelConfig = { kind: 'rhythm-front-end', nMels: frontEnd.melLogGain.shape[1] as number, candidates: frontEnd.candidates.bpm.length };
    await saveModel(options.modelDir, [frontEnd.melLogGain, frontEnd.priorBasisWeights], config);
  }
  return { rows: [hand, tuned], trainTracks: trainTracks.length, testTracks: testTracks.length, seconds: (performance.now() - started) / 1000, losses };
}
