// Takes the README's pictures of the app with the headless browser the tests use: Listen
// on a synthesized clip (seed 3's first test clip) and Learn after a few epochs, written to
// docs/web-listen.png and docs/web-learn.png. Usage: tsx web/screenshot.ts [epochs]
// Left out: Bring your model (it draws what Listen draws).

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';
import { additiveClipPlans, renderAdditive, writeWav } from '@theorbo/music';
import { buildWeb, serveDirectory } from './build.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const epochs = process.argv[2] ?? '8';
const scratch = mkdtempSync(join(tmpdir(), 'theorbo-screenshot-'));
const built = await buildWeb({ outdir: join(scratch, 'dist') });
const server = await serveDirectory(built.outdir);
const clip = renderAdditive(additiveClipPlans({ seed: 3, clips: { test: 1 } })[0]!);
const wav = join(scratch, 'synthesized-clip.wav');
writeWav(wav, { sampleRate: clip.sampleRate, channels: [clip.audio] }, { sampleFormat: 'float' });
const browser = await puppeteer.launch({
  executablePath: '/usr/bin/chromium-headless-shell', headless: true,
  args: ['--no-sandbox', '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-webgpu-adapter=swiftshader', '--enable-unsafe-swiftshader', '--disable-gpu-sandbox', '--no-first-run', `--user-data-dir=${join(scratch, 'profile')}`],
});
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1040, height: 640 });
  await page.goto(`http://localhost:${(server.address() as AddressInfo).port}/`);
  const statusMatches = (id: string, pattern: string) => page.waitForFunction((element, source) => new RegExp(source).test(document.getElementById(element)!.textContent!), { timeout: 300_000 }, id, pattern);
  await (await page.$('input#listen-file'))!.uploadFile(wav);
  await statusMatches('listen-status', 'segments in|error');
  mkdirSync(join(root, 'docs'), { recursive: true });
  await page.screenshot({ path: join(root, 'docs/web-listen.png') });
  await page.click('nav button[data-view=learn]');
  await page.$eval('#learn-epochs', (element, value) => { (element as HTMLInputElement).value = value; }, epochs);
  await page.click('#learn-prepare');
  await statusMatches('learn-status', 'press Train|error');
  await page.click('#learn-train-button');
  await statusMatches('learn-status', 'stopped after|error');
  await page.screenshot({ path: join(root, 'docs/web-learn.png') });
  console.log(`wrote docs/web-listen.png and docs/web-learn.png (${await page.$eval('#learn-status', (element) => element.textContent)})`);
} finally {
  await browser.close();
  server.close();
  rmSync(scratch, { recursive: true, force: true });
}
