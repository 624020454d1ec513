// The worker of the file fuzz (files-fuzz.test.ts): runs cases [from, to) of one kind and
// reports each case's number before it starts, so that the main thread can tell which case
// hangs and end the worker, and its outcome after. Cases are made and checked by
// files-fuzz-cases.ts.
import { parentPort, workerData } from 'node:worker_threads';
import { audioCase, checkAudioCase, checkModelCase, modelCase, type Outcome } from './files-fuzz-cases.ts';

export interface FuzzJob { kind: 'audio' | 'model'; seed: number; from: number; to: number }
export type FuzzMessage =
  | { type: 'start'; kind: FuzzJob['kind']; index: number }
  | { type: 'outcome'; kind: FuzzJob['kind']; index: number; outcome: Outcome; ms: number }
  | { type: 'done' };

const post = (message: FuzzMessage): void => parentPort!.postMessage(message);

for (const job of workerData as FuzzJob[]) {
  for (let index = job.from; index < job.to; index++) {
    post({ type: 'start', kind: job.kind, index });
    const started = performance.now();
    let outcome: Outcome;
    if (job.kind === 'audio') {
      const { name, bytes } = audioCase(job.seed, index);
      outcome = await checkAudioCase(name, bytes);
    } else {
      const { names, config, weights } = modelCase(job.seed, index);
      outcome = checkModelCase(names, { config, weights });
    }
    post({ type: 'outcome', kind: job.kind, index, outcome, ms: performance.now() - started });
  }
}
post({ type: 'done' });
