import type { OpenedMessage, OsciEnvelope } from '@efa-gateway/osci';

/** The verification report kept with a message (no content): the Laufzettel of what was checked. */
export function verificationReport(opened: OpenedMessage) {
  return {
    transport: opened.transport,
    signatures: opened.signatures.map((s) => ({
      scope: s.scope,
      containerId: s.containerId,
      valid: s.valid,
      algorithm: s.algorithm,
      signer: s.signer,
      certificate: s.certificate && {
        subject: s.certificate.subject,
        issuer: s.certificate.issuer,
        serialNumber: s.certificate.serialNumber,
        trusted: s.certificate.trusted,
        timeValid: s.certificate.timeValid,
        anchor: s.certificate.anchor,
      },
    })),
    processCard: opened.envelope.order.processCardBundles[0]
      ? { creation: opened.envelope.order.processCardBundles[0].creation, forwarding: opened.envelope.order.processCardBundles[0].forwarding }
      : undefined,
  };
}

/** Routing data from the XTA `MessageMetaData` custom header (service, business scenario), if present. */
export function messageMetadata(envelope: OsciEnvelope): Record<string, string> {
  const out: Record<string, string> = {};
  const header = envelope.customHeaders.find((h) => h.localName === 'MessageMetaData');
  if (!header) return out;
  const first = (local: string) => {
    const el = header.element.getElementsByTagNameNS('*', local)[0];
    return el ? (el.textContent ?? '').trim() : undefined;
  };
  const service = first('Service');
  const scenario = first('BusinessScenario') ?? first('Defined');
  if (service) out.service = service;
  if (scenario) out.businessScenario = scenario;
  return out;
}
