import { describe, expect, it } from 'vitest';
import { email, isEmail } from '../../../src/detection/detectors/index.js';
import { scanTexts } from './helpers.js';

describe('email', () => {
  it.each(['john.doe@example.com', 'j.o-h_n+tag@mail.example.co.uk', 'jose@exämple.de', 'x@y.co', ' anna@firma.de ', "o'brien@example.ie", 'user@xn--bcher-kva.example'])(
    'accepts %s',
    (v) => expect(email.test(v)).toBe(true),
  );
  it.each([
    'a@b',
    '@x.com',
    'foo@bar..com',
    'foo@bar',
    'foo@@bar.com',
    'foo@bar.c',
    'foo@bar.123',
    '.foo@bar.com',
    'foo.@bar.com',
    'fo..o@bar.com',
    'foo@-bar.com',
    'foo@bar-.com',
    'foo bar@baz.com',
    'not an email',
    'a'.repeat(65) + '@example.com',
    'a@' + 'b'.repeat(320) + '.com',
    '',
  ])('rejects %s', (v) => expect(isEmail(v)).toBe(false));

  it('finds addresses in prose with their exact spans', () => {
    const t = 'Contact maria.schmidt@example.de, or <bob@test.org>. Not a@b nor foo@bar..com; end: x@y.io.';
    expect(scanTexts(email, t)).toEqual(['maria.schmidt@example.de', 'bob@test.org', 'x@y.io']);
  });
  it('reports detector id and category', () => {
    const [m] = [...email.scan!('hi a.b@c.de')];
    expect(m).toEqual({ detector: 'email', category: 'contact.email', start: 3, end: 11 });
  });
});
