/**
 * Built-in value detectors. Each recognises one kind of personal data in a
 * whole value (`test`) and, where useful, inside prose (`scan`); all run in
 * linear time (see test/unit/detection/linear-time.test.ts).
 *
 * Order: most specific first, so a caller taking the first detector whose
 * test() accepts a value gets the strongest reading (a valid card number is
 * also a digit run a phone check would reject; a secret before anything else).
 */
import type { ValueDetector } from '../types.js';
import { card } from './card.js';
import { birthDate } from './date.js';
import { email } from './email.js';
import { deTaxId, esDni, frNir } from './eu-ids.js';
import { geolocation } from './geolocation.js';
import { iban } from './iban.js';
import { ipv4, ipv6 } from './ip.js';
import { personName } from './person-name.js';
import { phone } from './phone.js';
import { postalAddress } from './postal-address.js';
import { postcode } from './postcode.js';
import { secrets } from './secrets.js';
import { ssn } from './ssn.js';
import { ukNino } from './uk-nino.js';

export const BUILTIN_DETECTORS: readonly ValueDetector[] = [
  secrets,
  card,
  iban,
  ssn,
  ukNino,
  esDni,
  frNir,
  deTaxId,
  email,
  ipv4,
  ipv6,
  geolocation,
  phone,
  birthDate,
  postalAddress,
  postcode,
  personName,
];

/** Built-in detector by id. */
export function builtinDetector(id: string): ValueDetector | undefined {
  return BUILTIN_DETECTORS.find((d) => d.id === id);
}

export { card, cardBrand, isCardNumber, isPan, luhn, scanCards, type CardBrand } from './card.js';
export { isStewardCiphertext, STEWARD_CIPHERTEXT_PREFIX } from './ciphertext.js';
export {
  birthDate,
  isBirthDate,
  looksLikeBirthDates,
  parseDateDetailed,
  parseDateLike,
  readDateAt,
  scanBirthDates,
  type ParsedDate,
} from './date.js';
export { email, isEmail, scanEmails } from './email.js';
export {
  deTaxCheckDigit,
  deTaxId,
  esDni,
  frNir,
  isCompactDeTaxId,
  isCompactNir,
  isDeTaxId,
  isEsDni,
  isFrNir,
  scanDeTaxIds,
  scanEsDni,
  scanFrNir,
} from './eu-ids.js';
export { geolocation, isGeoPair, isLatitude, isLongitude, scanGeo } from './geolocation.js';
export { IBAN_LENGTHS, iban, ibanMod97, isCompactIban, isIban, scanIbans } from './iban.js';
export { ipv4, ipv6, isIp, isIpv4, isIpv6, isPublicIp, scanIpv4, scanIpv6 } from './ip.js';
export { isPersonName, NAME_THRESHOLD, nameScore, normalizeNameToken, personName } from './person-name.js';
export { FIRST_NAMES, NAME_PARTICLES, NOT_NAME_WORDS, SURNAMES } from './person-name-data.js';
export { DEFAULT_PHONE_REGIONS, isPhoneNumber, phone, phoneOptions, scanPhones } from './phone.js';
export { isHouseNumber, isPostalAddress, postalAddress, scanAddresses } from './postal-address.js';
export { isCaPostcode, isNlPostcode, isNumericPostcode, isPostcode, isUkPostcode, isUsZipPlus4, postcode } from './postcode.js';
export {
  isPasswordHash,
  isSecret,
  isUuid,
  looksLikePlainPassword,
  scanSecrets,
  secretKind,
  secretPrefix,
  secrets,
  type SecretKind,
} from './secrets.js';
export { isDashedSsn, isSsn, isValidSsnDigits, scanSsns, ssn, ssnOptions } from './ssn.js';
export { isUkNino, isValidNinoPrefix, scanNinos, ukNino } from './uk-nino.js';
