// The reference evaluator: runs a graph on NDArrays in plain TypeScript, one op at a
// time, through each op's `perform`. It is the definition of every op and the oracle
// of the other backends' tests; it checks every result against the inferred type.
// `referenceFunction` adds Theano's calling convention: positional inputs, outputs,
// and updates of shared variables that read the values from before the call.

import { EvaluationError } from './errors.ts';
import { SharedVariable, Variable, type Constant } from './graph.ts';
import { array, NDArray, nonNumeric, unrepresentable, valueForms, type ArrayLike } from './ndarray.ts';
import { OpFailure, type OpDef } from './ops/def.ts';
import { elementwiseOps, type OpName } from './ops.ts';
import { opDefs } from './table.ts';
import { applyOrder, topologicalOrder } from './traverse.ts';
import { formatShape, formatType, shapeFits } from './type.ts';

export type Givens = ReadonlyMap<Variable, ArrayLike> | readonly (readonly [Variable, ArrayLike])[];

export interface InputOptions {
  /** Convert values of another dtype, truncating fractions (Theano's allow_input_downcast). */
  allowInputDowncast?: boolean;
  /** How the caller would allow a conversion, for the message (default: compile()'s option). */
  downcastHint?: string;
}

const defaultHint = 'pass allowInputDowncast: true to compile() to convert';

/**
 * Converts a user value for input `variable`, checking that it is numbers, its dtype
 * (integer inputs take integers unless downcasting is allowed, and never numbers out of
 * their range) and its static shape.
 */
export function inputValue(variable: Variable, value: ArrayLike, options: InputOptions = {}): NDArray {
  const label = variable.name ? `input '${variable.name}'` : `input ${variable.type}`;
  const allowed = options.allowInputDowncast ?? false;
  const hint = options.downcastHint ?? defaultHint;
  const bad = nonNumeric(value);
  if (bad) throw new EvaluationError('evaluate', `${label} (${variable.type}) ${bad}; expected ${valueForms}`, variable.location);
  let result: NDArray;
  if (value instanceof NDArray || ArrayBuffer.isView(value)) {
    const given = value instanceof NDArray ? value : array(value, { shape: variable.shape.every((d) => d !== null) ? (variable.shape as number[]) : undefined });
    if (given.dtype !== variable.dtype && !allowed) {
      throw new EvaluationError('evaluate', `${label} expects ${variable.dtype} but was given ${given.dtype} data (${hint})`, variable.location);
    }
    if (given.dtype !== variable.dtype) checkIntegers(variable, given, label, true, hint);
    result = given.astype(variable.dtype);
  } else {
    checkIntegers(variable, value, label, allowed, hint);
    result = array(value, { dtype: variable.dtype });
  }
  if (!shapeFits(result.shape, variable.shape)) {
    throw new EvaluationError('evaluate', `${label} expects shape ${formatShape(variable.shape)} but was given ${formatShape(result.shape)}`, variable.location);
  }
  return result;
}

function checkIntegers(variable: Variable, value: ArrayLike, label: string, fractions: boolean, hint: string): void {
  const found = unrepresentable(value, variable.dtype, fractions);
  if (!found) return;
  const where = found.at === 'the value' ? `${found.value}` : `${found.value} at ${found.at}`;
  throw new EvaluationError('evaluate', found.why === 'fraction'
    ? `${label} is ${variable.dtype} but was given ${where}, which is not an integer (${hint}, truncating toward zero)`
    : `${label} is ${variable.dtype} but was given ${where}, outside the ${variable.dtype} range; saturating it would silently change it`, variable.location);
}

/** Runs one apply on concrete inputs; failures name the op and where its node was made. */
export function performApply(variable: Variable, inputs: readonly NDArray[]): NDArray {
  const node = variable.owner!;
  const def = opDefs[node.op] as unknown as OpDef<OpName>;
  if (elementwiseOps.has(node.op)) checkStaticBroadcast(variable, inputs);
  let out: NDArray;
  try {
    out = def.perform(inputs, node.attrs, (outputs, givens) => evaluate(outputs, givens));
  } catch (error) {
    if (error instanceof OpFailure) throw new EvaluationError(node.op, error.message, node.location);
    throw error;
  }
  if (out.dtype !== variable.dtype || !shapeFits(out.shape, variable.shape)) {
    throw new EvaluationError(node.op, `produced ${formatType(out.dtype, out.shape)} where the graph says ${variable.type} (the inputs' run-time shapes disagree with their static shapes)`, node.location);
  }
  return out;
}

/**
 * Broadcasting is decided by static types (Theano's rule): a dimension stretches only
 * where its type says 1. A size-1 value in a dimension typed unknown would broadcast in
 * numpy but not in the gradient, which sums only over statically broadcast axes, so it
 * is refused here with a sentence on how to declare it.
 */
function checkStaticBroadcast(variable: Variable, values: readonly NDArray[]): void {
  const error = staticBroadcastError(variable, values.map((value) => value.shape));
  if (error) throw error;
}

/**
 * The error of an elementwise node whose input, typed unknown in some dimension, has
 * size 1 there at run time (`shapes`, one per input) while the result is larger: the
 * reference evaluator and the devices (at instantiation) refuse it alike.
 */
export function staticBroadcastError(variable: Variable, shapes: readonly (readonly number[])[]): EvaluationError | undefined {
  const node = variable.owner!;
  const ndim = variable.ndim;
  const outShape = new Array<number>(ndim).fill(1);
  shapes.forEach((shape) => shape.forEach((size, axis) => {
    const at = ndim - shape.length + axis;
    if (size !== 1) outShape[at] = size;
  }));
  for (const [k, input] of node.inputs.entries()) {
    for (const [axis, dim] of input.shape.entries()) {
      const at = ndim - input.ndim + axis;
      if (dim === null && shapes[k]![axis] === 1 && outShape[at] !== 1) {
        return new EvaluationError(node.op, `input ${k}${input.name ? ` '${input.name}'` : ''} (${input.type}) has size 1 in dimension ${axis} at run time and would broadcast to ${outShape[at]}, but its type does not mark that dimension broadcastable; declare it with a static 1 (or use broadcastTo)`, node.location);
      }
    }
  }
  return undefined;
}

/**
 * Evaluates `outputs` given values for their symbolic inputs. Shared variables read
 * their current value; constants their own.
 */
export function evaluate(outputs: Variable, givens?: Givens): NDArray;
export function evaluate(outputs: readonly Variable[], givens?: Givens): NDArray[];
export function evaluate(outputs: Variable | readonly Variable[], givens: Givens = []): NDArray | NDArray[] {
  const list = outputs instanceof Variable ? [outputs] : outputs;
  const values = new Map<Variable, NDArray>();
  for (const [variable, value] of givens instanceof Map ? givens.entries() : (givens as readonly (readonly [Variable, ArrayLike])[])) {
    values.set(variable, inputValue(variable, value, { downcastHint: 'T.evaluate does not convert: give values of that dtype, or cast them first' }));
  }
  for (const variable of topologicalOrder(list)) {
    if (values.has(variable)) continue;
    if (variable.owner) {
      values.set(variable, performApply(variable, variable.owner.inputs.map((input) => values.get(input)!)));
    } else if (variable.kind === 'constant') {
      values.set(variable, (variable as Constant).value);
    } else if (variable instanceof SharedVariable) {
      values.set(variable, variable.get());
    } else {
      throw new EvaluationError('evaluate', `no value was given for ${variable.name ? `input '${variable.name}'` : 'an unnamed input'} of type ${variable.type}, which the outputs depend on`, variable.location);
    }
  }
  const results = list.map((variable) => values.get(variable)!);
  return outputs instanceof Variable ? results[0]! : results;
}

export type Updates = ReadonlyMap<SharedVariable, Variable> | readonly (readonly [SharedVariable, Variable])[];

export interface ReferenceFunctionSpec {
  inputs: readonly Variable[];
  outputs: readonly Variable[] | Variable;
  updates?: Updates;
  /** Convert inputs of another dtype (Theano's allow_input_downcast). */
  allowInputDowncast?: boolean;
  /** The same, under its earlier name. */
  allowDowncast?: boolean;
}

/**
 * Theano's `function` on the reference evaluator: call it with one value per input;
 * it returns the outputs and then writes every update (computed from the values before
 * the call). Shared variables with a `defaultUpdate` (random streams) advance too.
 */
export function referenceFunction(spec: ReferenceFunctionSpec): (...args: ArrayLike[]) => NDArray[] {
  const outputs = spec.outputs instanceof Variable ? [spec.outputs] : [...spec.outputs];
  const updates = new Map<SharedVariable, Variable>(spec.updates instanceof Map ? spec.updates : (spec.updates as [SharedVariable, Variable][] | undefined) ?? []);
  for (const [target, update] of updates) {
    if (!(target instanceof SharedVariable)) throw new EvaluationError('function', `an update target must be a shared variable, not ${target}`, update.location);
    if (target.dtype !== update.dtype || !shapeFits(target.shape as number[], update.shape.map((d, i) => d ?? (target.shape[i] as number)))) {
      throw new EvaluationError('function', `the update of ${target.name ?? 'a shared variable'} (${target.type}) has type ${update.type}`, update.location);
    }
  }
  for (const variable of topologicalOrder([...outputs, ...updates.values()])) {
    if (variable instanceof SharedVariable && variable.defaultUpdate && !updates.has(variable)) updates.set(variable, variable.defaultUpdate);
  }
  const targets = [...updates.keys()];
  const all = [...outputs, ...targets.map((target) => updates.get(target)!)];
  applyOrder(all); // validates the graph once, up front
  const downcast: InputOptions = { allowInputDowncast: spec.allowInputDowncast ?? spec.allowDowncast, downcastHint: 'pass allowInputDowncast: true to convert' };
  return (...args) => {
    if (args.length !== spec.inputs.length) {
      throw new EvaluationError('function', `expects ${spec.inputs.length} inputs but was called with ${args.length}`, spec.inputs[0]?.location);
    }
    const givens = spec.inputs.map((input, i) => [input, inputValue(input, args[i]!, downcast) as ArrayLike] as const);
    const results = evaluate(all, givens);
    targets.forEach((target, i) => {
      const value = results[outputs.length + i]!;
      if (!shapeFits(value.shape, target.shape)) throw updateShapeError(target, updates.get(target)!, value.shape);
    });
    targets.forEach((target, i) => target.set(results[outputs.length + i]!));
    return results.slice(0, outputs.length);
  };
}

/** An update whose value, for a call's input shapes, has another shape than its shared variable. */
export function updateShapeError(target: SharedVariable, update: Variable, shape: readonly number[]): EvaluationError {
  return new EvaluationError('function', `the update of ${target.name ?? 'a shared variable'} (${target.type}) computed ${formatType(update.dtype, shape)} for this call's input shapes; an update must keep its variable's shape`, update.location);
}
