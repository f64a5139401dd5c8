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

const PROTOS = fileURLToPath(
  new URL('../../../shared/fixtures/schemas/in-toto-attestation-v1/protos/', import.meta.url),
);

/**
 * The JSON names of a proto message's fields, as the proto3 JSON mapping spells them: `json_name`
 * when given, else lowerCamelCase of the field name (`predicate_type` → `predicateType`). Read from
 * the in-toto protos themselves, or undefined when the fixtures are absent.
 */
export function protoJsonFields(file: string, message: string): string[] | undefined {
  const path = `${PROTOS}${file}`;
  if (!existsSync(path)) return undefined;
  const text = readFileSync(path, 'utf8').replace(/\/\/.*$/gm, '');
  const body = new RegExp(`message ${message} \\{([\\s\\S]*?)\\n\\}`).exec(text)?.[1] ?? '';
  const fields: string[] = [];
  for (const m of body.matchAll(
    /^\s*(?:repeated\s+)?[\w.<>, ]+?\s+(\w+)\s*=\s*\d+\s*(?:\[json_name\s*=\s*"([^"]+)"\])?;/gm,
  )) {
    fields.push(m[2] ?? m[1]!.replace(/_([a-z0-9])/g, (_x, c: string) => c.toUpperCase()));
  }
  return fields;
}

/**
 * The first key of an in-toto Statement (or of one of its subjects) that the v1 protos do not have,
 * as `path: key`; undefined when every key is one of theirs. Undefined too without the fixtures.
 */
export function statementProtoProblem(statement: Record<string, unknown>): string | undefined {
  const top = protoJsonFields('v1_statement.proto', 'Statement');
  const descriptor = protoJsonFields('v1_resource_descriptor.proto', 'ResourceDescriptor');
  if (!top || !descriptor) return undefined;
  for (const key of Object.keys(statement)) if (!top.includes(key)) return `/: ${key}`;
  for (const [i, subject] of ((statement.subject as Array<Record<string, unknown>>) ?? []).entries()) {
    for (const key of Object.keys(subject)) if (!descriptor.includes(key)) return `/subject/${i}: ${key}`;
  }
  return undefined;
}
