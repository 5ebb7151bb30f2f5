/** Hostile input shapes for the linear-time tests: each builder returns a string of about `n` chars. */
const SHAPES: ReadonlyArray<readonly [string, (n: number) => string]> = [
  ['letters then !', (n) => 'a'.repeat(n) + '!'],
  ['digits', (n) => '1'.repeat(n)],
  ['a@ repeated', (n) => 'a@'.repeat(n / 2)],
  ['a. … then @', (n) => 'a.'.repeat(n / 2) + '@'],
  ['+1 repeated', (n) => '+1 '.repeat(Math.floor(n / 3))],
  ['dashes', (n) => '-'.repeat(n)],
  ['1. repeated', (n) => '1.'.repeat(n / 2)],
  ['1 repeated', (n) => '1 '.repeat(n / 2)],
  ['1- repeated', (n) => '1-'.repeat(n / 2)],
  ['colons', (n) => 'a:'.repeat(n / 2)],
  ['spaces then x', (n) => ' '.repeat(n) + 'x'],
  ['mixed punctuation', (n) => 'aB3-_.@:/+ ()'.repeat(Math.floor(n / 13))],
  ['card-like groups', (n) => '4111 '.repeat(n / 5)],
  ['iban-like groups', (n) => 'DE89 '.repeat(n / 5)],
  ['numbers with decimals', (n) => '12.345, '.repeat(n / 8)],
  ['jwt-like', (n) => 'eyJ.'.repeat(n / 4)],
  ['token prefixes', (n) => 'sk-'.repeat(Math.floor(n / 3))],
  ['pem headers', (n) => '-----BEGIN RSA PRIVATE KEY-----'.repeat(Math.floor(n / 31))],
  ['url schemes', (n) => 'a://b:c'.repeat(Math.floor(n / 7))],
  ['password cues', (n) => 'password: '.repeat(n / 10)],
  ['street words', (n) => '12 Main Street '.repeat(n / 15)],
  ['capitalised words', (n) => 'Maria '.repeat(n / 6)],
  ['dates', (n) => 'born 12.03.1985 '.repeat(n / 16)],
  ['valid phones', (n) => '+44 20 7946 0958, '.repeat(n / 18)],
  ['valid emails', (n) => 'a.b@example.com '.repeat(n / 16)],
  ['newlines', (n) => '\n'.repeat(n)],
  ['unicode letters', (n) => 'é'.repeat(n)],
];

/** Flat copies (V8 builds `repeat()` + concatenation as rope strings; flatten once, outside the timings). */
export const HOSTILE_SHAPES: ReadonlyArray<readonly [string, (n: number) => string]> = SHAPES.map(([name, build]) => [
  name,
  (n: number) => {
    const s = build(n);
    s.charCodeAt(s.length >> 1);
    return s;
  },
]);
