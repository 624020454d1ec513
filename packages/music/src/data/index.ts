// Synthesized chord data sets with known labels: additive synthesis and FluidSynth with the
// GM soundfont, split by instrument and voicing, deterministic from a seed, cached on disk.

export type { DataSource, SynthesizeDatasetOptions, ClipSegment, DatasetClip, DatasetPartition, SynthesizedDataset } from './dataset.ts';
export { synthesizeDataset, labelsAtTimes } from './dataset.ts';
export type { AdditiveClip, AdditiveClipsOptions } from './additive-clips.ts';
export { additiveClipPlans, renderAdditive } from './additive-clips.ts';
export type { SplitSummary } from './summary.ts';
export { datasetSummary, formatDatasetSummary } from './summary.ts';
export type { Split } from './splits.ts';
export { splits, splitFractions, splitCounts } from './splits.ts';
export type { ClipPlan, AdditiveClipPlan, FluidsynthClipPlan, PlannedSegment, PlannedNote, PlannedHit, PlanSettings, Texture, TextureSettings } from './clip-plan.ts';
export { defaultPlanSettings, defaultTextures, ticksPerSecond } from './clip-plan.ts';
export type { ChordQuality, Inversion, VoicingStyle, VoicingPattern, Register } from './voicings.ts';
export { voicingCatalog, splitVoicings, placeVoicing, chordQualityNames, addedToneInterval } from './voicings.ts';
export type { GmFamily, GmInstrument } from './gm-programs.ts';
export { gmFamilies, splitGmPrograms } from './gm-programs.ts';
export type { AdditiveTimbre, TimbreArchetype, TimbreFamily } from './timbres.ts';
export { timbreArchetypes, splitTimbreFamilies } from './timbres.ts';
export { renderAdditiveClip, noteFrequency } from './additive.ts';
export type { FluidsynthSettings } from './fluidsynth.ts';
export { clipMidi, renderMidi, checkFluidsynth, defaultSoundfont } from './fluidsynth.ts';
export type { MidiEvent, MidiFile } from './midi-file.ts';
export { writeMidiFile } from './midi-file.ts';
export { defaultCacheDir, synthesisVersion } from './cache.ts';
export type { RhythmKit, RhythmKitKind, RhythmPattern, RhythmTrack, RhythmDatasetOptions } from './rhythm-tracks.ts';
export { rhythmKitKinds, rhythmDefaults, rhythmSplits, synthesizeRhythmTrack, synthesizeRhythmDataset } from './rhythm-tracks.ts';
export type { GmKit, GmKitKind, GmHit, GmTrackPlan } from './rhythm-fluidsynth.ts';
export { gmDrumFamilies, gmMelodicFamilies, renderGmTracks } from './rhythm-fluidsynth.ts';
