/**
 * Default texts for the support fact, used when the release team writes none: a warranty disclaimer
 * derived from the license, and a support statement naming who (and only who) offers support.
 */

/** `Apache-2.0`, optionally with an exception (`Apache-2.0 WITH LLVM-exception`): sections 7–8 still apply. */
const APACHE_2 = /^\(?\s*Apache-2\.0(\s+WITH\s+[A-Za-z0-9.+-]+)?\s*\)?$/;

/**
 * Apache License 2.0, summarised: section 7 (Disclaimer of Warranty) and section 8 (Limitation of
 * Liability). Only the section 7 key phrase is quoted from the license; the rest is a summary.
 */
const APACHE_2_DISCLAIMER =
  'This artifact is distributed under the Apache License, Version 2.0. As section 7 of the license ' +
  'states, it is provided on an "AS IS" BASIS, WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either ' +
  'express or implied, including any warranty that it is fit for a particular purpose; you alone decide ' +
  'whether to use or redistribute it and you carry the risk of doing so. Under section 8, unless the law ' +
  'requires otherwise or someone has agreed to it in writing, no contributor is liable to you for any ' +
  'damage, direct or indirect, that comes from using it or from being unable to use it.';

/**
 * The warranty disclaimer for a license: a summary of Apache-2.0 sections 7 and 8, or for any other
 * license a generic text that defers to it. Null when there is no license to derive it from.
 */
export function defaultDisclaimer(license: string | null | undefined): string | null {
  const expression = license?.trim();
  if (!expression) return null;
  if (APACHE_2.test(expression)) return APACHE_2_DISCLAIMER;
  return (
    `This artifact is distributed under the terms of ${expression}. To the extent that license and the ` +
    'applicable law allow, it is provided as is, without warranty of any kind, express or implied, and ' +
    'the people who released it are not liable for any damage arising from its use. The license text ' +
    'is what governs; read it for the exact terms.'
  );
}

/**
 * The default support statement. It names the release team as the only possible source of support,
 * so nobody reads the artifact as backed by the wider community or a foundation. Null without a team:
 * a statement about nobody would say nothing.
 */
export function defaultSupportStatement(
  team: string | null | undefined,
  bugTracker: string | null | undefined,
): string | null {
  const who = team?.trim();
  if (!who) return null;
  const through = bugTracker?.trim() ? `, through ${bugTracker.trim()}` : '';
  return (
    `Support, if any, is offered by ${who} only${through}; no other person or organisation ` +
    'offers or implies support for this artifact.'
  );
}
