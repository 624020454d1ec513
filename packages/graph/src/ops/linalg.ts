// STUB: being written; replaced by the real definitions.
import { fail, type OpDefs } from './def.ts';
const notYet = { infer: () => fail('not implemented yet'), perform: () => fail('not implemented yet') };
export const linalgDefs = Object.fromEntries((['matmul']).map((op) => [op, notYet])) as unknown as OpDefs<'matmul'>;
