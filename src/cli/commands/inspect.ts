/**
 * `waybill inspect ARTIFACT`: the consumer's view — what it is, who made it, where to get help.
 * Nearly every value shown is the artifact's or its record's own words, so each is escaped for the
 * terminal: a newline in a URL cannot add a line such as "signature verified", an ESC in a deb
 * Maintainer cannot clear the screen.
 */
import type { Command } from 'commander';
import { type InspectView, inspectArtifact } from '../../app/inspect.ts';
import { readStoredRecord } from '../../app/stored.ts';
import type { TrustFlags } from '../../policy/trust.ts';
import type { IntegrityCheck } from '../../sources/types.ts';
import { escapeForTerminal as esc, escapeLinesForTerminal } from '../../util/terminal-escape.ts';
import {
  addConsumerPolicyOptions,
  addFormatOption,
  addTrustOptions,
  consumerPolicy,
  consumerTrust,
} from '../common.ts';
import { out, outStoredDocument, outText, parseFormat, toJson } from '../output.ts';
import { createProgress, formatBytes } from '../progress.ts';
import { addRegistryOptions, type RegistryFlags, registryOptionsFrom } from '../registry-options.ts';

const FORMATS = ['text', 'json'] as const;

/** One `label value (where from)` line; the value and its origins are escaped here. */
function line(label: string, value: string | null | undefined, from?: string[]): string {
  const shown = value == null ? '(not stated)' : esc(value);
  const origin = from && from.length > 0 ? `  (${from.map(esc).join('; ')})` : '';
  return `  ${label.padEnd(12)} ${shown}${origin}\n`;
}

/** All checks passed (inspect refuses otherwise): how many digests, and how many bytes were hashed. */
function integritySummary(checks: IntegrityCheck[]): string {
  if (checks.length === 0) return 'nothing bound to the artifact to check';
  const hashed = checks.reduce((n, c) => n + (c.checkedBy === 'hash' ? (c.actualSize ?? 0) : 0), 0);
  return `${checks.length} digest${checks.length === 1 ? '' : 's'} match (${formatBytes(hashed)} hashed)`;
}

export function renderInspect(v: InspectView): string {
  const f = v.fields;
  let text = `${esc(v.name ?? v.artifact)}${v.version ? ` ${esc(v.version)}` : ''}\n`;
  text += line('artifact', `${v.artifact} (${v.kind})`);
  text += line('digest', v.digest);
  text += line('name', v.name, f.name);
  text += line('version', v.version, f.version);
  text += line('arch', v.architecture, f.architecture);
  if (v.platforms.length > 0) text += line('platforms', v.platforms.join(', '));
  text += line('team', v.team ? `${v.team}${v.contact ? ` <${v.contact}>` : ''}` : null, f.team);
  text += line('help', v.help.bugTracker, f.bugTracker);
  if (v.help.docs) text += line('docs', v.help.docs, f.docs);
  text += line('license', v.license, f.license);
  text += line('support', v.support);
  text += line('built', v.built ? `${v.built}${v.builtAge ? ` (${v.builtAge})` : ''}` : null, f.built);
  text += line(
    'published',
    v.published ? `${v.published}${v.publishedAge ? ` (${v.publishedAge})` : ''}` : 'not yet',
    v.publication ? [`publication statement: ${v.publication.target}`] : undefined,
  );
  if (v.publication && v.publication.forced.length > 0)
    text += line('forced', `published despite failing rules: ${v.publication.forced.join(', ')}`);
  if (v.source) {
    const sig = v.source.signature;
    const claim = sig
      ? `${sig.verified ? 'verified' : 'NOT verified'}${sig.signer ? `, ${sig.format} signer ${sig.signer}` : ''}: ${sig.reason}`
      : null;
    const check = v.source.verification;
    const yours = check
      ? `${check.verified ? 'verified' : 'NOT verified'} by ${check.trust ?? 'your trust'}${check.signer ? `, ${check.format} signer ${check.signer}` : ''}: ${check.reason}`
      : (v.source.unverified ?? null);
    text += line(
      'source',
      v.source.repository ? `${v.source.repository} (producer's claim)` : null,
      f.repository,
    );
    text += line('tag', v.source.tag ? `${v.source.tag} at ${v.source.commit ?? '?'}` : null);
    if (v.source.tree) text += line('tree', v.source.tree);
    text += line('signature', claim ? `producer's claim: ${claim}` : null);
    text += line('your check', yours);
    if (check && !check.verified && check.fix) text += line('fix', check.fix);
  } else {
    text += line('source', null);
  }
  if (v.manifest) {
    const count =
      v.manifest.components === null
        ? `unreadable: ${v.manifest.error ?? 'unknown'}`
        : `${v.manifest.components} components`;
    text += line('manifest', `${v.manifest.format}, ${count} (${v.manifest.location})`);
  } else {
    text += line('manifest', null);
  }
  text += line('record', v.record ? v.record.location : `none: ${v.missingRecord ?? 'run waybill stamp'}`);
  for (const u of v.upstream) text += line('upstream', u.value, [u.field]);
  if (v.stored.length > 0) text += line('stored', v.stored.map((s) => `${s.kind} ${s.location}`).join(', '));
  text += line('integrity', integritySummary(v.integrity));
  if (v.disclaimer) text += `\n  ${escapeLinesForTerminal(v.disclaimer).join('\n  ')}\n`;
  return text;
}

export function registerInspect(program: Command): void {
  const command = program
    .command('inspect')
    .description("the consumer's view of an artifact: identity, team, help, license, dates, source, manifest")
    .argument('<artifact>', 'artifact reference')
    .option('--platform <os/arch[/variant]>', 'which image of a multi-platform index')
    .option(
      '--record',
      'print the release record stored with the artifact (attached, a referrer, or beside it), as stored',
    );
  addTrustOptions(command);
  addConsumerPolicyOptions(command);
  addRegistryOptions(command);
  addFormatOption(command, FORMATS);
  command.action(
    async (
      ref: string,
      opts: TrustFlags &
        RegistryFlags & {
          platform?: string;
          format?: string;
          policy?: string;
          config?: string;
          record?: boolean;
        },
    ) => {
      const format = parseFormat(opts.format, FORMATS);
      const registry = await registryOptionsFrom(ref, opts);
      if (opts.record) {
        // The record is JSON whatever the format: as stored to a pipe, re-escaped to a terminal.
        const stored = await readStoredRecord(ref, { platform: opts.platform, registry });
        await outStoredDocument(stored.bytes, stored.record);
        return;
      }
      // Only the trust section of the consumer's policy is used: inspect judges nothing else.
      const trust = await consumerTrust(await consumerPolicy(opts), opts);
      const progress = createProgress('hashing');
      const view = await inspectArtifact(ref, {
        platform: opts.platform,
        trust,
        registry,
        integrity: { onProgress: (done, total) => progress.update(done, total) },
      }).finally(() => progress.done());
      if (format === 'json') await out(toJson(view));
      else await outText(renderInspect(view), { color: false });
    },
  );
}
