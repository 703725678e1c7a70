import * as vscode from 'vscode';
import { EngineClient } from '../engine/client';
import type { EngineApi, ModelInfo } from '../engine/types';
import type { EngineSource } from './service';
import { ENGINE_SECTIONS, readConfig } from './config';
import { Disposable } from '../platform/disposable';
import type { Logger } from '../platform/logger';

/**
 * Owns the one engine client of the extension: created on first use (no worker, no model load
 * at activation), rebuilt when a setting it depends on changes, disposed with the extension.
 * The client runs onnxruntime-node in a worker thread, so nothing here blocks the host. The
 * generation service (`generation/service.ts`) runs every request through it.
 */
export class EngineHost extends Disposable implements EngineSource {
  private _client: EngineClient | undefined;
  private _models: Promise<ModelInfo[]> | undefined;

  constructor(
    private readonly _extensionUri: vscode.Uri,
    private readonly _log: Logger,
  ) {
    super();
    this._register(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (ENGINE_SECTIONS.some((s) => e.affectsConfiguration(s))) {
          this._log.info('settings changed: the engine restarts on next use');
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
        parallel: config.parallelCandidates ? undefined : false,
        log: this._log.child('worker'),
        workerPath: vscode.Uri.joinPath(this._extensionUri, 'dist', 'engineWorker.js').fsPath,
      });
      this._log.info(`client created (models: ${modelsDir}${config.modelPath ? `, ${config.modelPath}` : ''}; provider ${config.executionProvider})`);
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

  private _reset(): void {
    const old = this._client;
    this._client = undefined;
    this._models = undefined;
    if (old) {
      void old.dispose().catch((e: unknown) => this._log.warn(`dispose failed: ${String(e)}`));
    }
  }
}
