// Chord recognition of one signal for the web app (browser-safe), in the steps `theorbo
// chords` takes without --vocab (the browser test checks that the two give the same
// labels): host features (features.ts), the model's chroma and the log scores of the
// vocabulary it was trained on (majmin for the hand-designed chroma, sevenths for the
// shipped model) compiled on the device, then decoding on the host (by triad families
// beyond majmin) and runs of equal frame labels merged into segments, each chord with its
// bass note. Left out: reading files and resampling (the caller hands over mono samples at
// the model's rate), another --vocab than the model's, learned transitions.
// Shapes: chroma [frames, 12], logScores [frames, classes] (25 for majmin, 61 for sevenths).

import type * as T from '@theorbo/graph';
import { compile, type AcquiredDevice } from '@theorbo/codegen';
import { bassEstimable, bassOptionsFor, estimateBass } from '../chords/bass.ts';
import type { Segment } from '../chords/lab-format.ts';
import { chordVocabulary } from '../chords/vocabularies.ts';
import { decodeChordFrames, decodingForVocabulary, type ChordDecoding } from '../eval/chord-decoding.ts';
import { framesToSegments } from '../eval/decode.ts';
import { audioTuning, clipFeatures, type ClipFeatures } from './features.ts';
import { firWindows } from './fir.ts';
import { vocabularyLogScores, type ChromaModel } from './models.ts';
import { clipInput, type ModelConfig } from './registry.ts';

export interface ChromaResult {
  chroma: T.NDArray;
  logScores: T.NDArray;
  features: ClipFeatures;
  config: ModelConfig;
  /** Seconds. */
  duration: number;
}

/**
 * The chromagram and chord log scores of `signal` (mono, at config.feature.sampleRate) on
 * `device`; the model needs only its feature input and chroma output (a loaded saved graph will do).
 */
export async function chromaOfSignal(signal: Float32Array, loaded: { model: Pick<ChromaModel, 'features' | 'chroma'>; config: ModelConfig }, device: AcquiredDevice): Promise<ChromaResult> {
  const { model, config } = loaded;
  // As `theorbo chords`: the CQT centred on the audio's estimated tuning.
  const features = clipFeatures(signal, [], config.feature, config.kind === 'fir' ? 0 : audioTuning(signal, config.feature));
  const trained = config.vocab ?? 'majmin';
  const forward = compile({ inputs: [model.features], outputs: [model.chroma, vocabularyLogScores(model.chroma, trained, trained)], device });
  const input = config.kind === 'fir' ? firWindows([{ audio: signal }], config.feature, 1) : clipInput(config, features);
  const [chroma, logScores] = (await forward(input)) as T.NDArray[];
  return { chroma: chroma!, logScores: logScores!, features, config, duration: signal.length / config.feature.sampleRate };
}

/**
 * The chord segments of a chromaOfSignal result; neighbouring segments never share a label.
 * With `inversions` (the default, as `theorbo chords`), each chord names its bass note
 * ('C:maj/3'), estimated from the CQT (chords/bass.ts).
 */
export function chordSegmentsOf(result: ChromaResult, decoding: ChordDecoding, options: { inversions?: boolean } = {}): Segment[] {
  const { hop, sampleRate } = result.config.feature;
  const vocabulary = chordVocabulary(result.config.vocab ?? 'majmin');
  const decoded = decodeChordFrames(result.logScores, decodingForVocabulary(decoding, vocabulary, vocabulary.name));
  const segments = framesToSegments(decoded, hop, sampleRate, { offset: -hop / 2 / sampleRate, duration: result.duration, labels: vocabulary.labels });
  // A FIR model's CQT starts at C3, above most bass notes: its chords stay in root position, as in `theorbo chords`.
  return options.inversions === false || !bassEstimable(result.config.feature) ? segments : estimateBass(result.features.cqt, segments, hop, sampleRate, { ...bassOptionsFor(result.config.feature), vocabulary });
}
