// Models by name, rebuilt from a saved configuration: what `saveModel` writes beside the
// weights is enough for the CLI to make the same graph again and load the weights.

import type * as T from '@theorbo/graph';
import type { ClipFeatures, FeatureOptions } from './features.ts';
import { chromaNetwork, handChroma, learnedChroma, type ChromaModel, type TemplateLoss } from './models.ts';
import { firChroma } from './fir.ts';
import { chromaCnn, cnnDefaults, type CnnShape } from './cnn.ts';
import { chromaCrnn, crnnDefaults, type CrnnShape } from './crnn.ts';
import { clipSequence, framePatches } from './patches.ts';
import type { VocabularyName } from '../chords/vocabularies.ts';

/** Every kind of chroma model a configuration can name. */
export const modelKinds = ['hand-chroma', 'learned-chroma', 'network', 'fir', 'cnn', 'crnn'] as const;
export type ModelKind = (typeof modelKinds)[number];

export interface ModelConfig {
  kind: ModelKind;
  feature: FeatureOptions;
  /** Hidden layer sizes of the network. */
  hidden?: number[];
  /** Gain of the hand-designed chroma. */
  gain?: number;
  seed?: number;
  /** The training objective (the talk's squared template distance by default). */
  loss?: TemplateLoss;
  dropout?: number;
  /** Where the learned chroma's weights start: octave equivalence (default) or small random values. */
  init?: 'octave' | 'random';
  /** The FIR model: train W with the filters (default true) or the filters alone. */
  trainChroma?: boolean;
  /** The CNN's patch radius, conv layers and dense layers (cnnDefaults when absent). */
  cnn?: CnnShape;
  /** The CRNN's trunk, GRU and training chunks (crnnDefaults when absent). */
  crnn?: CrnnShape;
  /** The chords the model was trained to tell apart (its labels and templates; majmin when absent). Only the CNN takes another. */
  vocab?: VocabularyName;
}

export function buildModel(config: ModelConfig): ChromaModel {
  switch (config.kind) {
    case 'hand-chroma': return handChroma(config.feature, config.gain ?? 1);
    case 'learned-chroma': return learnedChroma(config.feature, config.init === 'random' ? { from: 'random', seed: config.seed ?? 0 } : { from: 'octave', gain: config.gain ?? 1 }, config.loss);
    case 'network': return chromaNetwork(config.feature.nFft / 2 + 1, config.hidden ?? [256, 64], config.seed ?? 0, config.dropout ?? 0, config.loss);
    case 'cnn': return chromaCnn(config.feature.nBins, config.cnn ?? cnnDefaults, config.seed ?? 0, config.dropout ?? 0, config.loss, config.vocab);
    case 'crnn': return chromaCrnn(config.feature.nBins, config.crnn ?? crnnDefaults, config.seed ?? 0, config.dropout ?? 0, config.loss);
    case 'fir': return firChroma(config.feature, { gain: config.gain ?? 1, trainChroma: config.trainChroma }, config.loss);
  }
}

/** What a frame-feature model reads from one clip: DFT frames (network), CQT patches (cnn), the clip as one sequence of patches (crnn) or CQT frames. */
export function clipInput(config: ModelConfig, features: ClipFeatures): T.NDArray {
  if (config.kind === 'network') return features.dft;
  if (config.kind === 'cnn') return framePatches(features.cqt, (config.cnn ?? cnnDefaults).radius);
  if (config.kind === 'crnn') return clipSequence(features.cqt, (config.crnn ?? crnnDefaults).cnn.radius);
  return features.cqt;
}
