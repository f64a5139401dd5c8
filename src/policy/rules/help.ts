/**
 * Guideline 6, help: users can find where to report bugs — an absolute https URL in the record or in
 * the artifact's own metadata (deb Bugs, OCI/wheel project URLs). A docs URL is optional, but when
 * given it gets the same URL checks (as warnings). A link that is unsafe to publish or to click —
 * credentials in it, control characters, javascript:/data:/file: — fails the rule in either place.
 */

import type { Fact } from '../../formats/facts.ts';
import type { Finding, RuleContext } from '../types.ts';
import { checkWebUrl, displayUrl, sameWebUrl } from '../url-check.ts';
import { error, factValue, foundIn, info, nonEmpty, recordPath, warning } from './findings.ts';

interface LinkSpec {
  what: string;
  pointer: string;
  recordValue: string | null | undefined;
  native: Fact | undefined;
  fix: string;
  required: boolean;
}

function checkLink(spec: LinkSpec): Finding[] {
  const findings: Finding[] = [];
  const nativeValue = factValue(spec.native);
  const candidates: { value: string; path: string; place: string }[] = [];
  if (nonEmpty(spec.recordValue)) {
    candidates.push({ value: spec.recordValue.trim(), path: recordPath(spec.pointer), place: 'record' });
  }
  if (nativeValue && spec.native)
    candidates.push({ value: nativeValue, path: spec.native.field, place: spec.native.field });

  if (candidates.length === 0) {
    if (spec.required) {
      findings.push(
        error(
          `no ${spec.what} URL in the record or the artifact's own metadata`,
          recordPath(spec.pointer),
          spec.fix,
        ),
      );
    } else {
      findings.push(info(`no ${spec.what} URL (optional)`, recordPath(spec.pointer)));
    }
    return findings;
  }
  for (const c of candidates) {
    const verdict = checkWebUrl(c.value);
    if (verdict.ok) continue;
    const message = `${spec.what} URL ${verdict.problem}`;
    const fix =
      verdict.kind === 'bad'
        ? `use an absolute https URL; ${spec.fix}`
        : `use an https URL without credentials or control characters; ${spec.fix}`;
    const fails = verdict.kind === 'unsafe' || (verdict.kind === 'bad' && spec.required);
    findings.push(fails ? error(message, c.path, fix) : warning(message, c.path, fix));
  }
  const [fromRecord, fromNative] = candidates;
  if (fromRecord && fromNative && !sameWebUrl(fromRecord.value, fromNative.value)) {
    findings.push(
      warning(
        `${spec.what} URLs differ: record says ${displayUrl(fromRecord.value)}, ${fromNative.place} says ${displayUrl(fromNative.value)}`,
        fromNative.path,
        'give the artifact and the record the same URL',
      ),
    );
  }
  if (!findings.some((f) => f.severity === 'error')) {
    findings.push(
      info(
        `${spec.what} ${foundIn(
          displayUrl(candidates[0]!.value),
          candidates.map((c) => c.place),
        )}`,
        candidates[0]!.path,
      ),
    );
  }
  return findings;
}

export function checkHelp(ctx: RuleContext): Finding[] {
  const help = ctx.record?.predicate.help;
  return [
    ...checkLink({
      what: 'bug tracker',
      pointer: 'help/bugTracker',
      recordValue: help?.bugTracker,
      native: ctx.facts.bugTracker,
      fix: 'add help.bugTracker to waybill.yaml or --bug-tracker',
      required: true,
    }),
    ...checkLink({
      what: 'docs',
      pointer: 'help/docs',
      recordValue: help?.docs,
      native: ctx.facts.docs,
      fix: 'add help.docs to waybill.yaml or --docs-url',
      required: false,
    }),
  ];
}
