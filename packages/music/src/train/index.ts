// Training: the generic loop (train), its update graph, schedules, dropout, augmentation,
// checkpoints, and numpy-readable .npz files for weights. writeFileAtomic is left out of
// this barrel because the audio barrel exports a writer of the same name; import it from
// './atomic-file.ts' inside the package.

export { train } from './train.ts';
export type { AugmentHook, EarlyStopping, TrainableModel, TrainingData, TrainOptions, TrainResult } from './train.ts';
export { buildTrainingUpdates, checkOptimizerOptions, defaultLearningRate, updateRules } from './updates.ts';
export type { OptimizerOptions, UpdateRule } from './updates.ts';
export { learningRateAt, checkSchedule } from './schedule.ts';
export type { Schedule, SchedulePosition } from './schedule.ts';
export { dropout, trainingFlag } from './dropout.ts';
export { addNoise, composeAugmentations, noiseAugmentation, pitchShiftAugmentation, rotateBins, transposeLabels } from './augment.ts';
export type { NoiseLevel, PitchShiftOptions } from './augment.ts';
export { TrainingRandom, hashSeed } from './random.ts';
export { batchesPerEpoch, epochBatches, exampleCount, takeRows } from './batches.ts';
export type { LastBatch } from './batches.ts';
export { checkpointPaths, readCheckpoint, writeCheckpoint } from './checkpoint.ts';
export type { BestRecord, Checkpoint, CheckpointRecord, EpochRecord, StateEntry } from './checkpoint.ts';
export { ProgressReporter } from './progress.ts';
export type { ProgressOptions, ProgressStream } from './progress.ts';
export { decodeNpz, encodeNpz, loadNpz, readNpz, saveNpz } from './npz.ts';
export type { NamedArrays, NpzContents, SaveNpzOptions } from './npz.ts';
export { decodeNpy, encodeNpy, npyHeader } from './npy.ts';
export { assignWeights, loadModel, modelPaths, saveModel } from './model-files.ts';
export type { SavedModel } from './model-files.ts';
export type { AtomicWriteHooks } from './atomic-file.ts';
