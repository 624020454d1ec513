// The talk's models as graphs. Every model maps frame features to a 12-dimensional
// chroma-like output and is trained, as in the talk, with the template-distance loss:
// the squared distance between the output (broadcast as [batch, 1, 12]) and the
// templates ([1, 25, 12], no-chord all zeros), read at each frame's target template.
//  - hand-designed chroma: CQT · (octave folding) · g, with only the gain g fitted;
//  - learned chroma: CQT · W, W initialized at octave equivalence or at random;
//  - the talk's network: DFT → 256 → 64 → 12 with half-wave rectification (or 3 layers);
//  - a softmax classifier on top of any chroma (12 → 25).
// Template matching picks the nearest template; the classifier the most probable class.

import * as T from '@theorbo/graph';
import { chordTemplates } from '../chords/vocabulary.ts';
import { chordVocabulary, vocabularyReduction, type VocabularyName } from '../chords/vocabularies.ts';
import { chromaMatrix } from '../signal/chroma.ts';
import { dropout, trainingFlag } from '../train/dropout.ts';
import type { TrainableModel } from '../train/train.ts';
import type { FeatureOptions } from './features.ts';

export interface ChromaModel extends TrainableModel {
  /** The frame features' symbolic input [batch, dims]. */
  features: T.Variable;
  /** The 12-dimensional output [batch, 12]. */
  chroma: T.Variable;
  /** Weights worth picturing (the talk's "Chroma weights – Start/End"). */
  weights: T.SharedVariable;
}

/** The 25 binary templates (24 triads and the all-zero no-chord) as a shared variable, or a named vocabulary's (N last). */
export function templatesVariable(vocabulary: VocabularyName = 'majmin'): T.SharedVariable {
  return vocabulary === 'majmin' ? T.shared(chordTemplates(), 'templates') : T.shared(chordVocabulary(vocabulary).templates.map((row) => [...row]), 'templates');
}

/** The talk's loss: mean squared distance of each output to its target's template. */
export function templateDistanceLoss(chroma: T.Variable, target: T.Variable, templates: T.Variable): T.Variable {
  const distance = T.pow(chroma.dimshuffle(0, 'x', 1).sub(templates.dimshuffle('x', 0, 1)), 2.0);
  return T.mean(distance.at(T.arange(target.dim(0), undefined, undefined, 'int32'), target));
}

/**
 * The template distances as a classifier: cross-entropy of softmax(−‖output − template‖²)
 * at the target. Unlike the talk's squared distance, which pulls an uncertain frame's
 * output toward the mean of its candidate templates (and so toward the all-zero
 * no-chord template), this asks that the target's template be the nearest one.
 */
export function softmaxDistanceLoss(chroma: T.Variable, target: T.Variable, templates: T.Variable): T.Variable {
  const distance = T.sum(T.pow(chroma.dimshuffle(0, 'x', 1).sub(templates.dimshuffle('x', 0, 1)), 2.0), 2);
  return T.mean(T.neg(T.logSoftmax(T.neg(distance)).at(T.arange(target.dim(0), undefined, undefined, 'int32'), target)));
}

export type TemplateLoss = 'distance' | 'softmax-distance';

/** Nearest template (squared Euclidean distance) per frame: [batch] int32. */
export function templateMatch(chroma: T.Variable, templates: T.Variable): T.Variable {
  const distance = T.sum(T.pow(chroma.dimshuffle(0, 'x', 1).sub(templates.dimshuffle('x', 0, 1)), 2.0), 2);
  return T.argmin(distance, 1);
}

/**
 * Per-frame class log scores from the template distances, log softmax(−‖output − template‖²)
 * `[batch, 25]`: the softmax-distance loss's probabilities, and the emissions Viterbi
 * decoding reads. Their argmax is templateMatch's nearest template.
 */
export function templateLogScores(chroma: T.Variable, templates: T.Variable = templatesVariable()): T.Variable {
  const distance = T.sum(T.pow(chroma.dimshuffle(0, 'x', 1).sub(templates.dimshuffle('x', 0, 1)), 2.0), 2);
  return T.logSoftmax(T.neg(distance));
}

/**
 * Class log scores in the `output` vocabulary of a model trained on `trained` [batch,
 * classes of output]. When the output's classes are all classes of the trained vocabulary
 * (sevenths → majmin), each output class's probability is the sum of the trained classes it
 * reads (C:maj + C:7 + C:maj7 → C:maj): on the held-out triad clips the shipped sevenths
 * model then read 93.1% majmin, against 92.7% when its chroma was matched to the 25 triad
 * templates directly (tuning estimated, Viterbi). Otherwise (a finer or other output),
 * the output's templates are matched to the chroma.
 */
export function vocabularyLogScores(chroma: T.Variable, trained: VocabularyName, output: VocabularyName): T.Variable {
  const from = chordVocabulary(trained);
  const to = chordVocabulary(output);
  if (trained === output || !to.labels.every((label) => from.labels.includes(label))) return templateLogScores(chroma, templatesVariable(output));
  return groupLogScores(templateLogScores(chroma, templatesVariable(trained)), vocabularyReduction(from, to), to.labels.length);
}

/**
 * Log scores of groups of classes [batch, groups]: each group's probability is the sum of
 * its classes' (`groups[k]` is class k's group, −1 for none), e.g. the triad families of
 * vocabularyFamilies, which the device's Viterbi decodes as the host's family decoding does.
 */
export function groupLogScores(logScores: T.Variable, groups: ArrayLike<number>, count: number): T.Variable {
  const members = new Float32Array(groups.length * count);
  for (let k = 0; k < groups.length; k++) if (groups[k]! >= 0) members[k * count + groups[k]!] = 1;
  // The floor keeps a group whose members all underflow finite, as viterbiDecode's does.
  return T.log(T.add(T.dot(T.exp(logScores), T.constant(members, { shape: [groups.length, count] })), 1e-30));
}

/**
 * A chroma model from its input and 12-dimensional output: the objective, template
 * matching and accuracy. `labels` is the label input, [batch] by default; a sequence
 * model's [clips, frames] labels are flattened in the order of its output rows. Labels are
 * classes of `vocabulary` (majmin: 0–24), whose templates the loss and matching read.
 */
export function withLoss(features: T.Variable, chroma: T.Variable, params: T.SharedVariable[], weights: T.SharedVariable, training?: T.SharedVariable, loss: TemplateLoss = 'distance', labels: T.Variable = T.ivector('target'), vocabulary: VocabularyName = 'majmin'): ChromaModel {
  const target = labels.ndim === 1 ? labels : T.flatten(labels);
  const templates = templatesVariable(vocabulary);
  const objective = loss === 'distance' ? templateDistanceLoss(chroma, target, templates) : softmaxDistanceLoss(chroma, target, templates);
  const predicted = templateMatch(chroma, templates);
  const accuracy = T.mean(T.cast(T.eq(predicted, target), 'float32'));
  return {
    params, inputs: [features, labels], loss: objective,
    metrics: { accuracy }, predictions: predicted, features, chroma, weights, training,
  };
}

/** Octave-folding weights [nBins, 12] for the CQT's layout. */
export function octaveFolding(options: Pick<FeatureOptions, 'fmin' | 'nBins' | 'binsPerOctave'>): T.NDArray {
  return chromaMatrix({ fmin: options.fmin, nBins: options.nBins, binsPerOctave: options.binsPerOctave, spread: 'centre' });
}

/**
 * Hand-designed chroma: octave folding of the log-CQT with one gain, the only parameter,
 * tuned by hand's stand-in (a search over a grid) on training frames.
 */
export function handChroma(options: FeatureOptions, gain: number): ChromaModel {
  const features = T.matrix('cqt');
  const weights = T.shared(T.array(octaveFolding(options).data.map((v) => v * gain), { shape: [options.nBins, 12] }), 'hand_chroma_weights');
  return withLoss(features, features.dot(weights), [], weights);
}

/**
 * The gain of the octave folding that makes template matching most accurate on the
 * given frames, from a grid of 0.1 … 4 (a least-squares fit would shrink the chroma
 * toward the no-chord template and lose most frames).
 */
export function fitChromaGain(cqt: T.NDArray, labels: T.NDArray, options: FeatureOptions): number {
  const folding = octaveFolding(options).data;
  const templates = chordTemplates();
  const bins = options.nBins;
  const frames = labels.size;
  const folded = new Float64Array(frames * 12);
  for (let f = 0; f < frames; f++) {
    for (let k = 0; k < 12; k++) {
      let c = 0;
      for (let b = 0; b < bins; b++) c += cqt.data[f * bins + b]! * folding[b * 12 + k]!;
      folded[f * 12 + k] = c;
    }
  }
  let best = { gain: 1, correct: -1 };
  for (const gain of [0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4]) {
    let correct = 0;
    for (let f = 0; f < frames; f++) {
      let nearest = -1;
      let distance = Infinity;
      templates.forEach((template, t) => {
        let d = 0;
        for (let k = 0; k < 12; k++) d += (gain * folded[f * 12 + k]! - template[k]!) ** 2;
        if (d < distance) { distance = d; nearest = t; }
      });
      if (nearest === labels.data[f]) correct++;
    }
    if (correct > best.correct) best = { gain, correct };
  }
  return best.gain;
}

/** The talk's learned chroma: CQT · W, from octave equivalence (scaled) or from random weights. */
export function learnedChroma(options: FeatureOptions, init: { from: 'octave'; gain: number } | { from: 'random'; seed: number }, loss: TemplateLoss = 'distance'): ChromaModel {
  const features = T.matrix('cqt');
  const start = init.from === 'octave'
    ? T.array(octaveFolding(options).data.map((v) => v * init.gain), { shape: [options.nBins, 12] })
    : gaussian([options.nBins, 12], 0.01, init.seed);
  const weights = T.shared(start, 'chroma_weights');
  return withLoss(features, features.dot(weights), [weights], weights, undefined, loss);
}

/** The talk's network: dims[0] → … → 12, each layer half-wave rectified; dropout between layers. */
export function chromaNetwork(inputDims: number, hidden: readonly number[], seed: number, dropoutRate = 0, loss: TemplateLoss = 'distance'): ChromaModel {
  const features = T.matrix('dft');
  const sizes = [inputDims, ...hidden, 12];
  const params: T.SharedVariable[] = [];
  const training = dropoutRate > 0 ? trainingFlag() : undefined;
  const stream = new T.RandomStreams(seed + 1000);
  let layer: T.Variable = features;
  let first: T.SharedVariable | undefined;
  for (let i = 0; i + 1 < sizes.length; i++) {
    const weights = T.shared(gaussian([sizes[i]!, sizes[i + 1]!], Math.sqrt(2 / sizes[i]!), seed + i), `weights${i}`);
    const bias = T.shared(new Float32Array(sizes[i + 1]!), `bias${i}`);
    params.push(weights, bias);
    first ??= weights;
    if (training && i > 0) layer = dropout(layer, dropoutRate, stream, training);
    layer = T.hwr(T.dot(layer, weights).add(bias));
  }
  return withLoss(features, layer, params, first!, training, loss);
}

/** A softmax classifier over 25 classes on top of 12-dimensional inputs (standardized). */
export function chordClassifier(mean: Float32Array, scale: Float32Array, seed: number): TrainableModel & { features: T.Variable; probabilities: T.Variable } {
  const features = T.matrix('chroma');
  const target = T.ivector('target');
  const weights = T.shared(gaussian([12, 25], 0.1, seed), 'classifier_weights');
  const bias = T.shared(new Float32Array(25), 'classifier_bias');
  const standardized = features.sub(T.constant(mean)).mul(T.constant(scale));
  const logits = standardized.dot(weights).add(bias);
  const probabilities = T.softmax(logits);
  const loss = T.mean(T.neg(T.logSoftmax(logits).at(T.arange(target.dim(0), undefined, undefined, 'int32'), target)));
  const predicted = T.argmax(logits, 1);
  const accuracy = T.mean(T.cast(T.eq(predicted, target), 'float32'));
  return { params: [weights, bias], inputs: [features, target], loss, metrics: { accuracy }, predictions: predicted, features, probabilities };
}

/** Seeded gaussian values (xorshift and Box–Muller) of the given shape and standard deviation. */
export function gaussian(shape: readonly number[], scale: number, seed: number): T.NDArray {
  let state = (seed * 2654435761) >>> 0 || 1;
  const next = (): number => {
    state ^= state << 13; state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5; state >>>= 0;
    return (state + 0.5) / 4294967296;
  };
  const size = shape.reduce((a, b) => a * b, 1);
  return T.array(Float32Array.from({ length: size }, () => scale * Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next())), { shape });
}
