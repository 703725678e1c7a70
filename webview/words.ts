/**
 * The panel's figures in words a writer reads: form compliance, closeness to the style of the
 * training tunes, the variation setting, and one line per model. The raw numbers go to tooltips.
 * Free of the DOM, so plain-Node tests cover it.
 */

import type { CandidateView, ModelChoice } from '../src/protocol/messages';

/** "follows the form: 82%" (rounded to a whole percent). */
export function followsFormText(share: number): string {
  return `follows the form: ${Math.round(100 * Math.max(0, Math.min(1, share)))}%`;
}

/**
 * SE bands: held-out tunes of the corpus score about 0.016-0.047 against their own corpus curve
 * (README, issue 9), so an SE in that range is as close as real tunes come.
 */
export const SE_CLOSE = 0.03;
/** Above {@link SE_CLOSE} and up to this: near, but less alike than most real tunes. */
export const SE_NEAR = 0.06;

/** The style figure (SE) in words. */
export function styleText(se: number): string {
  if (se <= SE_CLOSE) {
    return 'close to the style of the training tunes';
  }
  if (se <= SE_NEAR) {
    return 'near the style of the training tunes';
  }
  return 'unlike the style of the training tunes';
}

function formatValue(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(3);
}

/** The raw figures of a candidate, one per line, for a tooltip. */
export function metricsTooltip(c: Pick<CandidateView, 'metrics'>): string {
  return c.metrics.map((m) => `${m.name}: ${formatValue(m.value)}`).join('\n');
}

/** The words of a candidate card: what the figures say, in order. */
export function candidateWords(c: Pick<CandidateView, 'followsForm' | 'se'>): string[] {
  const words: string[] = [];
  if (c.followsForm !== undefined) {
    words.push(followsFormText(c.followsForm));
  }
  if (c.se !== undefined) {
    words.push(styleText(c.se));
  }
  return words;
}

/** Readable names of the positional encodings models are trained with. */
const PE_NAMES: Readonly<Record<string, string>> = {
  rope: 'RoPE',
  srope: 'structure-informed rotary',
  tsrope: 'template-structured rotary',
  'stripe-rope': 'structure-informed rotary',
  ropepool: 'RoPE + bar pooling',
  fstripe: 'Fourier StrIPE',
  fourier: 'Fourier',
  none: 'no positional encoding',
};

/** The readable name of a positional encoding (the id itself when unknown). */
export function peName(pe: string): string {
  return PE_NAMES[pe] ?? pe;
}

/** The measured form compliance of a model in words ("not measured" for old models). */
export function modelComplianceText(m: Pick<ModelChoice, 'followsForm'>): string {
  return m.followsForm !== undefined ? followsFormText(m.followsForm) : 'form compliance not measured';
}

/** A model's entry in the picker: label, encoding, compliance, and "experimental" when it is. */
export function modelOptionText(m: ModelChoice): string {
  return `${m.label} · ${peName(m.positionalEncoding)} · ${modelComplianceText(m)}${m.experimental ? ' · experimental' : ''}`;
}

/**
 * One line about the chosen model, each fact once: layers, encoding, what the description adds
 * (attention kind), compliance.
 */
export function modelLine(m: ModelChoice): string {
  const parts = [`${m.layers} layer${m.layers === 1 ? '' : 's'}`, peName(m.positionalEncoding)];
  const description = (m.description ?? '').trim();
  // Older hosts repeated layers and encoding in the description: keep only what is new.
  const extra = description
    .split(/\s*,\s*/)
    .filter((part) => part !== '' && !/^\d+ layers?$/.test(part) && part !== m.positionalEncoding)
    .join(', ');
  if (extra !== '') {
    parts.push(extra);
  }
  parts.push(modelComplianceText(m));
  if (m.experimental) {
    parts.push('experimental');
  }
  return parts.join(' · ');
}

/** The variation setting in words. */
export function variationText(v: number): string {
  const pct = Math.round(100 * v);
  if (v <= 0.05) {
    return `${pct}%: repeats come back as written`;
  }
  if (v <= 0.4) {
    return `${pct}%: repeats come back with small changes`;
  }
  if (v < 0.95) {
    return `${pct}%: repeats come back loosely`;
  }
  return `${pct}%: free`;
}

/** The label of a Generate button. */
export function generateLabel(running: boolean, hasCandidates: boolean): string {
  if (running) {
    return 'Generating…';
  }
  return hasCandidates ? 'Generate again' : 'Generate';
}
