/**
 * onnxruntime-node sessions for the engine: opening a model file on the best execution provider
 * that can run it ({@link openModel}, {@link providerPlan}) as a {@link OrtStepModel} (`./ortStep`:
 * decode steps with checked feeds and reused buffers). The only module that loads
 * onnxruntime-node; the engine worker (`./worker`) runs it off the extension host's thread, and
 * tests and benchmark helpers import it directly.
 *
 * Steps run on onnxruntime-node's native session directly where its binding is there (see
 * {@link DirectSession}): the engine runs in its own worker thread, so a synchronous run blocks
 * nothing, and a step skips onnxruntime-common's per-run checks and the `setImmediate` hop.
 */

process.env.ORT_DISABLE_TELEMETRY = '1';

import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type * as OrtModule from 'onnxruntime-node';
import type { Logger } from '../platform/logger';
import type { ModelCard } from './card';
import { EngineError } from './errors';
import { OrtStepModel, firstLine } from './ortStep';
import type { StepSession } from './ortStep';
import type { ExecutionProviderChoice } from './types';

export { OrtStepModel, firstLine, shapeOf } from './ortStep';
export type { StepSession } from './ortStep';

// Loaded after ORT_DISABLE_TELEMETRY is set (an import would be hoisted above it), so that
// onnxruntime never writes its telemetry database: no data leaves the user's machine.
const ort = require('onnxruntime-node') as typeof OrtModule;

/** A loaded model: its session, the provider that runs it and how long loading took. */
export interface OpenedModel {
  session: StepSession;
  provider: string;
  loadMs: number;
  model: OrtStepModel;
}

/** Options of {@link openModel}. */
export interface OpenModelOptions {
  executionProvider: ExecutionProviderChoice;
  threads?: number;
  log?: Logger;
  /** Run steps on the native session directly where the binding allows it (default true; false: through onnxruntime-common). */
  direct?: boolean;
}

const LIB_VULKAN = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1', '/usr/lib64/libvulkan.so.1', '/usr/lib/libvulkan.so.1'];

/** The providers to try for a choice, with the reasons others are skipped. */
export function providerPlan(choice: ExecutionProviderChoice): { order: string[]; skipped: string[] } {
  if (choice !== 'auto') {
    return { order: [choice], skipped: [] };
  }
  const order: string[] = [];
  const skipped: string[] = [];
  let backends: { name: string; bundled: boolean }[] = [];
  try {
    backends = ort.listSupportedBackends();
  } catch {
    backends = [{ name: 'cpu', bundled: true }];
  }
  const has = (name: string): { name: string; bundled: boolean } | undefined => backends.find((b) => b.name === name);
  const webgpu = has('webgpu');
  if (!webgpu) {
    skipped.push('webgpu: not in this onnxruntime-node build');
  } else if (process.platform === 'linux' && !LIB_VULKAN.some((p) => existsSync(p))) {
    skipped.push('webgpu: libvulkan.so.1 not found (WebGPU needs Vulkan and a GPU driver)');
  } else {
    order.push('webgpu');
  }
  const cuda = has('cuda');
  let cudaLib = false;
  try {
    const bin = join(dirname(require.resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', process.platform, process.arch);
    cudaLib = existsSync(join(bin, 'libonnxruntime_providers_cuda.so'));
  } catch {
    cudaLib = false;
  }
  if (!cuda) {
    skipped.push('cuda: not in this onnxruntime-node build');
  } else if (!cuda.bundled && !cudaLib) {
    skipped.push('cuda: provider library not installed (reinstall onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12 on a CUDA machine)');
  } else {
    order.push('cuda');
  }
  order.push('cpu');
  return { order, skipped };
}

/** What the engine uses of onnxruntime-node's native binding (`onnxruntime-node/dist/binding`). */
interface NativeBinding {
  initOrt(): void;
  binding: {
    InferenceSession: new () => {
      loadModel(path: string, options: object): void;
      inputMetadata?: { name: string }[];
      outputMetadata?: { name: string }[];
      inputNames?: string[];
      outputNames?: string[];
      run(feeds: object, fetches: object, options: object): Record<string, OrtModule.OnnxValue>;
      dispose?(): void;
    };
  };
}

let nativeBinding: NativeBinding | null | undefined;

/** onnxruntime-node's binding module, or null where this build lays it out otherwise (then sessions go through onnxruntime-common). */
function native(): NativeBinding | null {
  if (nativeBinding === undefined) {
    nativeBinding = null;
    try {
      const b = require('onnxruntime-node/dist/binding') as Partial<NativeBinding>;
      if (typeof b.initOrt === 'function' && typeof b.binding?.InferenceSession === 'function') {
        nativeBinding = b as NativeBinding;
      }
    } catch {
      nativeBinding = null;
    }
  }
  return nativeBinding;
}

/**
 * A session on onnxruntime-node's native binding, run synchronously: the same native session
 * `InferenceSession.create` makes (same options, same binding), without onnxruntime-common's
 * wrapper around each run (feed and fetch checks, a `setImmediate` hop, re-wrapping outputs).
 * ~40 us less per step on a ~0.5 ms one-token step.
 */
class DirectSession implements StepSession {
  readonly sync = true;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  private readonly _s: InstanceType<NativeBinding['binding']['InferenceSession']>;
  private static readonly _noOptions = {};

  constructor(b: NativeBinding, path: string, options: object) {
    b.initOrt();
    this._s = new b.binding.InferenceSession();
    this._s.loadModel(path, options);
    this.inputNames = this._s.inputNames ?? (this._s.inputMetadata ?? []).map((m) => m.name);
    this.outputNames = this._s.outputNames ?? (this._s.outputMetadata ?? []).map((m) => m.name);
  }

  run(feeds: Record<string, OrtModule.Tensor>, fetches?: Record<string, OrtModule.Tensor | null>): Record<string, OrtModule.OnnxValue> {
    let f = fetches;
    if (f === undefined) {
      f = {};
      for (const n of this.outputNames) {
        f[n] = null;
      }
    }
    return this._s.run(feeds, f, DirectSession._noOptions);
  }

  async release(): Promise<void> {
    this._s.dispose?.();
  }
}

/** A session of `path` on onnxruntime-node: direct where the binding allows it, else through onnxruntime-common. */
async function createSession(path: string, options: OrtModule.InferenceSession.SessionOptions, direct: boolean): Promise<StepSession> {
  const b = direct ? native() : null;
  if (b !== null) {
    // Loading blocks for a while: let the worker's queued messages (a cancellation) through first, as onnxruntime-common does.
    await new Promise<void>((resolve) => setImmediate(resolve));
    return new DirectSession(b, path, options);
  }
  return ort.InferenceSession.create(path, options);
}

/**
 * Opens a model file with the chosen execution provider. Throws `EngineError('model-file')`
 * naming the file when it is missing or onnxruntime cannot load it.
 */
export async function openModel(path: string, card: ModelCard, options: OpenModelOptions): Promise<OpenedModel> {
  const log = options.log;
  if (!existsSync(path)) {
    throw new EngineError('model-file', `${path}: the model file is missing.`);
  }
  if (!statSync(path).isFile()) {
    throw new EngineError('model-file', `${path}: not a file.`);
  }
  const want = card.onnx.sha256;
  if (typeof want === 'string' && want.length === 64) {
    const got = createHash('sha256').update(readFileSync(path)).digest('hex');
    if (got !== want.toLowerCase()) {
      throw new EngineError('model-file', `${path}: its SHA-256 does not match its card; the file is damaged or belongs to another model.`);
    }
  }
  const { order, skipped } = providerPlan(options.executionProvider);
  for (const s of skipped) {
    log?.info(`execution provider ${s}`);
  }
  let lastError: unknown;
  for (const ep of order) {
    const t0 = performance.now();
    try {
      const session = await createSession(path, {
        executionProviders: ep === 'cpu' ? ['cpu'] : [ep, 'cpu'],
        graphOptimizationLevel: 'all',
        logSeverityLevel: 3,
        ...(options.threads !== undefined ? { intraOpNumThreads: options.threads } : {}),
      }, options.direct !== false);
      const loadMs = performance.now() - t0;
      log?.info(`loaded ${path} on ${ep} in ${loadMs.toFixed(0)} ms`);
      return { session, provider: ep, loadMs, model: new OrtStepModel(session, card, path, ort.Tensor) };
    } catch (e) {
      lastError = e;
      const msg = firstLine(e);
      if (ep === 'cpu' || options.executionProvider !== 'auto') {
        break;
      }
      log?.info(`execution provider ${ep} unavailable (${msg}); trying the next one`);
    }
  }
  const msg = firstLine(lastError);
  if (options.executionProvider !== 'auto' && options.executionProvider !== 'cpu') {
    throw new EngineError('runtime', `The ${options.executionProvider} execution provider could not load ${path}: ${msg}`);
  }
  throw new EngineError('model-file', `${path}: onnxruntime cannot load this model file (${msg}). It is damaged or not a Refrain decode model.`);
}

