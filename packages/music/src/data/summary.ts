// What a synthesized data set holds, per split: clips and seconds, segments and seconds per
// class of the 25-class vocabulary, clips per instrument and per instrument family,
// segments per voicing style and inversion; and the same as a printable table.
// Left out: per-clip statistics (loudness, SNR histograms).
import { vocabulary } from '../chords/index.ts';
import type { SynthesizedDataset } from './dataset.ts';
import { type Split, splits } from './splits.ts';

export interface SplitSummary {
  clips: number;
  seconds: number;
  segments: number;
  /** Indexed by class (vocabulary order). */
  segmentsPerClass: number[];
  secondsPerClass: number[];
  /** Clips per instrument name (GM program or additive timbre family). */
  clipsPerInstrument: Record<string, number>;
  /** Clips per instrument family (GM family or 'additive <archetype>'). */
  clipsPerFamily: Record<string, number>;
  /** Chord segments per voicing style ('close', 'open', 'doubled') and per inversion. */
  segmentsPerVoicingStyle: Record<string, number>;
  segmentsPerInversion: Record<string, number>;
}

const increment = (record: Record<string, number>, key: string, by = 1): void => {
  record[key] = (record[key] ?? 0) + by;
};

export function datasetSummary(dataset: SynthesizedDataset): Record<Split, SplitSummary> {
  const empty = (): SplitSummary => ({
    clips: 0, seconds: 0, segments: 0,
    segmentsPerClass: vocabulary.map(() => 0), secondsPerClass: vocabulary.map(() => 0),
    clipsPerInstrument: {}, clipsPerFamily: {}, segmentsPerVoicingStyle: {}, segmentsPerInversion: {},
  });
  const summary: Record<Split, SplitSummary> = { train: empty(), validation: empty(), test: empty() };
  for (const clip of dataset.clips) {
    const split = summary[clip.split];
    split.clips++;
    split.seconds += clip.duration;
    increment(split.clipsPerInstrument, clip.instrument.name);
    increment(split.clipsPerFamily, clip.instrument.family);
    for (const segment of clip.segments) {
      split.segments++;
      split.segmentsPerClass[segment.classIndex] = (split.segmentsPerClass[segment.classIndex] ?? 0) + 1;
      split.secondsPerClass[segment.classIndex] = (split.secondsPerClass[segment.classIndex] ?? 0) + segment.end - segment.start;
      if (segment.voicing !== null) {
        increment(split.segmentsPerVoicingStyle, segment.voicing.style);
        increment(split.segmentsPerInversion, segment.voicing.inversion);
      }
    }
  }
  return summary;
}

const formatCounts = (record: Record<string, number>): string =>
  Object.entries(record).sort(([a], [b]) => a.localeCompare(b)).map(([key, count]) => `${key} ${count}`).join(', ');

/** A plain-text report of datasetSummary, one block per split. */
export function formatDatasetSummary(summary: Record<Split, SplitSummary>): string {
  const lines: string[] = [];
  for (const split of splits) {
    const s = summary[split];
    lines.push(`${split}: ${s.clips} clips, ${s.seconds.toFixed(1)} s, ${s.segments} segments`);
    lines.push(`  segments per class: ${vocabulary.map((label, i) => `${label} ${s.segmentsPerClass[i]}`).join(', ')}`);
    lines.push(`  families: ${formatCounts(s.clipsPerFamily)}`);
    lines.push(`  instruments: ${formatCounts(s.clipsPerInstrument)}`);
    lines.push(`  voicing styles: ${formatCounts(s.segmentsPerVoicingStyle)}; inversions: ${formatCounts(s.segmentsPerInversion)}`);
  }
  return lines.join('\n');
}
