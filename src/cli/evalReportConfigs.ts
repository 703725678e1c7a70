/** The configurations of `refrain eval --report` (`./evalReport`): groups, ids, models and controls. */

import type { StructureControls } from '../engine/types';

/** Which model a configuration runs. */
export type Role = 'default' | 'structured' | 'dense' | `pe:${string}`;

/** One configuration of the report. */
export interface ReportConfig {
  id: string;
  group: string;
  label: string;
  role: Role;
  /** Changes to base's controls. */
  controls: Partial<StructureControls>;
  /** Generate with no template (measured against each template of the run all the same). */
  noTemplate?: boolean;
  /** The configuration it is compared with (same pieces, seeds and template). */
  baseline?: string;
  /** Generation templates: a subset of `--templates` ('own' and form strings); default all. */
  templates?: 'first';
}

/** The ablation groups in report order, with their titles. */
export const GROUPS: readonly { id: string; title: string }[] = [
  { id: 'base', title: 'Default model, learned only' },
  { id: 'decoding', title: 'Decoding controls: copy prior (variation), cadence, mode lock' },
  { id: 'related', title: 'Related bars (Museformer fine attention)' },
  { id: 'template', title: 'Template head (SING) and template-derived positions' },
  { id: 'scales', title: 'Single vs multi-scale windows (PerceiverS)' },
  { id: 'horizon', title: 'Summary horizon' },
  { id: 'pair', title: 'Structured attention vs the dense baseline (equal-time pair)' },
  { id: 'pe', title: 'Positional encodings (equal-time variants)' },
];

/** The configurations of the report (see the module comment). */
export function reportConfigs(pe: readonly string[]): ReportConfig[] {
  const out: ReportConfig[] = [
    { id: 'base', group: 'base', label: 'default model, learned only, trained related bars and scales', role: 'default', controls: {} },
    {
      id: 'engine-defaults',
      group: 'decoding',
      label: 'engine defaults: copy prior (variation 0.25), cadence, mode lock',
      role: 'default',
      controls: { variation: undefined, cadence: undefined, modeLock: undefined },
      baseline: 'base',
    },
    { id: 'related-recent8', group: 'related', label: 'related bars 1..8 (most recent 8)', role: 'default', controls: { relatedOffsets: [1, 2, 3, 4, 5, 6, 7, 8] }, baseline: 'base', templates: 'first' },
    { id: 'related-none', group: 'related', label: 'no related bars (summaries only)', role: 'default', controls: { relatedOffsets: [] }, baseline: 'base', templates: 'first' },
    { id: 'no-head', group: 'template', label: 'template head off', role: 'default', controls: { templateHead: false }, baseline: 'base' },
    { id: 'no-positions', group: 'template', label: 'template positions off', role: 'default', controls: { templatePositions: false }, baseline: 'base' },
    {
      id: 'no-positions-related',
      group: 'template',
      label: 'template positions and same-source bars in full off',
      role: 'default',
      controls: { templatePositions: false, templateRelated: false },
      baseline: 'base',
    },
    { id: 'no-head-positions', group: 'template', label: 'template head and positions off', role: 'default', controls: { templateHead: false, templatePositions: false }, baseline: 'base' },
    { id: 'no-template', group: 'template', label: 'no template at all', role: 'default', controls: {}, noTemplate: true, baseline: 'base' },
    { id: 'multi-scale', group: 'scales', label: 'multi-scale windows full/256/256/full', role: 'default', controls: { scales: ['full', 256, 256, 'full'] }, baseline: 'base', templates: 'first' },
    { id: 'horizon-all', group: 'horizon', label: 'summary horizon: all bars (base: 64)', role: 'default', controls: { summaryHorizon: 0 }, baseline: 'base', templates: 'first' },
    { id: 'pair-structured', group: 'pair', label: 'structured (fine/coarse attention)', role: 'structured', controls: {} },
    { id: 'pair-dense', group: 'pair', label: 'dense attention', role: 'dense', controls: {}, baseline: 'pair-structured' },
  ];
  pe.forEach((id, i) => {
    out.push({ id: `pe-${id}`, group: 'pe', label: id, role: `pe:${id}`, controls: {}, baseline: i === 0 ? undefined : `pe-${pe[0]}`, templates: 'first' });
  });
  return out;
}

/** The controls a configuration changes, as text (`key: value`; an undefined value is the engine's default). */
export function controlsText(c: Partial<StructureControls>): string {
  const parts = Object.entries(c).map(([k, v]) => `${k}: ${v === undefined ? 'engine default' : JSON.stringify(v)}`);
  return parts.length > 0 ? parts.join(', ') : '-';
}
