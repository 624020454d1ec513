// The web app's entry: the three views (Listen, Learn, Bring your model), the device line,
// and window.theorbo for automation and the browser tests:
//   window.theorbo.recognize(samples: Float32Array, sampleRate) → Promise<{ start, end, label }[]>
//   window.theorbo.device → Promise<string> (the device line the page shows)

import { analyseFile, recordMicrophone, type RecognitionPanel } from './listen.ts';
import { LearnSession, learningRates, type LearnModel } from './learn.ts';
import { loadModelFiles } from './bring.ts';
import { describeDevice, pageDevice, recognizeSignal, type LoadedModel } from './engine.ts';

const byId = <E extends HTMLElement>(id: string): E => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page lacks #${id}`);
  return element as E;
};

declare global {
  interface Window {
    theorbo: {
      recognize(samples: Float32Array, sampleRate: number): Promise<{ start: number; end: number; label: string }[]>;
      device: Promise<string>;
    };
  }
}

const device = pageDevice().then(describeDevice);
window.theorbo = {
  recognize: async (samples, sampleRate) => (await recognizeSignal(samples, sampleRate)).segments.map(({ start, end, label }) => ({ start, end, label })),
  device,
};
device.then(
  (line) => { byId('device').textContent = `device: ${line}`; },
  (error: Error) => { byId('device').textContent = `device: none (${error.message})`; },
);

// Tabs.
for (const button of document.querySelectorAll<HTMLButtonElement>('nav button')) {
  button.addEventListener('click', () => {
    for (const other of document.querySelectorAll<HTMLButtonElement>('nav button')) {
      other.classList.toggle('active', other === button);
      byId(other.dataset.view!).hidden = other !== button;
    }
  });
}

// Listen.
const listen: RecognitionPanel = { status: byId('listen-status'), canvas: byId('listen-canvas'), download: byId('listen-download'), table: byId('listen-lab') };
byId<HTMLInputElement>('listen-file').addEventListener('change', (event) => {
  const file = (event.target as HTMLInputElement).files?.[0];
  if (file) void analyseFile(listen, file, file.name);
});
let stopRecording: (() => void) | undefined;
const recordButton = byId<HTMLButtonElement>('listen-record');
recordButton.addEventListener('click', async () => {
  if (stopRecording) {
    stopRecording();
    stopRecording = undefined;
    recordButton.textContent = 'record';
    return;
  }
  try {
    stopRecording = await recordMicrophone(listen);
    recordButton.textContent = 'stop';
  } catch (error) {
    listen.status.textContent = `error: ${(error as Error).message}`;
  }
});

// Learn.
const learnView = { status: byId('learn-status'), curves: byId<HTMLCanvasElement>('learn-curves'), weights: byId<HTMLCanvasElement>('learn-weights') };
const prepareButton = byId<HTMLButtonElement>('learn-prepare'), trainButton = byId<HTMLButtonElement>('learn-train-button'), stopButton = byId<HTMLButtonElement>('learn-stop');
const numberOf = (id: string): number => Number(byId<HTMLInputElement>(id).value);
let session: LearnSession | undefined;
prepareButton.addEventListener('click', async () => {
  session?.stop();
  prepareButton.disabled = trainButton.disabled = true;
  try {
    const model = byId<HTMLSelectElement>('learn-model').value as LearnModel;
    session = await LearnSession.prepare({ model, seed: numberOf('learn-seed'), trainClips: numberOf('learn-train'), validationClips: numberOf('learn-validation'), batch: 64, learningRate: learningRates[model] }, learnView);
    trainButton.disabled = false;
    trainButton.textContent = 'train';
  } catch (error) {
    learnView.status.textContent = `error: ${(error as Error).message}`;
  } finally {
    prepareButton.disabled = false;
  }
});
trainButton.addEventListener('click', async () => {
  if (!session || session.isRunning) return;
  trainButton.disabled = true;
  stopButton.disabled = false;
  try {
    await session.run(numberOf('learn-epochs'));
  } catch (error) {
    learnView.status.textContent = `error: ${(error as Error).message}`;
  }
  trainButton.disabled = false;
  trainButton.textContent = 'resume';
  stopButton.disabled = true;
});
stopButton.addEventListener('click', () => session?.stop());

// Bring your model.
const bring: RecognitionPanel = { status: byId('bring-status'), canvas: byId('bring-canvas'), download: byId('bring-download'), table: byId('bring-lab') };
// A model chosen after the audio runs on that audio at once (choosing the same audio file
// again would fire no change event).
let brought: LoadedModel | undefined, broughtAudio: File | undefined;
byId<HTMLInputElement>('bring-model').addEventListener('change', async (event) => {
  const files = [...((event.target as HTMLInputElement).files ?? [])];
  try {
    const { loaded, summary } = await loadModelFiles(files);
    brought = loaded;
    byId<HTMLInputElement>('bring-audio').disabled = false;
    bring.status.textContent = broughtAudio ? `${summary}; analysing ${broughtAudio.name} with it…` : `${summary}; now choose an audio file`;
    if (broughtAudio) await analyseFile(bring, broughtAudio, broughtAudio.name, loaded);
  } catch (error) {
    bring.status.textContent = `error: ${(error as Error).message}`;
  }
});
byId<HTMLInputElement>('bring-audio').addEventListener('change', (event) => {
  broughtAudio = (event.target as HTMLInputElement).files?.[0];
  if (broughtAudio && brought) void analyseFile(bring, broughtAudio, broughtAudio.name, brought);
});
