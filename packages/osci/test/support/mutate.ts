/**
 * Damage for seeded fuzz tests (here and in apps/gateway): a deterministic PRNG and one random damage of a byte
 * string at a time.
 */

import { fuzzRounds, fuzzSeed, random } from '../../../../test/support/seeded-random.js';

export { fuzzRounds, fuzzSeed, random };

const XML_CHARS = Buffer.from('<>&"\'=/:!?[]-# \n\r\t;xX0');

/** One damage of `input`, chosen by `next`; the description says what was done (for the failure message). */
export function mutate(input: Buffer, next: () => number): { bytes: Buffer; what: string } {
  const int = (n: number) => Math.floor(next() * n);
  const at = int(input.length);
  const length = 1 + int(64);
  switch (int(6)) {
    case 0: {
      const bytes = Buffer.from(input);
      bytes[at] = bytes[at]! ^ (1 + int(255));
      return { bytes, what: `flip byte ${at}` };
    }
    case 1: {
      const bytes = Buffer.from(input);
      bytes[at] = XML_CHARS[int(XML_CHARS.length)]!;
      return { bytes, what: `replace byte ${at} with ${JSON.stringify(String.fromCharCode(bytes[at]!))}` };
    }
    case 2:
      return { bytes: Buffer.concat([input.subarray(0, at), input.subarray(at + length)]), what: `cut ${length} bytes at ${at}` };
    case 3:
      return { bytes: Buffer.concat([input.subarray(0, at + length), input.subarray(at)]), what: `double ${length} bytes at ${at}` };
    case 4: {
      const inserted = Buffer.from(Array.from({ length }, () => XML_CHARS[int(XML_CHARS.length)]!));
      return { bytes: Buffer.concat([input.subarray(0, at), inserted, input.subarray(at)]), what: `insert ${length} bytes at ${at}` };
    }
    default:
      return { bytes: input.subarray(0, at), what: `truncate at ${at}` };
  }
}
