// Training: the generic loop (train), its update graph, schedules, dropout, augmentation,
// checkpoints, and numpy-readable .npz files for weights. The atomic writer they save with
// and the seeded random streams are shared with the rest of the package (files/, random/).

export { train } from './train.ts';
export type { AugmentHook, EarlyStopping, TrainableModel, TrainingData, TrainOptions, TrainResult } from './train.ts';
export { buildTrainingUpdates, checkOptimizerOptions, defaultLearningRate, updateRules } from './updates.ts';
export type { OptimizerOptions, UpdateRule } from './updates.ts';
export { learningRateAt, checkSchedule } from './schedule.ts';
export type { Schedule, SchedulePosition } from './schedule.ts';
export { dropout, trainingFlag } from './dropout.ts';
export { addNoise, composeAugmentations, noiseAugmentation, pitchShiftAugmentation, rotateBins, transposeLabels } from './augment.ts';
export type { NoiseLevel, PitchShiftOptions } from './augment.ts';
export { batchesPerEpoch, epochBatches, exampleCount, takeRows } from './batches.ts';
export type { LastBatch } from './batches.ts';
export { checkpointPaths, readCheckpoint, writeCheckpoint } from './checkpoint.ts';
export type { BestRecord, Checkpoint, CheckpointRecord, EpochRecord, StateEntry } from './checkpoint.ts';
export { ProgressReporter, StepProgress } from './progress.ts';
export type { ProgressOptions, ProgressStream } from './progress.ts';
export { decodeNpz, encodeNpz, loadNpz, readNpz, saveNpz } from './npz.ts';
export type { NamedArrays, NpzContents, SaveNpzOptions } from './npz.ts';
export { decodeNpy, encodeNpy, npyHeader } from './npy.ts';
export { assignSavedWeights, assignWeights, decodeModel, loadModel, modelPaths, saveModel } from './model-files.ts';
export type { LoadModelOptions, SavedModel } from './model-files.ts';
export { decodeGraphFiles, encodeGraphFiles, graphValuesFile } from './graph-codec.ts';
export type { GraphFileNames } from './graph-codec.ts';
export { graphPaths, loadGraphFiles, saveGraphFiles } from './graph-files.ts';
export type { SaveGraphFilesOptions } from './graph-files.ts';
