/**
 * The musical controls at the top of the panel (bars, candidates, form, variation, temperature,
 * Generate) and the research section below (related bars, mask scales, the model picker with
 * each model's measured form compliance, top-p and seed), which the panel remembers open or
 * closed. Both render from the one store.
 */

import type { VscodeButton } from '@vscode-elements/elements/dist/vscode-button/vscode-button.js';
import type { VscodeCheckbox } from '@vscode-elements/elements/dist/vscode-checkbox/vscode-checkbox.js';
import type { VscodeCollapsible } from '@vscode-elements/elements/dist/vscode-collapsible/vscode-collapsible.js';
import type { VscodeSingleSelect } from '@vscode-elements/elements/dist/vscode-single-select/vscode-single-select.js';
import type { VscodeTextfield } from '@vscode-elements/elements/dist/vscode-textfield/vscode-textfield.js';
import { MAX_CANDIDATES, MAX_FORM_LENGTH, MAX_GENERATE_BARS, MAX_RELATED_OFFSET, MAX_SSM_SIDE, assertNever } from '../src/protocol/messages';
import type { ModelChoice, TemplateChoice } from '../src/protocol/messages';
import { button, h, option } from './dom';
import { LAYER_WINDOW_CHOICES, addOffsets, parseIntField, parseNumberField, suggestOffsets, toggleOffset, withLayers } from './state';
import type { UiState } from './state';
import type { Store } from './store';
import { generateLabel, modelLine, modelOptionText, peName, variationText } from './words';

/** Number fields of the state. */
type NumberKey = 'bars' | 'candidates' | 'temperature' | 'topP' | 'seed';

/** Text fields keyed by state name; `invalid` marks a value that was not taken. */
class Fields {
  private readonly _fields = new Map<string, VscodeTextfield>();

  field(key: string, label: string, value: string, onValue: (text: string) => boolean, title?: string): HTMLElement {
    const field = document.createElement('vscode-textfield') as VscodeTextfield;
    field.value = value;
    field.id = `field-${key}`;
    field.className = 'narrow';
    field.addEventListener('input', () => {
      field.invalid = !onValue(field.value);
    });
    this._fields.set(key, field);
    return h('label', { className: 'field', htmlFor: field.id, ...(title ? { title } : {}) }, h('span', {}, label), field);
  }

  get(key: string): VscodeTextfield | undefined {
    return this._fields.get(key);
  }

  invalid(): string[] {
    return [...this._fields.entries()].filter(([k, f]) => k !== 'addOffset' && f.invalid).map(([k]) => k);
  }

  setValues(state: UiState, keys: readonly NumberKey[]): void {
    for (const key of keys) {
      const f = this._fields.get(key);
      if (f) {
        f.value = String(state[key]);
        f.invalid = false;
      }
    }
  }
}

function setNumber(store: Store, key: NumberKey, value: number | undefined): boolean {
  if (value === undefined) {
    return false;
  }
  store.update((s) => ({ ...s, [key]: value }));
  return true;
}

/** What the compose controls ask of the view. */
export interface ComposeActions {
  generate(): void;
  cancel(): void;
  pickFile(): void;
  clearPainting(): void;
  /** The template choice or form text changed: preview it. */
  templateChanged(): void;
}

const TEMPLATE_OPTIONS: readonly [TemplateChoice['kind'], string][] = [
  ['piece', 'This piece\'s own form'],
  ['form', 'A form: A8 A8 B8 B8…'],
  ['file', 'Another file\'s form…'],
  ['painted', 'Painted on the heatmap'],
  ['none', 'Free (no form)'],
];

/** Bars, candidates, form, variation, temperature, Generate and the status line. */
export class ComposeControls {
  readonly element = h('section', { className: 'compose', attrs: { 'aria-label': 'Compose' } });
  readonly fields = new Fields();
  readonly generateButton = document.createElement('vscode-button') as VscodeButton;
  private readonly _cancel = document.createElement('vscode-button') as VscodeButton;
  private readonly _ring = document.createElement('vscode-progress-ring');
  private readonly _status = h('div', { className: 'status', attrs: { role: 'status', 'aria-live': 'polite' } });
  private readonly _templateSelect = document.createElement('vscode-single-select') as VscodeSingleSelect;
  private readonly _templateDetail = h('div', { className: 'template-detail' });
  private readonly _templateInfo = h('div', { className: 'hint template-info' });
  readonly formField = document.createElement('vscode-textfield') as VscodeTextfield;
  private readonly _variation = h('input', { className: 'variation', type: 'range', min: '0', max: '1', step: '0.05', id: 'field-variation' });
  private readonly _variationText = h('span', { className: 'hint variation-text' });
  private _running = false;
  private _hasCandidates = false;
  private _detailKey = '';
  private _info: string | undefined;

  constructor(
    private readonly _store: Store,
    private readonly _actions: ComposeActions,
  ) {
    const s = _store.state;
    for (const [value, label] of TEMPLATE_OPTIONS) {
      this._templateSelect.append(option(value, label));
    }
    this._templateSelect.id = 'field-template';
    this._templateSelect.addEventListener('change', () => {
      _store.update((st) => ({ ...st, templateKind: this._templateSelect.value as TemplateChoice['kind'] }));
      this._info = undefined;
      this.renderTemplate();
      _actions.templateChanged();
    });
    this.formField.value = s.form;
    this.formField.placeholder = 'A8 A8 B8 B8, AABA or i4A8B8o2';
    this.formField.maxLength = MAX_FORM_LENGTH;
    this.formField.className = 'form-field';
    this.formField.addEventListener('input', () => {
      _store.update((st) => ({ ...st, form: this.formField.value }));
      this._info = undefined;
      _actions.templateChanged();
    });
    this._variation.value = String(s.variation);
    this._variation.title = 'How freely sections the form marks the same may differ: 0 = they come back as written, 1 = free';
    this._variation.addEventListener('input', () => {
      const v = Math.max(0, Math.min(1, Number(this._variation.value)));
      _store.update((st) => ({ ...st, variation: v }));
      this._variationText.textContent = variationText(v);
    });
    this._variationText.textContent = variationText(s.variation);

    const grid = h(
      'div',
      { className: 'compose-grid' },
      this.fields.field('bars', 'Bars to add', String(s.bars), (t) => setNumber(_store, 'bars', parseIntField(t, 1, MAX_GENERATE_BARS))),
      this.fields.field('candidates', 'Candidates', String(s.candidates), (t) => setNumber(_store, 'candidates', parseIntField(t, 1, MAX_CANDIDATES))),
      this.fields.field('temperature', 'Temperature', String(s.temperature), (t) => setNumber(_store, 'temperature', parseNumberField(t, 0, 5)), 'Lower: safer, more predictable notes; higher: more adventurous'),
      h('label', { className: 'field form-choice', htmlFor: 'field-template' }, h('span', {}, 'Form to follow'), this._templateSelect),
      h('label', { className: 'field variation-field', htmlFor: 'field-variation' }, h('span', {}, 'Variation'), this._variation, this._variationText),
    );
    this.generateButton.textContent = 'Generate';
    this.generateButton.className = 'generate';
    this.generateButton.addEventListener('click', () => _actions.generate());
    this._cancel.textContent = 'Cancel';
    this._cancel.secondary = true;
    this._cancel.disabled = true;
    this._cancel.addEventListener('click', () => _actions.cancel());
    this._ring.hidden = true;
    this.element.append(
      grid,
      h('div', { className: 'template-row' }, this._templateDetail, this._templateInfo),
      h('div', { className: 'generate-row' }, this.generateButton, this._cancel, this._ring, this._status),
    );
    this.renderTemplate();
  }

  /** Shows the state's values in the fields (after the host's defaults arrive). */
  renderValues(): void {
    const s = this._store.state;
    this.fields.setValues(s, ['bars', 'candidates', 'temperature']);
    this._variation.value = String(s.variation);
    this._variationText.textContent = variationText(s.variation);
    this.formField.value = s.form;
    this.renderTemplate();
  }

  /**
   * Shows the template choice, its detail control and a line about it. The detail is rebuilt only
   * when it changes (so the form field keeps focus while the user types); a line set with
   * {@link setTemplateInfo} stays until the choice changes.
   */
  renderTemplate(canPaint = true): void {
    const s = this._store.state;
    this._templateSelect.value = s.templateKind;
    const detailKey = `${s.templateKind}|${s.templateFile?.name ?? ''}`;
    const rebuild = detailKey !== this._detailKey;
    this._detailKey = detailKey;
    if (rebuild) {
      this._templateDetail.replaceChildren();
    }
    let text: string;
    switch (s.templateKind) {
      case 'piece':
        text = 'The new bars follow the form of this piece: parts that repeat here repeat in the new bars.';
        break;
      case 'file':
        if (rebuild) {
          this._templateDetail.append(
            h('div', { className: 'row' }, button('Choose file…', () => this._actions.pickFile(), true), h('span', { className: 'file-name' }, s.templateFile?.name ?? 'no file chosen')),
          );
        }
        text = s.templateFile ? '' : 'Pick an ABC or MIDI file whose form to follow.';
        break;
      case 'form':
        if (rebuild) {
          this._templateDetail.append(this.formField);
        }
        text = 'Sections with bar counts: A8 A8 B8 B8, AABA (8 bars each), or POP909 labels like i4A4B8A4o2.';
        break;
      case 'painted':
        if (rebuild) {
          this._templateDetail.append(button('Clear painting', () => this._actions.clearPainting(), true));
        }
        text = canPaint
          ? 'Click or drag on the heatmap to mark which bars should be alike; the lines mark where the new bars begin.'
          : `Painting needs the piece and its new bars to fit in ${MAX_SSM_SIDE} bars; this one is too long.`;
        break;
      case 'none':
        text = 'Free: no form to follow; the related bars alone guide the model (variation has no effect).';
        break;
      default:
        return assertNever(s.templateKind, 'template kind');
    }
    this._templateInfo.textContent = this._info ?? text;
    this._variation.disabled = s.templateKind === 'none';
  }

  /** A line about the template (the preview's label, or why it was refused); undefined: the default line. */
  setTemplateInfo(info: string | undefined): void {
    this._info = info;
    this.renderTemplate();
  }

  /** Marks the form field as rejected (or accepted). */
  setFormInvalid(invalid: boolean): void {
    this.formField.invalid = invalid;
  }

  /** Shows whether a generation is running, and whether candidates exist. */
  setRunning(running: boolean, hasCandidates: boolean): void {
    this._running = running;
    this._hasCandidates = hasCandidates;
    this._cancel.disabled = !running;
    this._ring.hidden = !running;
    this.generateButton.textContent = generateLabel(running, hasCandidates);
    this.generateButton.title = running ? 'A generation is running: press to start over with the current settings, or Cancel' : 'Generate candidates with these settings';
  }

  /** Whether a generation is running. */
  get running(): boolean {
    return this._running;
  }

  /** Whether candidates are on show (for the button label). */
  get hasCandidates(): boolean {
    return this._hasCandidates;
  }

  /** The status line; errors in the error colour. A later message replaces an old error. */
  setStatus(text: string, isError = false): void {
    this._status.textContent = text;
    this._status.classList.toggle('error', isError);
  }
}

/** What the research section asks of the view. */
export interface ResearchActions {
  /** Offsets or model changed: redraw the L_t chart. */
  structureChanged(): void;
  status(text: string): void;
}

/** Related bars, mask scales, model picker, top-p and seed, in one collapsible section. */
export class ResearchControls {
  readonly element = document.createElement('vscode-collapsible') as VscodeCollapsible;
  readonly fields = new Fields();
  private readonly _body = h('div', { className: 'section-body research' });
  private readonly _offsetBox = h('div', { className: 'offsets' });
  private readonly _suggestion = h('div', { className: 'hint' });
  /** Unticked: every Generate draws a fresh seed (shown in the field); ticked: the seed is kept. */
  private readonly _keepSeed = this._keepSeedBox();
  private readonly _layerBox = h('div', { className: 'layers' });
  private readonly _peSelect = document.createElement('vscode-single-select') as VscodeSingleSelect;
  private readonly _modelSelect = document.createElement('vscode-single-select') as VscodeSingleSelect;
  private readonly _modelInfo = h('div', { className: 'hint model-line' });
  private _models: readonly ModelChoice[] = [];
  private _modelError: string | undefined;

  constructor(
    private readonly _store: Store,
    private readonly _actions: ResearchActions,
    /** Extra content at the end of the section (the L_t chart, the template preview). */
    extra: HTMLElement[],
  ) {
    const s = _store.state;
    this.element.heading = 'Structure controls (research)';
    this.element.description = 'related bars, mask scales, model, L_t';
    this.element.open = s.researchOpen;
    this.element.addEventListener('vsc-collapsible-toggle', (e) => {
      const open = (e as CustomEvent<{ open: boolean }>).detail?.open ?? this.element.open;
      _store.update((st) => ({ ...st, researchOpen: open }));
    });
    this._peSelect.addEventListener('change', () => {
      _store.update((st) => ({ ...st, positionalEncoding: this._peSelect.value === '*' ? '' : this._peSelect.value }));
      this.renderModels();
    });
    this._modelSelect.addEventListener('change', () => {
      const model = this._models.find((m) => m.id === this._modelSelect.value);
      _store.update((st) => (model ? withLayers({ ...st, modelId: model.id }, model.layers) : { ...st, modelId: '' }));
      this._renderLayers();
      this._renderModelInfo();
      _actions.structureChanged();
    });
    this._body.append(
      h('h3', {}, 'Model'),
      h('div', { className: 'grid2' }, h('label', { className: 'field' }, h('span', {}, 'Positional encoding'), this._peSelect), h('label', { className: 'field' }, h('span', {}, 'Model'), this._modelSelect)),
      this._modelInfo,
      h('h3', {}, 'Related bars'),
      h('div', { className: 'label' }, 'Each new bar attends in full to the bars this many bars back (Museformer)'),
      this._offsetBox,
      h(
        'div',
        { className: 'row' },
        button('Use peaks of this piece', () => this._applySuggestion(), true),
        this.fields.field('addOffset', 'Add', '', (t) => t.trim() === '' || parseIntField(t, 1, MAX_RELATED_OFFSET) !== undefined),
        button('+', () => this._addOffset(), true, 'Add this offset'),
      ),
      this._suggestion,
      h('h3', {}, 'Attention window per layer (mask scales) · experimental'),
      h(
        'p',
        { className: 'hint' },
        'Experimental: on 100 held-out tunes, multi-scale windows changed neither form compliance nor SE measurably (docs/EVALUATION.md).',
      ),
      this._layerBox,
      h('h3', {}, 'Sampling details'),
      h(
        'div',
        { className: 'grid2' },
        this.fields.field('topP', 'Top-p', String(s.topP), (t) => setNumber(_store, 'topP', parseNumberField(t, 0, 1))),
        this.fields.field('seed', 'Seed', String(s.seed), (t) => this._typeSeed(t), 'The seed of the latest Generate: type one (or tick "Keep this seed") to hear the same music again'),
        h('div', { className: 'field' }, h('span', {}, ' '), button('New seed', () => this._newSeed(), true)),
      ),
      this._keepSeed,
      ...extra,
    );
    this.element.append(this._body);
    this.render();
  }

  private _keepSeedBox(): VscodeCheckbox {
    const box = document.createElement('vscode-checkbox') as VscodeCheckbox;
    box.label = 'Keep this seed (unticked: a fresh seed each Generate)';
    box.id = 'keep-seed';
    box.addEventListener('change', () => {
      this._store.update((s) => ({ ...s, seedFixed: box.checked }));
    });
    return box;
  }

  /** Renders everything from the store. */
  render(): void {
    this._renderOffsets();
    this._renderLayers();
    this.renderModels();
    this.fields.setValues(this._store.state, ['topP', 'seed']);
    this._keepSeed.checked = this._store.state.seedFixed;
  }

  /** The models the host offers (or why there are none). */
  setModels(models: readonly ModelChoice[], error?: string): void {
    this._models = models;
    this._modelError = error;
    this.renderModels();
  }

  /** The chosen model. */
  get selectedModel(): ModelChoice | undefined {
    return this._models.find((m) => m.id === this._store.state.modelId);
  }

  /** Shows the piece's L_t peaks as a suggestion. */
  renderSuggestion(peaks: readonly { interval: number; value: number }[]): void {
    this._suggestion.textContent = peaks.length > 0
      ? `Peaks of this piece's L_t: ${peaks.slice(0, 5).map((p) => `${p.interval} (${p.value.toFixed(2)})`).join(', ')}`
      : 'This piece has no clear L_t peaks yet.';
    this._peaks = peaks;
  }

  private _peaks: readonly { interval: number; value: number }[] = [];

  private _renderOffsets(): void {
    const s = this._store.state;
    this._offsetBox.replaceChildren();
    for (const o of s.offsetChoices) {
      const box = document.createElement('vscode-checkbox') as VscodeCheckbox;
      box.label = String(o);
      box.checked = s.offsets.includes(o);
      box.title = `Attend in full to the bar ${o} bar${o === 1 ? '' : 's'} back`;
      box.addEventListener('change', () => {
        this._store.update((st) => toggleOffset(st, o, box.checked));
        this._actions.structureChanged();
      });
      this._offsetBox.append(box);
    }
  }

  private _applySuggestion(): void {
    const offsets = suggestOffsets(this._peaks);
    if (offsets.length === 0) {
      this._actions.status('No peaks to suggest for this piece.');
      return;
    }
    this._store.update((s) => addOffsets(s, offsets));
    this._renderOffsets();
    this._actions.structureChanged();
    this._actions.status(`Switched on offsets ${offsets.join(', ')} from this piece's L_t peaks.`);
  }

  private _addOffset(): void {
    const field = this.fields.get('addOffset');
    const value = field ? parseIntField(field.value, 1, MAX_RELATED_OFFSET) : undefined;
    if (value === undefined || !field) {
      if (field) {
        field.invalid = true;
      }
      return;
    }
    field.value = '';
    this._store.update((s) => addOffsets(s, [value]));
    this._renderOffsets();
    this._actions.structureChanged();
  }

  private _newSeed(): void {
    const seed = crypto.getRandomValues(new Uint32Array(1))[0];
    this._store.update((s) => ({ ...s, seed, seedFixed: true }));
    this.showSeed();
  }

  /** A typed seed is kept for the following runs (same seed, same music). */
  private _typeSeed(text: string): boolean {
    const ok = setNumber(this._store, 'seed', parseIntField(text, 0, 0xffffffff));
    if (ok) {
      this._store.update((s) => ({ ...s, seedFixed: true }));
      this._keepSeed.checked = true;
    }
    return ok;
  }

  /** Shows the seed a Generate drew (and whether it is kept). */
  showSeed(): void {
    this.fields.setValues(this._store.state, ['seed']);
    this._keepSeed.checked = this._store.state.seedFixed;
  }

  private _renderLayers(): void {
    this._layerBox.replaceChildren();
    this._store.state.layerWindows.forEach((w, layer) => {
      const select = document.createElement('vscode-single-select') as VscodeSingleSelect;
      const choices = LAYER_WINDOW_CHOICES.includes(w) ? LAYER_WINDOW_CHOICES : [...LAYER_WINDOW_CHOICES, w];
      for (const c of choices) {
        select.append(option(String(c), c === 0 ? 'all tokens' : `last ${c}`));
      }
      select.value = String(w);
      select.addEventListener('change', () => {
        this._store.update((s) => {
          const windows = [...s.layerWindows];
          windows[layer] = Number(select.value) || 0;
          return { ...s, layerWindows: windows };
        });
      });
      this._layerBox.append(h('label', { className: 'field' }, h('span', {}, `Layer ${layer + 1}`), select));
    });
  }

  /** The encoding filter and the model picker, each model labelled with its measured compliance. */
  renderModels(): void {
    const s = this._store.state;
    const pes = [...new Set(this._models.map((m) => m.positionalEncoding))];
    this._peSelect.replaceChildren(option('*', 'Any'), ...pes.map((pe) => option(pe, peName(pe))));
    const filter = pes.includes(s.positionalEncoding) ? s.positionalEncoding : '';
    this._peSelect.value = filter === '' ? '*' : filter;
    const models = this._models.filter((m) => !filter || m.positionalEncoding === filter);
    this._modelSelect.replaceChildren();
    if (models.length === 0) {
      this._modelSelect.append(option('', this._models.length === 0 ? 'No model installed' : 'No model with this encoding'));
      this._modelSelect.value = '';
      this._modelSelect.disabled = true;
      this._peSelect.disabled = this._models.length === 0;
    } else {
      this._modelSelect.disabled = false;
      this._peSelect.disabled = false;
      for (const m of models) {
        this._modelSelect.append(option(m.id, modelOptionText(m)));
      }
      const chosen = models.find((m) => m.id === s.modelId) ?? models[0];
      this._modelSelect.value = chosen.id;
      if (chosen.id !== s.modelId || chosen.layers !== s.layerWindows.length) {
        this._store.update((st) => withLayers({ ...st, modelId: chosen.id }, chosen.layers));
        this._renderLayers();
      }
    }
    this._renderModelInfo();
    this._actions.structureChanged();
  }

  private _renderModelInfo(): void {
    const model = this.selectedModel;
    if (this._modelError !== undefined) {
      this._modelInfo.textContent = this._modelError;
    } else if (this._models.length === 0) {
      this._modelInfo.textContent = 'No generation model is installed; Generate will say so.';
    } else if (model) {
      this._modelInfo.textContent = modelLine(model);
    }
  }
}
