/**
 * Symbolic reverse-mode gradients, higher-order helpers, gradient
 * checking, and update rules with their regularizers.
 *
 * @module @theorbo/autodiff
 */

export * from './grad.ts';
export * from './rules/rule.ts';
export { vjpTable } from './rules/table.ts';
export * from './verify.ts';
export * from './higher.ts';
export * from './updates.ts';
export * from './regularize.ts';
