// The web app in a real browser: Debian's headless Chromium (scripts/setup.sh installs it)
// driven by puppeteer-core, with SwiftShader's WebGPU (a second WebGPU implementation
// beside Dawn's llvmpipe), opening the app bundled by web/build.ts from a localhost server.
// In the page: one case per op kind compiled on the page's device against the reference
// evaluator and one gradient check per differentiable op (web/test/ops-page.ts), and
// window.theorbo.recognize on a synthesized clip gives the labels `theorbo chords` writes
// for the same clip in Node. A browser that cannot start fails the suite, never skips it.
// Left out: the views' clicks (window.theorbo drives the same code), microphone input.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { additiveClipPlans, parseLab, renderAdditive, writeWav } from '@theorbo/music';
import { buildWeb } from '../web/build.ts';
import type { OpReport } from '../web/test/ops-page.ts';

// What the page offers (web/src/main.ts), typed here without the DOM library; functions
// handed to page.evaluate run in the page, where these globals exist.
type Segment = { start: number; end: number; label: string };
interface PageGlobals {
  theorbo: { recognize(samples: Float32Array, sampleRate: number): Promise<Segment[]>; device: Promise<string> };
  navigator: { gpu?: { requestAdapter(): Promise<{ info: { vendor: string; architecture: string } } | null> } };
}

const root = join(import.meta.dirname, '..');
const chromium = '/usr/bin/chromium-headless-shell';
const scratch = mkdtempSync(join(tmpdir(), 'theorbo-web-test-'));
const flags = [
  '--headless', '--no-sandbox', '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-webgpu-adapter=swiftshader',
  '--enable-unsafe-swiftshader', '--disable-gpu-sandbox', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', `--user-data-dir=${join(scratch, 'profile')}`,
];
let browser: Browser | undefined, server: Server | undefined, page!: Page;
const pageErrors: string[] = [];

test.before(async () => {
  if (!existsSync(chromium)) throw new Error(`${chromium} is missing: the browser tests need Debian's chromium-headless-shell (scripts/setup.sh installs it)`);
  const outdir = join(scratch, 'dist');
  await buildWeb({ outdir, extraEntries: { 'ops-page': join(root, 'web/test/ops-page.ts') } });
  const types: Record<string, string> = { '.js': 'text/javascript', '.html': 'text/html', '.css': 'text/css' };
  server = createServer((request, response) => {
    const file = join(outdir, request.url === '/' ? 'index.html' : decodeURIComponent(request.url!.slice(1)));
    if (!file.startsWith(outdir) || !existsSync(file)) {
      response.statusCode = 404;
      response.end();
      return;
    }
    response.setHeader('content-type', types[extname(file)] ?? 'application/octet-stream');
    response.end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
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

test('every op kind on the page\'s device against the reference evaluator, every differentiable op\'s gradient against finite differences', async () => {
  const report = await page.evaluate(async () => (await import('/ops-page.js' as string) as typeof import('../web/test/ops-page.ts')).runOpChecks()) as OpReport;
  const failures = [...report.forward, ...report.gradients].filter((result) => !result.ok).map((result) => `${result.name} [${result.ops.join(', ')}]: ${result.error}`);
  console.log(`  ${report.forward.length} device cases and ${report.gradients.length} gradient checks on ${report.device}`);
  assert.equal(report.uncovered, [], 'ops without a case in the page');
  assert.equal(failures, [], `in the browser on ${report.device}:\n${failures.join('\n')}`);
  assert.ok(report.forward.length >= 20 && report.gradients.length >= 20, 'the page ran the case lists');
});

test('window.theorbo.recognize gives the labels `theorbo chords` writes for the same clip', async () => {
  // A synthesized clip with several chords (seed 3's first test clip), as a float WAV for the CLI.
  const plan = additiveClipPlans({ seed: 3, clips: { test: 1 } })[0]!;
  const clip = renderAdditive(plan);
  const wav = join(scratch, 'clip.wav');
  writeWav(wav, { sampleRate: clip.sampleRate, channels: [clip.audio] }, { sampleFormat: 'float' });
  const cli = new Promise<string>((resolve, reject) => {
    const child = spawn(join(root, 'node_modules/.bin/tsx'), [join(root, 'packages/music/src/cli/theorbo.ts'), 'chords', wav, '--out', join(scratch, 'clip.lab')], { cwd: scratch });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('close', (code) => (code === 0 ? resolve(output) : reject(new Error(`theorbo chords exited ${code}:\n${output}`))));
  });
  const base64 = Buffer.from(clip.audio.buffer, clip.audio.byteOffset, clip.audio.byteLength).toString('base64');
  const inPage = await page.evaluate(async (data: string, sampleRate: number) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    return (globalThis as unknown as PageGlobals).theorbo.recognize(new Float32Array(bytes.buffer), sampleRate);
  }, base64, clip.sampleRate);
  await cli;
  const expected = parseLab(readFileSync(join(scratch, 'clip.lab'), 'utf8'), 'clip.lab');
  assert.ok(new Set(expected.map((segment) => segment.label)).size >= 2, `the clip should hold several chords: ${JSON.stringify(expected)}`);
  console.log(`  ${expected.length} segments from the CLI (${expected.map((segment) => segment.label).join(' ')}), ${inPage.length} in the page`);
  assert.equal(inPage.map((segment) => segment.label), expected.map((segment) => segment.label), 'labels in the page and from the CLI');
  // Boundaries fall on frame edges; the two devices' float arithmetic may move one by a frame.
  const frame = 512 / clip.sampleRate;
  for (const [i, segment] of expected.entries()) {
    assert.ok(Math.abs(inPage[i]!.start - segment.start) <= frame + 1e-9, `segment ${i} starts at ${inPage[i]!.start} s in the page, ${segment.start} s from the CLI`);
  }
  assert.equal(pageErrors, [], 'uncaught errors in the page');
});

test.run();
