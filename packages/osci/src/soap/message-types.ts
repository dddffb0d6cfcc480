/**
 * OSCI 1.2 message types and where their order element sits. Dispatch is by element name in the
 * Header or Body, never by `xsi:schemaLocation` (that attribute is only a hint).
 */
export const MESSAGE_TYPES = {
  initDialog: { place: 'body', schema: 'soapInitDialog.xsd' },
  responseToInitDialog: { place: 'body', schema: 'soapResponseToInitDialog.xsd' },
  exitDialog: { place: 'body', schema: 'soapExitDialog.xsd' },
  responseToExitDialog: { place: 'body', schema: 'soapResponseToExitDialog.xsd' },
  getMessageId: { place: 'body', schema: 'soapGetMessageId.xsd' },
  responseToGetMessageId: { place: 'body', schema: 'soapResponseToGetMessageId.xsd' },
  fetchProcessCard: { place: 'body', schema: 'soapFetchProcessCard.xsd' },
  responseToFetchProcessCard: { place: 'body', schema: 'soapResponseToFetchProcessCard.xsd' },
  storeDelivery: { place: 'header', schema: 'soapStoreDelivery.xsd' },
  responseToStoreDelivery: { place: 'header', schema: 'soapResponseToStoreDelivery.xsd' },
  fetchDelivery: { place: 'header', schema: 'soapFetchDelivery.xsd' },
  responseToFetchDelivery: { place: 'header', schema: 'soapResponseToFetchDelivery.xsd' },
  forwardDelivery: { place: 'header', schema: 'soapForwardDelivery.xsd' },
  responseToForwardDelivery: { place: 'header', schema: 'soapResponseToForwardDelivery.xsd' },
  acceptDelivery: { place: 'header', schema: 'soapAcceptDelivery.xsd' },
  responseToAcceptDelivery: { place: 'header', schema: 'soapResponseToAcceptDelivery.xsd' },
  mediateDelivery: { place: 'header', schema: 'soapMediateDelivery.xsd' },
  responseToMediateDelivery: { place: 'header', schema: 'soapResponseToMediateDelivery.xsd' },
  processDelivery: { place: 'header', schema: 'soapProcessDelivery.xsd' },
  responseToProcessDelivery: { place: 'header', schema: 'soapResponseToProcessDelivery.xsd' },
} as const;

export type OrderType = keyof typeof MESSAGE_TYPES;
export type MessageType = OrderType | 'soapFault';

export function isOrderType(name: string): name is OrderType {
  return Object.hasOwn(MESSAGE_TYPES, name);
}

/** Orders that deliver content (a ContentPackage in the Body). */
export const CONTENT_ORDERS: ReadonlySet<MessageType> = new Set([
  'storeDelivery',
  'forwardDelivery',
  'acceptDelivery',
  'mediateDelivery',
  'processDelivery',
  'responseToFetchDelivery',
  'responseToMediateDelivery',
  'responseToProcessDelivery',
]);

export function schemaLocationFor(type: OrderType): string {
  return `http://schemas.xmlsoap.org/soap/envelope/ ${MESSAGE_TYPES[type].schema} http://www.w3.org/2000/09/xmldsig# oscisig.xsd http://www.w3.org/2001/04/xmlenc# oscienc.xsd`;
}
