// clipFeatures for many clips on all of the machine's cores (Node only: worker_threads):
// each worker computes whole clips (features-worker.ts) and sends back their arrays, so
// the results equal clipFeatures' one by one. Where workers cannot start (no tsx to load
// the worker's TypeScript), or for a handful of clips, the calling thread computes them.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as T from '@theorbo/graph';
import type { PlannedSegment as ClipSegment } from '../data/clip-plan.ts';
import { clipFeatures, type ClipFeatures, type FeatureOptions } from './features.ts';

export interface FeatureJob {
  audio: Float32Array;
  segments: readonly ClipSegment[];
}

/** What a worker sends back for one clip. */
export interface FeatureReply {
  index: number;
  dft?: { data: Float32Array; shape: number[] };
  cqt?: { data: Float32Array; shape: number[] };
  labels?: Int32Array;
  times?: Float64Array;
  error?: string;
}

/** Below this many clips the calling thread computes them (a worker costs ~100 ms to start). */
const fewClips = 8;

/**
 * A worker's first lines: Node 20 does not pass the TypeScript loader's hooks (tsx,
 * registered by `--import`) on to workers, so each registers it before it imports its file.
 */
function workerBootstrap(): string | undefined {
  let tsx: string;
  try {
    // tsx's ESM API by its package's export map (a CommonJS resolve would give the require entry).
    const manifest = createRequire(import.meta.url).resolve('tsx/package.json');
    const entry = (JSON.parse(readFileSync(manifest, 'utf8')) as { exports: Record<string, { import: { default: string } }> }).exports['./esm/api']!.import.default;
    tsx = pathToFileURL(join(dirname(manifest), entry)).href;
  } catch {
    return undefined;
  }
  const file = new URL('./features-worker.ts', import.meta.url).href;
  return `(async () => { const { register } = await import(${JSON.stringify(tsx)}); register(); await import(${JSON.stringify(file)}); })();`;
}

export interface FeaturePoolOptions {
  onProgress?: (done: number, total: number) => void;
  /** Threads to use (default: the machine's cores). */
  threads?: number;
  /** Told how the clips were computed: on workers, or on the calling thread. */
  ran?: (how: 'workers' | 'calling thread') => void;
}

export async function clipFeaturesAll(jobs: readonly FeatureJob[], options: FeatureOptions, pool: FeaturePoolOptions = {}): Promise<ClipFeatures[]> {
  const { onProgress, threads = availableParallelism(), ran } = pool;
  const serially = (): ClipFeatures[] => {
    ran?.('calling thread');
    return jobs.map((job, i) => serial(job, i));
  };
  const serial = (job: FeatureJob, i: number): ClipFeatures => {
    const features = clipFeatures(job.audio, job.segments, options);
    onProgress?.(i + 1, jobs.length);
    return features;
  };
  const count = Math.min(threads, Math.ceil(jobs.length / 2));
  const bootstrap = workerBootstrap();
  if (count < 2 || jobs.length < fewClips || bootstrap === undefined) return serially();
  const results: ClipFeatures[] = new Array(jobs.length);
  let next = 0, done = 0;
  const workers: Worker[] = [];
  try {
    await Promise.all(Array.from({ length: count }, async () => {
      const worker = new Worker(bootstrap, { eval: true, execArgv: [], workerData: { options } });
      workers.push(worker);
      await new Promise<void>((resolve, reject) => {
        const send = (): void => {
          if (next >= jobs.length) return resolve();
          const index = next++;
          const job = jobs[index]!;
          worker.postMessage({ index, audio: job.audio, segments: job.segments });
        };
        worker.on('message', (reply: FeatureReply) => {
          if (reply.error) return reject(new Error(`features of clip ${reply.index} in a worker: ${reply.error}`));
          results[reply.index] = {
            dft: T.array(reply.dft!.data, { shape: reply.dft!.shape }),
            cqt: T.array(reply.cqt!.data, { shape: reply.cqt!.shape }),
            labels: reply.labels!,
            times: reply.times!,
          };
          onProgress?.(++done, jobs.length);
          send();
        });
        worker.once('error', reject);
        worker.once('exit', (code) => (next < jobs.length || done < jobs.length) && reject(new Error(`a features worker exited with code ${code}`)));
        send();
      });
    }));
  } catch (error) {
    // A worker that cannot run (no loader for its TypeScript file): the rest on this thread.
    if (results.every((result) => result === undefined)) {
      for (const worker of workers) void worker.terminate();
      return serially();
    }
    throw error;
  } finally {
    for (const worker of workers) void worker.terminate();
  }
  ran?.('workers');
  return results;
}
