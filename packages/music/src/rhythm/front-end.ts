// The learnable rhythm front end (issue 18): librosa's onset envelope and tempo with
// trainable parameters where training pays, each starting at the value that gives the
// designed feature exactly (a multiplier of 1, a weight of 0), and two settings:
//   the mel filterbank's log gains G: W = M ⊙ exp(G) (each band keeps its support and
//     sign; plain weights spread over all bins under Adam's first steps);
//   onset band weights exp(b) on each mel band's rectified flux before the mean over
//     bands (a constant gain on a band cancels in the flux of decibels; a weight on its
//     flux does not);
//   a beat envelope of its own for the tempo and the beat tracker: the flux weighted by
//     exp(Bθ), B eight smooth bumps over the mel bands (kicks and snares mark the beat,
//     hats the subdivisions: weighting the low bands by hand lifts the first tempo's
//     accuracy on training and validation tracks from 70% to 84%);
//   an activation network: a one-hidden-layer network on the decibel mel spectrogram
//     (32 pooled bands; their rise, fall and level below the clip's loudest, over ±4
//     frames, the clip's edge frames repeated past its ends) with two outputs, an
//     onset and a beat activation, added to the onset and the beat envelope in units of
//     each envelope's peak over the clip (relu after the sum). Its output layer starts at
//     zero, so both envelopes start as designed exactly; trained frame-wise on the
//     labelled onsets and beats (fine-tune.ts), it lets the front end tell a beat's kick
//     from a subdivision's hat and a note's attack from its decay, which band weights
//     cannot;
//   the tempo prior: the designed log-normal prior plus smooth bumps (priorBasis);
//   relative weights a_m on the log tempogram at m times each candidate's lag (m = 1/4,
//     1/3, 1/2, 2, 3, 4, read by linear interpolation, 0 past the window);
//   settings: the onset envelope's max filter across bands (librosa's max_size, SuperFlux's
//     vibrato suppression; 1 designed), the peak picker's delta (0.07 designed), and the
//     latency subtracted from onset times (0 designed): an envelope peaks after a sound
//     starts, later for slow attacks, and the fine-tuned front end takes the median lag
//     of its detections behind the training tracks' labels (the same for beats lost 0.3
//     points of beat F on validation, so beats keep the tracker's times).
// Scores of candidate j: log(1 + 10⁶·tg[lag_j]) + Σ_m a_m·log(1 + 10⁶·tg[m·lag_j]) +
// log prior_j, tg the beat envelope's tempogram averaged over frames (librosa's 'mean');
// the estimate is tempoPair of the scores (the best candidate, then its better octave
// relative, or the one a learned rule picks from the first tempo and the track's swing:
// second-tempo.ts); the beat tracker follows the first on the beat envelope.
// Left out: a filter on the envelope (7 taps, trained on an onset loss it smoothed the
// envelope and lost 20 points of onset F on validation tracks).
//
// Shapes: power [batch, nFrames, nFft/2 + 1]; decibel mel [batch, nFrames, nMels];
// the activation network's windows [batch, nFrames, 3·32·9 = 864], hidden [batch, nFrames,
// 32], activations [batch, nFrames] each; envelopes [batch, nFrames]; pooled tempogram
// [batch, W]; scores [batch, candidates].

import * as T from '@theorbo/graph';
import { SeededRandom } from '../random/seeded-random.ts';
import { melFilterbank, powerToDb, stftHost } from '../signal/index.ts';
import { melFromStft, melSpectrogram } from '../signal/mel.ts';
import { framesToTime, onsetDetect, onsetPeakPickDefaults } from './onset-detect.ts';
import { onsetStrengthFromSpectrogram } from './onset-strength.ts';
import type { SecondTempoRule } from './second-tempo.ts';
import { tempoCandidates, tempogram, type TempoCandidates } from './tempo.ts';

export interface RhythmFrontEndSettings {
  /** The onset envelope's max filter across mel bands (1: none, librosa's default). */
  maxSize: number;
  /** The peak picker's threshold (librosa's 0.07). */
  delta: number;
  /** Seconds subtracted from onset times (0 designed). */
  onsetLatency: number;
  /** The learned choice of the second tempo's octave (second-tempo.ts); absent, the designed tempoPair's. */
  secondTempo?: SecondTempoRule;
}

export interface RhythmFrontEnd {
  /** Log gains [nFft/2 + 1, nMels] on the designed filterbank: W = M ⊙ exp(G), 0 at the start. */
  melLogGain: T.SharedVariable;
  /** Log weights [nMels] on each band's flux in the onset envelope, 0 at the start. */
  bandLogWeights: T.SharedVariable;
  /** Weights θ [beatBands] of the beat envelope's log band weights Bθ, 0 at the start. */
  beatBandWeights: T.SharedVariable;
  /** Weights [basis] of smooth bumps added to the designed log prior, 0 at the start. */
  priorBasisWeights: T.SharedVariable;
  /** Weights [tempoRelatives.length] on the log tempogram at the related lags, 0 at the start. */
  relativeWeights: T.SharedVariable;
  /** The activation network (activationShape): hidden weights [features, hidden] (seeded random), biases [hidden] and output weights [hidden, 2] (0 at the start). */
  activationHidden: T.SharedVariable;
  activationBias: T.SharedVariable;
  activationOut: T.SharedVariable;
  candidates: TempoCandidates;
  settings: RhythmFrontEndSettings;
}

/** Lag multipliers the relative weights read the tempogram at. */
export const tempoRelatives = [1 / 4, 1 / 3, 1 / 2, 2, 3, 4] as const;
export const beatBands = 8;

/** The activation network's input: the decibel mel bands pooled to `bands`, their rise, fall and level over ±`radius` frames, into `hidden` units. */
export const activationShape = { bands: 32, radius: 4, hidden: 32 } as const;
const activationWidth = 3 * activationShape.bands * (2 * activationShape.radius + 1);

/** Bumps over the candidates: Gaussians in log2 BPM every third of an octave (σ a third of an octave) from 40 to 320 BPM. */
export function priorBasis(candidates: TempoCandidates): T.NDArray {
  const centres = Array.from({ length: 10 }, (_, i) => Math.log2(40) + i / 3);
  const out = new Float32Array(candidates.bpm.length * centres.length);
  candidates.bpm.forEach((bpm, j) => centres.forEach((centre, i) => { out[j * centres.length + i] = Math.exp(-0.5 * ((Math.log2(bpm) - centre) * 3) ** 2); }));
  return T.array(out, { shape: [candidates.bpm.length, centres.length], dtype: 'float32' });
}

/** [nMels, beatBands]: Gaussians over the band index, evenly spaced from the first band to the last, σ the spacing. */
export function beatBandBasis(nMels: number): T.NDArray {
  const spacing = (nMels - 1) / (beatBands - 1);
  const out = new Float32Array(nMels * beatBands);
  for (let b = 0; b < nMels; b++) for (let i = 0; i < beatBands; i++) out[b * beatBands + i] = Math.exp(-0.5 * ((b - i * spacing) / spacing) ** 2);
  return T.array(out, { shape: [nMels, beatBands], dtype: 'float32' });
}

/** [W, relatives · candidates]: column (m, j) reads the pooled tempogram at lag m·lag_j by linear interpolation (all 0 past the window). */
function relativeLagReader(candidates: TempoCandidates): T.NDArray {
  const count = candidates.bpm.length;
  const columns = tempoRelatives.length * count;
  const out = new Float32Array(candidates.winLength * columns);
  tempoRelatives.forEach((multiple, m) => {
    for (let j = 0; j < count; j++) {
      const lag = multiple * (candidates.firstLag + j);
      const low = Math.floor(lag);
      if (low < 1 || low + 1 >= candidates.winLength) continue;
      const column = m * count + j;
      out[low * columns + column] = low + 1 - lag;
      out[(low + 1) * columns + column] = lag - low;
    }
  });
  return T.array(out, { shape: [candidates.winLength, columns], dtype: 'float32' });
}

/** A front end at the designed values: librosa's mel filterbank, flux, tempogram, log-normal tempo prior and peak picking. */
export function designedFrontEnd(): RhythmFrontEnd {
  const candidates = tempoCandidates();
  const [bins, nMels] = melFilterbank().shape as [number, number];
  return {
    melLogGain: T.shared(T.array(new Float32Array(bins * nMels), { shape: [bins, nMels], dtype: 'float32' }), 'rhythm_mel_log_gain'),
    bandLogWeights: T.shared(new Float32Array(nMels), 'rhythm_band_log_weights'),
    beatBandWeights: T.shared(new Float32Array(beatBands), 'rhythm_beat_band_weights'),
    priorBasisWeights: T.shared(new Float32Array(priorBasis(candidates).shape[1]!), 'rhythm_tempo_prior_basis_weights'),
    relativeWeights: T.shared(new Float32Array(tempoRelatives.length), 'rhythm_tempo_relative_weights'),
    ...initialActivation(),
    candidates,
    settings: { maxSize: 1, delta: onsetPeakPickDefaults().delta, onsetLatency: 0 },
  };
}

let hiddenAtStart: Float32Array | undefined;
/** The hidden layer's seeded start, drawn once per process (27,648 numbers); callers copy it. */
function initialHidden(): Float32Array {
  if (!hiddenAtStart) {
    const random = SeededRandom.derive(0, 'rhythm-activation');
    const bound = Math.sqrt(3 / activationWidth);
    hiddenAtStart = Float32Array.from({ length: activationWidth * activationShape.hidden }, () => random.uniform(-bound, bound));
  }
  return hiddenAtStart;
}

/** The activation network at its start: hidden weights uniform in ±√(3/features) (seeded, the same every time), output weights 0. */
function initialActivation(): Pick<RhythmFrontEnd, 'activationHidden' | 'activationBias' | 'activationOut'> {
  const { hidden } = activationShape;
  const weights = Float32Array.from(initialHidden());
  return {
    activationHidden: T.shared(T.array(weights, { shape: [activationWidth, hidden], dtype: 'float32' }), 'rhythm_activation_hidden'),
    activationBias: T.shared(new Float32Array(hidden), 'rhythm_activation_bias'),
    activationOut: T.shared(T.array(new Float32Array(hidden * 2), { shape: [hidden, 2], dtype: 'float32' }), 'rhythm_activation_out'),
  };
}

/** Every parameter of the front end, in the order saveModel writes them. */
export const frontEndParams = (frontEnd: RhythmFrontEnd): T.SharedVariable[] =>
  [frontEnd.melLogGain, frontEnd.bandLogWeights, frontEnd.beatBandWeights, frontEnd.priorBasisWeights, frontEnd.relativeWeights, frontEnd.activationHidden, frontEnd.activationBias, frontEnd.activationOut];

/** The activation network's onset and beat activations [batch, nFrames] of a decibel mel spectrogram [batch, nFrames, nMels] (0 before training). */
export function frontEndActivations(db: T.Variable, frontEnd: RhythmFrontEnd): { onset: T.Variable; beat: T.Variable } {
  return activationsOfWindows(activationWindows(db), frontEnd);
}

/** The activation network's input [batch, nFrames, 864] of a decibel mel spectrogram [batch, nFrames, nMels]: no parameter of the front end reaches it, so training computes it once. */
export function activationWindows(db: T.Variable): T.Variable {
  const [, frames, mels] = db.shape as [number, number, number];
  const { bands, radius } = activationShape;
  const pool = new Float32Array(mels * bands);
  for (let m = 0; m < mels; m++) pool[m * bands + Math.floor((m * bands) / mels)] = bands / mels;
  return T.composite('rhythmActivationWindows', () => {
    const pooled = T.div(T.matmul(db, T.constant(T.array(pool, { shape: [mels, bands], dtype: 'float32' }), { name: 'activation_band_pool' })), 80);
    // The level below the clip's loudest band and frame, in [0, 1] under powerToDb's 80 dB floor: like the flux, it does not change with the input's gain.
    const level = T.add(T.sub(pooled, T.max(T.max(pooled, 2, true), 1, true)), 1);
    // The clip's edges repeat its first and last frames: no change at frame 0, and the windows see no silence past the ends.
    const change = T.sub(pooled, T.pad(T.get(pooled, ':', T.slice(0, frames - 1)), [[0, 0], [1, 0], [0, 0]], { mode: 'edge' }));
    const features = T.concat([T.mul(T.relu(change), 8), T.mul(T.relu(T.neg(change)), 8), level], 2);
    const padded = T.pad(features, [[0, 0], [radius, radius], [0, 0]], { mode: 'edge' });
    return T.concat(Array.from({ length: 2 * radius + 1 }, (_, d) => T.get(padded, ':', T.slice(d, d + frames))), 2);
  });
}

/** The activations [batch, nFrames] of the network's input windows [batch, nFrames, 864] (activationWindows). */
export function activationsOfWindows(windows: T.Variable, frontEnd: RhythmFrontEnd): { onset: T.Variable; beat: T.Variable } {
  const frames = windows.shape[1]!;
  return T.composite('rhythmActivations', () => {
    const hidden = T.relu(T.add(T.matmul(windows, frontEnd.activationHidden), frontEnd.activationBias));
    const out = T.matmul(hidden, frontEnd.activationOut);
    return { onset: T.reshape(T.get(out, ':', ':', 0), [-1, frames]), beat: T.reshape(T.get(out, ':', ':', 1), [-1, frames]) };
  });
}

/** An envelope [batch, nFrames] with an activation added in units of its peak over each clip: relu(e + (max e)·a), 0 where the clip is silent. */
export const withActivation = (envelope: T.Variable, activation: T.Variable): T.Variable =>
  T.relu(T.add(envelope, T.mul(T.max(envelope, 1, true), activation)));

/** The filterbank as the front end uses it, M ⊙ exp(G): pass it as melSpectrogram's `weights` to run on signals. */
export function frontEndMelWeights(frontEnd: RhythmFrontEnd): T.Variable {
  return T.mul(T.constant(melFilterbank(), { name: 'mel_filterbank' }), T.exp(frontEnd.melLogGain));
}

/** The log prior over the candidates: the designed one plus the learned bumps [candidates]. */
export function frontEndLogPrior(frontEnd: RhythmFrontEnd): T.Variable {
  const designed = T.constant(T.array(Float32Array.from(frontEnd.candidates.logPrior)), { name: 'tempo_log_prior' });
  return T.add(designed, T.matmul(T.constant(priorBasis(frontEnd.candidates), { name: 'tempo_prior_basis' }), frontEnd.priorBasisWeights));
}

/** The decibel mel spectrogram [batch, nFrames, nMels] of power spectrograms [batch, nFrames, bins] through the front end's filterbank. */
export const frontEndDb = (power: T.Variable, frontEnd: RhythmFrontEnd): T.Variable => powerToDb(melFromStft(power, { weights: frontEndMelWeights(frontEnd) }));

/** The onset envelope [batch, nFrames] of a decibel mel spectrogram (band weights, max filter; `activation`, the network's onset activation, is added when given). */
export function onsetEnvelopeFromDb(db: T.Variable, frontEnd: RhythmFrontEnd, activation?: T.Variable): T.Variable {
  const flux = onsetStrengthFromSpectrogram(db, { maxSize: frontEnd.settings.maxSize, bandWeights: T.exp(frontEnd.bandLogWeights) });
  return activation ? withActivation(flux, activation) : flux;
}

/** The beat envelope [batch, nFrames] of a decibel mel spectrogram (smooth band weights exp(Bθ); `activation`, the network's beat activation, is added when given). */
export function beatEnvelopeFromDb(db: T.Variable, frontEnd: RhythmFrontEnd, activation?: T.Variable): T.Variable {
  const nMels = db.shape[2]!;
  const logWeights = T.matmul(T.constant(beatBandBasis(nMels), { name: 'beat_band_basis' }), frontEnd.beatBandWeights);
  const flux = onsetStrengthFromSpectrogram(db, { bandWeights: T.exp(logWeights) });
  return activation ? withActivation(flux, activation) : flux;
}

/** Both envelopes of a decibel mel spectrogram, with the activation network's outputs added. */
export function envelopesFromDb(db: T.Variable, frontEnd: RhythmFrontEnd): { onset: T.Variable; beat: T.Variable } {
  const activations = frontEndActivations(db, frontEnd);
  return { onset: onsetEnvelopeFromDb(db, frontEnd, activations.onset), beat: beatEnvelopeFromDb(db, frontEnd, activations.beat) };
}

/** The onset and beat envelopes of power spectrograms [batch, nFrames, bins]. */
export const frontEndEnvelopes = (power: T.Variable, frontEnd: RhythmFrontEnd): { onset: T.Variable; beat: T.Variable } => envelopesFromDb(frontEndDb(power, frontEnd), frontEnd);

/** The onset and beat envelopes of signals [batch, samples] (librosa's onset_strength(y=…) both, when designed). */
export const frontEndEnvelopesOfSignal = (signal: T.Variable, frontEnd: RhythmFrontEnd): { onset: T.Variable; beat: T.Variable } =>
  envelopesFromDb(powerToDb(melSpectrogram(signal, { weights: frontEndMelWeights(frontEnd) })), frontEnd);

/** The tempogram averaged over frames [batch, W] of envelopes [batch, nFrames] (every windowHop-th window; 1: librosa's). */
export function pooledTempogram(envelope: T.Variable, candidates: TempoCandidates, windowHop = 1): T.Variable {
  return T.mean(tempogram(envelope, { winLength: candidates.winLength, windowHop }), 1);
}

/** Scores [batch, candidates] of pooled tempograms [batch, W] (see the file comment). */
export function frontEndTempoScoresFromPooled(pooled: T.Variable, frontEnd: RhythmFrontEnd): T.Variable {
  const { candidates } = frontEnd;
  const count = candidates.bpm.length;
  const kept = T.get(pooled, ':', T.slice(candidates.firstLag, null));
  const designed = T.add(T.log1p(T.mul(kept, 1e6)), frontEndLogPrior(frontEnd));
  const read = T.matmul(pooled, T.constant(relativeLagReader(candidates), { name: 'tempo_relative_lags' }));
  const related = T.reshape(T.log1p(T.mul(T.relu(read), 1e6)), [-1, tempoRelatives.length, count]);
  return T.add(designed, T.sum(T.mul(related, T.reshape(frontEnd.relativeWeights, [1, tempoRelatives.length, 1])), 1));
}

/** Scores [batch, candidates] of beat envelopes [batch, nFrames] with the front end's tempo parameters. */
export function frontEndTempoScores(beatEnvelope: T.Variable, frontEnd: RhythmFrontEnd, windowHop = 1): T.Variable {
  return frontEndTempoScoresFromPooled(pooledTempogram(beatEnvelope, frontEnd.candidates, windowHop), frontEnd);
}

/** Onset times in seconds (host) of one onset envelope [nFrames]: peak picking with the front end's delta, less its latency (not below 0). */
export function frontEndOnsetTimes(envelope: ArrayLike<number>, frontEnd: RhythmFrontEnd, options: { sampleRate?: number; hop?: number; backtrack?: boolean } = {}): Float64Array {
  const frames = onsetDetect(envelope, { delta: frontEnd.settings.delta, backtrack: options.backtrack ?? false, ...options });
  return framesToTime(frames, options).map((time) => Math.max(0, time - frontEnd.settings.onsetLatency));
}

/** The power spectrogram of one track on the host, float32 [nFrames, nFft/2 + 1]. */
export const trackPower = (audio: Float32Array): T.NDArray => stftHost(audio, { scale: 'power' });
