// File fuzzing (issue 15): thousands of mutated audio files and model folders, made in
// memory from a printed seed (files-fuzz-cases.ts), each read from its bytes as loadMono
// and loadChromaModel read files. Every case must end in a FileFormatError that names the
// file, or in a valid result without NaN; a case that takes longer than the deadline is a
// hang. The cases run in a worker that reports each case before starting it, so the main
// thread can end a hung worker, name the case, and go on with the next one in a new worker.
// CI runs 2000 audio files and 500 model folders; THEORBO_LONG=1 (run-tests --long) ten
// times more. THEORBO_FUZZ_SEED=n replays a run; a failing case is audioCase(seed, index)
// or modelCase(seed, index).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { FuzzJob, FuzzMessage } from './files-fuzz-worker.ts';

const long = process.env.THEORBO_LONG === '1';
const counts = { audio: long ? 20_000 : 2000, model: long ? 5000 : 500 };
const seed = process.env.THEORBO_FUZZ_SEED !== undefined ? Number(process.env.THEORBO_FUZZ_SEED) : Date.now() % 2 ** 31;
/** No case may take this long: about a thousand times the slowest seen on a loaded 2-core runner. */
const caseDeadlineMs = 5000;
/** Each hang costs the deadline and a new worker; past this many the run stops and fails. */
const maxHangs = 3;

interface Tally { accepted: number; refused: number; slowestMs: number; slowestIndex: number }
interface Report { tallies: Record<FuzzJob['kind'], Tally>; failures: string[]; seconds: number }

const workerPath = fileURLToPath(new URL('./files-fuzz-worker.ts', import.meta.url));
// Workers do not inherit uvu's `-r tsx`; the worker's entry loads tsx's ESM API and imports the TypeScript through it.
const tsxApi = createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs');
const entry = `import(${JSON.stringify(tsxApi)}).then((api) => api.tsImport(${JSON.stringify(workerPath)}, ${JSON.stringify(import.meta.url)}))`;

function runFuzz(jobs: FuzzJob[]): Promise<Report> {
  const started = performance.now();
  const tallies = {
    audio: { accepted: 0, refused: 0, slowestMs: 0, slowestIndex: -1 },
    model: { accepted: 0, refused: 0, slowestMs: 0, slowestIndex: -1 },
  };
  const failures: string[] = [];
  let hangs = 0;
  return new Promise((resolve) => {
    const launch = (remaining: FuzzJob[]): void => {
      if (remaining.length === 0) {
        resolve({ tallies, failures, seconds: (performance.now() - started) / 1000 });
        return;
      }
      let current: { kind: FuzzJob['kind']; index: number; since: number } | undefined;
      let finished = false;
      const worker = new Worker(entry, { eval: true, workerData: remaining });
      // After a hang or a dead worker, go on from the case after the culprit; a worker that
      // dies before its first case would die again, so the run ends there.
      const resumeAfter = (): FuzzJob[] => {
        if (current === undefined) return [];
        const { kind, index } = current;
        return remaining.flatMap((job) => job.kind !== kind || index < job.from || index >= job.to ? [job] : index + 1 < job.to ? [{ ...job, from: index + 1 }] : []);
      };
      const end = (why: string): void => {
        if (finished) return;
        finished = true;
        clearInterval(watchdog);
        failures.push(`${current ? `${current.kind} case ${current.index}` : 'worker start'}: ${why}`);
        void worker.terminate();
        if (++hangs === maxHangs) failures.push(`stopped after ${maxHangs} hangs or dead workers`);
        launch(hangs < maxHangs ? resumeAfter() : []);
      };
      const watchdog = setInterval(() => {
        if (current !== undefined && performance.now() - current.since > caseDeadlineMs) end(`hang: no outcome after ${caseDeadlineMs} ms`);
      }, 100);
      worker.on('message', (message: FuzzMessage) => {
        if (message.type === 'start') current = { kind: message.kind, index: message.index, since: performance.now() };
        else if (message.type === 'outcome') {
          const tally = tallies[message.kind];
          if (message.outcome.kind === 'crash') failures.push(`${message.kind} case ${message.index}: ${message.outcome.detail}`);
          else tally[message.outcome.kind]++;
          if (message.ms > tally.slowestMs) { tally.slowestMs = message.ms; tally.slowestIndex = message.index; }
          // Progress moves the resume point: a later death restarts after the last case begun.
          remaining = remaining.flatMap((job) => job.kind === message.kind ? (job.to <= message.index + 1 ? [] : [{ ...job, from: message.index + 1 }]) : [job]);
          current = undefined;
        } else {
          finished = true;
          clearInterval(watchdog);
          void worker.terminate();
          resolve({ tallies, failures, seconds: (performance.now() - started) / 1000 });
        }
      });
      worker.on('error', (error) => end(`the worker died: ${error.message}`));
      worker.on('exit', (code) => { if (!finished) end(`the worker exited with code ${code}`); });
    };
    launch(jobs);
  });
}

test(`mutated audio files and model folders: a FileFormatError or a valid result, no hang (seed ${seed})`, async () => {
  console.log(`file fuzz: seed ${seed} (replay with THEORBO_FUZZ_SEED=${seed}), ${counts.audio} audio files, ${counts.model} model folders, ${caseDeadlineMs} ms per case`);
  const report = await runFuzz([
    { kind: 'audio', seed, from: 0, to: counts.audio },
    { kind: 'model', seed, from: 0, to: counts.model },
  ]);
  for (const [kind, tally] of Object.entries(report.tallies)) {
    console.log(`file fuzz: ${kind}: ${tally.accepted} accepted, ${tally.refused} refused with a FileFormatError; slowest case ${tally.slowestIndex} took ${tally.slowestMs.toFixed(1)} ms`);
  }
  console.log(`file fuzz: ${report.failures.length} failures in ${report.seconds.toFixed(1)} s`);
  assert.equal(report.failures.slice(0, 10), [], `seed ${seed}: ${report.failures.length} cases crashed, hung or accepted a bad result`);
  // The mutations must reach both outcomes, or the fuzz tests nothing.
  for (const [kind, tally] of Object.entries(report.tallies)) {
    const total = counts[kind as FuzzJob['kind']];
    assert.is(tally.accepted + tally.refused, total, `${kind}: every case has an outcome`);
    assert.ok(tally.refused > total / 4, `${kind}: only ${tally.refused} of ${total} mutations were refused`);
    assert.ok(tally.accepted > total / 50, `${kind}: only ${tally.accepted} of ${total} mutations were accepted`);
  }
});

test.run();
