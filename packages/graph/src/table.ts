// Every op's inference and reference, joined from the per-family tables. The
// `satisfies` clause makes a missing op a compile error.

import type { OpDefs } from './ops/def.ts';
import type { OpName } from './ops.ts';
import { elementwiseDefs } from './ops/elementwise.ts';
import { reduceDefs } from './ops/reduce.ts';
import { linalgDefs } from './ops/linalg.ts';
import { windowDefs } from './ops/window.ts';
import { scanDefs } from './ops/scan.ts';
import { movementDefs } from './ops/movement.ts';
import { indexingDefs } from './ops/indexing.ts';
import { sourceDefs } from './ops/source.ts';

export const opDefs = {
  ...elementwiseDefs,
  ...reduceDefs,
  ...linalgDefs,
  ...windowDefs,
  ...scanDefs,
  ...movementDefs,
  ...indexingDefs,
  ...sourceDefs,
} satisfies OpDefs<OpName>;
