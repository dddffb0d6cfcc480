/**
 * OSCI-Transport 1.2 feedback codes with their standard English and German texts
 * (OSCI-Transport 1.2 specification, chapter "Rückmeldungen", as used by OSCI-Bibliothek).
 *
 * `level` says where the protocol reports a code: `message` codes (9000, 91xx–95xx) travel as a SOAP
 * fault with `detail/osci:Code`; `order` codes as `osci:Feedback/osci:Entry` inside a response.
 */
export type FeedbackLevel = 'message' | 'order';

export interface FeedbackCodeInfo {
  readonly level: FeedbackLevel;
  readonly en: string;
  readonly de: string;
}

const messageLevel = (en: string, de: string): FeedbackCodeInfo => ({ level: 'message', en, de });
const orderLevel = (en: string, de: string): FeedbackCodeInfo => ({ level: 'order', en, de });

export const FEEDBACK_CODES = {
  '0800': orderLevel('Request executed, dialog closed', 'Auftrag ausgeführt, Dialog beendet'),
  '0801': orderLevel('Request executed, dialog continues to be open', 'Auftrag ausgeführt, Dialog weiterhin geöffnet'),
  '3500': orderLevel('Encryption certificate of the client is invalid with regard to time', 'Chiffrierzertifikat des Clients ist zeitlich ungültig'),
  '3501': orderLevel("Check of the client's encryption certificate could not be performed completely", 'Prüfung des Chiffrierzertifikats des Clients konnte nicht vollständig durchgeführt werden'),
  '3700': orderLevel('Signature certificate of the client is invalid with regard to time', 'Signierzertifikat des Clients ist zeitlich ungültig'),
  '3701': orderLevel('Signature certificate of one of the authors is invalid with regard to time', 'Signierzertifikat eines Autors ist zeitlich ungültig'),
  '3702': orderLevel('Signature over the signature certificate of one of the authors is invalid', 'Signatur über das Signierzertifikat eines Autors ist fehlerhaft'),
  '3703': orderLevel('Signature certificate of one of the authors has been revoked', 'Signierzertifikat eines Autors ist widerrufen'),
  '3704': orderLevel('Encryption certificate of one of the authors is invalid with regard to time', 'Chiffrierzertifikat eines Autors ist zeitlich ungültig'),
  '3705': orderLevel('Encryption certificate of the recipient is invalid with regard to time', 'Chiffrierzertifikat des Empfängers ist zeitlich ungültig'),
  '3706': orderLevel('Encryption certificate of one of the readers is invalid with regard to time', 'Chiffrierzertifikat eines Lesers ist zeitlich ungültig'),
  '3707': orderLevel('Certificate check could not be performed completely', 'Zertifikatsprüfung konnte nicht vollständig durchgeführt werden'),
  '3708': orderLevel('Signature certificate of the recipient is invalid with regard to time', 'Signierzertifikat des Empfängers ist zeitlich ungültig'),
  '3800': orderLevel('There are further deliveries present for this client', 'Es liegen weitere Zustellungen für diesen Client vor'),
  '3801': orderLevel('There are further process cards present that meet the criteria given in the request', 'Zu den im Auftrag angegebenen Kriterien liegen weitere Laufzettel vor'),
  '3802': orderLevel('Signature of the recipient over the acceptance response or processing response is missing', 'Signatur des Empfängers über die Annahme- bzw. Bearbeitungsantwort fehlt'),
  '3803': orderLevel('Recipient has sent an unencrypted response message', 'Der Empfänger hat eine unverschlüsselte Auftragsantwort gesendet'),
  '9000': messageLevel("Internal error at the supplier's", 'Interner Fehler beim Supplier'),
  '9100': messageLevel('Received message is no valid OSCI message', 'Empfangene Nachricht stellt keine gültige OSCI-Nachricht dar'),
  '9200': messageLevel('Supplier does not have the private key for the encryption certificate on the message level at his disposal', 'Supplier verfügt nicht über den privaten Schlüssel zum Chiffrierzertifikat auf Nachrichtenebene'),
  '9201': messageLevel('Encryption certificate on the message level has been revoked', 'Chiffrierzertifikat auf Nachrichtenebene ist widerrufen'),
  '9202': messageLevel('Request data could not be decrypted', 'Auftragsdaten konnten nicht entschlüsselt werden'),
  '9300': messageLevel('Request data do not represent a valid request', 'Auftragsdaten stellen keinen gültigen Auftrag dar'),
  '9400': messageLevel('ConversationId or SequenceNumber or response value are not correct', 'ConversationId oder SequenceNumber oder Response nicht korrekt'),
  '9500': messageLevel('Encryption certificate of the client is not included in the request data', 'Chiffrierzertifikat des Clients ist nicht in den Auftragsdaten enthalten'),
  '9501': messageLevel('Signature on the encryption certificate of the client is invalid', 'Signatur über das Chiffrierzertifikat des Clients ist fehlerhaft'),
  '9502': messageLevel('Encryption certificate of the client has been revoked', 'Chiffrierzertifikat des Clients ist widerrufen'),
  '9503': messageLevel("Internal error at the supplier's when determining or checking the encryption certificate", 'Interner Fehler des Suppliers beim Ermitteln oder Prüfen des Chiffrierzertifikats'),
  '9600': orderLevel('Request has not been signed, although this supplier demands signature for this request type', 'Auftrag ist nicht signiert, obwohl dieser Supplier für diesen Auftragstyp eine Signatur verlangt'),
  '9601': orderLevel('Signature for request is invalid', 'Signatur über Auftrag ist fehlerhaft'),
  '9602': orderLevel('Not all of the required elements of the request have been signed', 'Es sind nicht alle geforderten Elemente des Auftrags signiert'),
  '9603': orderLevel("Internal error at the supplier's when checking the signature", 'Interner Fehler des Suppliers beim Prüfen der Signatur'),
  '9700': orderLevel('Signature over the signature certificate of the client is invalid', 'Signatur über das Signierzertifikat des Clients ist fehlerhaft'),
  '9701': orderLevel('Signature certificate of the client has been revoked', 'Signierzertifikat des Clients ist widerrufen'),
  '9704': orderLevel('Signature over the encryption certificate of one of the authors is invalid', 'Signatur über das Chiffrierzertifikat eines Autors ist fehlerhaft'),
  '9705': orderLevel('Encryption certificate of one of the authors has been revoked', 'Chiffrierzertifikat eines Autors ist widerrufen'),
  '9706': orderLevel('Signature over the encryption certificate of the recipient is invalid', 'Signatur über das Chiffrierzertifikat des Empfängers ist fehlerhaft'),
  '9707': orderLevel('Encryption certificate of the recipient has been revoked', 'Chiffrierzertifikat des Empfängers ist widerrufen'),
  '9708': orderLevel('Signature over the encryption certificate of one of the readers is invalid', 'Signatur über das Chiffrierzertifikat eines Lesers ist fehlerhaft'),
  '9709': orderLevel('Encryption certificate of one of the readers has been revoked', 'Chiffrierzertifikat eines Lesers ist widerrufen'),
  '9710': orderLevel("Internal error at the supplier's when performing the certificate check", 'Interner Fehler des Suppliers bei der Zertifikatsprüfung'),
  '9711': orderLevel('Signature over the signature certificate of the recipient is invalid', 'Signatur über das Signierzertifikat des Empfängers ist fehlerhaft'),
  '9712': orderLevel('Signature certificate of the recipient has been revoked', 'Signierzertifikat des Empfängers ist widerrufen'),
  '9800': orderLevel('Acceptance of delivery without MessageId rejected', 'Annahme der Zustellung ohne MessageId verweigert'),
  '9801': orderLevel('Illegal MessageId (MessageId was not generated by this supplier or MessageId has already been used)', 'Illegale MessageId (MessageId wurde nicht von diesem Supplier erzeugt oder MessageId wurde schon einmal verwendet)'),
  '9802': orderLevel('Request has not been sent within an explicit dialog, although this is demanded for this request type', 'Auftrag nicht innerhalb eines expliziten Dialogs gesendet, obwohl dies für diesen Auftragstyp gefordert ist'),
  '9803': orderLevel('There is no delivery present that meets the criteria given in the request', 'Zu den im Auftrag angegebenen Kriterien ist keine Zustellung vorhanden'),
  '9804': orderLevel('There is no process card present that meets the criteria given in the request', 'Zu den im Auftrag angegebenen Kriterien ist kein Laufzettel vorhanden'),
  '9805': orderLevel('Delivery of the sender has not been accepted by the recipient', 'Empfänger hat Zustellung des Senders nicht angenommen'),
  '9806': orderLevel('Delivery of the sender has been accepted by the recipient, but his response does not contain any delivery to the sender', 'Empfänger hat Zustellung des Senders angenommen, seine Auftragsantwort enthält aber keine Zustellung an den Sender'),
  '9807': orderLevel('Signature of the recipient over the acceptance response or processing response is invalid', 'Signatur des Empfängers über die Annahme- bzw. Bearbeitungsantwort fehlerhaft'),
  '9808': orderLevel("Internal error at the recipient's", 'Interner Fehler des Empfängers'),
  '9809': orderLevel("Internal error at the intermediary's during forwarding or mediate delivery request. Delivery has not reached the recipient.", 'Interner Fehler des Intermediärs bei Weiterleitungs- oder Abwicklungsauftrag, Zustellung hat den Empfänger nicht erreicht'),
  '9810': orderLevel("Internal error at the intermediary's during forwarding or mediate delivery request. Delivery has reached the recipient.", 'Interner Fehler des Intermediärs bei Weiterleitungs- oder Abwicklungsauftrag, Zustellung hat den Empfänger erreicht'),
  '9811': orderLevel("Internal error at the supplier's when executing the request", 'Interner Fehler des Suppliers bei der Ausführung des Auftrags'),
  '9900': orderLevel('Chunk already exists', 'Nachrichten-Chunk doppelt eingereicht'),
  '9901': orderLevel('Wrong chunk number', 'Falsche Chunk-Nummer'),
  '9902': orderLevel('Maximum chunk size exceeded', 'Maximale Chunk-Größe überschritten'),
  '9903': orderLevel('Minimum chunk size not reached', 'Minimale Chunk-Größe unterschritten'),
  '9904': orderLevel('Maximum message size exceeded', 'Maximale Nachrichtengröße überschritten'),
  '9905': orderLevel('Wrong chunk information', 'Falsche Chunk-Informationen'),
} as const satisfies Record<string, FeedbackCodeInfo>;

export type FeedbackCode = keyof typeof FEEDBACK_CODES;

export function isFeedbackCode(code: string): code is FeedbackCode {
  return Object.hasOwn(FEEDBACK_CODES, code);
}

export function feedbackInfo(code: FeedbackCode): FeedbackCodeInfo {
  return FEEDBACK_CODES[code];
}
