// The Learn view: the talk's experiment live in the page. Labelled chord clips are
// synthesized here with the music package's additive synthesis (the same clips `theorbo
// synth --source additive` makes for the seed), and one of the talk's two models is
// trained with Adam on the page's device against the chord templates: the learned chroma
// CQT·W (84×12, from random weights) on CQT frames, or the network (DFT → 256 → 64 → 12,
// half-wave rectified, as `theorbo train --model network` builds it) on DFT frames. Loss
// per step, validation frame accuracy per epoch and the weights as a heatmap (W, or the
// network's last layer, hidden units × pitch classes) update while it trains; Stop pauses
// between steps and Resume goes on from the same weights and optimizer state.
// Shapes: cqt [frames, 84], dft [frames, 1025], labels [frames], W [84, 12].

import * as T from '@theorbo/graph';
import { compile, readShared, type CompiledFunction } from '@theorbo/codegen';
import {
  additiveClipPlans, buildTrainingUpdates, chromaNetwork, takeRows, clipFeatures, featureDefaults, learnedChroma, renderAdditive, stackFrames, type ChromaModel, type ClipFeatures,
} from '@theorbo/music/browser';
import { pageDevice } from './engine.ts';
import { drawCurves, drawWeights } from './plots.ts';

export type LearnModel = 'learned-chroma' | 'network';
export interface LearnSettings { model: LearnModel; seed: number; trainClips: number; validationClips: number; batch: number; learningRate: number }
/** Adam's step for each model, as `theorbo train` takes them. */
export const learningRates: Record<LearnModel, number> = { 'learned-chroma': 0.01, network: 0.001 };
/** The talk's hidden layers. */
const networkHidden = [256, 64];
export interface LearnElements { status: HTMLElement; curves: HTMLCanvasElement; weights: HTMLCanvasElement }

const nextFrame = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/** One training session: data, model, compiled step and the curves so far. */
export class LearnSession {
  readonly losses: number[] = [];
  readonly accuracies: { step: number; value: number }[] = [];
  epoch = 0;
  private running = false;
  private model!: ChromaModel;
  private step!: CompiledFunction;
  private evaluate!: CompiledFunction;
  private train!: { input: T.NDArray; labels: T.NDArray };
  private validation!: { input: T.NDArray; labels: T.NDArray };
  /** The weights drawn: W, or the network's last layer. */
  private pictured!: T.SharedVariable;

  private constructor(readonly settings: LearnSettings, private readonly view: LearnElements) {}

  /** Synthesizes the clips, computes their features and compiles the step; reports progress in the status line. */
  static async prepare(settings: LearnSettings, view: LearnElements): Promise<LearnSession> {
    const session = new LearnSession(settings, view);
    const plans = additiveClipPlans({ seed: settings.seed, clips: { train: settings.trainClips, validation: settings.validationClips } });
    const features: { split: string; features: ClipFeatures }[] = [];
    for (const [i, plan] of plans.entries()) {
      view.status.textContent = `synthesizing and analysing clip ${i + 1} of ${plans.length} (${plan.id}, ${plan.instrument.family})…`;
      await nextFrame();
      const clip = renderAdditive(plan, featureDefaults.sampleRate);
      features.push({ split: plan.split, features: clipFeatures(clip.audio, plan.segments, featureDefaults) });
    }
    const network = settings.model === 'network';
    const stack = (split: string) => {
      const stacked = stackFrames(features.filter((f) => f.split === split).map((f) => f.features));
      return { input: network ? stacked.dft : stacked.cqt, labels: stacked.labels };
    };
    session.train = stack('train');
    session.validation = stack('validation');
    session.model = network
      ? chromaNetwork(featureDefaults.nFft / 2 + 1, networkHidden, settings.seed)
      : learnedChroma(featureDefaults, { from: 'random', seed: settings.seed });
    // The network's params are weights0, bias0, … : its last weights map hidden units to pitch classes.
    session.pictured = network ? session.model.params[session.model.params.length - 2]! : session.model.weights;
    const rate = T.scalar('learning_rate');
    const updates = buildTrainingUpdates(session.model.loss, session.model.params, { rule: 'adam' }, rate);
    const device = await pageDevice();
    session.step = compile({ inputs: [...session.model.inputs, rate], outputs: [session.model.loss], updates, device, allowInputDowncast: true });
    session.evaluate = compile({ inputs: session.model.inputs, outputs: [session.model.metrics!.accuracy!], device });
    await session.record();
    view.status.textContent = `${plans.length} clips, ${session.train.labels.shape[0]} training and ${session.validation.labels.shape[0]} validation frames; press Train`;
    return session;
  }

  get isRunning(): boolean { return this.running; }

  /** Trains until `epochs` more epochs are done or stop() is called. */
  async run(epochs: number): Promise<void> {
    if (this.running) return;
    this.running = true;
    const frames = this.train.labels.shape[0]!;
    const batches = Math.max(1, Math.floor(frames / this.settings.batch));
    try {
      for (let e = 0; e < epochs && this.running; e++) {
        const order = shuffled(frames, this.settings.seed * 1000 + this.epoch);
        for (let b = 0; b < batches && this.running; b++) {
          const rows = order.subarray(b * this.settings.batch, (b + 1) * this.settings.batch);
          const [loss] = await this.step(takeRows(this.train.input, rows), takeRows(this.train.labels, rows), this.settings.learningRate);
          this.losses.push((loss as T.NDArray).data[0]!);
          // For automation: the first and latest loss, readable from the page.
          this.view.curves.dataset.losses = JSON.stringify([this.losses[0], this.losses.at(-1)]);
          this.view.status.textContent = `epoch ${this.epoch + 1}, batch ${b + 1} of ${batches}: loss ${this.losses.at(-1)!.toFixed(4)}`;
          drawCurves(this.view.curves, this.losses, this.accuracies);
          await nextFrame();
        }
        if (this.running) {
          this.epoch++;
          await this.record();
        }
      }
    } finally {
      this.running = false;
    }
    const last = this.accuracies.at(-1);
    this.view.status.textContent = `stopped after ${this.epoch} epochs, ${this.losses.length} steps; validation frame accuracy ${last ? (100 * last.value).toFixed(1) : '?'}%`;
  }

  stop(): void { this.running = false; }

  /** Validation accuracy and the weights picture at the current step. */
  private async record(): Promise<void> {
    const [accuracy] = await this.evaluate(this.validation.input, this.validation.labels);
    this.accuracies.push({ step: Math.max(0, this.losses.length - 1), value: (accuracy as T.NDArray).data[0]! });
    const weights = await readShared(this.pictured);
    const [rows, columns] = [weights.shape[0]!, weights.shape[1]!];
    if (this.settings.model === 'network') drawWeights(this.view.weights, weights.data, rows, columns, `the network's last layer after ${this.epoch} epochs`, 'unit');
    else drawWeights(this.view.weights, weights.data, rows, columns, `chroma weights W after ${this.epoch} epochs`);
    drawCurves(this.view.curves, this.losses, this.accuracies);
  }
}

/** 0 … n−1 in a seeded order (xorshift Fisher–Yates: the page needs no reproducibility beyond a session). */
function shuffled(n: number, seed: number): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  let state = (seed >>> 0) || 1;
  for (let i = n - 1; i > 0; i--) {
    state ^= state << 13; state ^= state >>> 17; state ^= state << 5;
    const j = (state >>> 0) % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}
