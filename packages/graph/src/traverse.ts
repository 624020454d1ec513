// Walking graphs: topological order (iterative, so deep graphs do not overflow the
// stack), ancestors, and the leaves (inputs, shared variables, constants) they need.

import type { Apply, Variable } from './graph.ts';

/**
 * Every variable the outputs depend on, each after all of its inputs. Variables for
 * which `stop` holds are neither listed nor walked through (clone stops at the
 * replaced variables, structuralHash at those already hashed).
 */
export function topologicalOrder(outputs: readonly Variable[], stop?: (variable: Variable) => boolean): Variable[] {
  const order: Variable[] = [];
  const state = new Map<Variable, 'open' | 'done'>();
  for (const root of outputs) {
    if (state.has(root) || stop?.(root)) continue;
    const stack: [Variable, number][] = [[root, 0]];
    state.set(root, 'open');
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      const [variable, next] = frame;
      const inputs = variable.owner?.inputs ?? [];
      if (next < inputs.length) {
        frame[1] = next + 1;
        const input = inputs[next]!;
        if (!state.has(input) && !stop?.(input)) {
          state.set(input, 'open');
          stack.push([input, 0]);
        }
      } else {
        stack.pop();
        state.set(variable, 'done');
        order.push(variable);
      }
    }
  }
  return order;
}

/** The applies in the order they must run. */
export function applyOrder(outputs: readonly Variable[]): Apply[] {
  return topologicalOrder(outputs).flatMap((variable) => (variable.owner ? [variable.owner] : []));
}

export const ancestors = topologicalOrder;

/** The leaves the outputs depend on: symbolic inputs, shared variables and constants. */
export function leaves(outputs: readonly Variable[]): Variable[] {
  return topologicalOrder(outputs).filter((variable) => variable.owner === null);
}

/** The symbolic inputs (not shared, not constant) the outputs depend on. */
export function graphInputs(outputs: readonly Variable[]): Variable[] {
  return leaves(outputs).filter((variable) => variable.kind === 'input');
}
