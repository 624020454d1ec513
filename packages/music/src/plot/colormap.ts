// Colormaps as tables of evenly spaced RGB anchors, linearly interpolated:
//   viridis — matplotlib's perceptually uniform sequential map (van der Walt & Smith,
//     CC0): every 8th of its 256 entries (plus the last), within 2/255 of the full table.
//   diverging — ColorBrewer's 11-class RdBu reversed (blue below the centre, red above,
//     near-white at it), for signed weights scaled symmetrically around 0.
// Left out: other maps, and interpolation in a perceptual colour space (the anchors are
// close enough that RGB interpolation does not show).

export type ColormapName = 'viridis' | 'diverging';
export type Rgb = readonly [number, number, number];

const viridis: readonly Rgb[] = [
  [68, 1, 84], [71, 13, 96], [72, 24, 106], [72, 35, 116], [71, 45, 123], [69, 54, 129], [66, 64, 134], [63, 73, 137],
  [59, 82, 139], [55, 90, 141], [51, 99, 141], [47, 106, 142], [44, 114, 142], [41, 122, 142], [38, 129, 142], [35, 137, 142],
  [33, 144, 140], [31, 152, 139], [31, 159, 136], [33, 166, 133], [40, 174, 128], [49, 181, 123], [62, 188, 116], [76, 194, 108],
  [93, 201, 99], [110, 206, 88], [130, 211, 76], [150, 216, 63], [171, 220, 50], [192, 223, 36], [213, 226, 26], [234, 229, 26],
  [253, 231, 37],
];

const diverging: readonly Rgb[] = [
  [5, 48, 97], [33, 102, 172], [67, 147, 195], [146, 197, 222], [209, 229, 240], [247, 247, 247],
  [253, 219, 199], [244, 165, 130], [214, 96, 77], [178, 24, 43], [103, 0, 31],
];

const tables: Record<ColormapName, readonly Rgb[]> = { viridis, diverging };

/** The colour at position t ∈ [0, 1] of a colormap (t is clipped into range). */
export function colormapColor(name: ColormapName, t: number): Rgb {
  const table = tables[name];
  if (table === undefined) throw new Error(`colormapColor: unknown colormap '${String(name)}'; choose ${Object.keys(tables).join(' or ')}.`);
  const position = Math.min(1, Math.max(0, t)) * (table.length - 1);
  const index = Math.min(table.length - 2, Math.floor(position));
  const fraction = position - index;
  const [a, b] = [table[index]!, table[index + 1]!];
  const mix = (channel: 0 | 1 | 2): number => Math.round(a[channel] + fraction * (b[channel] - a[channel]));
  return [mix(0), mix(1), mix(2)];
}
