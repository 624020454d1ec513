// Graph rewrites: the engine, the pattern builders for writing rules, the passes and
// the pipeline. Rules of each pass are exported from their pass's file for tests.

export { optimize, optimizeWithReport, defaultPipeline, rewritePasses, type PassName, type OptimizeOptions } from './pipeline.ts';
export { rule, pass, runPass, runPasses, type Rule, type Pass, type PassReport, type Firing, type RewriteContext } from './engine.ts';
export { constantFoldingPass, type ConstantFoldingOptions } from './constant-folding.ts';
export { mergePass } from './merge.ts';
export { canonicalizePass } from './canonicalize.ts';
export { stabilizePass } from './stabilize.ts';
export { specializePass } from './specialize.ts';
export * as patterns from './pattern.ts';
