import { DEFAULT_LIMITS } from '@efa-gateway/osci';
import { z } from 'zod';

const XML_LIMIT_DEFAULTS = {
  maxBytes: DEFAULT_LIMITS.maxXmlBytes,
  maxDepth: DEFAULT_LIMITS.maxXmlDepth,
  maxNamespaceDeclarations: DEFAULT_LIMITS.maxXmlNamespaceDeclarations,
};

/** The form of a tenant id (it names directories in the spool's index, so nothing else may pass as one). */
export const TENANT_ID = /^[a-z0-9][a-z0-9-]{0,40}$/;

const secret = z
  .object({
    /** Name of an environment variable holding the passphrase. */
    passphraseEnv: z.string().min(1).optional(),
    /** File holding the passphrase (first line). */
    passphraseFile: z.string().min(1).optional(),
  })
  .refine((s) => (s.passphraseEnv === undefined) !== (s.passphraseFile === undefined), 'give exactly one of passphraseEnv or passphraseFile');

const keyStore = z.object({ p12: z.string().min(1) }).and(secret);

export const tenantSchema = z
  .object({
    /** Short id (used in paths, logs and job data). */
    id: z.string().regex(TENANT_ID, 'must be lower-case letters, digits and dashes'),
    /** HTTP path the intermediary POSTs to. @defaultValue /osci/<id> */
    path: z
      .string()
      .regex(/^\/[A-Za-z0-9/_-]*$/, 'must be an absolute URL path')
      .optional(),
    /** Cipher key (transport and content decryption). */
    cipher: keyStore,
    /** Signature key (answers are signed with it). */
    signature: keyStore,
    /** Trust anchors for the intermediary's and authors' signature certificates (CA or end-entity, PEM/DER files). */
    trust: z.array(z.string().min(1)).min(1, 'needs at least one trust anchor (the intermediary signature certificate or its CA)'),
    /** Intermediate CA certificates. */
    intermediates: z.array(z.string().min(1)).default([]),
    /** Reject content whose author signature does not chain to `trust`. @defaultValue false */
    requireTrustedAuthors: z.boolean().default(false),
  })
  .strict();

export const routeSchema = z
  .object({
    name: z.string().min(1),
    match: z
      .object({
        tenant: z.string().optional(),
        /** XTA MessageMetaData service (Dienst) URI, e.g. urn:xoev-de:…. */
        service: z.string().optional(),
        /** Root element of the (first) content, as `{namespace}localName` or `localName`. */
        rootElement: z.string().optional(),
      })
      .strict()
      .default({}),
    /** Mapping procedure id. */
    procedure: z.string().min(1).default('passthrough'),
    /** Connector names (keys of `connectors`). */
    connectors: z.array(z.string().min(1)).min(1, 'needs at least one connector'),
  })
  .strict();

export const configSchema = z
  .object({
    /** Spool, demo PKI and state. @defaultValue ./data */
    dataDir: z.string().default('./data'),
    /** @defaultValue env REDIS_URL, else redis://127.0.0.1:6379 */
    redisUrl: z
      .string()
      .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
      .optional(),
    /** Start a local redis-server child (persistence under dataDir) when none answers at redisUrl. @defaultValue true */
    embeddedRedis: z.boolean().default(true),
    http: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(8080),
        /**
         * Gateway processes sharing the port (Node cluster); opening and answering messages is CPU-bound (RSA), so
         * use one per core. `auto` = the number of cores. @defaultValue 1
         */
        processes: z.union([z.literal('auto'), z.number().int().min(1).max(64)]).default(1),
        /**
         * Worker threads per process that open, verify and answer messages (the RSA work), so the event loop stays free
         * for HTTP, spool and Redis. `auto` = the cores divided among `processes`; 0 = on the event loop. @defaultValue auto
         */
        openThreads: z.union([z.literal('auto'), z.number().int().min(0).max(64)]).default('auto'),
        /**
         * Environment variable holding the bearer token for the operator API (`/api/…`). Without it the API answers
         * only requests from loopback addresses.
         */
        operatorTokenEnv: z.string().min(1).optional(),
      })
      .strict()
      .default({ host: '127.0.0.1', port: 8080, processes: 1, openThreads: 'auto' }),
    limits: z
      .object({
        /** Largest accepted HTTP body. @defaultValue 256 MiB */
        maxMessageBytes: z
          .number()
          .int()
          .positive()
          .default(256 * 1024 * 1024),
        /**
         * Memory that large messages (≥ 1 MiB) may take at once in this process. Stages reserve what they hold and wait
         * while the budget is used up: opening 4 MiB (it streams), mapping twice the inline contents plus twice
         * the attachments unless the procedure only forwards them, delivering twice the kept mapped output (forwarded attachments are streamed). A stage
         * needing more than the budget runs alone. @defaultValue 512 MiB
         */
        memoryBudgetBytes: z
          .number()
          .int()
          .min(16 * 1024 * 1024)
          .default(512 * 1024 * 1024),
        /**
         * Bounds of every XML document a message carries (SOAP envelope, decrypted ContentContainer), checked before
         * anything of it is trusted; a message beyond one is rejected (envelope) or quarantined (content) with 9100.
         * Raise them only for senders trusted to need it.
         */
        xml: z
          .object({
            /** Bytes of one document. @defaultValue 32 MiB */
            maxBytes: z.number().int().positive().default(DEFAULT_LIMITS.maxXmlBytes),
            /** Element nesting depth. @defaultValue 64 */
            maxDepth: z.number().int().min(8).max(1024).default(DEFAULT_LIMITS.maxXmlDepth),
            /** Namespace declarations in one document (inclusive C14N is quadratic in them). @defaultValue 256 */
            maxNamespaceDeclarations: z.number().int().min(16).max(4096).default(DEFAULT_LIMITS.maxXmlNamespaceDeclarations),
          })
          .strict()
          .default(() => ({ ...XML_LIMIT_DEFAULTS })),
      })
      .strict()
      .default({ maxMessageBytes: 256 * 1024 * 1024, memoryBudgetBytes: 512 * 1024 * 1024, xml: { ...XML_LIMIT_DEFAULTS } }),
    security: z
      .object({
        allowLegacyAlgorithms: z.boolean().default(false),
        allowUnencryptedTransport: z.boolean().default(false),
      })
      .strict()
      .default({ allowLegacyAlgorithms: false, allowUnencryptedTransport: false }),
    pipeline: z
      .object({
        /** Tries per delivery before the dead-letter state. @defaultValue 8 */
        attempts: z.number().int().min(1).max(100).default(8),
        /** First retry delay; doubles per try. @defaultValue 2000 */
        backoffMs: z.number().int().positive().default(2000),
        /** Parallel jobs per worker and stage. @defaultValue 4 */
        concurrency: z.number().int().min(1).max(64).default(4),
        /** Redis key prefix (several gateways on one Redis). @defaultValue efa */
        prefix: z
          .string()
          .regex(/^[A-Za-z0-9:_-]+$/)
          .default('efa'),
        /** Run the workers inside the HTTP process. @defaultValue true */
        inProcessWorkers: z.boolean().default(true),
        /** A job whose worker stops renewing its lock this long (crash) is taken over by another worker. @defaultValue 30000 */
        lockDurationMs: z.number().int().min(1000).default(30_000),
      })
      .strict()
      .default({ attempts: 8, backoffMs: 2000, concurrency: 4, prefix: 'efa', inProcessWorkers: true, lockDurationMs: 30_000 }),
    /**
     * How long the spool keeps messages after their final state (personal data: keep no longer than needed).
     * The MessageId index stays, so that a late repetition is still answered as a duplicate.
     */
    mapping: z
      .object({
        /** Directory with the official XSDs and code lists (its `catalog.xml` wins over the project catalog). @defaultValue EFA_SCHEMA_DIR or ../shared/schemas */
        schemaDir: z.string().min(1).optional(),
        /** Further XML catalogs; entries resolve against each catalog's folder. */
        catalogs: z.array(z.string().min(1)).default([]),
        /** Folders holding the operator's own procedure folders (manifest.json, index.ts …). */
        procedureDirs: z.array(z.string().min(1)).default([]),
      })
      .strict()
      .default({ catalogs: [], procedureDirs: [] }),
    retention: z
      .object({
        /** Delivered messages, in days. @defaultValue 30 */
        deliveredDays: z.number().min(0).default(30),
        /** Dead-lettered messages, in days (long enough to investigate and replay). @defaultValue 90 */
        failedDays: z.number().min(0).default(90),
        /** Rejected and quarantined messages, in days. @defaultValue 90 */
        quarantineDays: z.number().min(0).default(90),
      })
      .strict()
      .default({ deliveredDays: 30, failedDays: 90, quarantineDays: 90 }),
    tenants: z.array(tenantSchema).min(1, 'needs at least one tenant'),
    /** Connector targets by name: `{ type: hotfolder|http|sftp|smtp, …options }`. */
    connectors: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/), z.looseObject({ type: z.string() })),
    routes: z.array(routeSchema).min(1, 'needs at least one route'),
  })
  .strict();

export type GatewayConfigInput = z.input<typeof configSchema>;
export type GatewayConfig = z.output<typeof configSchema>;
export type TenantConfig = z.output<typeof tenantSchema>;
export type RouteConfig = z.output<typeof routeSchema>;
