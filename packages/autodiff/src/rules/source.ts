// Source ops (arange, dim, random) make values from scalars and shapes alone: no
// gradient flows through them.

import type { OpsOf } from '@theorbo/graph';
import { notDifferentiable, type VjpTable } from './rule.ts';

export const sourceVjps = {
  arange: notDifferentiable,
  dim: notDifferentiable,
  random: notDifferentiable,
} satisfies VjpTable<OpsOf<'source'>>;
