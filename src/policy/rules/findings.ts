/** Small constructors so every rule words its findings the same way. */

import type { Fact } from '../../formats/facts.ts';
import type { Finding } from '../types.ts';

export const error = (message: string, path: string, fix?: string): Finding =>
  fix ? { message, path, fix, severity: 'error' } : { message, path, severity: 'error' };
export const warning = (message: string, path: string, fix?: string): Finding =>
  fix ? { message, path, fix, severity: 'warning' } : { message, path, severity: 'warning' };
export const info = (message: string, path: string): Finding => ({ message, path, severity: 'info' });

/** JSON Pointer into the record's predicate, prefixed so a reader knows it is the record. */
export const recordPath = (pointer: string): string => `record:/predicate/${pointer}`;

export const NO_RECORD_FIX =
  'stamp the artifact with `waybill stamp` (it writes the release record next to it)';

/** `missingRecord`: the check input's explanation of a record left behind, when there is one. */
export function noRecord(what: string, missingRecord?: string): Finding {
  return error(`no release record, so no ${what} is recorded`, 'record', missingRecord ?? NO_RECORD_FIX);
}

/** `value (record; deb Bugs field)`: what was found and every place it was read from. */
export function foundIn(value: string, places: string[]): string {
  return `${value} (${places.join('; ')})`;
}

export function nonEmpty(value: string | null | undefined): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

export function factValue(fact: Fact | undefined): string | undefined {
  return fact && nonEmpty(fact.value) ? fact.value.trim() : undefined;
}

export function quote(text: string, max = 120): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return JSON.stringify(oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine);
}
