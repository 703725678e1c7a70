import * as vscode from 'vscode';
import { Disposable } from '../platform/disposable';

/** The URI scheme of Refrain's read-only report documents. */
export const REPORT_SCHEME = 'refrain-report';

/** Read-only virtual documents holding text reports; showing one again refreshes it in place. */
export class ReportDocuments extends Disposable implements vscode.TextDocumentContentProvider {
  private readonly _contents = new Map<string, string>();
  private readonly _onDidChange = this._register(new vscode.EventEmitter<vscode.Uri>());
  readonly onDidChange = this._onDidChange.event;

  constructor() {
    super();
    this._register(vscode.workspace.registerTextDocumentContentProvider(REPORT_SCHEME, this));
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this._contents.get(uri.toString()) ?? '';
  }

  /** Sets the report's text and returns its document. */
  async show(name: string, text: string): Promise<vscode.TextDocument> {
    const uri = vscode.Uri.from({ scheme: REPORT_SCHEME, path: `/${name}` });
    this._contents.set(uri.toString(), text);
    this._onDidChange.fire(uri);
    return vscode.workspace.openTextDocument(uri);
  }
}
