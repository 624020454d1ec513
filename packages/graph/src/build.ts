// Making nodes: `applyOp` infers the output type through the op table and turns a
// failed inference into a GraphError that names the op (or the composite the user
// called, such as softmax) and the place in the user's code.

import { GraphError } from './errors.ts';
import { Apply, Constant, type Variable } from './graph.ts';
import { captureLocation, type SourceLocation } from './location.ts';
import { OpFailure, type OpDef } from './ops/def.ts';
import type { AttrsOf, OpName } from './ops.ts';
import { opDefs } from './table.ts';
import { TensorType } from './type.ts';

const compositeStack: string[] = [];

/** Runs `build` so that errors from the primitives inside are reported as `name`'s. */
export function composite<T>(name: string, build: () => T): T {
  compositeStack.push(name);
  try {
    return build();
  } finally {
    compositeStack.pop();
  }
}

/** The op name a user would recognise: the outermost composite, else the primitive. */
export function userOpName(op: string): string {
  const outer = compositeStack[0];
  return outer && outer !== op ? `${outer} (in its ${op})` : op;
}

export function buildError(op: string, detail: string): GraphError {
  return new GraphError(userOpName(op), detail, captureLocation());
}

export function applyOp<K extends OpName>(op: K, inputs: readonly Variable[], attrs: AttrsOf<K>): Variable {
  return makeNode(op, inputs, attrs, captureLocation());
}

/**
 * Infers the output type (with the values of constant inputs at hand) and makes the
 * node; `context` is appended to a failure's sentence (clone says why it rebuilt).
 */
export function makeNode<K extends OpName>(op: K, inputs: readonly Variable[], attrs: AttrsOf<K>, location: SourceLocation | undefined, context = ''): Variable {
  const def = opDefs[op] as unknown as OpDef<K>;
  const constants = inputs.map((input) => (input instanceof Constant ? input.value : undefined));
  try {
    const result = def.infer(inputs.map((input) => input.type), attrs, constants);
    return new Apply(op, attrs, inputs, new TensorType(result.dtype, result.shape), location).output;
  } catch (error) {
    if (error instanceof OpFailure) throw new GraphError(userOpName(op), error.message + context, location);
    throw error;
  }
}
