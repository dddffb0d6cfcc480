import type { MappingResult } from '@efa-gateway/xoev-mapping';
/** The spool record of one received message (record lines of its journal `events.jsonl`): what it is, what was verified, where it is in the pipeline. */
export type MessageState = 'accepted' | 'queued' | 'processing' | 'delivered' | 'failed' | 'quarantined' | 'rejected';

export interface DeliveryState {
  state: 'pending' | 'delivered' | 'awaiting-pickup' | 'failed';
  attempts: number;
  /** How often an operator replayed it (part of the job id so that a replay is a new job). */
  replay?: number;
  /** For `awaiting-pickup`: when the pickup is overdue (ISO time). */
  expiresAt?: string;
  receipt?: { target: string; at: string; reference: Record<string, string | number>; duplicate: boolean };
  error?: { code: string; message: string; retryable: boolean };
}

export interface MessageRecord {
  id: string;
  channel: 'osci';
  tenant: string;
  messageId?: string;
  orderType?: string;
  subject?: string;
  receivedAt: string;
  size: number;
  sha256: string;
  state: MessageState;
  /** The OSCI answer given (feedback or fault code). */
  answer?: { kind: 'response' | 'fault'; code: string };
  /** Verification report (no content): transport algorithms, signatures with certificate checks. */
  verification?: unknown;
  /** Error that rejected or quarantined the message. */
  error?: { code: string; reason: string; layer: string; message: string };
  metadata: Record<string, string>;
  route?: { name: string; procedure: string; procedureVersion: string; connectors: string[]; validation?: MappingResult['validation'] };
  deliveries: Record<string, DeliveryState>;
}

export interface AuditEvent {
  at: string;
  stage: 'receive' | 'verify' | 'route' | 'map' | 'deliver' | 'replay' | 'reconcile';
  event: string;
  code?: string;
  detail?: string;
  target?: string;
}
