// The merge pass: structurally equal variables become one (hash.ts: same op, equal
// attributes, equal inputs; constants of equal dtype, shape and bits). The walk runs
// inputs first, so by the time a node is offered its inputs are already merged and
// equality is a local comparison: one walk merges whole duplicated subgraphs, such as
// the backward graphs of several grad calls on one cost. Symbolic inputs and shared
// variables are equal only to themselves.

import { pass, rule } from './engine.ts';
import { anything } from './pattern.ts';

export const mergeEqual = rule('merge-equal', anything, (_, { variable, intern }) => intern(variable));

export const mergePass = pass('merge', [mergeEqual]);
