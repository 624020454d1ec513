// The rewrite pipeline, in one place, and `optimize`, which runs it (or the passes it is
// given) and returns new outputs; the original graph is never changed.
//
//   merge → constant folding → canonicalize → stabilize → specialize → merge
//
// merge first, so that the later passes see each duplicated subgraph once; constant
// folding before canonicalize, so neutral elements computed from constants (2 − 1) are
// seen as constants; canonicalize before stabilize and specialize, whose patterns rely
// on its forms; a last merge for the equal nodes the rewrites made.

import { Variable } from '../graph.ts';
import { canonicalizePass } from './canonicalize.ts';
import { constantFoldingPass } from './constant-folding.ts';
import { runPasses, type Pass, type PassReport } from './engine.ts';
import { mergePass } from './merge.ts';
import { specializePass } from './specialize.ts';
import { stabilizePass } from './stabilize.ts';

/** The passes by name, for `optimize(outputs, { passes: ['merge', 'canonicalize'] })`. */
export const rewritePasses = {
  merge: mergePass,
  'constant-folding': constantFoldingPass(),
  canonicalize: canonicalizePass,
  stabilize: stabilizePass,
  specialize: specializePass,
} satisfies Record<string, Pass>;

export type PassName = keyof typeof rewritePasses;

export const defaultPipeline: readonly Pass[] = [
  rewritePasses.merge,
  rewritePasses['constant-folding'],
  rewritePasses.canonicalize,
  rewritePasses.stabilize,
  rewritePasses.specialize,
  rewritePasses.merge,
];

export interface OptimizeOptions {
  /** The passes to run, in order, by name or as Pass objects (default: defaultPipeline). */
  passes?: readonly (PassName | Pass)[];
}

function resolvePasses(options: OptimizeOptions): readonly Pass[] {
  return options.passes?.map((each) => (typeof each === 'string' ? rewritePasses[each] : each)) ?? defaultPipeline;
}

/** The outputs rewritten by the passes, with one report per pass run (node counts, firings, time). */
export function optimizeWithReport(outputs: readonly Variable[], options: OptimizeOptions = {}): { outputs: Variable[]; reports: PassReport[] } {
  return runPasses(outputs, resolvePasses(options));
}

/** The outputs rewritten by the pipeline (or the given passes); the original graph is left as it was. */
export function optimize(outputs: Variable, options?: OptimizeOptions): Variable;
export function optimize(outputs: readonly Variable[], options?: OptimizeOptions): Variable[];
export function optimize(outputs: Variable | readonly Variable[], options: OptimizeOptions = {}): Variable | Variable[] {
  const list = outputs instanceof Variable ? [outputs] : outputs;
  const result = optimizeWithReport(list, options).outputs;
  return outputs instanceof Variable ? result[0]! : result;
}
