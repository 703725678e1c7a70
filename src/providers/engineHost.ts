import * as vscode from 'vscode';
import { EngineClient } from '../engine/client';
import type { EngineApi, ModelInfo } from '../engine/types';
import { ENGINE_SECTIONS, readConfig } from '../platform/config';
import { Disposable, MutableDisposable } from '../platform/disposable';
import type { Logger } from '../platform/logger';
import { MusicInputError } from '../music/score';
import { PREFERRED_DEFAULT_MODEL } from '../engine/card';

/**
 * Owns the one engine client of the extension: created on first use (no worker, no model load
 * at activation), rebuilt when a setting it depends on changes, disposed with the extension.
 * The client runs onnxruntime-node in a worker thread, so nothing here blocks the host.
 */
export class EngineHost extends Disposable {
  private _client: EngineClient | undefined;
  private _models: Promise<ModelInfo[]> | undefined;
  /** The generation run started from a command; a new one replaces (aborts) it. */
  private readonly _run = this._register(new MutableDisposable<{ controller: AbortController; dispose(): void }>());

  constructor(
    private readonly _extensionUri: vscode.Uri,
    private readonly _log: Logger,
  ) {
    super();
    this._register(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (ENGINE_SECTIONS.some((s) => e.affectsConfiguration(s))) {
          this._log.info('[engine] settings changed: the engine restarts on next use');
          this._reset();
        }
      }),
    );
    this._register(
      vscode.workspace.onDidGrantWorkspaceTrust(() => {
        this._reset();
      }),
    );
    this._register({ dispose: () => this._reset() });
  }

  /** The engine client, created on first call. */
  engine(): EngineApi {
    if (!this._client) {
      const config = readConfig();
      const modelsDir = vscode.Uri.joinPath(this._extensionUri, 'models').fsPath;
      this._client = new EngineClient({
        modelsDir,
        extraModelDirs: config.modelPath ? [config.modelPath] : [],
        executionProvider: config.executionProvider,
        threads: config.threads,
        log: this._log.child('engine'),
        workerPath: vscode.Uri.joinPath(this._extensionUri, 'dist', 'engineWorker.js').fsPath,
      });
      this._log.info(`[engine] client created (models: ${modelsDir}${config.modelPath ? `, ${config.modelPath}` : ''}; provider ${config.executionProvider})`);
    }
    return this._client;
  }

  /** The installed models (cached until settings change). */
  listModels(): Promise<ModelInfo[]> {
    this._models ??= this.engine()
      .listModels()
      .catch((e: unknown) => {
        this._models = undefined;
        throw e;
      });
    return this._models;
  }

  /** The model to use: the setting when installed, else the preferred default model, else the first one. */
  async resolveModel(requested?: string): Promise<ModelInfo> {
    const models = await this.listModels();
    if (models.length === 0) {
      throw new MusicInputError('no-model', 'No Refrain model is installed: the extension ships models in its models/ folder, or set "refrain.modelPath".');
    }
    const wanted = requested || readConfig().model;
    if (wanted) {
      const hit = models.find((m) => m.id === wanted);
      if (hit) {
        return hit;
      }
      throw new MusicInputError('model-not-found', `Model "${wanted}" is not installed. Installed: ${models.map((m) => m.id).join(', ')}.`);
    }
    return models.find((m) => m.id === PREFERRED_DEFAULT_MODEL) ?? models[0];
  }

  /**
   * Starts a command's generation run: aborts the previous one, and returns the signal that
   * {@link cancelRun} (the `refrain.cancelGeneration` command) or the caller's own token aborts.
   */
  beginRun(token?: AbortSignal): AbortSignal {
    const controller = new AbortController();
    token?.addEventListener('abort', () => controller.abort(), { once: true });
    this._run.value = { controller, dispose: () => controller.abort() };
    return controller.signal;
  }

  /** Ends the run holding `signal` (if it is still the current one) without aborting it. */
  endRun(signal: AbortSignal): void {
    if (this._run.value?.controller.signal === signal) {
      const run = this._run.value;
      run.dispose = () => undefined;
      this._run.clear();
    }
  }

  /** Aborts the current command run; false when none is running. */
  cancelRun(): boolean {
    const running = this._run.value !== undefined;
    this._run.clear();
    return running;
  }

  private _reset(): void {
    const old = this._client;
    this._client = undefined;
    this._models = undefined;
    if (old) {
      void old.dispose().catch((e: unknown) => this._log.warn(`[engine] dispose failed: ${String(e)}`));
    }
  }
}
