import type { CommandMap } from '../../protocol/messages';

/**
 * What a view reports about itself (for `refrain.internal.viewStatus`, used by the integration
 * tests): whether its webview is ready, how often it got ready, and what it last drew.
 */
export interface ViewStatus {
  ready: boolean;
  readyCount: number;
  rendered?: CommandMap['rendered'];
  /** The key of the piece the host last sent, or undefined. */
  pieceKey?: string;
  /** The reason of the last `noPiece` the host sent. */
  noPiece?: string;
}
