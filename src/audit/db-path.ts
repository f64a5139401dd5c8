/**
 * Where the advisory database lives by default: the user data directory of the XDG Base Directory
 * specification, `$XDG_DATA_HOME/waybill/advisories.db`, with `~/.local/share` when XDG_DATA_HOME is
 * unset or not absolute (the spec says to ignore relative values).
 */
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { WaybillError } from '../errors.ts';

export function defaultDatabasePath(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_DATA_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, 'waybill', 'advisories.db');
  const home = env.HOME || homedir();
  if (!home)
    throw new WaybillError('USAGE', '--db', 'no home directory and no XDG_DATA_HOME: give --db FILE');
  return join(home, '.local', 'share', 'waybill', 'advisories.db');
}
