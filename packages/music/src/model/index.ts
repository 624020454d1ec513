// The talk's models, their features and evaluation, and the experiment behind the demo.

export * from './features.ts';
export * from './models.ts';
export * from './evaluate.ts';
export * from './report.ts';
export * from './experiment.ts';
export * from './registry.ts';
