/**
 * The talk made runnable — audio in and out, DFT/STFT, CQT, chroma, mel,
 * MFCC and onset strength as graphs, tempo and beats, chord vocabulary and MIR evaluation,
 * synthesized data, learned models, the CLI.
 *
 * @module @theorbo/music
 */

export { writeFileAtomic } from './files/atomic-write.ts';
export type { AtomicWriteHooks, AtomicWriteOptions } from './files/atomic-write.ts';
export { FileFormatError } from './files/file-format-error.ts';
export { SeededRandom, deriveSeed } from './random/seeded-random.ts';
export * from './audio/index.ts';
export * from './signal/index.ts';
export { covariance, pcaClosedForm, pcaGradientDescent, pcaWhiten, orderedReconstructionLoss, type Pca, type PcaDescentOptions } from './signal/pca.ts';
export * from './rhythm/index.ts';
export * from './chords/index.ts';
export * from './eval/index.ts';
export * from './plot/index.ts';
export * from './data/index.ts';
export * from './train/index.ts';
export * from './model/index.ts';
