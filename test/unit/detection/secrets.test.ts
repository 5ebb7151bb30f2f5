import { describe, expect, it } from 'vitest';
import {
  isPasswordHash,
  isStewardCiphertext,
  looksLikePlainPassword,
  secretKind,
  secrets,
  STEWARD_CIPHERTEXT_PREFIX,
} from '../../../src/detection/detectors/index.js';
import { scanTexts } from './helpers.js';

const GH = 'ghp_' + 'a1B2c3D4e5F6g7H8i9J0'.repeat(2).slice(0, 36);
const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
const PEM = '-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB\n-----END RSA PRIVATE KEY-----';
const BCRYPT = '$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW';

describe('secrets', () => {
  it.each([
    ['aws_access_key', 'AKIAIOSFODNN7EXAMPLE'],
    ['aws_access_key', 'ASIAY34FZKBOKMUTVV7A'],
    ['github_token', GH],
    ['github_token', 'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ012345678'],
    ['stripe_key', 'sk_live_4eC39HqLyjWDarjtT1zdp7dc'],
    ['stripe_key', 'rk_live_51H8xyzABCdef123456'],
    ['slack_token', 'xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx'],
    ['google_api_key', 'AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe'],
    ['openai_key', 'sk-proj-abc123DEF456ghi789JKL012mno345'],
    ['jwt', JWT],
    ['private_key', PEM],
    ['private_key', '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----'],
    ['url_credentials', 'postgres://admin:s3cret@db.example.com:5432/app'],
    ['url_credentials', 'https://user:hunter2@example.com/path?q=1'],
  ])('recognises %s', (kind, v) => {
    expect(secrets.test(v)).toBe(true);
    expect(secretKind(v)).toBe(kind);
  });

  it.each([
    ['UUID', '550e8400-e29b-41d4-a716-446655440000'],
    ['md5 hex', 'd41d8cd98f00b204e9800998ecf8427e'],
    ['sha256 hex', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['bcrypt hash', BCRYPT],
    ['argon2 hash', '$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG'],
    ['base64 image', 'data:image/png;base64,' + 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+A8AAQUBAScY42YAAAAASUVORK5CYII='],
    ['base64 blob', 'QUtJQUlPU0ZPRE5ON0VYQU1QTEU='.repeat(4)],
    ['public key', '-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----'],
    ['certificate', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----'],
    ['Steward ciphertext', 'stw1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEy'],
    ['URL without password', 'https://user@example.com/'],
    ['URL with placeholder password', 'postgres://admin:${DB_PASSWORD}@db:5432/app'],
    ['URL with masked password', 'postgres://admin:****@db:5432/app'],
    ['AWS prefix, short', 'AKIA1234'],
    ['GitHub prefix, short', 'ghp_abc'],
    ['sk- without digits', 'sk-thisisnotakeyatallreally'],
    ['not a JWT', 'eyJhbGciOiJIUzI1NiJ9'],
    ['plain password (needs column name)', 'hunter2'],
    ['sentence', 'the AKIAIOSFODNN7EXAMPLE key'],
  ])('does not flag %s', (_, v) => expect(secrets.test(v)).toBe(false));

  it('isPasswordHash', () => {
    for (const v of [
      BCRYPT,
      '$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy',
      '$2y$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy',
      '$argon2i$v=19$m=16,t=2,p=1$c29tZXNhbHQ$fhLx8bQqaGHJh9A',
      '$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E',
      'pbkdf2_sha256$600000$abcdefghijkl$Nk4yH3wd8b0z1lOq6m7u/3TjXvO2ux6yPz+f4nE5k0A=',
      'pbkdf2:sha256:600000$salt1234$abcdef0123456789',
      'scrypt:32768:8:1$salt$abcdef0123456789',
      '$P$B12345678901234567890123456789.',
      '$6$rounds=5000$saltsalt$abcdefghijklmnopqrstuvwxyz0123456789',
      '$5$saltsalt$abcdefghijklmnopqrstuvwxyz0123456789',
      '{SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=',
      'd41d8cd98f00b204e9800998ecf8427e',
      'da39a3ee5e6b4b0d3255bfef95601890afd80709',
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      'cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e',
    ]) {
      expect(isPasswordHash(v), v).toBe(true);
    }
    for (const v of ['hunter2', 'P@ssw0rd!', 'd41d8cd98f00b204e9800998ecf8427', '$2b$12$short', 'zz1d8cd98f00b204e9800998ecf8427e']) {
      expect(isPasswordHash(v), v).toBe(false);
    }
  });

  it('looksLikePlainPassword', () => {
    for (const v of ['hunter2', 'P@ssw0rd!', 'correcthorsebatterystaple', '123456', 'stw1:abcdef']) expect(looksLikePlainPassword(v), v).toBe(true);
    for (const v of [BCRYPT, 'd41d8cd98f00b204e9800998ecf8427e', '550e8400-e29b-41d4-a716-446655440000', 'two words', 'abc', 'stw1:Q2x1c3Rlcg0:1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'x'.repeat(65), 'me@example.com'])
      expect(looksLikePlainPassword(v), v).toBe(false);
  });

  it('Steward ciphertext prefix', () => {
    expect(STEWARD_CIPHERTEXT_PREFIX).toBe('stw1:');
    expect(isStewardCiphertext('stw1:Q2x1c3Rlcg0:1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).toBe(true);
    expect(isStewardCiphertext('stw1:abc')).toBe(false); // a prefix is not an envelope
    expect(isStewardCiphertext('stw2:abc')).toBe(false);
  });

  it('finds secrets in prose', () => {
    const t = `key=AKIAIOSFODNN7EXAMPLE; token ${GH}, url postgres://admin:s3cret@db.example.com:5432/app and bearer ${JWT}.\n${PEM}\nMy password: Tr0ub4dor&3 thanks. Password is incorrect. Hash ${BCRYPT} id 550e8400-e29b-41d4-a716-446655440000`;
    expect(scanTexts(secrets, t)).toEqual([
      'AKIAIOSFODNN7EXAMPLE',
      GH,
      'postgres://admin:s3cret@db.example.com:5432',
      JWT,
      PEM,
      'Tr0ub4dor&3',
    ]);
  });
  it('does not find tokens glued inside longer words', () => {
    expect(scanTexts(secrets, 'xAKIAIOSFODNN7EXAMPLE AKIAIOSFODNN7EXAMPLEx')).toEqual([]);
  });
});
