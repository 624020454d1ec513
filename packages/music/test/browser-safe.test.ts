// The music package's browser entry (src/browser.ts, the `browser` export condition):
// esbuild bundles it for a browser with no music module importing a `node:` module, and
// the page's in-memory additive clips are the same bytes as synthesizeDataset's.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { additiveClipPlans, renderAdditive } from '../src/browser.ts';
import { synthesizeDataset } from '../src/data/index.ts';

const scratch = mkdtempSync(join(tmpdir(), 'theorbo-browser-safe-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));

test('the browser entry bundles for a browser, and no music module imports node: or Dawn', async () => {
  const result = await esbuild.build({
    entryPoints: [join(import.meta.dirname, '../src/browser.ts')], bundle: true, write: false, platform: 'browser', format: 'esm',
    conditions: ['browser'], metafile: true, logLevel: 'silent',
    // Node-only imports are left unresolved here so that each can be named below.
    plugins: [{ name: 'node-only', setup: (build) => build.onResolve({ filter: /^(node:|webgpu$)/ }, (args) => ({ path: args.path, external: true })) }],
  });
  const nodeImports = Object.entries(result.metafile.inputs).flatMap(([file, input]) => input.imports.filter((imported) => imported.external).map((imported) => `${file} → ${imported.path}`));
  const fromMusic = nodeImports.filter((line) => line.includes('packages/music/'));
  assert.equal(fromMusic, [], `music modules reached from src/browser.ts import Node-only modules:\n${fromMusic.join('\n')}`);
  // Node's globals are not imports: look for them in the music sources the bundle holds.
  const nodeGlobals = Object.keys(result.metafile.inputs).filter((file) => file.includes('packages/music/src/'))
    .flatMap((file) => readFileSync(file, 'utf8').split('\n').flatMap((line, i) => (/^\s*\/\//.test(line) || !/\b(Buffer|process|__dirname|require)\s*[.(]/.test(line) ? [] : [`${file}:${i + 1}: ${line.trim()}`])));
  assert.equal(nodeGlobals, [], `music modules reached from src/browser.ts use Node's globals:\n${nodeGlobals.join('\n')}`);
  assert.ok(result.outputFiles[0]!.contents.length > 100_000, 'the bundle holds the signal and model code');
});

test('additiveClipPlans + renderAdditive make synthesizeDataset\'s additive clips, byte for byte', async () => {
  const options = { seed: 11, clips: { train: 2, validation: 1, test: 1 }, plan: { segmentsPerClip: [2, 3] as const } };
  const dataset = await synthesizeDataset({ ...options, cacheDir: join(scratch, 'cache') });
  const plans = additiveClipPlans(options);
  assert.equal(plans.map((plan) => plan.id), dataset.clips.map((clip) => clip.id));
  for (const [i, plan] of plans.entries()) {
    const clip = renderAdditive(plan);
    const expected = dataset.clips[i]!;
    assert.equal(clip.plan.segments, expected.segments, `${plan.id}: segments`);
    assert.equal(clip.audio.length, expected.audio.length, `${plan.id}: length`);
    assert.ok(clip.audio.every((value, k) => Object.is(value, expected.audio[k])), `${plan.id}: samples differ`);
  }
});

test.run();
