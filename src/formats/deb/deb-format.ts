/**
 * The deb native format: detection and facts from the reader, stamping from the stamper (loaded only
 * when a stamp is asked for). Its own module so that reader and stamper do not import each other.
 */
import type { NativeFormat } from '../native.ts';
import { looksLikeDeb, readDebFacts } from './deb.ts';

export const debFormat: NativeFormat = {
  name: 'deb',
  detect: (head) => looksLikeDeb(head),
  readFacts: readDebFacts,
  async stamp(path, facts) {
    const { stampDeb } = await import('./deb-stamp.ts');
    return stampDeb(path, facts);
  },
};
