/**
 * Types, variables, ops, the reference evaluator and graph utilities.
 *
 * @module @theorbo/graph
 */

export * from './dtype.ts';
export * from './type.ts';
export * from './errors.ts';
export * from './location.ts';
export * from './ndarray.ts';
export * from './ops.ts';
export * from './graph.ts';
export { applyOp, composite, makeNode } from './build.ts';
export { opDefs } from './table.ts';
export * from './traverse.ts';
export * from './evaluate.ts';
export * from './api/convert.ts';
export * from './api/elementwise.ts';
export * from './api/construct.ts';
export * from './api/reduce.ts';
export * from './api/linalg.ts';
export * from './api/shape.ts';
export * from './api/indexing.ts';
export * from './api/random.ts';
export * from './api/nn.ts';
export * from './api/window.ts';
export * from './api/scan.ts';
export { ScanBody, type ScanOutput } from './ops/scan.ts';
export { advancedIncInto } from './ops/indexing.ts';
export * from './hash.ts';
export * from './clone.ts';
export * from './debugprint.ts';
export * from './saved-graph.ts';
export * from './load-graph.ts';
import './methods.ts';
export * from './rewrite/index.ts';

