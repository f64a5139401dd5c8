/**
 * The wording of the `source.signature.reason` lines that say the checkout did not match the tag, in
 * one place: provenance/git-tag.ts writes them into records, and the signed-source rule reads them
 * back to give the fix that fits (a dirty tree is committed and tagged again, not re-signed).
 */

/** `worktree has uncommitted changes: a.txt, waybill.yaml (untracked) (+2 more)` */
export const UNCOMMITTED_PREFIX = 'worktree has uncommitted changes: ';

/** Appended to an untracked path (provenance/worktree-changes.ts notes it so): a new file nobody committed. */
export const UNTRACKED_MARK = ' (untracked)';

/** `HEAD 0123456789ab is not at a tag` */
export const NOT_AT_TAG = /^HEAD [0-9a-f]+ is not at a tag\b/;

/** The config file `waybill init` writes. */
const CONFIG_FILE = 'waybill.yaml';

/**
 * When the only uncommitted file a reason lists is a waybill.yaml (new or edited), its path as
 * listed; else undefined. That is the state `waybill init` leaves a checkout in until it is committed.
 */
export function onlyConfigUncommitted(reason: string): string | undefined {
  if (!reason.startsWith(UNCOMMITTED_PREFIX)) return undefined;
  const listed = reason.slice(UNCOMMITTED_PREFIX.length);
  const path = listed.endsWith(UNTRACKED_MARK) ? listed.slice(0, -UNTRACKED_MARK.length) : listed;
  return path === CONFIG_FILE || path.endsWith(`/${CONFIG_FILE}`) ? path : undefined;
}

/**
 * Reasons that say the signature is good but its signer is not trusted (or the key to check it is
 * missing): fixed by naming the signer, not by re-signing (provenance/git-tag.ts writes them).
 */
export const UNTRUSTED_SIGNER =
  /no allowed signers file given|not in the allowed signers file|no trusted OpenPGP keys were given|not in the trusted keys|public key is not in the keyring/;

/** Reasons that say the tag is not where the checkout is, or not under its own name. */
export const TAG_MISMATCH =
  /^tag object points at |\(renamed or re-pushed tag\)|\(moved tag or wrong checkout\)/;
