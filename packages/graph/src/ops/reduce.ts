// STUB: being written; replaced by the real definitions.
import { fail, type OpDefs } from './def.ts';
import type { ReduceOp } from '../ops.ts';
const notYet = { infer: () => fail('not implemented yet'), perform: () => fail('not implemented yet') };
export const reduceDefs = Object.fromEntries((['sum','prod','max','min','any','all','argmax','argmin']).map((op) => [op, notYet])) as unknown as OpDefs<ReduceOp>;
