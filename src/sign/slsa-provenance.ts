/**
 * Third-party SLSA provenance: what builder made the artifact, from which repository, ref and commit,
 * read from the two predicate versions in use, and the slsa-verifier style policy flags checked
 * against it.
 *
 * - v0.2 (https://slsa.dev/provenance/v0.2): builder.id; invocation.configSource {uri
 *   `git+https://github.com/O/R@refs/tags/T`, digest.sha1, entryPoint}; materials as the fallback.
 * - v1 (https://slsa.dev/provenance/v1): runDetails.builder.id; buildDefinition.externalParameters —
 *   for GitHub Actions build types `workflow {repository, ref, path}` (slsa-github-generator, npm,
 *   GitHub artifact attestations, BCR); resolvedDependencies (`git+URL@REF` with digest.gitCommit or
 *   sha1) for the commit and as the fallback source.
 */
import { builderIdMatches } from './builder-id.ts';

export interface ProvenanceSummary {
  predicateVersion: 'v0.1' | 'v0.2' | 'v1';
  builderId?: string;
  buildType?: string;
  /** The repository URL without `git+` and without `@ref`: `https://github.com/O/R`. */
  repository?: string;
  ref?: string;
  commit?: string;
  /** The workflow or entry point that ran: `.github/workflows/release.yml`. */
  entryPoint?: string;
}

export interface ProvenancePolicy {
  /** slsa-verifier form `github.com/O/R`, or a full URL. */
  sourceUri?: string;
  sourceTag?: string;
  builderId?: string;
}

export interface PolicyCheck {
  id: 'source-uri' | 'source-tag' | 'builder-id';
  passed: boolean;
  detail: string;
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/**
 * `git+https://github.com/O/R@refs/tags/v1` → repository and ref. The ref starts at the first `@`
 * after the host: repository paths have no `@` but refs may, and an `@` before the path is user
 * info (`ssh://git@host/…`), not a ref.
 */
export function splitGitUri(uri: string): { repository: string; ref?: string } {
  const bare = uri.replace(/^git\+/, '');
  const scheme = bare.indexOf('//');
  const pathStart = bare.indexOf('/', scheme === -1 ? 0 : scheme + 2);
  const at = pathStart === -1 ? -1 : bare.indexOf('@', pathStart);
  return at === -1 ? { repository: bare } : { repository: bare.slice(0, at), ref: bare.slice(at + 1) };
}

/** For comparison: no scheme, no `git+`, no `.git`, no trailing slash, no `@ref`. */
export function normalizeSourceUri(uri: string): string {
  return splitGitUri(uri.trim())
    .repository.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
    .replace(/\.git$/, '')
    .replace(/\/+$/, '');
}

function commitOf(digest: unknown): string | undefined {
  const d = obj(digest);
  return str(d?.gitCommit) ?? str(d?.sha1);
}

function fromV02(predicate: Record<string, unknown>): ProvenanceSummary {
  const summary: ProvenanceSummary = { predicateVersion: 'v0.2' };
  const builderId = str(obj(predicate.builder)?.id);
  if (builderId) summary.builderId = builderId;
  const buildType = str(predicate.buildType);
  if (buildType) summary.buildType = buildType;
  const configSource = obj(obj(predicate.invocation)?.configSource);
  const uri = str(configSource?.uri);
  const material = Array.isArray(predicate.materials) ? obj(predicate.materials[0]) : undefined;
  const sourceUri = uri ?? str(material?.uri);
  if (sourceUri) {
    const { repository, ref } = splitGitUri(sourceUri);
    summary.repository = repository;
    if (ref) summary.ref = ref;
  }
  const commit = commitOf(configSource?.digest) ?? commitOf(material?.digest);
  if (commit) summary.commit = commit;
  const entryPoint = str(configSource?.entryPoint);
  if (entryPoint) summary.entryPoint = entryPoint;
  return summary;
}

function fromV1(predicate: Record<string, unknown>): ProvenanceSummary {
  const summary: ProvenanceSummary = { predicateVersion: 'v1' };
  const definition = obj(predicate.buildDefinition);
  const builderId = str(obj(obj(predicate.runDetails)?.builder)?.id);
  if (builderId) summary.builderId = builderId;
  const buildType = str(definition?.buildType);
  if (buildType) summary.buildType = buildType;
  const external = obj(definition?.externalParameters);
  const workflow = obj(external?.workflow);
  const dependencies = Array.isArray(definition?.resolvedDependencies)
    ? definition.resolvedDependencies.map(obj).filter((d) => d !== undefined)
    : [];
  const gitDependency = dependencies.find((d) => str(d.uri)?.startsWith('git+'));
  const repository = str(workflow?.repository);
  if (repository) {
    summary.repository = repository.replace(/^git\+/, '');
    const ref = str(workflow?.ref);
    if (ref) summary.ref = ref;
    const path = str(workflow?.path);
    if (path) summary.entryPoint = path;
  } else if (gitDependency) {
    const { repository: repo, ref } = splitGitUri(str(gitDependency.uri) as string);
    summary.repository = repo;
    if (ref) summary.ref = ref;
  }
  // The commit is the dependency on the same repository, else the first git one.
  const sameRepo = dependencies.find(
    (d) =>
      str(d.uri) !== undefined &&
      summary.repository !== undefined &&
      normalizeSourceUri(str(d.uri) as string) === normalizeSourceUri(summary.repository),
  );
  const commit = commitOf((sameRepo ?? gitDependency)?.digest);
  if (commit) summary.commit = commit;
  return summary;
}

/** Reads a SLSA provenance predicate of the given predicateType; undefined for other predicates. */
export function summarizeProvenance(
  predicateType: string,
  predicate: unknown,
): ProvenanceSummary | undefined {
  const p = obj(predicate);
  if (!p) return undefined;
  if (predicateType === 'https://slsa.dev/provenance/v1') return fromV1(p);
  if (predicateType === 'https://slsa.dev/provenance/v0.2') return fromV02(p);
  if (predicateType === 'https://slsa.dev/provenance/v0.1') {
    // v0.1 has the same builder and materials shape as v0.2 for what is shown here.
    return { ...fromV02(p), predicateVersion: 'v0.1' };
  }
  return undefined;
}

/** A tag given as `v1.2.3` or `refs/tags/v1.2.3`. */
function tagRef(tag: string): string {
  return tag.startsWith('refs/tags/') ? tag : `refs/tags/${tag}`;
}

/**
 * Checks the provenance against the consumer's flags. `certificateSourceUri` is the certificate's
 * Source Repository URI extension when a Fulcio certificate signed it: both must name the repository.
 */
export function checkProvenancePolicy(
  summary: ProvenanceSummary,
  policy: ProvenancePolicy,
  certificateSourceUri?: string,
): PolicyCheck[] {
  const checks: PolicyCheck[] = [];
  if (policy.sourceUri !== undefined) {
    const wanted = normalizeSourceUri(policy.sourceUri);
    const named = summary.repository ? normalizeSourceUri(summary.repository) : undefined;
    if (named !== wanted) {
      checks.push({
        id: 'source-uri',
        passed: false,
        detail: `provenance source ${summary.repository ?? '(none)'} is not ${policy.sourceUri}`,
      });
    } else if (certificateSourceUri !== undefined && normalizeSourceUri(certificateSourceUri) !== wanted) {
      checks.push({
        id: 'source-uri',
        passed: false,
        detail: `the signing certificate's source repository ${certificateSourceUri} is not ${policy.sourceUri}`,
      });
    } else {
      checks.push({
        id: 'source-uri',
        passed: true,
        detail: `source ${summary.repository} matches --source-uri ${policy.sourceUri}`,
      });
    }
  }
  if (policy.sourceTag !== undefined) {
    const wanted = tagRef(policy.sourceTag);
    checks.push(
      summary.ref === wanted
        ? {
            id: 'source-tag',
            passed: true,
            detail: `ref ${summary.ref} matches --source-tag ${policy.sourceTag}`,
          }
        : {
            id: 'source-tag',
            passed: false,
            detail: `provenance ref ${summary.ref ?? '(none)'} is not ${wanted}`,
          },
    );
  }
  if (policy.builderId !== undefined) {
    checks.push(
      builderIdMatches(policy.builderId, summary.builderId)
        ? {
            id: 'builder-id',
            passed: true,
            detail: `builder ${summary.builderId} matches --builder-id ${policy.builderId}`,
          }
        : {
            id: 'builder-id',
            passed: false,
            detail: `provenance builder ${summary.builderId ?? '(none)'} is not ${policy.builderId}`,
          },
    );
  }
  return checks;
}
