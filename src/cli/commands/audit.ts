/**
 * `waybill audit ARTIFACT|SBOM`: known vulnerabilities and freshness. Exit 1 when a finding reaches
 * --fail-on, 0 otherwise, 2 on errors (so CI can tell "vulnerable" from "broken").
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { attachAuditStatement, auditStatement, auditStatementSigner } from '../../audit/attestation.ts';
import { auditInventory, auditTime, loadTarget, releaseListers } from '../../audit/audit.ts';
import { defaultDatabasePath } from '../../audit/db-path.ts';
import { parseDistroOption } from '../../audit/package-release.ts';
import { renderOpenVex } from '../../audit/render-openvex.ts';
import { renderAuditSarif } from '../../audit/render-sarif.ts';
import { renderAuditText } from '../../audit/render-text.ts';
import type { AuditReport } from '../../audit/report.ts';
import { ratingRank, type SeverityRating } from '../../audit/severity.ts';
import { AdvisoryStore } from '../../audit/store.ts';
import { parseVex } from '../../audit/vex.ts';
import { EXIT_FAILED, EXIT_OK, WaybillError } from '../../errors.ts';
import { keyFileSignerFrom } from '../../sign/signer.ts';
import { escapeForTerminal } from '../../util/terminal-escape.ts';
import { toolVersion } from '../../version.ts';
import { useColor } from '../common.ts';
import { errText, out, outText, parseFormat, toJson } from '../output.ts';
import { createProgress } from '../progress.ts';
import { addRegistryOptions, type RegistryFlags, registryOptionsFrom } from '../registry-options.ts';

const FORMATS = ['text', 'json', 'sarif', 'openvex'] as const;
const FAIL_ON = ['low', 'medium', 'high', 'critical'] as const;

/**
 * Whether a finding reaches the --fail-on level. A finding no database rated (unknown severity)
 * reaches `low`: a known vulnerability is not assumed harmless for lack of a score.
 */
export function reachesFailOn(report: AuditReport, level: (typeof FAIL_ON)[number]): boolean {
  const threshold = ratingRank(level);
  return report.findings.some((f) => {
    const rank =
      f.severity.rating === 'unknown' ? ratingRank('low') : ratingRank(f.severity.rating as SeverityRating);
    return rank >= threshold;
  });
}

interface AuditFlags extends RegistryFlags {
  db?: string;
  failOn?: string;
  vex?: string[];
  format?: string;
  platform?: string;
  attach?: boolean;
  releases?: string;
  now?: string;
  quiet?: boolean;
  key?: string;
  distro?: string;
}

export function registerAudit(program: Command, setExitCode: (code: number) => void): void {
  const command = program
    .command('audit')
    .description('known vulnerabilities (OSV) and freshness of an artifact or an SBOM')
    .argument('<target>', 'artifact reference (as for check) or an SBOM file (CycloneDX / SPDX JSON)')
    .option('--db <file>', 'advisory database (default: $XDG_DATA_HOME/waybill/advisories.db)')
    .option('--fail-on <level>', `exit 1 when a finding is at least: ${FAIL_ON.join(', ')}`)
    .option(
      '--vex <file>',
      'OpenVEX document: not_affected / fixed statements suppress findings (repeatable)',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('-f, --format <format>', `output format: ${FORMATS.join(', ')}`, 'text')
    .option('--platform <os/arch[/variant]>', 'which image of a multi-platform index')
    .option(
      '--distro <id-version>',
      'the release OS packages are for when neither their purl nor the SBOM says (a .deb file): debian-12, ubuntu-24.04, alpine-3.20',
    )
    .option(
      '--attach',
      'store the audit with the artifact as an in-toto statement (sidecar NAME.audit.json, signed NAME.audit.sigstore.json, or OCI attachment)',
    )
    .option(
      '--key <file>',
      'sign the attached statement with this private key (default with --attach: $WAYBILL_KEY)',
    )
    .option(
      '--releases <index.json>',
      'release-directory index (a path or URL) listing published versions (default: where the artifact was published)',
    )
    .option(
      '--now <date>',
      'measure ages and end of life at this time (default: SOURCE_DATE_EPOCH, else now)',
    )
    .option('-q, --quiet', 'no progress on stderr');
  addRegistryOptions(command).action(async (target: string, opts: AuditFlags) => {
    const format = parseFormat(opts.format, FORMATS);
    if (opts.failOn !== undefined && !(FAIL_ON as readonly string[]).includes(opts.failOn)) {
      throw new WaybillError(
        'USAGE',
        '--fail-on',
        `expected one of ${FAIL_ON.join(', ')}, got '${opts.failOn}'`,
      );
    }
    if (opts.key !== undefined && !opts.attach) {
      throw new WaybillError('USAGE', '--key', 'signs the attached statement: give --attach too');
    }
    // Read (and decrypted) before any work, so a wrong password fails at once.
    const distro = opts.distro !== undefined ? parseDistroOption(opts.distro) : undefined;
    const signer = opts.attach ? await keyFileSignerFrom(opts.key, process.env) : undefined;
    const started = new Date();
    const now = auditTime(opts.now);
    const vex = [];
    for (const file of opts.vex ?? []) {
      const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
        throw new WaybillError(
          'NOT_FOUND',
          file,
          e.code === 'ENOENT' ? 'no such file' : `cannot read (${e.code})`,
        );
      });
      vex.push(parseVex(text, file));
    }
    const store = AdvisoryStore.open(opts.db ?? defaultDatabasePath());
    try {
      const progress = createProgress('cataloging', { quiet: opts.quiet });
      const registry = await registryOptionsFrom(target, opts);
      const loaded = await loadTarget(target, {
        ...(opts.platform ? { platform: opts.platform } : {}),
        ...(registry ? { registry } : {}),
        onDownload: (done, total) => progress.update(done, total),
        onProgress: (done, total) => progress.update(done, total),
      }).finally(() => progress.done());
      if (opts.attach && !loaded.artifact) {
        throw new WaybillError('USAGE', '--attach', 'needs an artifact to attach to, not an SBOM file');
      }
      const listers = releaseListers(loaded.artifact, opts.releases);
      const dates = loaded.dates;
      const report = await auditInventory(loaded.inventory, store, {
        subject: loaded.subject,
        now,
        vex,
        listers,
        ...(distro ? { distro } : {}),
        ...(dates?.built ? { built: dates.built } : {}),
        ...(dates?.published ? { published: dates.published } : {}),
      });
      if (format === 'json') await out(toJson(report));
      else if (format === 'sarif')
        await out(toJson(renderAuditSarif(report, { toolVersion: toolVersion() })));
      else if (format === 'openvex') await out(toJson(renderOpenVex(report)));
      else {
        const color = useColor();
        await outText(renderAuditText(report, { color }), { color });
      }
      // The text report shows its warnings itself; the machine formats keep stdout for the document.
      if (format !== 'text')
        for (const w of report.warnings) errText(`waybill: warning: ${escapeForTerminal(w)}\n`);
      for (const s of report.suppressed) {
        if (!opts.quiet && format !== 'text')
          errText(
            `waybill: ${escapeForTerminal(s.id)} on ${escapeForTerminal(s.component.purl)} suppressed: ${escapeForTerminal(s.vex.status)} (${escapeForTerminal(s.vex.source)})\n`,
          );
      }
      if (opts.attach && loaded.artifact) {
        const statement = auditStatement(report, {
          toolVersion: toolVersion(),
          startedOn: started,
          finishedOn: new Date(),
          parameters: [
            ...(opts.failOn ? [`--fail-on=${opts.failOn}`] : []),
            ...(opts.vex ?? []).map((v) => `--vex=${v}`),
          ],
        });
        const where = await attachAuditStatement(
          loaded.artifact,
          statement,
          signer ? { signAuditStatement: auditStatementSigner(signer) } : {},
        );
        if (!opts.quiet) errText(`waybill: audit attached: ${escapeForTerminal(where)}\n`);
      }
      setExitCode(
        opts.failOn && reachesFailOn(report, opts.failOn as (typeof FAIL_ON)[number]) ? EXIT_FAILED : EXIT_OK,
      );
    } finally {
      store.close();
    }
  });
}
