/** The policy engine's public surface, for the CLI and library users. */

export { runCheck } from './check.ts';
export {
  createCommunityMatcher,
  DEFAULT_COMMUNITY_PHRASES,
  findCommunityWording,
} from './community-wording.ts';
export { parsePolicy } from './policy-file.ts';
export { renderSarif } from './render-sarif.ts';
export { renderText } from './render-text.ts';
export type {
  CheckInput,
  CheckReport,
  Finding,
  Level,
  Policy,
  RuleId,
  RuleResult,
  RuleStatus,
  SbomOutcome,
} from './types.ts';
export { DEFAULT_ALLOWED_LICENSES, defaultPolicy, RULES } from './types.ts';
