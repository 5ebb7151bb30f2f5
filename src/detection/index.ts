/**
 * Personal-data detection: value detectors, the column classifier, masking and
 * the category taxonomy.
 *
 * @example
 *   import { createClassifier } from 'steward/detection';
 *   const classifier = createClassifier();
 *   classifier.classifyValue('4111 1111 1111 1111'); // { detector: 'card', category: 'financial.card' }
 *   classifier.classifyColumn({ table: 'customers', column: 'correo', typeClass: 'text', values: ['ana@example.com'] });
 */
export { createClassifier, toText, type Classifier, type ClassifierOptions, type ColumnInput, type ColumnRule } from './classify.js';
export { createCustomDetector, type CustomDetectorSpec } from './custom.js';
export { BUILTIN_DETECTORS, builtinDetector } from './detectors/index.js';
export { maskValue } from './mask.js';
export { matchColumnName, normalizeName, NAME_RULES, type NameMatch, type NameRule } from './names.js';
export { BUILTIN_CATEGORIES, TAXONOMY, categoryInfo, categoryMatches, type BuiltinCategory, type Category, type CategoryInfo, type Risk } from './taxonomy.js';
export type { ColumnClassification, Evidence, FreeTextHit, Match, Signal, ValueDetector } from './types.js';
