/**
 * Is a statement about this artifact? Its subjects are compared with digests waybill computed itself
 * (never with a digest the statement or a record claims). An artifact can have several identities —
 * an oci-archive is both its image manifest (what cosign and waybill attest) and its file bytes (what
 * slsa-github-generator attests) — so the caller passes each as a candidate.
 *
 * A subject matches a candidate when it carries at least one algorithm the candidate has and every
 * such algorithm agrees (a subject with sha256 and sha512 must match both): one wrong digest cannot
 * hide behind a right one.
 */

/** One identity of the artifact: lowercase hex digests by in-toto algorithm name. */
export interface DigestCandidate {
  /** What was hashed: `file`, `image manifest`, `directory tree`. */
  label: string;
  digests: Record<string, string>;
}

export interface SubjectMatch {
  passed: boolean;
  detail: string;
}

type SubjectLike = { name?: string; digest: Record<string, string> };

function named(subject: SubjectLike): string {
  return subject.name ? `${subject.name} ` : '';
}

export function matchSubjects(subjects: SubjectLike[], candidates: DigestCandidate[]): SubjectMatch {
  let comparable = false;
  for (const candidate of candidates) {
    for (const subject of subjects) {
      const common = Object.keys(candidate.digests).filter((alg) => subject.digest[alg] !== undefined);
      if (common.length === 0) continue;
      comparable = true;
      if (common.every((alg) => subject.digest[alg] === candidate.digests[alg])) {
        const alg = common[0] as string;
        return {
          passed: true,
          detail: `subject ${named(subject)}${alg}:${subject.digest[alg]} is the ${candidate.label}`,
        };
      }
    }
  }
  const actual = candidates
    .map((c) => {
      const alg = c.digests.sha256 !== undefined ? 'sha256' : Object.keys(c.digests)[0];
      return alg ? `${c.label} ${alg}:${c.digests[alg]}` : c.label;
    })
    .join(', ');
  if (!comparable) {
    const algs = [...new Set(candidates.flatMap((c) => Object.keys(c.digests)))].join(' or ');
    return {
      passed: false,
      detail: `no subject has a ${algs} digest to compare with the artifact (${actual})`,
    };
  }
  const claimed = subjects
    .map((s) => {
      const alg = s.digest.sha256 !== undefined ? 'sha256' : Object.keys(s.digest)[0];
      return alg ? `${named(s)}${alg}:${s.digest[alg]}` : named(s).trim();
    })
    .join(', ');
  return {
    passed: false,
    detail: `subject digest does not match: the statement names ${claimed}; the artifact is ${actual}`,
  };
}
