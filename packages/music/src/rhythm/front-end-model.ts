// A saved rhythm front end (the demo's models/rhythm-front-end, or any fineTuneFrontEnd
// result saved with saveModel(dir, frontEndParams(frontEnd), …)): weights.npz holds
// rhythm_mel_log_gain [nFft/2 + 1, nMels], rhythm_band_log_weights [nMels],
// rhythm_beat_band_weights [8], rhythm_tempo_prior_basis_weights [basis] and
// rhythm_tempo_relative_weights [6], and the activation network's
// rhythm_activation_hidden [864, 32], rhythm_activation_bias [32] and
// rhythm_activation_out [32, 2] (a folder saved before the network existed lacks them
// and is refused, naming the array); config.json says kind 'rhythm-front-end', the onset
// envelope's maxSize, the peak picker's delta and the onset latency in seconds (the
// designed 1, 0.07 and 0 where absent) and the second tempo's learned rule, secondTempo
// { splitBpm, swingThreshold } (absent: the designed choice). loadFrontEnd rebuilds the
// RhythmFrontEnd with those values; a folder of another kind, or with weights missing or
// of the wrong shapes, is a FileFormatError naming the file and the field.
// Left out: front ends with other STFT, mel or tempo settings than librosa's defaults.

import { FileFormatError } from '../files/file-format-error.ts';
import { loadModel, modelPaths } from '../train/model-files.ts';
import { designedFrontEnd, frontEndParams, type RhythmFrontEnd } from './front-end.ts';
import type { RhythmModelConfig } from './rhythm-experiment.ts';
import type { SecondTempoRule } from './second-tempo.ts';

function checkConfig(config: unknown, file: string): RhythmModelConfig {
  const kind = (config as { kind?: unknown } | null)?.kind;
  if (kind !== 'rhythm-front-end') {
    throw new FileFormatError('loadFrontEnd', file, `is a '${String(kind)}' model, not a rhythm front end (kind 'rhythm-front-end': the shipped packages/music/models/rhythm, or the demo's report/models/rhythm-front-end)`, 'config.kind');
  }
  return config as RhythmModelConfig;
}

/** The front end saved in `dir`. */
export function loadFrontEnd(dir: string): RhythmFrontEnd {
  const saved = loadModel(dir, { validateConfig: checkConfig });
  const frontEnd = designedFrontEnd();
  const names = frontEndParams(frontEnd).map((param) => param.name).join(', ');
  for (const param of frontEndParams(frontEnd)) {
    const value = saved.weights[param.name!];
    const shape = param.shape as number[];
    if (!value) {
      const old = param.name!.startsWith('rhythm_activation') ? ': it was saved before the front end had an activation network (2026-12-06); rerun `pnpm demo`, or use the shipped packages/music/models/rhythm, or retrain with `pnpm train:rhythm --out DIR`' : '';
      throw new FileFormatError('loadFrontEnd', modelPaths(dir).weights, `has no array '${param.name}'; a rhythm front end holds ${names}${old}`, param.name);
    }
    if (value.shape.join() !== shape.join()) {
      throw new FileFormatError('loadFrontEnd', modelPaths(dir).weights, `holds '${param.name}' of shape [${value.shape.join(', ')}], but librosa's defaults need [${shape.join(', ')}]`, param.name);
    }
    param.set(value.astype('float32'));
  }
  const config = saved.config as RhythmModelConfig;
  const rules = {
    maxSize: [(value: number) => Number.isInteger(value) && value >= 1, 'a positive integer'],
    delta: [(value: number) => value >= 0, 'a non-negative number'],
    onsetLatency: [(value: number) => Math.abs(value) < 1, 'a number of seconds between -1 and 1'],
  } as const;
  for (const [key, [valid, expected]] of Object.entries(rules) as [keyof typeof rules, (typeof rules)[keyof typeof rules]][]) {
    const value = config[key];
    if (value === undefined) continue;
    if (!(typeof value === 'number' && valid(value))) {
      throw new FileFormatError('loadFrontEnd', modelPaths(dir).config, `holds ${key} ${JSON.stringify(value)}; it must be ${expected}`, `config.${key}`);
    }
    frontEnd.settings[key] = value;
  }
  const rule = config.secondTempo;
  if (rule !== undefined) {
    const { splitBpm, swingThreshold } = (typeof rule === 'object' && rule !== null ? rule : {}) as Partial<SecondTempoRule>;
    const expected = 'it must be { splitBpm: BPM above 0 and below 1000, swingThreshold: a beat phase in [0.5, 1) }';
    const bad = typeof rule !== 'object' || rule === null ? 'config.secondTempo'
      : !(typeof splitBpm === 'number' && splitBpm > 0 && splitBpm < 1000) ? 'config.secondTempo.splitBpm'
        : !(typeof swingThreshold === 'number' && swingThreshold >= 0.5 && swingThreshold < 1) ? 'config.secondTempo.swingThreshold' : null;
    if (bad) throw new FileFormatError('loadFrontEnd', modelPaths(dir).config, `holds secondTempo ${JSON.stringify(rule)} (${bad}); ${expected}`, bad);
    frontEnd.settings.secondTempo = { splitBpm: splitBpm!, swingThreshold: swingThreshold! };
  }
  return frontEnd;
}
