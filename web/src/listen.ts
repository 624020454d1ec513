// The Listen view: an audio file or the microphone in, the chromagram and the chords out
// (computed on the page's device), the .lab to download. Bring your model reuses
// showRecognition with its own model.

import { formatLab } from '@theorbo/music/browser';
import { decodeAudioFile, recognizeSignal, type LoadedModel, type Recognition } from './engine.ts';
import { drawChromagram } from './plots.ts';

export interface RecognitionPanel { status: HTMLElement; canvas: HTMLCanvasElement; download: HTMLAnchorElement; table: HTMLElement }

/** Draws a recognition into `panel` and points the download link at its .lab text. */
export function showRecognition(panel: RecognitionPanel, result: Recognition, name: string): void {
  drawChromagram(panel.canvas, result.chroma.data, result.features.times.length, result.duration, result.segments);
  const lab = formatLab(result.segments);
  URL.revokeObjectURL(panel.download.href);
  panel.download.href = URL.createObjectURL(new Blob([lab], { type: 'text/plain' }));
  panel.download.download = `${name.replace(/\.[^.]+$/, '') || 'recording'}.lab`;
  panel.download.hidden = false;
  panel.table.textContent = lab;
}

/** Decodes `file`, recognizes it with `model` and shows it; errors go to the status line. */
export async function analyseFile(panel: RecognitionPanel, file: Blob, name: string, model?: LoadedModel): Promise<Recognition | undefined> {
  panel.status.textContent = `decoding ${name}…`;
  try {
    const { samples, sampleRate } = await decodeAudioFile(file);
    panel.status.textContent = `analysing ${name} (${(samples.length / sampleRate).toFixed(1)} s at ${sampleRate} Hz)…`;
    const started = performance.now();
    const result = await recognizeSignal(samples, sampleRate, model);
    showRecognition(panel, result, name);
    panel.status.textContent = `${name}: ${result.duration.toFixed(1)} s, ${result.features.times.length} frames, ${result.segments.length} chord segments in ${((performance.now() - started) / 1000).toFixed(2)} s`;
    return result;
  } catch (error) {
    panel.status.textContent = `error: ${(error as Error).message}`;
    return undefined;
  }
}

/** Records from the microphone until `stop` is called, then analyses the take. */
export async function recordMicrophone(panel: RecognitionPanel): Promise<() => void> {
  if (!navigator.mediaDevices?.getUserMedia) throw new Error('this browser gives no microphone access (navigator.mediaDevices is missing; pages need https or localhost)');
  const stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
  const recorder = new MediaRecorder(stream);
  const chunks: Blob[] = [];
  recorder.ondataavailable = (event) => chunks.push(event.data);
  recorder.onstop = () => {
    for (const track of stream.getTracks()) track.stop();
    void analyseFile(panel, new Blob(chunks, { type: recorder.mimeType }), 'microphone');
  };
  recorder.start();
  panel.status.textContent = 'recording… press stop to analyse';
  return () => recorder.stop();
}
