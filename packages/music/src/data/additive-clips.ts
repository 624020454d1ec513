// Additive-synthesis chord clips made in memory, without the cache, FluidSynth or any file
// (browser-safe: the web app's Learn view synthesizes its data with it). A clip is made
// exactly as synthesizeDataset makes the additive source's clip of the same seed, split
// and index (same plans, same render, same noise), so the page trains on the CLI's data.
// Left out: FluidSynth (a native program) and the on-disk cache (dataset.ts).

import { type AdditiveClipPlan, type PlanSettings, checkPlanSettings, defaultPlanSettings, planAdditiveClip } from './clip-plan.ts';
import { renderAdditiveClip } from './additive.ts';
import { finishClip } from './postprocess.ts';
import { type Split, splits } from './splits.ts';
import { splitTimbreFamilies } from './timbres.ts';
import { splitVoicings } from './voicings.ts';

export interface AdditiveClipsOptions {
  seed: number;
  /** Clips per split. */
  clips: Partial<Record<Split, number>>;
  /** Default 0, as synthesizeDataset. */
  splitSeed?: number;
  /** Default 22050 Hz. */
  sampleRate?: number;
  plan?: Partial<PlanSettings>;
  /** Default 6, as synthesizeDataset. */
  timbreFamiliesPerArchetype?: number;
}

export interface AdditiveClip {
  id: string;
  split: Split;
  sampleRate: number;
  /** Mono samples, peak-normalized and with the plan's noise, as the cache holds them. */
  audio: Float32Array;
  plan: AdditiveClipPlan;
}

/** The plans of the clips `options` asks for, in split order (train, validation, test). */
export function additiveClipPlans(options: AdditiveClipsOptions): AdditiveClipPlan[] {
  const settings: PlanSettings = { ...defaultPlanSettings, ...options.plan };
  checkPlanSettings(settings);
  const splitSeed = options.splitSeed ?? 0;
  const voicings = splitVoicings(splitSeed);
  const families = splitTimbreFamilies(splitSeed, options.timbreFamiliesPerArchetype ?? 6);
  const plans: AdditiveClipPlan[] = [];
  for (const split of splits) {
    const count = options.clips[split] ?? 0;
    if (!Number.isInteger(count) || count < 0) throw new Error(`additiveClipPlans: clips for ${split} is ${count}; clip counts must be whole numbers ≥ 0.`);
    for (let index = 0; index < count; index++) plans.push(planAdditiveClip({ seed: options.seed, split, index }, settings, families[split], voicings[split]));
  }
  return plans;
}

/** One planned clip rendered: additive synthesis, then the plan's noise and level. */
export function renderAdditive(plan: AdditiveClipPlan, sampleRate = 22050): AdditiveClip {
  return { id: plan.id, split: plan.split, sampleRate, audio: finishClip(renderAdditiveClip(plan, sampleRate), plan), plan };
}
