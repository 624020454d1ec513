// STUB: being written; replaced by the real definitions.
import { fail, type OpDefs } from './def.ts';
import type { IndexingOp } from '../ops.ts';
const notYet = { infer: () => fail('not implemented yet'), perform: () => fail('not implemented yet') };
export const indexingDefs = Object.fromEntries((['inc_subtensor','advanced_subtensor','advanced_inc_subtensor']).map((op) => [op, notYet])) as unknown as OpDefs<IndexingOp>;
