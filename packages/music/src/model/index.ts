// The talk's models, their features and evaluation, and the experiment behind the demo.

export * from './features.ts';
export * from './models.ts';
export * from './evaluate.ts';
export * from './report.ts';
export * from './experiment.ts';
export * from './registry.ts';
export * from './load.ts';
export * from './saved-chroma.ts';
export * from './chroma-graph.ts';
export { checkModelConfig } from './config-schema.ts';
export * from './fir.ts';
export * from './fir-experiment.ts';
export * from './cnn.ts';
export * from './crnn.ts';
export * from './patches.ts';
export * from './recognize.ts';
