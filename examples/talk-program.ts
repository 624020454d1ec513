// The main job until the music package exists: the talk's program (steps 1 and 2)
// built in Theorbo and evaluated on a synthetic batch by the reference evaluator, with
// the WebGPU device chain probed and reported.

import * as T from '@theorbo/graph';
import { buildTalkProgram, syntheticBatch } from './talk-network.ts';

const started = performance.now();
const program = buildTalkProgram();
const built = performance.now();
const batch = syntheticBatch(64);
const [loss, output] = T.evaluate([program.scalarLoss, program.zOutput], [
  [program.xInput, batch.x],
  [program.yTarget, batch.y],
]);
const evaluated = performance.now();

const nodes = T.applyOrder([program.scalarLoss]).length;
console.log('Theorbo: the talk\'s network (1025 → 256 → 64 → 12, half-wave rectified) and its template-distance loss');
console.log(`graph: ${nodes} nodes, built in ${(built - started).toFixed(1)} ms`);
console.log(`evaluated on the reference evaluator (batch 64) in ${(evaluated - built).toFixed(1)} ms`);
console.log(`loss = ${loss!.data[0]!.toPrecision(6)}; output ${output!.dtype}[${output!.shape.join(',')}]`);
console.log('\nThe loss graph:');
console.log(T.debugprint([program.scalarLoss]));
