import { describe, expect, it } from 'vitest';
import { ipv4, ipv6, isIp, isPublicIp } from '../../../src/detection/detectors/index.js';
import { scanTexts } from './helpers.js';

describe('ipv4', () => {
  it.each(['192.168.1.1', '8.8.8.8', '0.0.0.0', '255.255.255.255', '10.0.0.1', ' 127.0.0.1 '])('accepts %s', (v) =>
    expect(ipv4.test(v)).toBe(true),
  );
  it.each([
    ['version string', '1.2.3'],
    ['octet > 255', '256.1.1.1'],
    ['leading zero', '01.2.3.4'],
    ['leading zero', '192.168.001.1'],
    ['five parts', '1.2.3.4.5'],
    ['trailing dot', '1.2.3.4.'],
    ['price', '12.99'],
    ['date', '12.03.1985'],
    ['letters', '1.2.3.a'],
  ])('rejects %s %s', (_, v) => expect(ipv4.test(v)).toBe(false));
  it('scan skips version strings and dotted chains', () => {
    expect(scanTexts(ipv4, 'from 192.168.1.1, v1.2.3.4 and 1.2.3.4.5 and 10.0.0.256 and 8.8.8.8.')).toEqual(['192.168.1.1', '8.8.8.8']);
  });
});

describe('ipv6', () => {
  it.each(['2001:db8::1', '::1', 'fe80::1%eth0', '2001:0db8:85a3:0000:0000:8a2e:0370:7334', '[2001:db8::1]', '::ffff:192.168.1.1'])(
    'accepts %s',
    (v) => expect(ipv6.test(v)).toBe(true),
  );
  it.each(['::', '12:30:45', '00:1a:2b:3c:4d:5e', '2001:db8:::1', 'std::vector', 'gggg::1'])('rejects %s', (v) =>
    expect(ipv6.test(v)).toBe(false),
  );
  it('scan', () => {
    expect(scanTexts(ipv6, 'client 2001:db8::1 at 12:30:45 used std::vector, fe80::1.')).toEqual(['2001:db8::1', 'fe80::1']);
  });
});

describe('isPublicIp', () => {
  it.each([
    ['8.8.8.8', true],
    ['192.168.1.1', false],
    ['10.1.2.3', false],
    ['172.16.0.1', false],
    ['172.32.0.1', true],
    ['127.0.0.1', false],
    ['169.254.1.1', false],
    ['100.64.0.1', false],
    ['2001:4860:4860::8888', true],
    ['::1', false],
    ['fe80::1', false],
    ['fd00::1', false],
    ['2001:db8::1', false],
    ['not an ip', false],
  ])('%s → %s', (v, expected) => {
    expect(isPublicIp(v)).toBe(expected);
  });
  it('private addresses are still IPs', () => expect(isIp('192.168.1.1')).toBe(true));
});
