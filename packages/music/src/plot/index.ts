// Pictures: PNG heatmaps of matrices with viridis and diverging colormaps.

export type { ColormapName, Rgb } from './colormap.ts';
export { colormapColor } from './colormap.ts';
export type { HeatmapMatrix, HeatmapOptions } from './heatmap.ts';
export { writeHeatmapPng, encodeHeatmapPng } from './heatmap.ts';
