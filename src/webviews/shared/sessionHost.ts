import { readConfig } from '../../generation/config';
import type { ParseHost } from '../../host/parseHost';
import { pickMusicFile, readMusicFile } from './files';
import type { SessionHost } from './generationSession';
import type { WebviewChannel } from './webviewChannel';

/**
 * A view's session host: what the view itself knows (the piece on show, where Insert writes) and
 * what every view shares: the generation settings, template files picked in a dialog and read in
 * the parse worker, and the view's channel for notifications.
 */
export function sessionHost(parser: ParseHost, channel: () => WebviewChannel, own: Pick<SessionHost, 'current' | 'insert'>): SessionHost {
  return {
    ...own,
    settings: () => readConfig().generation,
    readFile: (uri) => readMusicFile(uri),
    load: (path, bytes) => parser.pieces(path, bytes),
    pickFile: () => pickMusicFile(),
    notify: (method, params) => channel().notify(method, params),
    remember: (method, params) => channel().remember(method, params),
  };
}
