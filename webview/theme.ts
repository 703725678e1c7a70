/**
 * The canvases' colours, read from VS Code's `--vscode-*` CSS variables so the views follow the
 * light, dark and high-contrast themes. Read again whenever the body's theme class changes.
 */

import { cssOf, flatten, heatRamp, mix, parseColor } from './colors';
import type { Rgba } from './colors';

/** Colours the drawing code uses. */
export interface Theme {
  readonly highContrast: boolean;
  readonly background: string;
  readonly foreground: string;
  readonly muted: string;
  readonly grid: string;
  readonly gridStrong: string;
  readonly accent: string;
  readonly selection: string;
  readonly hover: string;
  readonly playhead: string;
  readonly newBars: string;
  readonly corpus: string;
  readonly border: string;
  readonly tracks: readonly string[];
  /** Heatmap ramp, 256 RGBA entries. */
  readonly ramp: Uint8ClampedArray;
}

const FALLBACK_DARK: Rgba = { r: 30, g: 30, b: 30, a: 1 };
const FALLBACK_LIGHT: Rgba = { r: 255, g: 255, b: 255, a: 1 };

function variable(style: CSSStyleDeclaration, name: string): Rgba | undefined {
  return parseColor(style.getPropertyValue(name));
}

/** Reads the current theme. */
export function readTheme(): Theme {
  const style = getComputedStyle(document.documentElement);
  const body = document.body.classList;
  const highContrast = body.contains('vscode-high-contrast') || body.contains('vscode-high-contrast-light');
  const light = body.contains('vscode-light') || body.contains('vscode-high-contrast-light');
  const bg = variable(style, '--vscode-editor-background') ?? (light ? FALLBACK_LIGHT : FALLBACK_DARK);
  const fg = flatten(variable(style, '--vscode-editor-foreground') ?? (light ? { r: 30, g: 30, b: 30, a: 1 } : { r: 212, g: 212, b: 212, a: 1 }), bg);
  const pick = (names: string[], fallback: Rgba): Rgba => {
    for (const n of names) {
      const c = variable(style, n);
      if (c) {
        return flatten(c, bg);
      }
    }
    return fallback;
  };
  const accent = pick(['--vscode-charts-blue', '--vscode-textLink-foreground', '--vscode-focusBorder'], { r: 55, g: 148, b: 255, a: 1 });
  const border = pick(['--vscode-contrastBorder', '--vscode-panel-border', '--vscode-widget-border'], mix(bg, fg, 0.3));
  const selection = variable(style, '--vscode-editor-selectionBackground') ?? { ...accent, a: 0.35 };
  const trackNames = ['--vscode-charts-blue', '--vscode-charts-orange', '--vscode-charts-green', '--vscode-charts-purple', '--vscode-charts-red', '--vscode-charts-yellow'];
  const defaults: Rgba[] = [
    { r: 55, g: 148, b: 255, a: 1 },
    { r: 209, g: 134, b: 22, a: 1 },
    { r: 56, g: 138, b: 52, a: 1 },
    { r: 101, g: 44, b: 144, a: 1 },
    { r: 229, g: 20, b: 0, a: 1 },
    { r: 191, g: 138, b: 0, a: 1 },
  ];
  const tracks = trackNames.map((n, k) => cssOf(pick([n], defaults[k])));
  // High contrast: the ramp runs from the background to the foreground, the strongest contrast there is.
  const high = highContrast ? fg : mix(accent, fg, light ? 0.25 : 0.1);
  return {
    highContrast,
    background: cssOf(bg),
    foreground: cssOf(fg),
    muted: cssOf(mix(bg, fg, 0.55)),
    grid: cssOf(mix(bg, fg, highContrast ? 0.5 : 0.12)),
    gridStrong: cssOf(mix(bg, fg, highContrast ? 0.8 : 0.3)),
    accent: cssOf(accent),
    selection: cssOf(selection.a < 1 ? selection : { ...selection, a: 0.4 }),
    hover: cssOf({ ...fg, a: highContrast ? 0.35 : 0.12 }),
    playhead: cssOf(pick(['--vscode-editorCursor-foreground', '--vscode-focusBorder'], fg)),
    newBars: cssOf({ ...pick(['--vscode-charts-green'], defaults[2]), a: highContrast ? 0.3 : 0.12 }),
    corpus: cssOf(pick(['--vscode-charts-orange'], defaults[1])),
    border: cssOf(border),
    tracks,
    ramp: heatRamp(bg, high),
  };
}
