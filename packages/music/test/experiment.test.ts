// The demo's experiment at a small size: it synthesizes, trains every model, evaluates
// and writes a complete report folder (the full-size run is `pnpm demo`).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { experimentDefaults, runExperiment } from '../src/model/index.ts';

test('a small experiment writes the report with a row per model and every picture', async () => {
  const reportDir = mkdtempSync(join(tmpdir(), 'theorbo-report-'));
  const lines: string[] = [];
  const { results, reportPath } = await runExperiment({
    ...experimentDefaults, clips: 24, source: 'additive', stride: 4, reportDir, progress: false,
    epochs: { chroma: 2, network: 1, classifier: 2 }, hidden: [32, 16], log: (line) => lines.push(line),
  });
  assert.is(results.length, 4);
  for (const result of results) {
    for (const scores of [result.template, result.classifier]) {
      assert.ok(scores.majmin >= 0 && scores.majmin <= 1 && scores.frameAccuracy >= 0, `${result.name}: ${JSON.stringify(scores).slice(0, 80)}`);
    }
  }
  // Hand-designed chroma is a fixed function: its template matching must be far above chance (1/25).
  assert.ok(results[0]!.template.frameAccuracy > 0.3, `hand-designed chroma frame accuracy ${results[0]!.template.frameAccuracy}`);
  const summary = readFileSync(reportPath, 'utf8');
  assert.is(summary.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| features') && !line.startsWith('| ---')).length, 4);
  for (const match of summary.matchAll(/\(([^)]+\.png)\)/g)) assert.ok(existsSync(join(reportDir, match[1]!)), `missing ${match[1]}`);
  assert.ok(existsSync(join(reportDir, 'models', 'learned-chroma', 'weights.npz')));
  assert.ok(lines.some((line) => line.startsWith('device: ')));
});

test.run();
