// Every op's VJP rule (or its mark as not differentiable), joined from the per-family
// tables. The `satisfies` clause makes an op without an entry a compile error.

import type { OpName } from '@theorbo/graph';
import type { VjpTable } from './rule.ts';
import { elementwiseVjps } from './elementwise.ts';
import { reduceVjps } from './reduce.ts';
import { linalgVjps } from './linalg.ts';
import { windowVjps } from './window.ts';
import { scanVjps } from './scan.ts';
import { movementVjps } from './movement.ts';
import { indexingVjps } from './indexing.ts';
import { sourceVjps } from './source.ts';

export const vjpTable = {
  ...elementwiseVjps,
  ...reduceVjps,
  ...linalgVjps,
  ...windowVjps,
  ...scanVjps,
  ...movementVjps,
  ...indexingVjps,
  ...sourceVjps,
} satisfies VjpTable<OpName>;
