// scan, as in Theano: `fn` is called once, on placeholders, to build the step graph of a
// loop; scan returns the outputs of every step and the updates of shared variables the
// step makes (random streams drawn inside it, and updates `fn` returns).
//
//   const { outputs: [h] } = T.scan({
//     fn: (x, hPrev, w, u) => T.tanh(T.add(T.dot(x, w), T.dot(hPrev, u))),
//     sequences: xs,                 // [T, batch, in]: fn gets xs[t]
//     outputsInfo: [h0],             // fed back: fn gets h[t − 1] (h0 before step 0)
//     nonSequences: [w, u],
//   });                              // h: [T, batch, hidden]
//
// fn's arguments, in Theano's order: the sequences' elements at the step, then for each
// output with taps its values at those taps (in the order listed; `{ initial, taps:
// [-2, -1] }` holds the oldest first in initial's leading axis), then the non-sequences.
// Values the step reads from outside (weights used in fn without being listed) become
// non-sequences by themselves. fn returns one Variable, a list, or { outputs, updates }.

import { buildError, composite } from '../build.ts';
import { Constant, SharedVariable, tensor, Variable } from '../graph.ts';
import type { Updates } from '../evaluate.ts';
import { clone } from '../clone.ts';
import { ScanBody, type ScanOutput } from '../ops/scan.ts';
import { applyOp } from '../build.ts';
import { topologicalOrder } from '../traverse.ts';
import { asVariable, type TensorLike } from './convert.ts';
import { dim, type SizeLike } from './construct.ts';
import { minimum } from './elementwise.ts';

/** An output fed back to the next steps: its value before step 0, and the earlier steps it reads (default [-1]). */
export interface FeedBack {
  initial: TensorLike;
  taps?: readonly number[];
  /** 'last': the output holds only the last step's value (one step of memory), not every step's. */
  keep?: 'all' | 'last';
}

export type StepResult = Variable | readonly Variable[] | { outputs: Variable | readonly Variable[]; updates?: Updates };

export interface ScanOptions {
  /** The step: called once with placeholders, it returns the step's outputs. */
  fn: (...args: Variable[]) => StepResult;
  /** Tensors iterated along their first axis. */
  sequences?: TensorLike | readonly TensorLike[];
  /** Per output: null (not fed back), an initial value (taps [-1]), or { initial, taps }. */
  outputsInfo?: FeedBack | TensorLike | null | readonly (FeedBack | TensorLike | null)[];
  /** Values every step reads unchanged. */
  nonSequences?: TensorLike | readonly TensorLike[];
  /** The number of steps (default: the shortest sequence's length). */
  nSteps?: SizeLike;
  /** Iterate the sequences from their last element (outputs are still in step order). */
  goBackwards?: boolean;
  /** Backpropagation through time over only this many of the last steps (default: all). */
  truncateGradient?: number;
  name?: string;
}

export interface ScanResult {
  /** One Variable per output: [steps, ...step shape] (the step's shape for outputs kept 'last'). */
  outputs: Variable[];
  /** Shared variables the step updates (random streams, fn's updates): pass them to compile(). */
  updates: [SharedVariable, Variable][];
}

const listOf = <V>(value: V | readonly V[] | undefined): V[] => (value === undefined ? [] : Array.isArray(value) ? [...(value as readonly V[])] : [value as V]);

const isFeedBack = (value: unknown): value is FeedBack => typeof value === 'object' && value !== null && !(value instanceof Variable) && 'initial' in value;

const fail = (detail: string): never => {
  throw buildError('scan', detail);
};

/** A placeholder of the step: a symbolic input of `like`'s type without its leading `drop` axes. */
const placeholder = (like: Variable, drop: number, name: string): Variable => tensor(like.dtype, like.shape.slice(drop), name);

export function scan(options: ScanOptions): ScanResult {
  return composite('scan', () => buildScan(options));
}

function buildScan(options: ScanOptions): ScanResult {
  const name = options.name ?? 'scan';
  if (typeof options.fn !== 'function') fail('needs fn, the step function');
  // Sequences and their elements at the step.
  const sequences = listOf(options.sequences).map((sequence) => asVariable(sequence));
  sequences.forEach((sequence, j) => {
    if (sequence.ndim < 1) fail(`sequence ${j} is ${sequence.type}; a sequence needs a leading axis to iterate over`);
  });
  const sequenceInputs = sequences.map((sequence, j) => placeholder(sequence, 1, `${name}.sequence${j}[t]`));
  // Outputs fed back: initial values, taps and their placeholders.
  const infos = options.outputsInfo === undefined ? undefined : Array.isArray(options.outputsInfo) ? options.outputsInfo : [options.outputsInfo];
  const feedBack = (infos ?? []).map((info, k) => {
    if (info === null || info === undefined) return undefined;
    const { initial: given, taps = [-1], keep = 'all' } = isFeedBack(info) ? info : { initial: info as TensorLike, taps: [-1], keep: 'all' as const };
    if (keep !== 'all' && keep !== 'last') fail(`output ${k}'s keep must be 'all' or 'last', not '${String(keep)}'`);
    const initial = asVariable(given);
    if (taps.length === 0 || !taps.every((tap, i) => Number.isInteger(tap) && tap < 0 && (i === 0 || tap > taps[i - 1]!))) {
      fail(`output ${k}'s taps [${taps}] must be negative integers in ascending order (e.g. [-2, -1])`);
    }
    const leadingAxis = !(taps.length === 1 && taps[0] === -1);
    const depth = -taps[0]!;
    if (leadingAxis && (initial.ndim < 1 || (initial.shape[0] !== null && initial.shape[0]! < depth))) {
      fail(`output ${k} reads back ${depth} steps (taps [${taps}]), so its initial value needs a leading axis of at least ${depth} (oldest first), but it is ${initial.type}`);
    }
    const stateLike = leadingAxis ? placeholder(initial, 1, '') : initial;
    const tapInputs = taps.map((tap) => tensor(stateLike.dtype, stateLike.shape, `${name}.output${k}[t${tap}]`));
    // An initial value longer than the taps need: the step reads its last `depth` entries.
    const trimmed = leadingAxis && initial.shape[0] !== depth ? trimTo(initial, depth) : initial;
    return { initial: trimmed, taps, tapInputs, keep };
  });
  const nonSequences = listOf(options.nonSequences).map((value) => asVariable(value));
  const nonSequenceInputs = nonSequences.map((value, j) => placeholder(value, 0, `${name}.nonSequence${j}`));

  // The step graph, built once on the placeholders. Nodes made from here on (ids after
  // this mark) belong to the step: a random draw made inside fn is drawn again at every
  // step, one made outside is a value the step reads.
  const mark = tensor('int32', [], 'mark').id;
  const returned = options.fn(...sequenceInputs, ...feedBack.flatMap((entry) => entry?.tapInputs ?? []), ...nonSequenceInputs);
  const { outputs: stepOutputs, updates: stepUpdates } = normalize(returned);
  if (infos !== undefined && infos.length !== stepOutputs.length) {
    fail(`outputsInfo describes ${infos.length} outputs but fn returned ${stepOutputs.length}`);
  }
  stepOutputs.forEach((output, k) => {
    const entry = feedBack[k];
    if (!entry) return;
    const like = entry.tapInputs[0]!;
    const fits = output.dtype === like.dtype && output.ndim === like.ndim && output.shape.every((size, axis) => size === null || like.shape[axis] === null || size === like.shape[axis]);
    if (!fits) fail(`the step's output ${k} is ${output.type}, but it is fed back from an initial value of step type ${like.type}; they must have the same dtype and shape`);
  });

  // State the step carries besides its outputs: shared variables it updates (random
  // streams' default updates, fn's own updates), each through a placeholder.
  const placeholders = new Set<Variable>([...sequenceInputs, ...feedBack.flatMap((entry) => entry?.tapInputs ?? []), ...nonSequenceInputs]);
  const updates = new Map<SharedVariable, Variable>();
  for (const [target, value] of stepUpdates) updates.set(target, value);
  for (const variable of topologicalOrder([...stepOutputs, ...updates.values()], (v) => placeholders.has(v))) {
    if (!variable.owner || variable.id <= mark) continue;
    for (const input of variable.owner.inputs) {
      if (input instanceof SharedVariable && input.defaultUpdate && !updates.has(input)) updates.set(input, input.defaultUpdate);
    }
  }
  const hidden = [...updates.entries()].map(([target, value]) => ({ target, value, input: tensor(target.dtype, target.shape, `${name}.${target.name ?? 'state'}[t-1]`) }));
  const stateInputs = new Map<Variable, Variable>(hidden.map(({ target, input }) => [target, input]));

  // Everything else the step reads from outside becomes a non-sequence of its own.
  const inner = new Set<Variable>([...placeholders, ...stateInputs.keys()]);
  const roots = [...stepOutputs, ...hidden.map(({ value }) => value)];
  const stepDependent = new Set<Variable>();
  const order = topologicalOrder(roots, (v) => inner.has(v));
  for (const variable of order) {
    if (inner.has(variable) || variable.owner?.inputs.some((input) => inner.has(input) || stepDependent.has(input))) stepDependent.add(variable);
  }
  const implicit: Variable[] = [];
  const replacements = new Map<Variable, Variable>(stateInputs);
  const boundary = (variable: Variable) => {
    if (stepDependent.has(variable) || variable instanceof Constant || replacements.has(variable)) return;
    const stand = placeholder(variable, 0, `${name}.${variable.name ?? `outer${implicit.length}`}`);
    replacements.set(variable, stand);
    implicit.push(variable);
    nonSequenceInputs.push(stand);
  };
  for (const variable of order) if (stepDependent.has(variable)) for (const input of variable.owner?.inputs ?? []) if (!inner.has(input)) boundary(input);
  for (const root of roots) boundary(root);
  const cloned = clone(roots, replacements);

  const outputs: ScanOutput[] = [
    ...stepOutputs.map((_, k): ScanOutput => ({ value: cloned[k]!, taps: feedBack[k]?.taps ?? [], tapInputs: feedBack[k]?.tapInputs ?? [], keep: feedBack[k]?.keep ?? 'all' })),
    ...hidden.map(({ input }, h): ScanOutput => ({ value: cloned[stepOutputs.length + h]!, taps: [-1], tapInputs: [input], keep: 'last' })),
  ];
  const truncate = options.truncateGradient ?? -1;
  if (!(Number.isInteger(truncate) && (truncate === -1 || truncate >= 1))) fail(`truncateGradient must be a positive number of steps (or -1 for all), not ${truncate}`);
  const body = new ScanBody(sequenceInputs, outputs, nonSequenceInputs, options.goBackwards ?? false, truncate, stepOutputs.length, hidden.map(({ target }) => target), name);
  const initials = [...feedBack.flatMap((entry) => (entry ? [entry.initial] : [])), ...hidden.map(({ target }) => target as Variable)];
  const inputs = [stepCount(options.nSteps, sequences), ...sequences, ...initials, ...nonSequences, ...implicit];
  const nodes = outputs.map((_, k) => applyOp('scan', inputs, { body, output: k }));
  return {
    outputs: nodes.slice(0, stepOutputs.length),
    updates: hidden.map(({ target }, h) => [target, nodes[stepOutputs.length + h]!]),
  };
}

function normalize(returned: StepResult): { outputs: Variable[]; updates: [SharedVariable, Variable][] } {
  const isResult = typeof returned === 'object' && returned !== null && !(returned instanceof Variable) && !Array.isArray(returned);
  const outputs = listOf(isResult ? (returned as { outputs: Variable | readonly Variable[] }).outputs : (returned as Variable | readonly Variable[]));
  outputs.forEach((output, k) => {
    if (!(output instanceof Variable)) fail(`fn must return Variables, but its output ${k} is ${String(output)}`);
  });
  const given = isResult ? (returned as { updates?: Updates }).updates : undefined;
  const updates = given === undefined ? [] : given instanceof Map ? [...given.entries()] : [...(given as readonly (readonly [SharedVariable, Variable])[])].map(([a, b]) => [a, b] as [SharedVariable, Variable]);
  for (const [target, value] of updates) {
    if (!(target instanceof SharedVariable)) fail(`an update target must be a shared variable, but ${target} is a ${(target as Variable).kind}`);
    if (value.dtype !== target.dtype || value.ndim !== target.ndim) fail(`the update of ${target.name ?? 'a shared variable'} (${target.type}) has type ${value.type}`);
  }
  return { outputs, updates };
}

/** The last `depth` entries of a leading axis. */
function trimTo(initial: Variable, depth: number): Variable {
  return composite('scan', () => {
    const total = initial.shape[0] ?? dim(initial, 0);
    return typeof total === 'number'
      ? applyOp('subtensor', [initial], { items: [{ kind: 'slice', start: total - depth, stop: null, step: 1 }] })
      : applyOp('subtensor', [initial], { items: [{ kind: 'slice', start: -depth, stop: null, step: 1 }] });
  });
}

/** The number of steps as an int32 scalar: nSteps, or the shortest sequence's length. */
function stepCount(nSteps: SizeLike | undefined, sequences: readonly Variable[]): Variable {
  if (nSteps !== undefined) {
    const steps = asVariable(nSteps, 'int32');
    if (steps.ndim !== 0 || (steps.dtype !== 'int32' && steps.dtype !== 'uint32')) fail(`nSteps must be an integer scalar, not ${steps.type}`);
    if (steps instanceof Constant && !(steps.value.data[0]! >= 0)) fail(`nSteps is ${steps.value.data[0]}; it must be non-negative`);
    for (const sequence of sequences) {
      const length = sequence.shape[0];
      if (steps instanceof Constant && length !== null && length! < steps.value.data[0]!) fail(`nSteps is ${steps.value.data[0]} but a sequence has only ${length} elements (${sequence.type})`);
    }
    return steps;
  }
  if (sequences.length === 0) fail('needs sequences to iterate over or nSteps');
  const lengths = sequences.map((sequence) => sequence.shape[0] ?? dim(sequence, 0));
  const known = lengths.filter((length): length is number => typeof length === 'number');
  if (known.length === lengths.length) return asVariable(Math.min(...known), 'int32');
  return (lengths as (number | Variable)[]).map((length) => asVariable(length, 'int32')).reduce((a, b) => minimum(a, b));
}

