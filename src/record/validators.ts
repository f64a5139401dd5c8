/**
 * The validators of the JSON Schemas waybill reads untrusted statements with, compiled ahead of time
 * (schemas/validators.cjs, made by record/validator-source.ts): loaded on first use, without ajv's
 * compiler.
 */
import { createRequire } from 'node:module';
import type { ValidateFunction } from 'ajv';
import type { ValidatorName } from './validator-source.ts';

const require = createRequire(import.meta.url);
let loaded: Record<ValidatorName, ValidateFunction> | undefined;

export function precompiledValidator(name: ValidatorName): ValidateFunction {
  loaded ??= require('../../schemas/validators.cjs') as Record<ValidatorName, ValidateFunction>;
  return loaded[name];
}
