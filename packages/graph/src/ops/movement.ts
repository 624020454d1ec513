// STUB: being written; replaced by the real definitions.
import { fail, type OpDefs } from './def.ts';
import type { MovementOp } from '../ops.ts';
const notYet = { infer: () => fail('not implemented yet'), perform: () => fail('not implemented yet') };
export const movementDefs = Object.fromEntries((['reshape','dimshuffle','broadcast_to','subtensor','concat','pad']).map((op) => [op, notYet])) as unknown as OpDefs<MovementOp>;
