/**
 * JSON Schema validation of SBOM documents against the official schemas: CycloneDX 1.6
 * (`bom-1.6.schema.json`, draft-07, which references `spdx.schema.json` and `jsf-0.82.schema.json` by
 * $id) and SPDX 2.3 (`spdx-schema.json`, draft 2019-09). The schemas are read from a directory the
 * caller names (laid out as `cyclonedx-1.6/…` and `spdx-2.3/…`), compiled once per directory.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import addFormatsModule from 'ajv-formats';
import { WaybillError } from '../errors.ts';

export interface SchemaError {
  /** JSON Pointer of the offending value (`/components/3/purl`); empty for the document. */
  path: string;
  message: string;
}

// ajv-formats is CommonJS with `exports.default`; under Node's ESM interop the default import is the
// module object, so take its `default` when there is one.
const addStandardFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ??
  addFormatsModule) as unknown as (ajv: Ajv | Ajv2019) => void;

/**
 * Formats the schemas use that ajv-formats lacks (RFC 3987 IRIs, RFC 6531 internationalized e-mail):
 * checked loosely (no whitespace or characters RFC 3987 excludes) rather than silently ignored.
 */
function addFormats(ajv: Ajv | Ajv2019): void {
  addStandardFormats(ajv);
  ajv.addFormat('iri-reference', /^[^\s<>"{}|\\^`\u0000-\u001f\u007f]*$/u);
  ajv.addFormat('iri', /^[a-z][a-z0-9+.-]*:[^\s<>"{}|\\^`\u0000-\u001f\u007f]*$/iu);
  ajv.addFormat('idn-email', /^[^\s@]+@[^\s@]+$/u);
}

const cache = new Map<string, ValidateFunction>();

function readSchema(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new WaybillError('NOT_FOUND', path, 'schema file not found');
    throw new WaybillError('MALFORMED', path, `schema not readable: ${(e as Error).message.split('\n')[0]}`);
  }
}

function cycloneDxValidator(schemasDir: string): ValidateFunction {
  const key = `cdx16:${schemasDir}`;
  let v = cache.get(key);
  if (!v) {
    const dir = join(schemasDir, 'cyclonedx-1.6');
    // strict: false: the CycloneDX schemas use keywords (`meta:enum`, `deprecated`…) ajv's strict mode rejects.
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema(readSchema(join(dir, 'spdx.schema.json')));
    ajv.addSchema(readSchema(join(dir, 'jsf-0.82.schema.json')));
    v = ajv.compile(readSchema(join(dir, 'bom-1.6.schema.json')));
    cache.set(key, v);
  }
  return v;
}

function spdxValidator(schemasDir: string): ValidateFunction {
  const key = `spdx23:${schemasDir}`;
  let v = cache.get(key);
  if (!v) {
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    addFormats(ajv);
    v = ajv.compile(readSchema(join(schemasDir, 'spdx-2.3', 'spdx-schema.json')));
    cache.set(key, v);
  }
  return v;
}

function run(validate: ValidateFunction, doc: unknown): SchemaError[] {
  if (validate(doc)) return [];
  return (validate.errors ?? []).map((e) => ({
    path: e.instancePath,
    message: `${e.message ?? 'invalid'}${e.params && Object.keys(e.params).length > 0 ? ` ${JSON.stringify(e.params)}` : ''}`,
  }));
}

/** Errors of `doc` against CycloneDX 1.6 JSON; empty when valid. Throws NOT_FOUND without the schemas. */
export function validateCycloneDx(doc: unknown, schemasDir: string): SchemaError[] {
  return run(cycloneDxValidator(schemasDir), doc);
}

/** Errors of `doc` against SPDX 2.3 JSON; empty when valid. Throws NOT_FOUND without the schema. */
export function validateSpdx(doc: unknown, schemasDir: string): SchemaError[] {
  return run(spdxValidator(schemasDir), doc);
}
