/**
 * The public config API: `steward.yml` loading and validation, the schema, the
 * template written by `steward init`, and linear-time compilation of user regexes.
 *
 * @example
 *   import { loadConfig } from 'steward/config';
 *   const { config, patterns, warnings } = await loadConfig({ cwd: process.cwd() });
 */
export {
  loadConfig,
  loadConfigText,
  resolveLocalPath,
  formatPath,
  CONFIG_FILE_NAMES,
  type LoadConfigOptions,
  type LoadedConfig,
  type UserPatterns,
} from './load.js';
export { initConfigText, writeInitConfig, type InitConfigOptions } from './init.js';
export { compileUserPattern, tryCompileUserPattern, foldCase, type UserPatternOptions, type UserPatternResult } from './user-pattern.js';
export {
  configSchema,
  sourceSchema,
  purposeSchema,
  urlMatchesKind,
  type StewardConfig,
  type StewardConfigInput,
  type SourceConfig,
  type PurposeConfig,
  type DetectorConfig,
  type ColumnRuleConfig,
} from './schema.js';
