/**
 * The musical controls at the top of the panel: bars, candidates, form, variation, temperature,
 * Generate and the status line. They render from the one store.
 */

import type { VscodeButton } from '@vscode-elements/elements/dist/vscode-button/vscode-button.js';
import type { VscodeSingleSelect } from '@vscode-elements/elements/dist/vscode-single-select/vscode-single-select.js';
import type { VscodeTextfield } from '@vscode-elements/elements/dist/vscode-textfield/vscode-textfield.js';
import { MAX_CANDIDATES, MAX_FORM_LENGTH, MAX_GENERATE_BARS, MAX_SSM_SIDE, assertNever } from '../src/protocol/messages';
import type { TemplateChoice } from '../src/protocol/messages';
import { button, h, option } from './dom';
import { parseIntField, parseNumberField } from './state';
import type { Store } from './store';
import { generateLabel, variationText } from './words';

import { Fields, setNumber } from './fields';

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
