/**
 * The rebuild verdict: an in-toto Statement v1 with predicate type https://waybill.dev/rebuild/v1
 * (docs/build.md, "Rebuild verdict"). Its subjects are the outputs judged, with the digests that were
 * expected; the predicate says whether each was reproduced bit for bit, and when not, the first
 * differences. It is written for negative outcomes as well as positive ones: a consumer (or `verify`)
 * reads `reproduced`, never the mere presence of the file.
 */

import type { SourceFact } from '../../record/types.ts';
import { STATEMENT_TYPE } from '../../record/types.ts';
import { toolVersion } from '../../version.ts';
import type { OutsideWriteCheck } from '../build/isolation.ts';
import { slsaTimestamp } from '../build/slsa.ts';
import type { Difference } from '../compare/types.ts';

export const REBUILD_PREDICATE_TYPE = 'https://waybill.dev/rebuild/v1';

export interface OutputVerdict {
  name: string;
  kind: 'file' | 'oci-layout';
  /** The published digest the rebuild had to meet (the artifact's own when one was given). */
  expected: { sha256: string };
  /** What the rebuild published after stamping; null when the recipe did not produce it. */
  actual: { sha256: string } | null;
  /** The recipe's own output before stamping: the kit's record and the rebuild's. */
  built: { expected: string; actual: string | null };
  reproduced: boolean;
  differences: Difference[];
  /** One line when something needs saying (no published copy to compare with, stamping differs…). */
  note?: string;
  /** Where the diffoscope report is, when one was made. */
  diffoscope?: string;
}

export interface ToolVerdict {
  name: string;
  expected: { version: string | null; sha256: string | null };
  actual: { version: string | null; sha256: string | null };
  same: boolean;
}

export interface RebuildPredicate {
  reproduced: boolean;
  /** One line: why (not). */
  reason: string;
  kit: { name: string; digest: { sha256: string } };
  source: {
    repository: string;
    tag: string;
    commit: string;
    signature: SourceFact['signature'];
    sourceArchive: { digest: { sha256: string } };
  };
  outputs: OutputVerdict[];
  /** `outsideWriteCheck`: whether the shared places were isolated or only snapshotted (a weaker check). */
  recipe: { failure: string | null; outsideWrites: string[]; outsideWriteCheck: OutsideWriteCheck };
  tools: ToolVerdict[];
  rebuilder: { waybill: string };
  startedOn: string;
  finishedOn: string;
}

export interface RebuildVerdictStatement {
  _type: typeof STATEMENT_TYPE;
  subject: Array<{ name: string; digest: { sha256: string } }>;
  predicateType: typeof REBUILD_PREDICATE_TYPE;
  predicate: RebuildPredicate;
}

export function buildVerdict(
  predicate: Omit<RebuildPredicate, 'rebuilder' | 'startedOn' | 'finishedOn'>,
  startedOn: Date,
  finishedOn: Date,
): RebuildVerdictStatement {
  return {
    _type: STATEMENT_TYPE,
    subject: predicate.outputs.map((o) => ({ name: o.name, digest: { sha256: o.expected.sha256 } })),
    predicateType: REBUILD_PREDICATE_TYPE,
    predicate: {
      ...predicate,
      rebuilder: { waybill: toolVersion() },
      startedOn: slsaTimestamp(startedOn),
      finishedOn: slsaTimestamp(finishedOn),
    },
  };
}
