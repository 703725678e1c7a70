/**
 * Colour helpers for the canvases, free of the DOM: parsing the CSS colours VS Code puts in its
 * `--vscode-*` variables, and mixing them into the heatmap's ramp. The DOM side reads the
 * variables (see `theme.ts`) and passes the strings here.
 */

/** An sRGB colour with alpha, channels 0..255, alpha 0..1. */
export interface Rgba {
  readonly r: number;
  readonly g: number;
  readonly b: number;
  readonly a: number;
}

/** Parses `#rgb`, `#rgba`, `#rrggbb`, `#rrggbbaa`, `rgb(...)` and `rgba(...)`; undefined otherwise. */
export function parseColor(text: string | undefined): Rgba | undefined {
  if (!text) {
    return undefined;
  }
  const s = text.trim().toLowerCase();
  let m = /^#([0-9a-f]{3,4})$/.exec(s);
  if (m) {
    const h = m[1];
    const ch = (k: number): number => parseInt(h[k] + h[k], 16);
    return { r: ch(0), g: ch(1), b: ch(2), a: h.length === 4 ? ch(3) / 255 : 1 };
  }
  m = /^#([0-9a-f]{6})([0-9a-f]{2})?$/.exec(s);
  if (m) {
    const h = m[1];
    return {
      r: parseInt(h.slice(0, 2), 16),
      g: parseInt(h.slice(2, 4), 16),
      b: parseInt(h.slice(4, 6), 16),
      a: m[2] ? parseInt(m[2], 16) / 255 : 1,
    };
  }
  m = /^rgba?\(\s*([\d.]+)\s*[, ]\s*([\d.]+)\s*[, ]\s*([\d.]+)\s*(?:[,/]\s*([\d.]+%?)\s*)?\)$/.exec(s);
  if (m) {
    const clamp = (v: number): number => Math.max(0, Math.min(255, Math.round(v)));
    let a = 1;
    if (m[4] !== undefined) {
      a = m[4].endsWith('%') ? parseFloat(m[4]) / 100 : parseFloat(m[4]);
    }
    return { r: clamp(parseFloat(m[1])), g: clamp(parseFloat(m[2])), b: clamp(parseFloat(m[3])), a: Math.max(0, Math.min(1, a)) };
  }
  return undefined;
}

/** The colour `over` drawn with its alpha onto an opaque `under`. */
export function flatten(over: Rgba, under: Rgba): Rgba {
  const a = over.a;
  return { r: Math.round(over.r * a + under.r * (1 - a)), g: Math.round(over.g * a + under.g * (1 - a)), b: Math.round(over.b * a + under.b * (1 - a)), a: 1 };
}

/** Linear mix of two colours, t = 0 gives `a`, 1 gives `b`. */
export function mix(a: Rgba, b: Rgba, t: number): Rgba {
  const u = Math.max(0, Math.min(1, t));
  return { r: Math.round(a.r + (b.r - a.r) * u), g: Math.round(a.g + (b.g - a.g) * u), b: Math.round(a.b + (b.b - a.b) * u), a: a.a + (b.a - a.a) * u };
}

/** A CSS string for a colour. */
export function cssOf(c: Rgba): string {
  return c.a >= 1 ? `rgb(${c.r}, ${c.g}, ${c.b})` : `rgba(${c.r}, ${c.g}, ${c.b}, ${Number(c.a.toFixed(3))})`;
}

/**
 * A 256-entry RGBA ramp (1,024 bytes) from `low` (value 0) to `high` (value 1), with a gamma
 * that spreads the low similarities apart.
 */
export function heatRamp(low: Rgba, high: Rgba, gamma = 0.8): Uint8ClampedArray {
  const out = new Uint8ClampedArray(256 * 4);
  for (let k = 0; k < 256; k++) {
    const c = mix(low, high, Math.pow(k / 255, gamma));
    out[k * 4] = c.r;
    out[k * 4 + 1] = c.g;
    out[k * 4 + 2] = c.b;
    out[k * 4 + 3] = 255;
  }
  return out;
}

/** Fills RGBA pixels (one per matrix cell) from values in [0, 1] through a ramp; NaN gets `nan`. */
export function paintMatrix(values: ArrayLike<number>, ramp: Uint8ClampedArray, out: Uint8ClampedArray, nan: Rgba = { r: 128, g: 128, b: 128, a: 1 }): void {
  for (let k = 0; k < values.length; k++) {
    const v = values[k];
    const o = k * 4;
    if (!Number.isFinite(v)) {
      out[o] = nan.r;
      out[o + 1] = nan.g;
      out[o + 2] = nan.b;
      out[o + 3] = 255;
      continue;
    }
    const idx = Math.max(0, Math.min(255, Math.round(v * 255))) * 4;
    out[o] = ramp[idx];
    out[o + 1] = ramp[idx + 1];
    out[o + 2] = ramp[idx + 2];
    out[o + 3] = 255;
  }
}
