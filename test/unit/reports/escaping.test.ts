/**
 * The escaping helper of each output format, checked against a real renderer where
 * there is one (markdown-it, a CommonMark + GFM-tables parser): a hostile name must
 * render as exactly its own text (control characters as visible escapes), never as
 * markup, an extra table cell, a list, a heading or a line of its own.
 */
import MarkdownIt from 'markdown-it';
import { describe, expect, it } from 'vitest';
import { shown } from '../../../src/interfaces/cli/output.js';
import { stringifyJson } from '../../../src/interfaces/reports/format.js';
import { escapeHtml } from '../../../src/interfaces/reports/html.js';
import { escapeMarkdown, markdownCode } from '../../../src/interfaces/reports/markdown.js';
import { terminalSafe } from '../../../src/interfaces/reports/text.js';

const HOSTILE = [
  'tbl\u001b[2J\u001b]8;;http://evil\u0007x',
  'two\nlines\r\nthree',
  'a|b',
  'a\\|b',
  'x`y``z',
  '`starts and ends`',
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '# heading',
  '- item',
  '+ item',
  '= setext',
  '1. one',
  '12) twelve',
  '> quote',
  '*bold* _em_ ~~strike~~',
  '[link](http://evil.example)',
  '![img](http://evil.example/x.png)',
  '&amp; &lt;',
  '    indented code',
  'back\\slash \\* \\n',
  'rtl\u202eexe.txt',
  'csi\u009b2J del\u007f sep\u2028para\u2029',
  'naïve 表 🙂',
];

// eslint-disable-next-line no-control-regex
const RAW = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

const md = new MarkdownIt('commonmark').enable(['table', 'strikethrough']);
const text = (name: string) => md.utils.escapeHtml(terminalSafe(name));

describe('terminalSafe / shown(): the terminal', () => {
  it('shows every control character, separator and bidi override as a visible escape', () => {
    expect(terminalSafe('a\u001b[2Jb')).toBe('a\\u001b[2Jb');
    expect(terminalSafe('a\nb\tc\rd')).toBe('a\\nb\\tc\\u000dd');
    expect(terminalSafe('\u009b\u007f\u202e\u2066\u200f\u061c')).toBe('\\u009b\\u007f\\u202e\\u2066\\u200f\\u061c');
    expect(terminalSafe('line\u2028sep\u2029')).toBe('line\\u2028sep\\u2029');
    for (const name of HOSTILE) {
      expect(terminalSafe(name)).not.toMatch(RAW);
      expect(shown(name)).toBe(terminalSafe(name));
    }
  });

  it('leaves printable text alone, wide characters and emoji included', () => {
    expect(terminalSafe('naïve 表 🙂 <b>|`')).toBe('naïve 表 🙂 <b>|`');
    expect(shown(42)).toBe('42');
  });
});

describe('escapeMarkdown: Markdown text', () => {
  it.each(HOSTILE)('renders %j as its own text in a list item', (name) => {
    expect(md.render(`- ${escapeMarkdown(name)}`)).toBe(`<ul>\n<li>${text(name)}</li>\n</ul>\n`);
  });

  it.each(HOSTILE)('renders %j as its own text in a paragraph', (name) => {
    expect(md.render(`Found in ${escapeMarkdown(name)} today.`)).toBe(`<p>Found in ${text(name)} today.</p>\n`);
  });

  it.each(HOSTILE)('renders %j as one table cell', (name) => {
    const out = md.render(`| a | b |\n| --- | --- |\n| ${escapeMarkdown(name)} | next |\n`);
    expect(out).toContain(`<tr>\n<td>${text(name)}</td>\n<td>next</td>\n</tr>`);
  });

  it('keeps the name on one line and its control characters visible', () => {
    const e = escapeMarkdown('t\u001b[2J\nforged');
    expect(e).not.toMatch(RAW);
    expect(e.split('\n')).toHaveLength(1);
    expect(md.renderInline(e)).toBe('t\\u001b[2J\\nforged');
  });
});

describe('markdownCode: Markdown code spans', () => {
  it.each(HOSTILE)('renders %j exactly inside a code span', (name) => {
    expect(md.renderInline(markdownCode(name))).toBe(`<code>${text(name)}</code>`);
  });

  it.each(HOSTILE)('renders %j exactly inside a code span in a table cell', (name) => {
    const out = md.render(`| a | b |\n| --- | --- |\n| ${markdownCode(name, true)} | next |\n`);
    expect(out).toContain(`<tr>\n<td><code>${text(name)}</code></td>\n<td>next</td>\n</tr>`);
  });

  it('fences with more backticks than the longest run inside, instead of changing the name', () => {
    expect(markdownCode('x`y``z')).toBe('```x`y``z```');
    expect(markdownCode('`a`')).toBe('`` `a` ``');
  });
});

/** The text an HTML parser reads from escaped content (the five entities escapeHtml writes). */
const unescapeHtml = (s: string) => s.replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e]!);

describe('escapeHtml: HTML text and attributes', () => {
  it.each(HOSTILE)('writes %j without markup characters, reading back as its visible form', (name) => {
    const e = escapeHtml(name);
    expect(e).not.toMatch(/[<>"']/);
    expect(e).not.toMatch(RAW);
    expect(e.replace(/&(amp|lt|gt|quot|#39);/g, '')).not.toContain('&');
    expect(unescapeHtml(e)).toBe(terminalSafe(name));
  });
});

describe('stringifyJson: JSON output', () => {
  it('parses back to the same value, with no character a terminal acts on left raw', () => {
    const value = { names: HOSTILE, [`key\u202e\u009b`]: 'v\u2028' };
    for (const space of [undefined, 2]) {
      const out = stringifyJson(value, space);
      expect(JSON.parse(out)).toEqual(value);
      // Only the indentation's newlines remain.
      expect(out.replace(/\n/g, '')).not.toMatch(RAW);
      expect(out).toContain('\\u202e');
      expect(out).toContain('\\u009b');
      expect(out).toContain('\\u2028');
    }
  });

  it('is JSON.stringify for ordinary values', () => {
    const value = { a: [1, 'two', null], b: { c: 'naïve 表 🙂' } };
    expect(stringifyJson(value, 2)).toBe(JSON.stringify(value, null, 2));
  });
});
