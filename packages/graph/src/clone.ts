// clone: rebuilds a graph with some variables replaced (Theano's givens). Every node
// downstream of a replaced variable is made again through its op's inference, so
// static shapes follow the replacements and mismatches surface as GraphErrors at the
// node that no longer fits; the new node keeps the original's op, attributes, name
// and source location. Nodes that depend on no replaced variable are not copied: the
// result shares them with the original graph. The replacements themselves are used
// as they are (a replacement that mentions a replaced variable is not rewritten).

import { captureLocation } from './location.ts';
import { GraphError } from './errors.ts';
import { makeNode } from './build.ts';
import { Variable, type Apply } from './graph.ts';
import { topologicalOrder } from './traverse.ts';
import { formatType } from './type.ts';

export type Replacements = ReadonlyMap<Variable, Variable> | readonly (readonly [Variable, Variable])[];

const describe = (variable: Variable): string => (variable.name ? `'${variable.name}' (${variable.type})` : `${variable.type}`);

function checkReplacement(original: Variable, replacement: Variable): void {
  const fail = (detail: string): never => {
    throw new GraphError('clone', `the replacement for ${describe(original)} is ${formatType(replacement.dtype, replacement.shape)}; ${detail}`, captureLocation());
  };
  if (!(original instanceof Variable) || !(replacement instanceof Variable)) {
    throw new GraphError('clone', 'replacements must map Variables to Variables', captureLocation());
  }
  if (replacement.dtype !== original.dtype) fail(`a replacement must keep the dtype ${original.dtype} (cast it first)`);
  if (replacement.ndim !== original.ndim) fail(`a replacement must keep the number of dimensions (${original.ndim})`);
  original.shape.forEach((dim, axis) => {
    const other = replacement.shape[axis];
    if (dim !== null && other !== null && dim !== other) fail(`dimension ${axis} is ${other} where the original has ${dim}`);
  });
}

/** Makes `node`'s op again on new inputs, with the original attributes and location. */
function rebuild(node: Apply, inputs: readonly Variable[]): Variable {
  return makeNode(node.op, inputs, node.attrs as never, node.location, ', after clone replaced some of its inputs');
}

/** The outputs rebuilt with `replacements` applied; untouched subgraphs are shared, not copied. */
export function clone(outputs: Variable, replacements: Replacements): Variable;
export function clone(outputs: readonly Variable[], replacements: Replacements): Variable[];
export function clone(outputs: Variable | readonly Variable[], replacements: Replacements): Variable | Variable[] {
  const given = new Map<Variable, Variable>(replacements instanceof Map ? replacements : (replacements as readonly [Variable, Variable][]));
  for (const [original, replacement] of given) checkReplacement(original, replacement);
  const roots = outputs instanceof Variable ? [outputs] : outputs;
  const mapped = new Map<Variable, Variable>(given);
  // Inputs before their consumers, never entering a replaced variable.
  for (const variable of topologicalOrder(roots, (other) => given.has(other))) {
    const inputs = variable.owner?.inputs ?? [];
    const newInputs = inputs.map((input) => mapped.get(input)!);
    if (!variable.owner || newInputs.every((input, i) => input === inputs[i])) {
      mapped.set(variable, variable);
      continue;
    }
    const copy = rebuild(variable.owner, newInputs);
    copy.name = variable.name;
    mapped.set(variable, copy);
  }
  const results = roots.map((root) => mapped.get(root)!);
  return outputs instanceof Variable ? results[0]! : results;
}
