/**
 * A guard on the model's output: scores that are not finite numbers (NaN, infinity) come from a
 * broken model (NaN weights, a bad export), and sampling from them writes random music. The engine
 * stops instead, with a message that says so.
 *
 * Pure TypeScript: no vscode, no Node-only APIs.
 */

import { EngineError } from './errors';

/**
 * Throws `EngineError('model-file')` when any of `logits` is NaN or infinite. `modelPath` names the
 * model in the message. Cost: one multiply-add per score.
 */
export function assertFiniteLogits(logits: Float32Array, modelPath: string): void {
  let probe = 0;
  for (let i = 0; i < logits.length; i++) {
    probe += logits[i] * 0;
  }
  if (Number.isNaN(probe)) {
    const bad = logits.findIndex((x) => !Number.isFinite(x));
    throw new EngineError(
      'model-file',
      `${modelPath}: the model's output scores are not numbers (${logits[bad]} at index ${bad}), so generation stopped and nothing was written. ` +
        'The model file is damaged (for example NaN weights from a failed training run): reinstall the model, or export it again from a good checkpoint; a sha256 in its card.json lets Refrain detect a changed file at load.',
    );
  }
}
