// The web app in a real browser: Debian's headless Chromium (scripts/setup.sh installs it)
// driven by puppeteer-core, with SwiftShader's WebGPU (a second WebGPU implementation
// beside Dawn's llvmpipe), opening the app bundled by web/build.ts from a localhost server.
// In the page: one case per op kind compiled on the page's device against the reference
// evaluator and one gradient check per differentiable op (web/test/ops-page.ts), and
// window.theorbo.recognize on a synthesized clip gives the labels `theorbo chords` writes
// for the same clip in Node (both with the shipped model, sevenths and inversions), and so does Listen given the clip as a file (with a
// chromagram painted and the .lab to download); a graph saved in Node (saveGraph) gives Node's outputs in the
// page; Bring your model, given a model folder's files or that model saved as a graph by
// `theorbo export-graph` (graph.json + values.npz, or inline), gives `theorbo chords
// --model`'s labels (the model's chroma is rotated by two semitones, so that its labels
// differ from the shipped model's); Learn synthesizes clips and trains the learned
// chroma (on WebGPU) and the network (on the cpu device's page, without WebGPU), each
// lowering the loss and drawing its weights. A browser that cannot start fails the suite,
// never skips it; the microphone is Chromium's fake capture device.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assertClose } from '@theorbo/graph/testing';
import {
  additiveClipPlans, clipFeatures, featureDefaults, learnedChroma, parseLab, renderAdditive, saveModel, stickyTransitions, templateLogScores,
  viterbiGraph, writeWav,
} from '@theorbo/music';
import * as T from '@theorbo/graph';
import { grad } from '@theorbo/autodiff';
import { acquireDevice, compile } from '@theorbo/codegen';
import { buildWeb, serveDirectory } from '../web/build.ts';
import type { OpReport, WireArray } from '../web/test/ops-page.ts';

// What the page offers (web/src/main.ts), typed here without the DOM library; functions
// handed to page.evaluate run in the page, where these globals exist.
type Segment = { start: number; end: number; label: string };
interface PageGlobals {
  theorbo: { recognize(samples: Float32Array, sampleRate: number): Promise<Segment[]>; device: Promise<string> };
  navigator: { gpu?: { requestAdapter(): Promise<{ info: { vendor: string; architecture: string } } | null> } };
}
type StatusDoc = { document: { getElementById(id: string): { textContent: string } } };

const root = join(import.meta.dirname, '..');
const chromium = '/usr/bin/chromium-headless-shell';
const scratch = mkdtempSync(join(tmpdir(), 'theorbo-web-test-'));
const flags = [
  '--headless', '--no-sandbox', '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-webgpu-adapter=swiftshader',
  '--enable-unsafe-swiftshader', '--disable-gpu-sandbox', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', `--user-data-dir=${join(scratch, 'profile')}`,
  // A microphone for Listen's record button: Chromium's fake capture device (a beep), allowed without a prompt.
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
];
let browser: Browser | undefined, server: Server | undefined, page!: Page;
const pageErrors: string[] = [];

test.before(async () => {
  if (!existsSync(chromium)) throw new Error(`${chromium} is missing: the browser tests need Debian's chromium-headless-shell (scripts/setup.sh installs it)`);
  const outdir = join(scratch, 'dist');
  await buildWeb({ outdir, extraEntries: { 'ops-page': join(root, 'web/test/ops-page.ts') } });
  server = await serveDirectory(outdir);
  try {
    browser = await puppeteer.launch({ executablePath: chromium, headless: true, args: flags, timeout: 30_000 });
  } catch (error) {
    throw new Error(`${chromium} did not start with ${flags.join(' ')}: ${(error as Error).message}`);
  }
  page = await browser.newPage();
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  await page.goto(`http://localhost:${(server.address() as AddressInfo).port}/`);
});

test.after(async () => {
  await browser?.close();
  server?.close();
  rmSync(scratch, { recursive: true, force: true });
});

test('the page names its device: WebGPU from navigator.gpu where the browser has an adapter (SwiftShader here)', async () => {
  const adapter = await page.evaluate(async () => {
    const found = await (globalThis as unknown as PageGlobals).navigator.gpu?.requestAdapter();
    return found ? `${found.info.vendor} ${found.info.architecture}` : null;
  });
  const device = await page.evaluate(() => (globalThis as unknown as PageGlobals).theorbo.device);
  console.log(`  page device: ${device} (adapter: ${adapter ?? 'none'})`);
  if (adapter !== null) assert.match(device, /^gpu: .*navigator\.gpu/, `the browser has a WebGPU adapter (${adapter}) but the page runs on: ${device}`);
  else assert.match(device, /^(cpu|reference)/);
  assert.match(await page.$eval('#device', (element) => element.textContent ?? ''), device, 'the page shows its device line');
});

test('every op kind on the page\'s device against the reference evaluator, every differentiable op\'s gradient against finite differences and its gradient graph on the device', async () => {
  const started = performance.now();
  const report = await page.evaluate(async () => (await import('/ops-page.js' as string) as typeof import('../web/test/ops-page.ts')).runOpChecks()) as OpReport;
  const failures = [...report.forward, ...report.gradients, ...report.deviceGradients].filter((result) => !result.ok).map((result) => `${result.name} [${result.ops.join(', ')}]: ${result.error}`);
  const seconds = (results: readonly { ms: number }[]) => (results.reduce((sum, result) => sum + result.ms, 0) / 1000).toFixed(1);
  console.log(`  ${report.forward.length} device cases (${seconds(report.forward)} s), ${report.gradients.length} gradient checks (${seconds(report.gradients)} s) and ${report.deviceGradients.length} gradient graphs on the device (${seconds(report.deviceGradients)} s; no float32 graph: ${report.deviceGradientsSkipped.join(', ') || 'none'}) on ${report.device}, ${((performance.now() - started) / 1000).toFixed(1)} s in all`);
  assert.equal(report.uncovered, [], 'ops without a case in the page');
  assert.equal(failures, [], `in the browser on ${report.device}:\n${failures.join('\n')}`);
  assert.ok(report.forward.length >= 20 && report.gradients.length >= 20 && report.deviceGradients.length >= 20, 'the page ran the case lists');
});

// A synthesized clip with several chords (seed 3's first test clip) as a float WAV, and a
// learned-chroma model folder (octave-folding start, perturbed, its pitch classes rotated
// up two semitones: it hears a D where the clip has a C); the CLI runs on both, and exports
// the model as a saved graph, while the page works.
const plan = additiveClipPlans({ seed: 3, clips: { test: 1 } })[0]!;
const clip = renderAdditive(plan);
const wav = join(scratch, 'clip.wav');
const modelDir = join(scratch, 'model');
const graphDir = join(scratch, 'graph'), inlineGraphDir = join(scratch, 'graph-inline');
let cliRuns: Promise<string[]> | undefined;

function theorbo(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(root, 'node_modules/.bin/tsx'), [join(root, 'packages/music/src/cli/theorbo.ts'), ...args], { cwd: scratch });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('close', (code) => (code === 0 ? resolve(output) : reject(new Error(`theorbo ${args.join(' ')} exited ${code}:\n${output}`))));
  });
}

test.before(async () => {
  writeWav(wav, { sampleRate: clip.sampleRate, channels: [clip.audio] }, { sampleFormat: 'float' });
  const model = learnedChroma(featureDefaults, { from: 'octave', gain: 0.6 });
  const weights = model.weights.get();
  const rotated = (i: number) => i - (i % 12) + ((i % 12) + 10) % 12; // column c reads column c - 2
  model.weights.set(T.array(Float32Array.from(weights.data, (_, i) => weights.data[rotated(i)]! + 0.05 * Math.sin(i)), { shape: weights.shape }));
  await saveModel(modelDir, model.params, { kind: 'learned-chroma', feature: featureDefaults, init: 'octave' });
  cliRuns = Promise.all([
    // The page's recognize() and Listen use the shipped model, fetched beside the page, as `theorbo chords` does without --model.
    theorbo(['chords', wav, '--out', join(scratch, 'clip.lab')]),
    theorbo(['chords', wav, '--model', modelDir, '--out', join(scratch, 'clip-model.lab')]),
    theorbo(['export-graph', modelDir, '--out', graphDir]),
    theorbo(['export-graph', modelDir, '--out', inlineGraphDir, '--inline']),
  ]);
});

/** The labels must agree; boundaries fall on frame edges, and the two devices' float arithmetic may move one by a frame. */
function assertSameChords(inPage: readonly Segment[], expected: readonly Segment[], what: string): void {
  assert.ok(new Set(expected.map((segment) => segment.label)).size >= 2, `the clip should hold several chords: ${JSON.stringify(expected)}`);
  console.log(`  ${what}: ${expected.length} segments from the CLI (${expected.map((segment) => segment.label).join(' ')}), ${inPage.length} in the page`);
  assert.equal(inPage.map((segment) => segment.label), expected.map((segment) => segment.label), `${what}: labels in the page and from the CLI`);
  const frame = featureDefaults.hop / featureDefaults.sampleRate;
  for (const [i, segment] of expected.entries()) {
    assert.ok(Math.abs(inPage[i]!.start - segment.start) <= frame + 1e-9, `${what}: segment ${i} starts at ${inPage[i]!.start} s in the page, ${segment.start} s from the CLI`);
  }
}

test('window.theorbo.recognize gives the labels `theorbo chords` writes for the same clip', async () => {
  const base64 = Buffer.from(clip.audio.buffer, clip.audio.byteOffset, clip.audio.byteLength).toString('base64');
  const inPage = await page.evaluate(async (data: string, sampleRate: number) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    return (globalThis as unknown as PageGlobals).theorbo.recognize(new Float32Array(bytes.buffer), sampleRate);
  }, base64, clip.sampleRate);
  await cliRuns;
  assertSameChords(inPage, parseLab(readFileSync(join(scratch, 'clip.lab'), 'utf8'), 'clip.lab'), 'recognize');
});

test('Listen: the clip chosen as a file gives `theorbo chords`\'s labels, a chromagram drawn on the canvas and the .lab to download', async () => {
  await page.click('nav button[data-view=listen]');
  await (await page.$('#listen-file'))!.uploadFile(wav);
  await page.waitForFunction(() => /segments in|error/.test((globalThis as unknown as StatusDoc).document.getElementById('listen-status').textContent), { timeout: 60_000 });
  const status = await page.$eval('#listen-status', (element) => element.textContent ?? '');
  assert.match(status, /^clip\.wav: \d+\.\d s, \d+ frames, \d+ chord segments in/);
  await cliRuns;
  assertSameChords(parseLab(await page.$eval('#listen-lab', (element) => element.textContent ?? ''), 'the page\'s .lab'), parseLab(readFileSync(join(scratch, 'clip.lab'), 'utf8'), 'clip.lab'), 'Listen');
  assert.match(await page.$eval('#listen-download', (element) => (element as unknown as { download: string }).download), /^clip\.lab$/);
  // The chromagram, colour bar and chord strip paint many colours; a blank canvas has one.
  const colours = await canvasColours('#listen-canvas');
  assert.ok(colours > 100, `the chromagram canvas holds ${colours} colours`);
});

test('Listen: the microphone (Chromium\'s fake capture device) records a take, which is analysed and drawn', async () => {
  await page.click('nav button[data-view=listen]');
  await page.click('#listen-record');
  await page.waitForFunction(() => /recording/.test((globalThis as unknown as StatusDoc).document.getElementById('listen-status').textContent), { timeout: 10_000 });
  await new Promise((resolve) => setTimeout(resolve, 2500));
  await page.click('#listen-record');
  await page.waitForFunction(() => /^microphone: .*segments in|error/.test((globalThis as unknown as StatusDoc).document.getElementById('listen-status').textContent), { timeout: 60_000 });
  const status = await page.$eval('#listen-status', (element) => element.textContent ?? '');
  assert.match(status, /^microphone: \d+\.\d s, \d+ frames, \d+ chord segments in/);
  const seconds = Number(/^microphone: (\d+\.\d) s/.exec(status)![1]);
  assert.ok(seconds >= 1.5 && seconds <= 10, `a take of about 2.5 s, not ${seconds} s`);
  assert.ok((await canvasColours('#listen-canvas')) > 100, 'the take\'s chromagram is drawn');
});

/** How many distinct colours a canvas of the page shows. */
function canvasColours(selector: string, target: Page = page): Promise<number> {
  return target.$eval(selector, (element) => {
    type Canvas = { width: number; height: number; getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } };
    const canvas = element as unknown as Canvas;
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    const seen = new Set<number>();
    for (let i = 0; i < pixels.length; i += 4) seen.add((pixels[i]! << 16) | (pixels[i + 1]! << 8) | pixels[i + 2]!);
    return seen.size;
  });
}

test('Bring your model: weights.npz + config.json and the clip give `theorbo chords --model`\'s labels, and the .lab to download', async () => {
  await page.click('nav button[data-view=bring]');
  const modelInput = await page.$('#bring-model');
  await modelInput!.uploadFile(join(modelDir, 'weights.npz'), join(modelDir, 'config.json'));
  await page.waitForFunction(() => /choose an audio|error/.test((globalThis as unknown as { document: { getElementById(id: string): { textContent: string } } }).document.getElementById('bring-status').textContent), { timeout: 30_000 });
  const loaded = await page.$eval('#bring-status', (element) => element.textContent ?? '');
  assert.match(loaded, /^learned-chroma model: chroma_weights\[84×12\]/);
  await (await page.$('#bring-audio'))!.uploadFile(wav);
  await page.waitForFunction(() => /segments in|error/.test((globalThis as unknown as { document: { getElementById(id: string): { textContent: string } } }).document.getElementById('bring-status').textContent), { timeout: 60_000 });
  const status = await page.$eval('#bring-status', (element) => element.textContent ?? '');
  assert.not.match(status, /error/);
  await cliRuns;
  assertSameChords(parseLab(await page.$eval('#bring-lab', (element) => element.textContent ?? ''), 'the page\'s .lab'), parseLab(readFileSync(join(scratch, 'clip-model.lab'), 'utf8'), 'clip-model.lab'), 'Bring your model');
  assert.match(await page.$eval('#bring-download', (element) => (element as unknown as { download: string }).download), /^clip\.lab$/);
});

/** Chooses `files` as the model in Bring your model and waits for the clip chosen before to be analysed (or an error). */
async function bringModel(files: string[]): Promise<string> {
  await page.$eval('#bring-status', (element) => { element.textContent = ''; });
  await (await page.$('#bring-model'))!.uploadFile(...files);
  await page.waitForFunction(() => /segments in|error/.test((globalThis as unknown as StatusDoc).document.getElementById('bring-status').textContent), { timeout: 60_000 });
  return page.$eval('#bring-status', (element) => element.textContent ?? '');
}

test('Bring your model: the model saved as a graph by `theorbo export-graph` (graph.json + values.npz, and inline) runs on the clip chosen before and gives `theorbo chords --model`\'s labels', async () => {
  await cliRuns;
  const expected = parseLab(readFileSync(join(scratch, 'clip-model.lab'), 'utf8'), 'clip-model.lab');
  const shippedLabels = parseLab(readFileSync(join(scratch, 'clip.lab'), 'utf8'), 'clip.lab').map((segment) => segment.label);
  assert.not.equal(expected.map((segment) => segment.label), shippedLabels, 'the rotated model must hear other chords than the shipped model, or this test could not tell which ran');
  for (const files of [[join(graphDir, 'graph.json'), join(graphDir, 'values.npz')], [join(inlineGraphDir, 'graph.json')]]) {
    const status = await bringModel(files);
    assert.not.match(status, /error/, `with ${files.join(' + ')}`);
    const lab = parseLab(await page.$eval('#bring-lab', (element) => element.textContent ?? ''), 'the page\'s .lab');
    assertSameChords(lab, expected, `saved graph (${files.map((file) => file.slice(scratch.length + 1)).join(' + ')})`);
  }
  const missing = await bringModel([join(graphDir, 'graph.json')]);
  assert.match(missing, /^error: graph\.json keeps its weights in values\.npz: choose that file together with graph\.json$/);
});

test('a graph saved in Node (learned chroma, template scores, Viterbi as a scan, a gradient) gives Node\'s outputs in the page', async () => {
  const features = clipFeatures(clip.audio, [], featureDefaults).cqt;
  const model = learnedChroma(featureDefaults, { from: 'octave', gain: 0.6 });
  const logScores = templateLogScores(model.chroma);
  const { path, score } = viterbiGraph(logScores, T.constant(stickyTransitions(25, 0.9)));
  const [gradient] = grad(score, [model.weights]);
  const outputs = [logScores, path, score, gradient!];
  const json = T.saveGraph(outputs, { inputs: [model.features] });
  const device = await acquireDevice();
  const expected = (await compile({ inputs: [model.features], outputs, device })(features)) as T.NDArray[];
  const wire: WireArray = { dtype: features.dtype, shape: [...features.shape], data: Array.from(features.data) };
  const result = await page.evaluate(async (text: string, input: WireArray) =>
    (await import('/ops-page.js' as string) as typeof import('../web/test/ops-page.ts')).runSavedGraph(text, [input]), json, wire);
  console.log(`  saved graph: ${(json.length / 1024).toFixed(0)} kB of JSON, run in Node on ${device.kind} and in the page on ${result.device}`);
  const got = result.outputs.map((output) => T.array(output.data, { dtype: output.dtype, shape: output.shape }));
  assert.equal(got.map((array) => array.dtype), expected.map((array) => array.dtype));
  assertClose(got[0]!, expected[0]!, { rtol: 1e-4, atol: 1e-4 }, 'log scores');
  assert.equal(Array.from(got[1]!.data), Array.from(expected[1]!.data), 'Viterbi path');
  assertClose(got[2]!, expected[2]!, { rtol: 1e-4, atol: 1e-3 }, 'path score');
  assertClose(got[3]!, expected[3]!, { rtol: 1e-3, atol: 1e-3 }, 'gradient of the score');
});

test('without WebGPU the page falls to the cpu device (the server makes it cross-origin isolated), recognizes the same chords and trains the network in Learn', async () => {
  const plain = await puppeteer.launch({ executablePath: chromium, headless: true, args: ['--no-sandbox', '--disable-features=WebGPU', '--no-first-run', `--user-data-dir=${join(scratch, 'profile-no-webgpu')}`], timeout: 30_000 });
  try {
    const fallback = await plain.newPage();
    await fallback.goto(`http://localhost:${(server!.address() as AddressInfo).port}/`);
    const device = await fallback.evaluate(() => (globalThis as unknown as PageGlobals).theorbo.device);
    console.log(`  without WebGPU: ${device}`);
    assert.match(device, /^cpu: /);
    const base64 = Buffer.from(clip.audio.buffer, clip.audio.byteOffset, clip.audio.byteLength).toString('base64');
    const inPage = await fallback.evaluate(async (data: string, sampleRate: number) => {
      const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
      return (globalThis as unknown as PageGlobals).theorbo.recognize(new Float32Array(bytes.buffer), sampleRate);
    }, base64, clip.sampleRate);
    await cliRuns;
    assertSameChords(inPage, parseLab(readFileSync(join(scratch, 'clip.lab'), 'utf8'), 'clip.lab'), 'cpu device in the page');
    await learnSession(fallback, 'network', 'on the cpu device');
  } finally {
    await plain.close();
  }
});

/** Learn on `target`: synthesize 2 clips, train `model` 2 epochs; the loss must fall and the weights be drawn. */
async function learnSession(target: Page, model: 'learned-chroma' | 'network', where: string): Promise<void> {
  const started = performance.now();
  await target.click('nav button[data-view=learn]');
  for (const [id, value] of [['#learn-train', '1'], ['#learn-validation', '1'], ['#learn-epochs', '2']] as const) {
    await target.$eval(id, (element, text) => { (element as unknown as { value: string }).value = text; }, value);
  }
  await target.select('#learn-model', model);
  await target.click('#learn-prepare');
  await target.waitForFunction(() => /press Train|error/.test((globalThis as unknown as StatusDoc).document.getElementById('learn-status').textContent), { timeout: 60_000 });
  assert.match(await target.$eval('#learn-status', (element) => element.textContent ?? ''), /^2 clips, \d+ training and \d+ validation frames/, model);
  await target.click('#learn-train-button');
  await target.waitForFunction(() => /stopped after|error/.test((globalThis as unknown as StatusDoc).document.getElementById('learn-status').textContent), { timeout: 60_000 });
  const status = await target.$eval('#learn-status', (element) => element.textContent ?? '');
  assert.match(status, /^stopped after 2 epochs, \d+ steps; validation frame accuracy \d+\.\d%$/, model);
  const [first, last] = JSON.parse(await target.$eval('#learn-curves', (element) => (element as unknown as { dataset: { losses: string } }).dataset.losses)) as [number, number];
  console.log(`  Learn, ${model} ${where}: ${status}; loss ${first.toFixed(4)} → ${last.toFixed(4)} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  assert.ok(last < first, `${model}: the loss should fall while training: ${first} → ${last}`);
  const colours = await canvasColours('#learn-weights', target);
  assert.ok(colours > 50, `${model}: the weights canvas holds ${colours} colours`);
}

// The network trains in the cpu device's page above (SwiftShader compiles its step's
// shaders for 30-40 s; the cpu device in about 2 s).
test('Learn: clips synthesized in the page, the learned chroma trained on WebGPU, the loss falls and the weights are drawn', async () => {
  await learnSession(page, 'learned-chroma', 'on WebGPU');
  assert.equal(pageErrors, [], 'uncaught errors in the page');
});

test.run();
