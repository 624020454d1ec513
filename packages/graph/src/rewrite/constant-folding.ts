// The constant-folding pass: a node whose inputs are all constants is evaluated once by
// the reference evaluator and replaced by a constant, and `dim` of a statically known
// size becomes a constant. Size-limited: a result of more than `maxElements` elements
// (or of a size the static shape does not know) stays a node, so zeros([4096, 4096])
// remains a broadcast of a scalar instead of 64 MiB of zeros in the graph. `random`
// is never folded (each call draws anew), shared variables are never constants, and a
// node whose evaluation fails is left for the run time to report.

import { EvaluationError } from '../errors.ts';
import { Constant, scalarConstant } from '../graph.ts';
import { performApply } from '../evaluate.ts';
import { pass, rule, type Pass, type Rule } from './engine.ts';
import { anything, op } from './pattern.ts';

export interface ConstantFoldingOptions {
  /** The largest result, in elements, worth storing as a constant (default 1024). */
  maxElements?: number;
}

/** The rule that evaluates nodes of constants, for results of at most `maxElements`. */
export function foldConstantInputs(maxElements: number): Rule {
  const foldable = anything.where((variable) => {
    const node = variable.owner;
    if (!node || node.op === 'random' || !node.inputs.every((input) => input instanceof Constant)) return false;
    const size = variable.type.size;
    return size !== null && size <= maxElements;
  });
  return rule('fold-constant-inputs', foldable, (_, { variable }) => {
    const node = variable.owner!;
    try {
      return new Constant(performApply(variable, node.inputs.map((input) => (input as Constant).value)), variable.name, node.location);
    } catch (error) {
      if (error instanceof EvaluationError) return undefined;
      throw error;
    }
  });
}

/** dim(x, axis) where x's static shape knows that size. */
export const staticDim = rule('static-dim', op('dim', anything).where((variable) => variable.owner!.inputs[0]!.shape[(variable.owner!.attrs as { axis: number }).axis] != null), (_, { variable }) => {
  const node = variable.owner!;
  const axis = (node.attrs as { axis: number }).axis;
  return scalarConstant(node.inputs[0]!.shape[axis]!, 'int32');
});

export function constantFoldingPass(options: ConstantFoldingOptions = {}): Pass {
  return pass('constant-folding', [staticDim, foldConstantInputs(options.maxElements ?? 1024)]);
}
