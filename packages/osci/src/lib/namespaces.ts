/** Namespace URIs of OSCI-Transport 1.2 (prefixes as the reference implementation writes them). */
export const NS = {
  soap: 'http://schemas.xmlsoap.org/soap/envelope/',
  osci: 'http://www.osci.de/2002/04/osci',
  osci2017: 'http://xoev.de/transport/osci12/7',
  osci128: 'http://xoev.de/transport/osci12/8',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
  xenc: 'http://www.w3.org/2001/04/xmlenc#',
  xenc11: 'http://www.w3.org/2009/xmlenc11#',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
  xades: 'http://uri.etsi.org/01903/v1.3.2#',
  xml: 'http://www.w3.org/XML/1998/namespace',
  xmlns: 'http://www.w3.org/2000/xmlns/',
} as const;

export const SOAP_ACTOR_NEXT = 'http://schemas.xmlsoap.org/soap/actor/next';
export const SOAP_ACTOR_NONE = 'http://www.w3.org/2001/12/soap-envelope/actor/none';
