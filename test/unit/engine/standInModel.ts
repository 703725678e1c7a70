// A stand-in decode-step model for engine tests: seeded random logits, the same for the same
// (token index, id), so runs are reproducible; it records the structure inputs it is fed.
import type { ModelShape, StepInputs, StepModel, StepOutputs } from '../../../src/engine/decoder';
import { Prng } from '../../../src/engine/sampler';
import { VOCAB_SIZE } from '../../../src/tokens/vocab';

export class RandomModel implements StepModel {
  readonly shape: ModelShape;
  steps = 0;
  /** Per token fed: its bar, source bar and bars-to-end (-1 when the input was absent). */
  readonly fed: { bar: number; sbar: number; toend: number }[] = [];

  /** `structure`: the model takes the source-bar and bars-to-end inputs. */
  constructor(structure = false) {
    this.shape = { layers: 2, heads: 2, headDim: 16, vocabSize: VOCAB_SIZE, sing: true, sourceBars: structure, endEmbed: structure };
  }

  run(inputs: StepInputs): Promise<StepOutputs> {
    this.steps++;
    const s = inputs.tokens.length;
    const logits = new Float32Array(s * VOCAB_SIZE);
    for (let r = 0; r < s; r++) {
      this.fed.push({ bar: inputs.bar[r], sbar: inputs.sbar?.[r] ?? -1, toend: inputs.toend?.[r] ?? -1 });
      const rng = new Prng(inputs.tpos[r] * 7919 + inputs.tokens[r]);
      for (let v = 0; v < VOCAB_SIZE; v++) {
        logits[r * VOCAB_SIZE + v] = rng.next() * 6;
      }
    }
    const kv = (): Float32Array[] => [new Float32Array(s * 32), new Float32Array(s * 32)];
    return Promise.resolve({ logits, newK: kv(), newV: kv() });
  }
}
