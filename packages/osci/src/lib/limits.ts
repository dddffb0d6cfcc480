/**
 * Size bounds applied while opening a message. Every input is bounded before it is parsed.
 * @defaultValue see {@link DEFAULT_LIMITS}
 */
export interface OsciLimits {
  /** Whole HTTP body / message file in bytes. */
  readonly maxMessageBytes: number;
  /** One XML document (envelope, decrypted ContentContainer) in bytes. */
  readonly maxXmlBytes: number;
  /** Number of MIME parts in one entity. */
  readonly maxMimeParts: number;
  /** Header block of one MIME part in bytes. */
  readonly maxMimeHeaderBytes: number;
  /** Element nesting depth in one XML document. */
  readonly maxXmlDepth: number;
  /**
   * Namespace declarations (`xmlns`, `xmlns:p` attributes) in one XML document. Inclusive C14N costs, per element,
   * its attributes times the namespaces in scope: without this bound a crafted document of a few MB would keep a core
   * busy for minutes before any signature is checked.
   */
  readonly maxXmlNamespaceDeclarations: number;
  /** References in one SignedInfo. */
  readonly maxSignatureReferences: number;
  /** Nesting depth of ContentContainers. */
  readonly maxContainerDepth: number;
  /**
   * Content keys decrypted with a private key in one message (one RSA operation each: per EncryptedData for us
   * without MgmtData, a key that occurs again counts once). Each costs milliseconds for ≈ 700 bytes of input, so
   * without this bound a content layer of many small encrypted containers could keep a core busy for minutes.
   */
  readonly maxContentKeys: number;
}

export const DEFAULT_LIMITS: OsciLimits = Object.freeze({
  maxMessageBytes: 512 * 1024 * 1024,
  maxXmlBytes: 32 * 1024 * 1024,
  maxMimeParts: 1000,
  maxMimeHeaderBytes: 16 * 1024,
  maxXmlDepth: 64,
  maxXmlNamespaceDeclarations: 256,
  maxSignatureReferences: 1000,
  maxContainerDepth: 8,
  maxContentKeys: 1000,
});

export function resolveLimits(partial?: Partial<OsciLimits>): OsciLimits {
  return partial ? Object.freeze({ ...DEFAULT_LIMITS, ...partial }) : DEFAULT_LIMITS;
}
