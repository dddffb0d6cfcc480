import { MessageStreamOpener, OsciError, type OpenedMessage } from '@efa-gateway/osci';
import type { Tenant } from '../config/load.js';
import { ContentBundleWriter } from '../spool/content-store.js';
import { concludeOpen, EarlyAnswer, openOptionsFor, rejectedOutcome, type OpenContext, type OpenOutcome } from './open-task.js';

/**
 * Opens a large message on the event loop while its body arrives: a MessageStreamOpener is fed every chunk the
 * receive writes to the spool, and the attachments are sealed as they are decrypted, so the answer follows the last
 * byte instead of a second pass over the stored body. (On a worker thread the message would hold the thread for as
 * long as the sender takes; on the event loop each 64 KiB chunk costs a fraction of a millisecond, plus the three
 * RSA operations of the message.) Nothing counts before `conclude`, which runs after the body is stored.
 *
 * A message of an unusual shape (one the opener collects whole) or a local failure (sealing) ends early opening:
 * `usable` turns false and the caller opens the stored body on the open pool as for any other message.
 */
export class EarlyOpener {
  readonly #tenant: Tenant;
  readonly #answer: EarlyAnswer;
  #opener: MessageStreamOpener | undefined;
  #writer: ContentBundleWriter | undefined;
  /** An OsciError the opener threw while the body arrived (a decided verdict, e.g. the size limit). */
  #verdict: OsciError | undefined;

  /** Throws a system error if the sealed content file cannot be created (then open on the pool). */
  constructor(tenant: Tenant, ctx: OpenContext, id: string, sealTo: string) {
    this.#tenant = tenant;
    // The answer's signature is computed on libuv's thread pool, not on the event loop.
    const answer = (this.#answer = new EarlyAnswer(tenant));
    const writer = (this.#writer = new ContentBundleWriter(sealTo, ctx.spoolKey, id));
    this.#opener = new MessageStreamOpener({
      ...openOptionsFor(tenant, ctx),
      onOrderVerified: answer.start,
      onAttachmentData: (refId, chunk) => writer.attachmentData(refId, chunk),
    });
  }

  /** For Spool.receive: sees every chunk; never throws (a problem ends early opening). */
  readonly tap = (chunk: Buffer): void => {
    const opener = this.#opener;
    if (!opener || this.#verdict) return;
    try {
      opener.push(chunk);
      if (opener.collecting) this.abandon();
    } catch (error) {
      if (error instanceof OsciError) this.#verdict = error;
      else this.abandon();
    }
  };

  /** False when the stored body must be opened on the pool instead. */
  get usable(): boolean {
    return this.#opener !== undefined;
  }

  /** Stops early opening and removes what was sealed so far. */
  abandon(): void {
    this.#writer?.abort();
    this.#writer = undefined;
    this.#opener = undefined;
  }

  /** After the whole body was received and stored: the outcome the open task would give for it. */
  async conclude(): Promise<OpenOutcome> {
    const opener = this.#opener;
    const writer = this.#writer;
    if (!opener || !writer) throw new Error('early opening was abandoned');
    let opened: OpenedMessage;
    try {
      if (this.#verdict) throw this.#verdict;
      opened = opener.finish();
    } catch (error) {
      writer.abort();
      return rejectedOutcome(error, this.#tenant);
    }
    return concludeOpen(opened, this.#tenant, writer, this.#answer.pending);
  }
}
