// A worker of features-pool.ts: clipFeatures of each clip it is sent, its arrays sent back.
import { parentPort, workerData } from 'node:worker_threads';
import { clipFeatures, type FeatureOptions } from './features.ts';
import type { FeatureJob, FeatureReply } from './features-pool.ts';

const options = (workerData as { options: FeatureOptions }).options;
parentPort!.on('message', ({ index, audio, segments }: FeatureJob & { index: number }) => {
  let reply: FeatureReply;
  try {
    const { dft, cqt, labels, times } = clipFeatures(audio, segments, options);
    const [dftData, cqtData] = [dft.data as Float32Array, cqt.data as Float32Array];
    reply = { index, dft: { data: dftData, shape: [...dft.shape] }, cqt: { data: cqtData, shape: [...cqt.shape] }, labels: labels as Int32Array, times: times as Float64Array };
    parentPort!.postMessage(reply, [dftData.buffer, cqtData.buffer, (labels as Int32Array).buffer, (times as Float64Array).buffer].filter((b, i, all) => all.indexOf(b) === i) as ArrayBuffer[]);
  } catch (error) {
    reply = { index, error: String((error as Error).stack ?? error) };
    parentPort!.postMessage(reply);
  }
});
