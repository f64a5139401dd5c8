/** `waybill db import PATH…` and `waybill db status`: the local advisory database. */
import type { Command } from 'commander';
import { defaultDatabasePath } from '../../audit/db-path.ts';
import { readImportSource } from '../../audit/import-sources.ts';
import { AdvisoryStore, type DbStatus, type ImportResult } from '../../audit/store.ts';
import { escapeForTerminal as esc } from '../../util/terminal-escape.ts';
import { out, outText, parseFormat, toJson } from '../output.ts';
import { createProgress } from '../progress.ts';

const FORMATS = ['text', 'json'] as const;

function importText(result: ImportResult, db: string): string {
  const lines: string[] = [];
  for (const s of result.sources) {
    const counts = `${s.advisories} ${s.kind === 'waybill-data' ? 'rows' : 'advisories'} (${s.added} new, ${s.updated} updated, ${s.unchanged} unchanged)`;
    lines.push(`imported ${esc(s.name)}: ${counts}${s.skipped > 0 ? `, ${s.skipped} skipped` : ''}`);
  }
  for (const k of result.skipped) {
    lines.push(`skipped ${esc(k.id ?? '(no id)')} in ${esc(k.path)}: ${esc(k.reason)}`);
  }
  lines.push(`database: ${esc(db)}`);
  return `${lines.join('\n')}\n`;
}

function statusText(s: DbStatus): string {
  const lines = [
    `database:   ${esc(s.path)} (schema ${s.schemaVersion})`,
    `advisories: ${s.advisories} (${s.withdrawn} withdrawn, kept out of results)`,
  ];
  for (const [eco, n] of Object.entries(s.ecosystems)) lines.push(`  ${esc(eco).padEnd(14)} ${n}`);
  lines.push(`sources:`);
  for (const src of s.sources) {
    lines.push(`  ${esc(src.name)}`);
    lines.push(
      `    ${src.kind}, ${src.advisories} ${src.kind === 'waybill-data' ? 'rows' : 'advisories'}${src.skipped ? ` (${src.skipped} skipped)` : ''}, newest modified ${src.newestModified ?? '-'}`,
    );
    lines.push(`    ${src.digest}`);
  }
  lines.push(
    `end-of-life rows imported: ${s.eolEntries} (an embedded table covers Debian, Ubuntu, Alpine, RHEL family)`,
  );
  lines.push(`release dates imported: ${s.releaseDates}`);
  return `${lines.join('\n')}\n`;
}

export function registerDb(program: Command): void {
  const db = program.command('db').description('the local advisory database (OSV) used by audit');
  db.command('import')
    .description(
      'import OSV advisories (directories of JSON, osv.dev all.zip files) and waybill data files (end-of-life, release dates)',
    )
    .argument('<path...>', 'directories, zip files or JSON files')
    .option('--db <file>', 'the database file (default: $XDG_DATA_HOME/waybill/advisories.db)')
    .option('-f, --format <format>', `output format: ${FORMATS.join(', ')}`, 'text')
    .option('-q, --quiet', 'no progress on stderr')
    .action(async (paths: string[], opts: { db?: string; format?: string; quiet?: boolean }) => {
      const format = parseFormat(opts.format, FORMATS);
      const file = opts.db ?? defaultDatabasePath();
      // Read (and refuse) every source before the database is touched.
      const sources = [];
      for (const p of paths) sources.push(await readImportSource(p));
      const store = AdvisoryStore.open(file, { create: true });
      const progress = createProgress('importing', { quiet: opts.quiet });
      try {
        const result = await store.import(sources, (done) => progress.update(done, 0));
        progress.done();
        if (format === 'json') await out(toJson({ database: file, ...result }));
        else await outText(importText(result, file), { color: false });
      } finally {
        progress.done();
        store.close();
      }
    });
  db.command('status')
    .description('what the advisory database holds: sources, digests, counts, newest modified dates')
    .option('--db <file>', 'the database file (default: $XDG_DATA_HOME/waybill/advisories.db)')
    .option('-f, --format <format>', `output format: ${FORMATS.join(', ')}`, 'text')
    .action(async (opts: { db?: string; format?: string }) => {
      const format = parseFormat(opts.format, FORMATS);
      const store = AdvisoryStore.open(opts.db ?? defaultDatabasePath());
      try {
        const status = store.status();
        if (format === 'json') await out(toJson(status));
        else await outText(statusText(status), { color: false });
      } finally {
        store.close();
      }
    });
}
