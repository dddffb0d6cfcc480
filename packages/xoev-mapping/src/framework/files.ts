const BY_TYPE: Record<string, string> = {
  'application/pdf': 'pdf',
  'application/xml': 'xml',
  'text/xml': 'xml',
  'application/json': 'json',
  'text/plain': 'txt',
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/tiff': 'tif',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'application/vnd.oasis.opendocument.text': 'odt',
};

/** The file extension of a name, lower case, or undefined. */
export function extensionOf(name: string): string | undefined {
  const m = /\.([A-Za-z0-9]{1,8})$/.exec(name);
  return m ? m[1]!.toLowerCase() : undefined;
}

/** A file name safe on every target (no separators, no control or reserved characters), with an extension. */
export function safeFileName(name: string, contentType?: string): string {
  let base = name
    .normalize('NFC')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f<>:"/\\|?*]+/g, '_')
    .replace(/^[.\s]+|[.\s]+$/g, '')
    .slice(0, 120);
  if (!base) base = 'dokument';
  if (!extensionOf(base)) base += `.${(contentType && BY_TYPE[contentType.split(';')[0]!.trim().toLowerCase()]) ?? 'bin'}`;
  return base;
}
