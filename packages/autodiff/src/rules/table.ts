// Every op's VJP rule (or its mark as not differentiable), joined from the per-family
// tables. The `satisfies` clause makes an op without an entry a compile error.

import type { OpName } from '@theorbo/graph';
import type { VjpTable } from './rule.ts';
import { elementwiseVjps } from './elementwise.ts';
import { reduceVjps } from './reduce.ts';
import { movementVjps } from './movement.ts';

export const vjpTable = {
  ...elementwiseVjps,
  ...reduceVjps,
  ...movementVjps,
} satisfies VjpTable<OpName>;
