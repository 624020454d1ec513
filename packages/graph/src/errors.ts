// Errors that users see. A GraphError is raised while a graph is built; an
// EvaluationError while it is evaluated. Both name the op and where the node was made.

import { formatLocation, type SourceLocation } from './location.ts';

export class GraphError extends Error {
  override name = 'GraphError';
  constructor(
    readonly op: string,
    readonly detail: string,
    readonly location: SourceLocation | undefined,
  ) {
    super(`${op}: ${detail} (node created at ${formatLocation(location)})`);
  }
}

export class EvaluationError extends Error {
  override name = 'EvaluationError';
  constructor(
    readonly op: string,
    readonly detail: string,
    readonly location: SourceLocation | undefined,
  ) {
    super(`${op}: ${detail} (node created at ${formatLocation(location)})`);
  }
}
