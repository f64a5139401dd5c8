/**
 * The wheel native format: detection and facts from the reader, stamping from the stamper (loaded
 * only when a stamp is asked for). Its own module so that reader and stamper do not import each other.
 */
import { isZipHead } from '../../archive/zip-reader.ts';
import type { NativeFormat } from '../native.ts';
import { readWheelFacts } from './wheel.ts';

export const wheelFormat: NativeFormat = {
  name: 'wheel',
  detect: (head, path) => isZipHead(head) && path.toLowerCase().endsWith('.whl'),
  readFacts: readWheelFacts,
  async stamp(path, facts) {
    const { stampWheel } = await import('./wheel-stamp.ts');
    return stampWheel(path, facts);
  },
};
