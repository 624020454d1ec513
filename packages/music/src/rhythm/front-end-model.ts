// A saved rhythm front end (the demo's models/rhythm-front-end, or any fineTuneFrontEnd
// result saved with saveModel): weights.npz holds rhythm_mel_log_gain [nFft/2 + 1, nMels]
// and rhythm_tempo_prior_basis_weights [basis]; config.json says kind 'rhythm-front-end'.
// loadFrontEnd rebuilds the RhythmFrontEnd with those values; a folder of another kind or
// with weights of the wrong shapes is a FileFormatError naming the file and the field.
// Left out: front ends with other STFT, mel or tempo settings than librosa's defaults.

import { FileFormatError } from '../files/file-format-error.ts';
import { loadModel, modelPaths } from '../train/model-files.ts';
import { designedFrontEnd, type RhythmFrontEnd } from './fine-tune.ts';
import type { RhythmModelConfig } from './rhythm-experiment.ts';

function checkConfig(config: unknown, file: string): RhythmModelConfig {
  const kind = (config as { kind?: unknown } | null)?.kind;
  if (kind !== 'rhythm-front-end') {
    throw new FileFormatError('loadFrontEnd', file, `is a '${String(kind)}' model, not a rhythm front end (kind 'rhythm-front-end', saved by the demo in models/rhythm-front-end)`, 'config.kind');
  }
  return config as RhythmModelConfig;
}

/** The front end saved in `dir`. */
export function loadFrontEnd(dir: string): RhythmFrontEnd {
  const saved = loadModel(dir, { validateConfig: checkConfig });
  const frontEnd = designedFrontEnd();
  for (const param of [frontEnd.melLogGain, frontEnd.priorBasisWeights]) {
    const value = saved.weights[param.name!];
    const shape = param.shape as number[];
    if (!value) throw new FileFormatError('loadFrontEnd', modelPaths(dir).weights, `has no array '${param.name}'; a rhythm front end holds rhythm_mel_log_gain and rhythm_tempo_prior_basis_weights`, param.name);
    if (value.shape.join() !== shape.join()) {
      throw new FileFormatError('loadFrontEnd', modelPaths(dir).weights, `holds '${param.name}' of shape [${value.shape.join(', ')}], but librosa's defaults need [${shape.join(', ')}]`, param.name);
    }
    param.set(value.astype('float32'));
  }
  return frontEnd;
}
