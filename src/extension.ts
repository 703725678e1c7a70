// No telemetry: onnxruntime-node reads this before it loads (the engine worker sets it too).
process.env.ORT_DISABLE_TELEMETRY = '1';

import * as vscode from 'vscode';
import { createCommands, registerCommands } from './commands/index';
import { WALKTHROUGH_CONTEXT, markWalkthrough } from './commands/walkthrough';
import { RefrainViews } from './webviews/views';
import { createChannelLogger } from './platform/vscodeLog';
import { GenerationService } from './generation/service';
import { readConfig } from './generation/config';
import { EngineHost } from './generation/engineHost';
import { InlineContinuationProvider } from './inline/inlineContinuation';
import { ParseHost } from './host/parseHost';
import { ReportDocuments } from './host/reportDocuments';
import type { Services } from './commands/services';

/**
 * Builds the services and registers the contributions. Nothing heavy happens here: no model is
 * loaded and no workspace is scanned until a command needs it.
 */
export function activate(context: vscode.ExtensionContext): void {
  const channel = vscode.window.createOutputChannel('Refrain', { log: true });
  context.subscriptions.push(channel);
  const log = createChannelLogger(channel);
  const started = Date.now();
  try {
    // User text is parsed in a worker with a time limit, never on this thread.
    const parser = new ParseHost({ log: log.child('parse') });
    context.subscriptions.push(parser);
    // The engine worker starts on first use, not here.
    const engine = new EngineHost(context.extensionUri, log.child('engine'));
    const generation = new GenerationService(engine, () => readConfig().model, log.child('generation'));
    context.subscriptions.push(engine, generation);
    // The walkthrough's "generate" and "insert" steps, whichever front the writer used.
    context.subscriptions.push(generation.onDidUse((use) => markWalkthrough(use === 'generated' ? WALKTHROUGH_CONTEXT.generated : WALKTHROUGH_CONTEXT.inserted)));
    const services: Services = { context, channel, log, parser, generation };
    const reports = new ReportDocuments();
    context.subscriptions.push(reports);
    // The structure panel and the MIDI editor.
    const views = new RefrainViews(context.extensionUri, generation, parser, log);
    context.subscriptions.push(views);
    context.subscriptions.push(...registerCommands(services, createCommands(services, reports, views)));
    // Ghost-text continuation in ABC files only.
    const inline = new InlineContinuationProvider(generation, parser, log.child('inline'));
    context.subscriptions.push(inline, vscode.languages.registerInlineCompletionItemProvider({ language: 'abc' }, inline));
    log.child('activate').info(`Refrain ${String(context.extension.packageJSON.version)} activated in ${Date.now() - started} ms`);
  } catch (e) {
    // VS Code shows nothing when activation fails, so say it ourselves, then rethrow.
    log.child('activate').error('failed', e);
    void vscode.window.showErrorMessage(`Refrain failed to start: ${e instanceof Error ? e.message : String(e)}`, 'Show Logs').then((c) => {
      if (c === 'Show Logs') {
        channel.show();
      }
    });
    throw e;
  }
}

/** Everything is disposed through `context.subscriptions`. */
export function deactivate(): void {
  // Nothing beyond the subscriptions.
}
