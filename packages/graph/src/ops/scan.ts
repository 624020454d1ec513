// scan: a loop whose step is a graph (Theano's scan). The step graph, its placeholders
// and how each output feeds back live in a ScanBody; the outer graph holds one `scan`
// node per output of the loop, all with the same body and the same inputs:
//   inputs: [nSteps (int32 scalar), ...sequences [T', ...], ...initial values (one per
//            output with taps), ...non-sequences]
//   output k: [T, ...step shape] (kept 'all'), or the last step's value (kept 'last').
// Step t reads element t of each sequence (T' − 1 − t going backwards), each recurrent
// output's value at t + tap for each of its taps (negative; the initial value, oldest
// first, before step 0) and the non-sequences; it computes every output's value at t.
// The reference below runs the step graph once per step through the evaluator, and
// caches one run for the sibling nodes of the same loop.
// Left out: sequence taps other than 0, and taps ahead of the step (positive).

import { NDArray, sizeOf } from '../ndarray.ts';
import type { ScanAttrs, ScanBodyLike } from '../ops.ts';
import type { Variable } from '../graph.ts';
import { formatShape, type Dim } from '../type.ts';
import { fail, type GraphEvaluator, type OpDefs } from './def.ts';

/** One output of a loop: its step value and how it feeds back. */
export interface ScanOutput {
  /** Its value at the step, in terms of the step's placeholders. */
  readonly value: Variable;
  /** The earlier steps the step reads (negative, ascending), each through its placeholder; [] when it does not feed back. */
  readonly taps: readonly number[];
  readonly tapInputs: readonly Variable[];
  /** 'all': the outer node holds every step's value; 'last': only the last one (carried state). */
  readonly keep: 'all' | 'last';
}

let nextBody = 1;

export class ScanBody implements ScanBodyLike {
  readonly structuralKey = `scan${nextBody++}`;
  /**
   * The last run's inputs (with copies of their values: callers may change an array in
   * place between runs) and results, shared by the loop's sibling nodes.
   */
  private cache: { inputs: readonly NDArray[]; values: readonly ArrayLike<number>[]; outputs: NDArray[] } | undefined;

  constructor(
    /** Placeholders of the sequences' elements at the step. */
    readonly sequences: readonly Variable[],
    readonly outputs: readonly ScanOutput[],
    /** Placeholders of the values every step reads unchanged. */
    readonly nonSequences: readonly Variable[],
    readonly goBackwards: boolean,
    /** Steps of backpropagation through time (-1: all of them). */
    readonly truncateGradient: number,
    /** Outputs the user asked for; those after them carry hidden state (random streams, updates). */
    readonly userOutputs: number,
    /** For each hidden output, the shared variable whose update it computes. */
    readonly updateTargets: readonly Variable[],
    /** A name for debugprint and errors. */
    readonly name: string,
  ) {}

  /** Outputs that feed back (have taps), in output order: their initial values are inputs. */
  get recurrent(): number[] {
    return this.outputs.flatMap((output, k) => (output.taps.length > 0 ? [k] : []));
  }

  /** How far back output k reads (its initial value's length along the taps axis). */
  depth(k: number): number {
    const taps = this.outputs[k]!.taps;
    return taps.length === 0 ? 0 : -taps[0]!;
  }

  /** Splits a node's inputs: [nSteps, ...sequences, ...initials, ...nonSequences]. */
  split<V>(inputs: readonly V[]): { nSteps: V; sequences: V[]; initials: V[]; nonSequences: V[] } {
    const s = this.sequences.length;
    const r = this.recurrent.length;
    return { nSteps: inputs[0]!, sequences: inputs.slice(1, 1 + s), initials: inputs.slice(1 + s, 1 + s + r), nonSequences: inputs.slice(1 + s + r) };
  }

  /** Runs the loop on concrete inputs: every output's result (all steps, or the last). */
  run(inputs: readonly NDArray[], evaluate: GraphEvaluator): NDArray[] {
    const cached = this.cache;
    if (cached && cached.inputs.length === inputs.length && cached.inputs.every((input, i) => input === inputs[i] && sameValues(input.data, cached.values[i]!))) return cached.outputs;
    const { nSteps, sequences, initials, nonSequences } = this.split(inputs);
    const steps = nSteps.data[0]!;
    if (!(Number.isInteger(steps) && steps >= 0)) fail(`${this.name}: nSteps is ${steps}; it must be a non-negative integer`);
    sequences.forEach((sequence, j) => {
      if ((sequence.shape[0] ?? 0) < steps) fail(`${this.name}: sequence ${j} has ${sequence.shape[0]} elements, fewer than the ${steps} steps`);
    });
    // History of each recurrent output: its initial values, then one entry per step.
    const history = new Map<number, NDArray[]>();
    this.recurrent.forEach((k, r) => {
      const initial = initials[r]!;
      history.set(k, this.tapsAxis(k) ? rows(initial) : [initial]);
    });
    const collected: NDArray[][] = this.outputs.map(() => []);
    for (let t = 0; t < steps; t++) {
      const givens: [Variable, NDArray][] = [];
      sequences.forEach((sequence, j) => givens.push([this.sequences[j]!, row(sequence, this.goBackwards ? sequence.shape[0]! - 1 - t : t)]));
      this.outputs.forEach((output, k) => {
        const past = history.get(k);
        output.taps.forEach((tap, i) => givens.push([output.tapInputs[i]!, past![past!.length + tap]!]));
      });
      nonSequences.forEach((value, j) => givens.push([this.nonSequences[j]!, value]));
      const values = evaluate(this.outputs.map((output) => output.value), givens);
      values.forEach((value, k) => {
        history.get(k)?.push(value);
        if (this.outputs[k]!.keep === 'all') collected[k]!.push(value);
        else collected[k] = [value];
      });
    }
    const outputs = this.outputs.map((output, k) => {
      if (output.keep === 'all') return stack(collected[k]!, output.value, steps);
      // A loop of no steps leaves a carried state at its initial value.
      const last = collected[k]![0] ?? history.get(k)?.[history.get(k)!.length - 1];
      if (!last) fail(`${this.name}: output ${k} is kept 'last' but the loop ran no steps and it has no initial value`);
      return last;
    });
    this.cache = { inputs: [...inputs], values: inputs.map((input) => input.data.slice()), outputs };
    return outputs;
  }

  /** Whether output k's initial value has a leading taps axis (more than one tap, or a tap other than −1). */
  tapsAxis(k: number): boolean {
    const taps = this.outputs[k]!.taps;
    return !(taps.length === 1 && taps[0] === -1);
  }
}

function sameValues(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/** Row i of x along its first axis. */
function row(x: NDArray, i: number): NDArray {
  const shape = x.shape.slice(1);
  const size = sizeOf(shape);
  return new NDArray(x.dtype, shape, x.data.slice(i * size, (i + 1) * size));
}

const rows = (x: NDArray): NDArray[] => Array.from({ length: x.shape[0]! }, (_, i) => row(x, i));

function stack(values: readonly NDArray[], like: Variable, steps: number): NDArray {
  const shape = values[0]?.shape ?? like.shape.map((dim) => dim ?? 0);
  const size = sizeOf(shape);
  const out = NDArray.zeros(like.dtype, [steps, ...shape]);
  values.forEach((value, t) => {
    if (value.shape.join() !== shape.join()) fail(`the step's output ${like} changed shape between steps: ${formatShape(shape)} at step 0, ${formatShape(value.shape)} at step ${t}`);
    out.data.set(value.data, t * size);
  });
  return out;
}

export const scanDefs = {
  scan: {
    infer: (inputs, { body, output }: ScanAttrs, constants) => {
      const scan = body as ScanBody;
      const result = scan.outputs[output];
      if (!result) fail(`the loop has ${scan.outputs.length} outputs, not ${output + 1}`);
      const { nSteps } = scan.split(inputs);
      if (!nSteps || nSteps.ndim !== 0 || (nSteps.dtype !== 'int32' && nSteps.dtype !== 'uint32')) fail(`nSteps must be an integer scalar, not ${nSteps}`);
      const steps = constants[0]?.data[0];
      // A fed-back output has its initial value's shape: its sizes fill what the step's type leaves unknown.
      const recurrentIndex = scan.recurrent.indexOf(output);
      const initial = recurrentIndex >= 0 ? scan.split(inputs).initials[recurrentIndex] : undefined;
      const initialStep = initial ? (scan.tapsAxis(output) ? initial.shape.slice(1) : initial.shape) : undefined;
      const stepShape: readonly Dim[] = result.value.shape.map((size, axis) => size ?? initialStep?.[axis] ?? null);
      return { dtype: result.value.dtype, shape: result.keep === 'all' ? [steps ?? null, ...stepShape] : stepShape };
    },
    perform: (inputs, { body, output }, evaluate) => (body as ScanBody).run(inputs, evaluate)[output]!,
  },
} satisfies OpDefs<'scan'>;
