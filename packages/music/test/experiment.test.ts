// The demo's experiment at a small size: it synthesizes, trains every model, evaluates
// (hand-designed and learned chroma, the talk's network, the CNN, the CRNN) and writes a complete
// report folder (the full-size run is `pnpm demo`), and the talk's claim holds on the
// held-out test split: learned chroma beats hand-designed chroma.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { experimentDefaults, runExperiment } from '../src/model/index.ts';

test('a small experiment writes the report with a row per model and every picture; learned chroma wins', async () => {
  const reportDir = mkdtempSync(join(tmpdir(), 'theorbo-report-'));
  const lines: string[] = [];
  // 96 clips (14 in the test split) and 16 chroma epochs: the smallest size we found at
  // which the comparison below is stable; with 24 to 72 clips (4 to 11 test clips) the
  // gap swung from −7 to +20 points with the seed and the size.
  const { results, reportPath } = await runExperiment({
    ...experimentDefaults, clips: 96, source: 'additive', stride: 4, reportDir, progress: false,
    epochs: { chroma: 16, network: 1, cnn: 1, crnn: 1, classifier: 2 }, hidden: [32, 16], log: (line) => lines.push(line), rhythm: null,
    // The shipped model's section at its smallest (shipped-report.test.ts checks its tables).
    shippedModel: { seventhClips: 1, robustnessClips: 1, conditions: ['clean'] },
  });
  assert.is(results.length, 6);
  for (const result of results) {
    for (const scores of [result.template, result.classifier]) {
      assert.ok(scores.majmin >= 0 && scores.majmin <= 1 && scores.frameAccuracy >= 0, `${result.name}: ${JSON.stringify(scores).slice(0, 80)}`);
    }
  }
  // Hand-designed chroma is a fixed function: its template matching must be far above chance (1/25).
  assert.ok(results[0]!.template.frameAccuracy > 0.3, `hand-designed chroma frame accuracy ${results[0]!.template.frameAccuracy}`);
  // The talk's claim, on instruments and voicings never heard in training: with the same
  // template matching, learned chroma scores higher majmin WCSR than octave folding. This
  // seeded run measures 91.2 vs 78.6 (seeds 1–5: gaps of 10 to 27 points); 5 points
  // leaves room for float differences between devices without letting a tie pass.
  const [hand, learned] = [results[0]!, results[1]!];
  assert.match(learned.name, /^learned chroma \(CQT/);
  assert.ok(learned.template.majmin >= hand.template.majmin + 0.05,
    `learned chroma majmin ${learned.template.majmin.toFixed(3)} should beat hand-designed ${hand.template.majmin.toFixed(3)} by at least 0.05`);
  const summary = readFileSync(reportPath, 'utf8');
  // The results table: its header row, then one row per model until the first line that is not a row
  // (the report's figure tables come later and are not counted).
  const summaryLines = summary.split('\n');
  const header = summaryLines.findIndex((line) => line.startsWith('| features'));
  assert.ok(header >= 0, 'summary.md has no results table');
  const end = summaryLines.findIndex((line, i) => i > header && !line.startsWith('| '));
  assert.is(summaryLines.slice(header + 2, end < 0 ? undefined : end).length, 6);
  for (const match of summary.matchAll(/\(([^)]+\.png)\)/g)) assert.ok(existsSync(join(reportDir, match[1]!)), `missing ${match[1]}`);
  for (const kind of ['learned-chroma', 'network', 'cnn', 'crnn']) assert.ok(existsSync(join(reportDir, 'models', kind, 'weights.npz')), `missing models/${kind}`);
  // Each trained model's loss curve lies beside its weights and the report shows it (the loop above checked the PNGs exist).
  for (const kind of ['learned-chroma', 'learned-chroma-regularized', 'network', 'cnn', 'crnn']) assert.ok(summary.includes(`](models/${kind}/loss.png)`) && existsSync(join(reportDir, 'models', kind, 'loss.svg')), `no loss curve for models/${kind}`);
  assert.ok(lines.some((line) => line.startsWith('device: ')));
  for (const heading of ['## The shipped chord model', '### Vocabularies', '### Decoding', '### Robustness']) assert.ok(summaryLines.includes(heading), `summary.md has no '${heading}'`);
});

test.run();
