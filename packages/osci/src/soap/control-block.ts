import { OsciError } from '../lib/errors.js';
import type { OsciEnvelope } from './envelope.js';

/**
 * Checks a supplier response against the request we sent: Response must echo our Challenge, and in an explicit
 * dialog ConversationId and SequenceNumber must match. Throws 9400 otherwise.
 */
export function checkResponseControlBlock(response: OsciEnvelope, sent: { readonly challenge: string; readonly conversationId?: string; readonly sequenceNumber?: number }): void {
  const cb = response.controlBlock;
  if (!cb) throw new OsciError('CONTROLBLOCK_INVALID', 'the response has no ControlBlock');
  if (cb.response !== sent.challenge) throw new OsciError('CONTROLBLOCK_INVALID', 'the response does not echo our Challenge');
  if (sent.conversationId !== undefined && cb.conversationId !== sent.conversationId) throw new OsciError('CONTROLBLOCK_INVALID', 'ConversationId differs from the dialog');
  if (sent.sequenceNumber !== undefined && cb.sequenceNumber !== undefined && cb.sequenceNumber !== sent.sequenceNumber) {
    throw new OsciError('CONTROLBLOCK_INVALID', 'SequenceNumber differs from the request');
  }
}
