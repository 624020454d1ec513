// The VJP of scan: backpropagation through time, itself a scan, so that it compiles like
// any loop and can be differentiated again. The backward loop runs over the forward
// steps in reverse; at step t it recomputes the forward step from the saved history
// (each recurrent output's values at t + tap), takes the step's VJP with the adjoint of
// the output being differentiated, and carries:
//  - for each recurrent output with taps down to −m, m pending adjoints (of its values at
//    t, t − 1, …, t − m + 1): the first is added to the output's adjoint at t, the step's
//    gradients with respect to its taps are added to the rest, shifted by one;
//  - one accumulator per non-sequence, summing its gradient over the steps.
// The sequences' gradients are the backward loop's per-step outputs, reversed; the
// initial values' gradients are the carries after the last backward step (oldest first);
// the non-sequences', the accumulators. An output kept 'last' starts its carry at the
// incoming gradient instead of reading a gradient sequence. Outputs kept 'last' have no
// saved history: a second loop keeping every step recomputes it (second-order gradients
// through the backward loop's own accumulators take this path).
// truncateGradient n runs the backward loop over the last n steps only; earlier steps and
// the initial values then get no gradient, as in Theano.

import * as T from '@theorbo/graph';
import { ScanBody, type Variable } from '@theorbo/graph';
import type { VjpContext, VjpTable } from './rule.ts';

/** The loop's node for output i over the same inputs: a sibling, or one of a body that keeps every step. */
function historyOf(body: ScanBody, inputs: readonly Variable[]): (i: number) => Variable {
  const keepsAll = body.recurrent.every((i) => body.outputs[i]!.keep === 'all');
  const history = keepsAll ? body : new ScanBody(body.sequences, body.outputs.map((output) => ({ ...output, keep: 'all' as const })), body.nonSequences, body.goBackwards, body.truncateGradient, body.userOutputs, body.updateTargets, `${body.name} (history)`);
  const nodes = new Map<number, Variable>();
  return (i) => {
    let node = nodes.get(i);
    if (!node) nodes.set(i, (node = T.applyOp('scan', inputs, { body: history, output: i })));
    return node;
  };
}

/** The values of output i at t + tap for t = 0 … T − 1, from its initial value and its history [T, ...]. */
function shifted(body: ScanBody, i: number, initial: Variable, history: Variable, tap: number): Variable {
  const depth = body.depth(i);
  const extended = T.concat([body.tapsAxis(i) ? initial : T.expandDims(initial, 0), history], 0);
  // Row m + tap + t of [initial (m rows), y_0, y_1, …].
  return T.get(extended, T.slice(depth + tap, tap === 0 ? null : tap));
}

function scanRule({ node, inputs, g, differentiate }: VjpContext<'scan'>): (Variable | null)[] {
  const body = node.attrs.body as ScanBody;
  const k = node.attrs.output;
  const { nSteps, sequences, initials, nonSequences } = body.split(inputs);
  const history = historyOf(body, inputs);
  const recurrent = body.recurrent;
  const floats = (variables: readonly Variable[]) => variables.flatMap((variable, j) => (T.isFloat(variable.dtype) ? [j] : []));
  const floatSequences = floats(sequences);
  const floatRecurrent = recurrent.filter((i) => T.isFloat(body.outputs[i]!.value.dtype));
  const floatNonSequences = floats(nonSequences);
  const target = body.outputs[k]!;
  const truncate = body.truncateGradient;
  const steps = truncate > 0 ? T.minimum(nSteps, truncate) : nSteps;

  // The forward sequences as step t reads them (element T' − 1 − t going backwards).
  const iterated = sequences.map((sequence) => {
    const length = sequence.shape[0];
    const stepCount = nSteps instanceof T.Constant ? nSteps.value.data[0] : undefined;
    if (length !== null && length === stepCount) return body.goBackwards ? T.flip(sequence, 0) : sequence;
    const t = T.arange(0, nSteps, 1, 'int32');
    return T.get(sequence, body.goBackwards ? T.sub(T.sub(T.dim(sequence, 0), 1), t) : t);
  });
  // The backward loop's sequences (it reads element T − 1 − u at its step u).
  const tapSequences = recurrent.flatMap((i, r) => body.outputs[i]!.taps.map((tap) => shifted(body, i, initials[r]!, history(i), tap)));
  const gradientSequence = target.keep === 'all' ? [g] : [];
  const carries = floatRecurrent.flatMap((i) => Array.from({ length: body.depth(i) }, (_, j) => ({ i, j })));
  const carryInitial = ({ i, j }: { i: number; j: number }) => {
    const initial = initials[recurrent.indexOf(i)]!;
    const state = body.tapsAxis(i) ? T.get(initial, 0) : initial;
    // An output kept 'last' starts with its incoming gradient pending for the last step.
    return i === k && target.keep === 'last' && j === 0 ? T.add(T.zerosLike(state), g) : T.zerosLike(state);
  };

  const backward = T.scan({
    name: `${body.name} (gradient)`,
    sequences: [...iterated, ...tapSequences, ...gradientSequence],
    outputsInfo: [
      ...floatSequences.map(() => null),
      ...carries.map((carry) => ({ initial: carryInitial(carry), keep: 'last' as const })),
      ...floatNonSequences.map((j) => ({ initial: T.zerosLike(nonSequences[j]!), keep: 'last' as const })),
    ],
    nonSequences: [...nonSequences],
    nSteps: steps,
    goBackwards: true,
    fn: (...args: Variable[]) => {
      let at = 0;
      const take = (count: number) => args.slice(at, (at += count));
      const sequenceValues = take(sequences.length);
      const tapValues = take(tapSequences.length);
      const [gradientAt] = take(gradientSequence.length);
      const carryValues = take(carries.length);
      const accumulators = take(floatNonSequences.length);
      const nonSequenceValues = take(nonSequences.length);
      // The forward step again, on this step's values.
      const replacements = new Map<Variable, Variable>();
      body.sequences.forEach((placeholder, j) => replacements.set(placeholder, sequenceValues[j]!));
      let tapIndex = 0;
      for (const i of recurrent) for (const tapInput of body.outputs[i]!.tapInputs) replacements.set(tapInput, tapValues[tapIndex++]!);
      body.nonSequences.forEach((placeholder, j) => replacements.set(placeholder, nonSequenceValues[j]!));
      const values = T.clone(body.outputs.map((output) => output.value), replacements);
      // Each output's adjoint at this step: the incoming gradient (output k) plus what later steps passed back.
      const known = new Map<Variable, Variable>();
      const addKnown = (variable: Variable, adjoint: Variable) => known.set(variable, known.has(variable) ? T.add(known.get(variable)!, adjoint) : adjoint);
      if (gradientAt) addKnown(values[k]!, gradientAt);
      carries.forEach(({ i, j }, c) => void (j === 0 && addKnown(values[i]!, carryValues[c]!)));
      const tapOf = (i: number, tap: number): Variable => tapValues[recurrent.slice(0, recurrent.indexOf(i)).reduce((n, r) => n + body.outputs[r]!.taps.length, 0) + body.outputs[i]!.taps.indexOf(tap)]!;
      const wrt = [
        ...floatSequences.map((j) => sequenceValues[j]!),
        ...floatRecurrent.flatMap((i) => body.outputs[i]!.taps.map((tap) => tapOf(i, tap))),
        ...floatNonSequences.map((j) => nonSequenceValues[j]!),
      ];
      const grads = differentiate(known, wrt);
      const gradientOf = (variable: Variable): Variable => grads.get(variable) ?? T.zerosLike(variable);
      const newCarries = carries.map(({ i, j }, c) => {
        const depth = body.depth(i);
        const older = j + 1 < depth ? carryValues[c + 1]! : T.zerosLike(carryValues[c]!);
        const tap = -(j + 1);
        return body.outputs[i]!.taps.includes(tap) ? T.add(older, gradientOf(tapOf(i, tap))) : older;
      });
      return [
        ...floatSequences.map((j) => gradientOf(sequenceValues[j]!)),
        ...newCarries,
        ...floatNonSequences.map((j, a) => T.add(accumulators[a]!, gradientOf(nonSequenceValues[j]!))),
      ];
    },
  });
  const outputs = backward.outputs;
  const sequenceGrads = outputs.slice(0, floatSequences.length);
  const finalCarries = outputs.slice(floatSequences.length, floatSequences.length + carries.length);
  const nonSequenceGrads = outputs.slice(floatSequences.length + carries.length);

  // Gradients of the inputs, in the node's input order.
  const result: (Variable | null)[] = inputs.map(() => null);
  const offsetOf = { sequences: 1, initials: 1 + sequences.length, nonSequences: 1 + sequences.length + initials.length };
  floatSequences.forEach((j, s) => {
    const sequence = sequences[j]!;
    // Backward step u is forward step T − 1 − u: reverse, and (truncated) place after the untouched steps.
    let perStep = T.flip(sequenceGrads[s]!, 0);
    if (truncate > 0) perStep = T.incSubtensor(T.zerosLike(iterated[j]!), [T.arange(T.sub(nSteps, steps), nSteps, 1, 'int32')], perStep);
    const length = sequence.shape[0];
    const stepCount = nSteps instanceof T.Constant ? nSteps.value.data[0] : undefined;
    let gradient: Variable;
    if (length !== null && length === stepCount) gradient = body.goBackwards ? T.flip(perStep, 0) : perStep;
    else {
      const t = T.arange(0, nSteps, 1, 'int32');
      gradient = T.incSubtensor(T.zerosLike(sequence), [body.goBackwards ? T.sub(T.sub(T.dim(sequence, 0), 1), t) : t], perStep);
    }
    result[offsetOf.sequences + j] = gradient;
  });
  floatRecurrent.forEach((i) => {
    const r = recurrent.indexOf(i);
    const first = carries.findIndex((carry) => carry.i === i);
    const depth = body.depth(i);
    // Carry j is the adjoint of the value j + 1 steps before step 0: the initial value's row m − 1 − j.
    let gradient = body.tapsAxis(i) ? T.stack(Array.from({ length: depth }, (_, row) => finalCarries[first + depth - 1 - row]!), 0) : finalCarries[first]!;
    if (truncate > 0) gradient = T.mul(gradient, T.cast(T.le(nSteps, truncate), gradient.dtype));
    result[offsetOf.initials + r] = gradient;
  });
  floatNonSequences.forEach((j, a) => void (result[offsetOf.nonSequences + j] = nonSequenceGrads[a]!));
  return result;
}

export const scanVjps = {
  scan: scanRule,
} satisfies VjpTable<'scan'>;
