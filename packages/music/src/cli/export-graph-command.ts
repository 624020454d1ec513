// `theorbo export-graph <model>`: a trained model folder (weights.npz + config.json, as
// `theorbo train` writes it) saved as a graph (frame input → chroma [frames, 12]) with
// the model's config in its metadata: <out>/graph.json and <out>/values.npz (or one
// graph.json with --inline), which the web app's Bring your model runs and loadGraphFiles
// reads. Kept out of theorbo.ts, which adds it with one call.

import type { Command } from 'commander';
import { join } from 'node:path';
import { chromaGraphMetadata } from '../model/chroma-graph.ts';
import { loadChromaModel } from '../model/load.ts';
import { saveGraphFiles } from '../train/graph-files.ts';

export function addExportGraphCommand(program: Command): void {
  program.command('export-graph <model>').description('save a trained model folder as a graph (features → chroma) for the web app\'s Bring your model or loadGraph: graph.json and values.npz')
    .option('--out <dir>', 'the folder to write into (default: <model>/graph)')
    .option('--inline', 'keep the weights in graph.json as base64 (one file) instead of values.npz')
    .action(async (model: string, options: { out?: string; inline?: boolean }) => {
      const loaded = loadChromaModel(model);
      const out = options.out ?? join(model, 'graph');
      const written = await saveGraphFiles(out, loaded.model.chroma, { inputs: [loaded.model.features], metadata: chromaGraphMetadata(loaded.config), inline: options.inline === true });
      console.log(`wrote ${written.graph}${written.values ? ` and ${written.values}` : ''}: ${loaded.config.kind} model, ${loaded.model.features.type} → ${loaded.model.chroma.type}`);
    });
}
