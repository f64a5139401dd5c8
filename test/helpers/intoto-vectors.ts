/** The in-toto attestation framework's own test vectors (../shared/fixtures), one JSON row per case. */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const INTOTO_VECTORS = fileURLToPath(
  new URL(
    '../../../shared/fixtures/schemas/in-toto-attestation-v1/go-test-vectors/vectors.jsonl',
    import.meta.url,
  ),
);

export interface IntotoVector {
  /** The Go test file the case comes from (statement_test.go, resource_descriptor_test.go…). */
  source: string;
  /** The Go variable name; `bad…` cases must be refused. */
  var: string;
  value: Record<string, unknown>;
}

/** Every vector, or undefined when the fixtures folder is absent (the caller skips). */
export function readIntotoVectors(): IntotoVector[] | undefined {
  if (!existsSync(INTOTO_VECTORS)) return undefined;
  return readFileSync(INTOTO_VECTORS, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as IntotoVector);
}
