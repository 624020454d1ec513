// Checkpoints of a training run: `<dir>/checkpoint.npz` holds every shared variable the
// compiled functions update — the parameters, the update rule's state (velocities,
// moments, Adam's step counter) and the random streams' `random_state` — plus the best
// parameters so far, and a member `checkpoint.json` with the rest (epochs done, history,
// best value, patience counter, seed, the options that must match on resume). That one
// npz is the commit point, written atomically; `<dir>/checkpoint.json` beside it is a
// copy for people and is not read back, so a crash between the two writes loses nothing.
// Arrays are named state_<i>_<name> and best_<i>_<name>: readable with numpy, and matched
// on resume by position, after checking that names, dtypes and shapes agree.
// Left out: keeping several generations, and checkpoints more often than once an epoch.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DType, NDArray, SharedVariable } from '@theorbo/graph';
import { writeFileAtomic, type AtomicWriteHooks } from '../files/atomic-write.ts';
import { readNpz, saveNpz, type NamedArrays } from './npz.ts';

export const checkpointFormat = 'theorbo-checkpoint';
export const checkpointVersion = 1;

export interface StateEntry {
  name: string;
  dtype: DType;
  shape: number[];
}

export interface EpochRecord {
  /** Epochs done after this one (1 for the first). */
  epoch: number;
  learningRate: number;
  /** Mean loss and metrics over the epoch's training batches (weighted by batch size). */
  train: Record<string, number>;
  /** Loss and metrics over the whole validation set, if there is one. */
  validation?: Record<string, number>;
  /** Whether the monitored validation value improved on the best so far. */
  improved: boolean;
  seconds: number;
}

export interface BestRecord {
  epoch: number;
  monitor: string;
  value: number;
}

export interface CheckpointRecord {
  format: typeof checkpointFormat;
  version: typeof checkpointVersion;
  epochsDone: number;
  /** The run ended (all epochs, or early stopping); its state then holds the final parameters. */
  finished: boolean;
  stoppedEarly: boolean;
  state: StateEntry[];
  /** Positions in `state` of the model's params (the best_ arrays follow this order). */
  params: number[];
  best: BestRecord | null;
  epochsWithoutImprovement: number;
  history: EpochRecord[];
  /** The options that decide the computation; resuming with different ones is refused. */
  options: Record<string, unknown>;
  /** Whatever the caller passed as `config` (e.g. the model's description). */
  config?: unknown;
}

export interface Checkpoint {
  record: CheckpointRecord;
  state: NDArray[];
  best: NDArray[] | undefined;
}

const safe = (name: string): string => name.replace(/[^A-Za-z0-9_.-]/g, '_');

export function describeState(variables: readonly SharedVariable[]): StateEntry[] {
  return variables.map((variable, i) => ({ name: variable.name ?? `shared${i}`, dtype: variable.dtype, shape: [...(variable.shape as number[])] }));
}

export const checkpointPaths = (dir: string): { npz: string; json: string } => ({ npz: join(dir, 'checkpoint.npz'), json: join(dir, 'checkpoint.json') });

export function writeCheckpoint(dir: string, checkpoint: Checkpoint, hooks?: AtomicWriteHooks): void {
  const { record, state, best } = checkpoint;
  const arrays: NamedArrays = {};
  state.forEach((value, i) => { arrays[`state_${i}_${safe(record.state[i]!.name)}`] = value; });
  best?.forEach((value, k) => { arrays[`best_${k}_${safe(record.state[record.params[k]!]!.name)}`] = value; });
  const json = `${JSON.stringify(record, null, 2)}\n`;
  const paths = checkpointPaths(dir);
  saveNpz(paths.npz, arrays, { otherFiles: { 'checkpoint.json': new TextEncoder().encode(json) }, hooks });
  writeFileAtomic(paths.json, json, { operation: 'writeCheckpoint', createDirectory: true, hooks });
}

/** The checkpoint in `dir`, or undefined if there is none; a damaged one is an error naming the file. */
export function readCheckpoint(dir: string): Checkpoint | undefined {
  const { npz } = checkpointPaths(dir);
  if (!existsSync(npz)) return undefined;
  const { arrays, otherFiles } = readNpz(npz);
  const jsonBytes = otherFiles['checkpoint.json'];
  if (!jsonBytes) throw new Error(`resume: ${npz} has no checkpoint.json member; it was not written by train()`);
  let record: CheckpointRecord;
  try {
    record = JSON.parse(new TextDecoder().decode(jsonBytes)) as CheckpointRecord;
  } catch (error) {
    throw new Error(`resume: the checkpoint.json member of ${npz} is not valid JSON (${(error as Error).message})`, { cause: error });
  }
  if (record.format !== checkpointFormat || record.version !== checkpointVersion) {
    throw new Error(`resume: ${npz} holds format ${String(record.format)} version ${String(record.version)}, not ${checkpointFormat} version ${checkpointVersion}`);
  }
  const take = (name: string): NDArray => {
    const value = arrays[name];
    if (!value) throw new Error(`resume: ${npz} lacks the array '${name}' that its record lists`);
    return value;
  };
  const state = record.state.map((entry, i) => take(`state_${i}_${safe(entry.name)}`));
  const hasBest = Object.keys(arrays).some((name) => name.startsWith('best_'));
  const best = hasBest ? record.params.map((position, k) => take(`best_${k}_${safe(record.state[position]!.name)}`)) : undefined;
  return { record, state, best };
}

/** Checks that a checkpoint's state fits the variables of the run being resumed, naming the first mismatch. */
export function checkStateMatches(where: string, saved: readonly StateEntry[], current: readonly StateEntry[]): void {
  if (saved.length !== current.length) {
    throw new Error(`resume: ${where} holds ${saved.length} shared variables but this run updates ${current.length} (${current.map((entry) => entry.name).join(', ')}); was the model or the update rule changed?`);
  }
  saved.forEach((entry, i) => {
    const now = current[i]!;
    if (entry.name !== now.name || entry.dtype !== now.dtype || entry.shape.join(',') !== now.shape.join(',')) {
      throw new Error(`resume: shared variable ${i} of ${where} is ${entry.name} ${entry.dtype}[${entry.shape.join(',')}] but this run has ${now.name} ${now.dtype}[${now.shape.join(',')}]; was the model changed?`);
    }
  });
}
