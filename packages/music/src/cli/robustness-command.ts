// `theorbo robustness`: the shipped chord model (or --model DIR) and the hand-designed
// CQT chroma with templates, scored on the held-out test clips clean and under each
// degradation of model/robustness.ts (noise at 20/10/0 dB SNR, MP3 64 kbit/s, reverb,
// detuning by 25 and 50 cents), Viterbi-decoded; prints the Markdown table and, with
// --out, writes it to a file. Kept out of theorbo.ts, which adds it with one call.

import type { Command } from 'commander';
import type { AcquiredDevice } from '@theorbo/codegen';
import { synthesizeDataset, type DataSource } from '../data/index.ts';
import { writeFileAtomic } from '../files/atomic-write.ts';
import { chordDecodingDefaults } from '../eval/chord-decoding.ts';
import { defaultModelDir } from '../model/default-model.ts';
import { experimentDefaults } from '../model/experiment.ts';
import { loadChromaModel } from '../model/load.ts';
import { formatRobustnessTable, robustnessTable } from '../model/robustness.ts';
import { clipsFlag, oneOf, seedFlag, sourceFlag } from './flags.ts';
import type { ChordQuality } from '../data/voicings.ts';
import { vocabularyQualities } from '../chords/vocabularies.ts';

export function addRobustnessCommand(program: Command, device: () => Promise<AcquiredDevice>): void {
  program.command('robustness').description('score the shipped chord model and the hand-designed chroma on held-out clips, clean and degraded (noise, MP3, reverb, detuning)')
    .option('--model <dir>', 'a learned model folder (default: the shipped model)')
    .option('--clips <n>', 'clips per source', clipsFlag, experimentDefaults.clips)
    .option('--source <source>', 'additive, fluidsynth or both', sourceFlag, experimentDefaults.source)
    .option('--seed <n>', 'seed', seedFlag, experimentDefaults.seed)
    .option('--qualities <vocab>', 'the chord qualities the test clips hold: majmin (default; the table shows majmin) or sevenths (+ 7, maj7, min7; the table shows sevenths)', oneOf(['majmin', 'sevenths'] as const), 'majmin')
    .option('--out <path>', 'also write the table to this Markdown file')
    .action(async (options: { model?: string; clips: number; source: DataSource | 'both'; seed: number; qualities: 'majmin' | 'sevenths'; out?: string }) => {
      const models = [
        { name: options.model === undefined ? 'shipped model' : options.model, loaded: loadChromaModel(options.model ?? defaultModelDir) },
        { name: 'CQT chroma + templates', loaded: loadChromaModel(undefined) },
      ];
      const acquired = await device();
      const plan = options.qualities === 'majmin' ? {} : { plan: { qualities: vocabularyQualities[options.qualities] as readonly ChordQuality[] } };
      const dataset = await synthesizeDataset({ seed: options.seed, clips: options.clips, source: options.source, ...plan });
      const clips = dataset.clips.filter((clip) => clip.split === 'test');
      console.log(`${clips.length} test clips (instruments and voicings never heard in training), Viterbi (self-transition ${chordDecodingDefaults.selfTransition}), each model's vocabulary; ${options.qualities === 'majmin' ? 'majmin' : 'sevenths'} WCSR % (change from clean)`);
      const started = performance.now();
      const rows = await robustnessTable(models, clips, acquired, {
        decoding: { decoder: 'viterbi', selfTransition: chordDecodingDefaults.selfTransition },
        onRow: (row) => console.log(`  ${row.condition}: ${row.scores.map((scores, m) => `${models[m]!.name} majmin ${(100 * scores.majmin).toFixed(1)}%, sevenths ${(100 * scores.rules.sevenths).toFixed(1)}%`).join('; ')}`),
      });
      const table = formatRobustnessTable(models, rows, options.qualities);
      console.log(`\n${table}\n(${((performance.now() - started) / 1000).toFixed(0)} s)`);
      if (options.out !== undefined) {
        writeFileAtomic(options.out, `${table}\n`, { operation: 'robustness' });
        console.log(`wrote ${options.out}`);
      }
    });
}
