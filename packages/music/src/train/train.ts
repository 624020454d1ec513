// train(): the training loop, for any model given as a graph — parameters, inputs, a
// scalar loss, optional scalar metrics and a dropout flag — and host data with one
// NDArray per input. It compiles one training step (loss, metrics and every update) and
// one evaluation function on the chosen device, then runs epochs of seeded-shuffled
// minibatches, validates after each, keeps the best parameters for the monitored
// validation value, stops early after `patience` epochs without improvement, and writes
// an atomic checkpoint after every epoch.
// Determinism, which is what makes a killed-and-resumed run end bit-for-bit where an
// uninterrupted one does: the shuffle and augmentation streams are functions of (seed,
// epoch, batch); the learning rate is a function of (epoch, step); the device's random
// streams, the update rule's state and the parameters are all shared variables, read
// back with readShared into each checkpoint and set from it on resume.
// Metrics must be means over the batch: epoch figures are their batch-size-weighted means.
// Left out: multi-device training, gradient accumulation, mixed precision, evaluation
// during an epoch.

import * as T from '@theorbo/graph';
import { NDArray, SharedVariable, type Variable } from '@theorbo/graph';
import { acquireDevice, compile, readShared, type AcquiredDevice, type CompiledFunction, type DeviceKind } from '@theorbo/codegen';
import type { AtomicWriteHooks } from '../files/atomic-write.ts';
import { batchesPerEpoch, epochBatches, exampleCount, takeRows, type LastBatch } from './batches.ts';
import { checkpointPaths, checkStateMatches, describeState, readCheckpoint, writeCheckpoint, type BestRecord, type CheckpointRecord, type EpochRecord } from './checkpoint.ts';
import { ProgressReporter, type ProgressOptions } from './progress.ts';
import { SeededRandom } from '../random/seeded-random.ts';
import { checkSchedule, learningRateAt, type Schedule } from './schedule.ts';
import { buildTrainingUpdates, defaultLearningRate, type OptimizerOptions } from './updates.ts';

/** A model as train() sees it: graphs and shared variables, nothing model-specific. */
export interface TrainableModel {
  /** The parameters to train (float shared variables). */
  params: SharedVariable[];
  /** The symbolic inputs, in the order of the data arrays (e.g. features, labels). */
  inputs: Variable[];
  /** A scalar loss, the mean over the batch. */
  loss: Variable;
  /** Scalar metrics, each a mean over the batch (e.g. accuracy). */
  metrics?: Record<string, Variable>;
  /** The model's output, for callers that compile their own prediction function. */
  predictions?: Variable;
  /** The dropout flag (trainingFlag()): 1 in the training step, 0 in evaluation. */
  training?: SharedVariable;
}

export interface TrainingData {
  /** One array per model input, examples along axis 0. */
  train: NDArray[];
  validation?: NDArray[];
}

/** A per-batch transformation of the training inputs (e.g. pitch shifting and noise). */
export type AugmentHook = (batch: NDArray[], random: SeededRandom) => NDArray[];

export interface EarlyStopping {
  /** 'loss' or a metric's name (default 'loss'). */
  monitor?: string;
  /** Default 'min' for 'loss', 'max' for metrics. */
  mode?: 'min' | 'max';
  /** Epochs without improvement before stopping. */
  patience: number;
  /** The smallest change that counts as an improvement (default 0). */
  minDelta?: number;
}

export interface TrainOptions extends OptimizerOptions {
  model: TrainableModel;
  data: TrainingData;
  epochs: number;
  batchSize: number;
  /** 'keep' (default): the last, smaller batch runs as its own compiled shape; 'drop': it is skipped. */
  lastBatch?: LastBatch;
  /** Shuffle the training examples each epoch (default true). */
  shuffle?: boolean;
  /** Seeds the shuffles and the augmentation streams (default 0); the model's RandomStreams have their own seeds. */
  seed?: number;
  schedule?: Schedule;
  /** Validation monitoring; needs data.validation. */
  earlyStopping?: EarlyStopping;
  /** Set the params to the best validation epoch's at the end (default: true when earlyStopping is given). */
  restoreBest?: boolean;
  augment?: AugmentHook;
  /** A device kind or an acquired device (default: the device chain's best). */
  device?: DeviceKind | AcquiredDevice;
  /** Batch size of the evaluation function (default batchSize). */
  evaluationBatchSize?: number;
  /** Where checkpoint.npz and checkpoint.json go after every epoch. */
  checkpointDir?: string;
  /** Continue from checkpointDir's checkpoint, if there is one; a finished run continues if `epochs` is more than it ran and it did not stop early. */
  resume?: boolean;
  /** Stop, as if killed, once this many epochs are done in all (counting those before a resume). */
  stopAfterEpochs?: number;
  /** Show progress on stderr (default true); false for tests and quiet tools. */
  progress?: boolean | ProgressOptions;
  /** Called after each epoch's checkpoint; awaited, so it may read parameters with readShared. */
  onEpoch?: (record: EpochRecord) => void | Promise<void>;
  /** Saved in the checkpoints' record, for the caller's use (e.g. the model's configuration). */
  config?: unknown;
  /** Fault injection for the checkpoint writes (tests). */
  checkpointHooks?: AtomicWriteHooks;
}

export interface TrainResult {
  history: EpochRecord[];
  epochsDone: number;
  stoppedEarly: boolean;
  /** Stopped by stopAfterEpochs before the run's end. */
  interrupted: boolean;
  /** Epochs run by this call (fewer than epochsDone after a resume). */
  epochsRunNow: number;
  best: BestRecord | null;
  device: AcquiredDevice;
}

const fail = (detail: string): never => {
  throw new Error(`train: ${detail}`);
};

function checkOptions(options: TrainOptions): void {
  const { model, data } = options;
  if (!model || !Array.isArray(model.params) || !Array.isArray(model.inputs) || !(model.loss instanceof T.Variable)) fail('the model must give params, inputs and a loss Variable');
  if (model.loss.ndim !== 0) fail(`the loss must be a scalar, but it is ${model.loss.type}; take the mean over the batch`);
  for (const [name, metric] of Object.entries(model.metrics ?? {})) {
    if (!(metric instanceof T.Variable) || metric.ndim !== 0) fail(`metric '${name}' must be a scalar Variable (a mean over the batch)`);
    if (name === 'loss') fail(`a metric may not be called 'loss'; that name is the loss's`);
  }
  if (!Number.isInteger(options.epochs) || options.epochs < 1) fail(`epochs must be a positive whole number, not ${options.epochs}`);
  if (!Number.isInteger(options.batchSize) || options.batchSize < 1) fail(`batchSize must be a positive whole number, not ${options.batchSize}`);
  for (const [which, arrays] of [['training', data.train], ['validation', data.validation]] as const) {
    if (arrays === undefined) continue;
    if (arrays.length !== model.inputs.length) fail(`the ${which} data has ${arrays.length} arrays but the model has ${model.inputs.length} inputs (${model.inputs.map((input) => input.name ?? input.type).join(', ')})`);
    exampleCount(arrays, `train: the ${which} data`);
  }
  const trainCount = data.train[0]!.shape[0]!;
  if ((options.lastBatch ?? 'keep') === 'drop' && trainCount < options.batchSize) fail(`with lastBatch 'drop', ${trainCount} training examples make no full batch of ${options.batchSize}`);
  const stopping = options.earlyStopping;
  if (stopping) {
    if (!data.validation) fail('early stopping needs data.validation');
    if (!Number.isInteger(stopping.patience) || stopping.patience < 1) fail(`early stopping's patience must be a positive whole number of epochs, not ${stopping.patience}`);
    const monitor = stopping.monitor ?? 'loss';
    if (monitor !== 'loss' && !(monitor in (model.metrics ?? {}))) fail(`early stopping monitors '${monitor}', which is neither 'loss' nor one of the metrics (${Object.keys(model.metrics ?? {}).join(', ') || 'none'})`);
  }
  if (options.resume && !options.checkpointDir) fail('resume needs checkpointDir');
  if (options.schedule) checkSchedule(options.schedule);
}

/** The options that decide the computation, recorded in checkpoints and compared on resume. */
function fingerprint(options: TrainOptions): Record<string, unknown> {
  const rule = options.rule ?? 'adam';
  return {
    rule, learningRate: options.learningRate ?? defaultLearningRate(rule), momentum: options.momentum ?? null,
    beta1: options.beta1 ?? null, beta2: options.beta2 ?? null, epsilon: options.epsilon ?? null,
    weightDecay: options.weightDecay ?? 0, l1: options.l1?.weight ?? 0, maxNorm: options.maxNorm?.limit ?? null,
    clipGlobalNorm: options.clipGlobalNorm ?? null, batchSize: options.batchSize, lastBatch: options.lastBatch ?? 'keep',
    shuffle: options.shuffle ?? true, seed: options.seed ?? 0, schedule: options.schedule ?? { kind: 'constant' },
    augment: options.augment !== undefined, earlyStopping: options.earlyStopping ?? null,
    // A cosine schedule's rate depends on the run's length.
    ...(options.schedule?.kind === 'cosine' ? { epochs: options.epochs } : {}),
  };
}

/** Calls a compiled function and returns its scalar outputs as numbers. */
async function scalars(fn: CompiledFunction, args: (NDArray | number)[]): Promise<number[]> {
  const outputs = await fn(...args);
  return outputs.map((output) => (output as NDArray).data[0]!);
}

export async function train(options: TrainOptions): Promise<TrainResult> {
  checkOptions(options);
  const { model, data } = options;
  const metricNames = Object.keys(model.metrics ?? {});
  const names = ['loss', ...metricNames];
  const outputs = [model.loss, ...metricNames.map((name) => model.metrics![name]!)];
  const device = typeof options.device === 'object' ? options.device : await acquireDevice(options.device ? { prefer: options.device } : {});

  const learningRate = T.scalar('learning_rate');
  const updates = buildTrainingUpdates(model.loss, model.params, options, learningRate);
  const flagValue = (value: number): [Variable, Variable][] => (model.training ? [[model.training, T.scalarConstant(value, model.training.dtype)]] : []);
  const step = compile({ inputs: [...model.inputs, learningRate], outputs, updates, givens: flagValue(1), device, allowInputDowncast: true });
  const evaluate = compile({ inputs: model.inputs, outputs, givens: flagValue(0), device, allowInputDowncast: true });

  // Everything a checkpoint must hold: the update targets, then the random streams the
  // two functions advance through their default updates.
  const state: SharedVariable[] = updates.map(([target]) => target);
  for (const variable of T.topologicalOrder([...outputs, ...updates.map(([, value]) => value)])) {
    if (variable instanceof SharedVariable && variable.defaultUpdate && !state.includes(variable)) state.push(variable);
  }
  const paramPositions = model.params.map((param) => state.indexOf(param));
  const seed = options.seed ?? 0;
  const lastBatch = options.lastBatch ?? 'keep';
  const trainCount = data.train[0]!.shape[0]!;
  const perEpoch = batchesPerEpoch(trainCount, options.batchSize, lastBatch);
  const baseRate = options.learningRate ?? defaultLearningRate(options.rule ?? 'adam');
  const stopping = options.earlyStopping;
  const monitor = stopping?.monitor ?? 'loss';
  const mode = stopping?.mode ?? (monitor === 'loss' ? 'min' : 'max');
  const restoreBest = options.restoreBest ?? stopping !== undefined;

  let history: EpochRecord[] = [];
  let best: BestRecord | null = null;
  let bestParams: NDArray[] | undefined;
  let waited = 0;
  let epochsDone = 0;
  let stoppedEarly = false;

  const record = (finished: boolean): CheckpointRecord => ({
    format: 'theorbo-checkpoint', version: 1, epochsDone, finished, stoppedEarly, state: describeState(state), params: paramPositions,
    best, epochsWithoutImprovement: waited, history, options: fingerprint(options), config: options.config,
  });
  const saveCheckpoint = async (finished: boolean): Promise<void> => {
    if (!options.checkpointDir) return;
    const values: NDArray[] = [];
    for (const variable of state) values.push(await readShared(variable));
    writeCheckpoint(options.checkpointDir, { record: record(finished), state: values, best: bestParams }, options.checkpointHooks);
  };

  if (options.resume) {
    const saved = readCheckpoint(options.checkpointDir!);
    if (saved) {
      const where = checkpointPaths(options.checkpointDir!).npz;
      checkStateMatches(where, saved.record.state, describeState(state));
      const now = fingerprint(options);
      const changed = Object.keys({ ...now, ...saved.record.options }).filter((key) => JSON.stringify(now[key]) !== JSON.stringify(saved.record.options[key]));
      if (changed.length > 0) fail(`cannot resume from ${where}: these options differ from the checkpoint's: ${changed.map((key) => `${key} (was ${JSON.stringify(saved.record.options[key])}, now ${JSON.stringify(now[key])})`).join('; ')}`);
      state.forEach((variable, i) => variable.set(saved.state[i]!));
      ({ history, best, epochsDone, stoppedEarly } = saved.record);
      waited = saved.record.epochsWithoutImprovement;
      bestParams = saved.best;
      // A finished run is continued only when asked for more epochs than it ran and it did
      // not stop early; it continues from the parameters it saved (the best ones, where
      // restoreBest put them back), with the update rule's state of its last epoch.
      if (saved.record.finished && (stoppedEarly || epochsDone >= options.epochs)) {
        return { history, epochsDone, stoppedEarly, interrupted: false, epochsRunNow: 0, best, device };
      }
    }
  }

  const firstEpoch = epochsDone;
  const showProgress = options.progress ?? true;
  const progress = showProgress === false ? undefined : new ProgressReporter(options.epochs, (options.epochs - firstEpoch) * perEpoch, showProgress === true ? {} : showProgress);
  progress?.note(`training on ${device.kind}${firstEpoch > 0 ? `, resumed after epoch ${firstEpoch}` : ''}`);
  const accuracyName = metricNames.includes('accuracy') ? 'accuracy' : metricNames[0];

  while (epochsDone < options.epochs) {
    if (options.stopAfterEpochs !== undefined && epochsDone >= options.stopAfterEpochs) {
      progress?.finish();
      await hostCopies(state);
      return { history, epochsDone, stoppedEarly, interrupted: true, epochsRunNow: epochsDone - firstEpoch, best, device };
    }
    const epoch = epochsDone;
    const started = performance.now();
    const totals = new Float64Array(names.length);
    let seen = 0;
    let rate = baseRate;
    const batches = epochBatches(trainCount, options.batchSize, lastBatch, seed, epoch, options.shuffle ?? true);
    // One step in flight: the next batch is prepared (and its step issued) while the device
    // runs the previous one, whose loss is read after. Steps still run in order. (A loss
    // that is not finite stops the run one step later than it was computed; the
    // checkpoint on disk is the last epoch's either way.)
    interface InFlight { values: Promise<number[]>; b: number; rate: number; rows: number }
    const settle = async ({ values: pending, b, rate: stepRate, rows }: InFlight): Promise<void> => {
      const values = await pending;
      if (!Number.isFinite(values[0])) fail(`the training loss became ${values[0]} in epoch ${epoch + 1}, batch ${b + 1} (learning rate ${stepRate}); lower the learning rate or clip the gradients (clipGlobalNorm)`);
      values.forEach((value, k) => { totals[k]! += value * rows; });
      seen += rows;
      progress?.batch(epoch + 1, b + 1, batches.length, totals[0]! / seen, accuracyName === undefined ? undefined : totals[names.indexOf(accuracyName)]! / seen);
    };
    let inFlight: InFlight | undefined;
    for (const [b, indices] of batches.entries()) {
      let batch = data.train.map((array) => takeRows(array, indices));
      if (options.augment) batch = checkAugmented(options.augment(batch, SeededRandom.derive(seed, 'augment', epoch, b)), batch);
      rate = learningRateAt(baseRate, options.schedule ?? { kind: 'constant' }, { epoch, step: epoch * perEpoch + b, totalSteps: options.epochs * perEpoch });
      const values = scalars(step, [...batch, rate]);
      values.catch(() => {}); // awaited below, after the previous step's
      if (inFlight) await settle(inFlight);
      inFlight = { values, b, rate, rows: indices.length };
    }
    if (inFlight) await settle(inFlight);
    const trainFigures = Object.fromEntries(names.map((name, k) => [name, totals[k]! / seen]));
    const validation = data.validation ? await evaluateAll(evaluate, data.validation, options.evaluationBatchSize ?? options.batchSize, names) : undefined;
    epochsDone = epoch + 1;

    let improved = false;
    if (validation) {
      const value = validation[monitor]!;
      const margin = stopping?.minDelta ?? 0;
      improved = best === null || (mode === 'min' ? value < best.value - margin : value > best.value + margin);
      if (improved) {
        best = { epoch: epochsDone, monitor, value };
        bestParams = [];
        for (const param of model.params) bestParams.push(copyOf(await readShared(param)));
        waited = 0;
      } else {
        waited++;
      }
    }
    const entry: EpochRecord = { epoch: epochsDone, learningRate: rate, train: trainFigures, validation, improved, seconds: (performance.now() - started) / 1000 };
    history = [...history, entry];
    stoppedEarly = stopping !== undefined && waited >= stopping.patience;
    const finished = stoppedEarly || epochsDone === options.epochs;
    if (finished && restoreBest && bestParams) model.params.forEach((param, k) => param.set(bestParams![k]!));
    await saveCheckpoint(finished);
    progress?.epoch(summarize(entry, options.epochs));
    await options.onEpoch?.(entry);
    if (stoppedEarly) break;
  }
  progress?.finish();
  await hostCopies(state);
  return { history, epochsDone, stoppedEarly, interrupted: false, epochsRunNow: epochsDone - firstEpoch, best, device };
}

/** Reads the device's values back so that `get()` works on every trained variable after train() returns. */
async function hostCopies(variables: readonly SharedVariable[]): Promise<void> {
  for (const variable of variables) await readShared(variable);
}

/** Loss and metrics over a whole data set, in order, weighted by batch size. */
async function evaluateAll(evaluate: CompiledFunction, arrays: readonly NDArray[], batchSize: number, names: readonly string[]): Promise<Record<string, number>> {
  const count = arrays[0]!.shape[0]!;
  const totals = new Float64Array(names.length);
  for (const indices of epochBatches(count, batchSize, 'keep', 0, 0, false)) {
    const values = await scalars(evaluate, arrays.map((array) => takeRows(array, indices)));
    values.forEach((value, k) => { totals[k]! += value * indices.length; });
  }
  return Object.fromEntries(names.map((name, k) => [name, totals[k]! / count]));
}

function checkAugmented(augmented: NDArray[], original: NDArray[]): NDArray[] {
  if (!Array.isArray(augmented) || augmented.length !== original.length) fail(`the augment hook must return ${original.length} arrays, one per model input, but returned ${Array.isArray(augmented) ? augmented.length : typeof augmented}`);
  augmented.forEach((array, i) => {
    if (!(array instanceof NDArray) || array.shape[0] !== original[i]!.shape[0]) fail(`the augment hook's array ${i} must be an NDArray with ${original[i]!.shape[0]} examples along axis 0`);
  });
  return augmented;
}

const copyOf = (array: NDArray): NDArray => new NDArray(array.dtype, array.shape, array.data.slice());

function summarize(entry: EpochRecord, epochs: number): string {
  const figures = (values: Record<string, number>): string => Object.entries(values).map(([name, value]) => `${name} ${value.toFixed(4)}`).join(' ');
  return `epoch ${entry.epoch}/${epochs} train ${figures(entry.train)}${entry.validation ? ` | validation ${figures(entry.validation)}${entry.improved ? ' *' : ''}` : ''} (${entry.seconds.toFixed(1)} s)`;
}
