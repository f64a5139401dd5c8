/**
 * Writes schemas/validators.cjs: the release record and publication schemas compiled ahead of time
 * (src/record/validator-source.ts says why). Run after changing a schema:
 *
 *   node scripts/generate-validators.ts
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { VALIDATORS_FILE, validatorModuleSource } from '../src/record/validator-source.ts';

const target = fileURLToPath(new URL(`../${VALIDATORS_FILE}`, import.meta.url));
writeFileSync(target, validatorModuleSource());
process.stdout.write(`wrote ${VALIDATORS_FILE}\n`);
