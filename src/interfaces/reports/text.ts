/**
 * Plain-text layout for the terminal report: terminal-safe strings, display
 * width (wide CJK/emoji count two cells, combining marks none), width-aware
 * truncation and wrapping, and a small column aligner. Styling (colour) is
 * applied after layout, so widths are always computed on visible text.
 */
import stringWidth from 'string-width';

/**
 * What a terminal, an editor or a browser acts on instead of showing: C0 and C1
 * control characters and DEL (escape sequences, newlines, carriage returns), the
 * line and paragraph separators, and the bidi marks, embeddings, overrides and
 * isolates that reorder the text around them.
 */
// eslint-disable-next-line no-control-regex
export const UNSAFE_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * Names come from customer databases: a column called "\x1b[2J" must not clear
 * the user's screen. Every {@link UNSAFE_CHARACTERS} character becomes a visible
 * escape (`\n`, `\t`, `\u001b`), so the name stays on its line and recognisable.
 * The one escaping step under every format: the terminal (`shown()`), Markdown
 * and HTML build on it.
 */
export function terminalSafe(s: string): string {
  return s.replace(UNSAFE_CHARACTERS, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\t') return '\\t';
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/** Cells one character occupies (string-width: East Asian wide = 2, combining and zero-width = 0). */
function charWidth(cp: number): number {
  return stringWidth(String.fromCodePoint(cp));
}

/** Cells the string occupies in a monospace terminal. */
export function displayWidth(s: string): number {
  return stringWidth(s);
}

/** Cut to at most `width` cells, ending with "…" when something was cut. */
export function truncate(s: string, width: number): string {
  if (width <= 0) return '';
  if (displayWidth(s) <= width) return s;
  let out = '';
  let w = 0;
  for (const ch of s) {
    const cw = charWidth(ch.codePointAt(0)!);
    if (w + cw > width - 1) break;
    out += ch;
    w += cw;
  }
  return `${out}…`;
}

export function padEnd(s: string, width: number): string {
  return s + ' '.repeat(Math.max(0, width - displayWidth(s)));
}

export function padStart(s: string, width: number): string {
  return ' '.repeat(Math.max(0, width - displayWidth(s))) + s;
}

/** Word-wrap to `width` cells; words longer than a line are cut hard. */
export function wrap(text: string, width: number): string[] {
  const w = Math.max(10, width);
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    let rest = word;
    while (displayWidth(rest) > w) {
      if (line) {
        lines.push(line);
        line = '';
      }
      let head = '';
      for (const ch of rest) {
        if (displayWidth(head + ch) > w) break;
        head += ch;
      }
      lines.push(head);
      rest = rest.slice(head.length);
    }
    if (!rest) continue;
    if (!line) line = rest;
    else if (displayWidth(line) + 1 + displayWidth(rest) <= w) line += ` ${rest}`;
    else {
      lines.push(line);
      line = rest;
    }
  }
  if (line) lines.push(line);
  return lines.length ? lines : [''];
}

export interface Column {
  readonly header: string;
  readonly align?: 'left' | 'right';
  /** Shrinks first when the table is wider than the terminal; higher shrinks first. */
  readonly shrink?: number;
  /** Never narrower than this (default: min(header width, 6)). */
  readonly min?: number;
  /** Left out entirely when the table cannot fit otherwise; higher goes first. */
  readonly drop?: number;
}

export interface TableOptions {
  /** Total width available, indentation included. */
  readonly width: number;
  readonly indent?: number;
  readonly gap?: number;
  /** Styles a laid-out cell; row -1 is the header. Receives padded text. */
  readonly style?: (text: string, column: number, row: number) => string;
}

/**
 * Aligns rows into columns that fit `width`: when too wide, the columns with
 * the highest `shrink` give up cells first (their contents are truncated with "…").
 */
export function alignTable(columns: readonly Column[], rows: readonly (readonly string[])[], options: TableOptions): string[] {
  const indent = options.indent ?? 0;
  const gap = options.gap ?? 2;
  const cells = rows.map((r) => columns.map((_, i) => terminalSafe(r[i] ?? '')));
  let keep = columns.map((_, i) => i);
  for (;;) {
    const widths = fitWidths(
      keep.map((i) => columns[i]!),
      cells.map((r) => keep.map((i) => r[i]!)),
      options.width - indent,
      gap,
    );
    const droppable = keep.filter((i) => (columns[i]!.drop ?? 0) > 0).sort((a, b) => columns[b]!.drop! - columns[a]!.drop!);
    if (widths.excess <= 0 || droppable.length === 0) {
      return layoutRows(
        keep.map((i) => columns[i]!),
        cells.map((r) => keep.map((i) => r[i]!)),
        widths.widths,
        { indent, gap, style: (t, col, row) => (options.style ? options.style(t, keep[col]!, row) : t) },
      );
    }
    keep = keep.filter((i) => i !== droppable[0]);
  }
}

function fitWidths(columns: readonly Column[], cells: readonly (readonly string[])[], width: number, gap: number): { widths: number[]; excess: number } {
  const widths = columns.map((c, i) => Math.max(displayWidth(c.header), ...cells.map((r) => displayWidth(r[i]!))));
  const budget = width - gap * (columns.length - 1);
  let excess = widths.reduce((a, b) => a + b, 0) - budget;
  const order = columns.map((c, i) => ({ i, shrink: c.shrink ?? 0 })).sort((a, b) => b.shrink - a.shrink || b.i - a.i);
  // First down to each column's minimum, then (only if still too wide) down to 3 cells.
  for (const floor of [(i: number) => columns[i]!.min ?? Math.min(displayWidth(columns[i]!.header), 6), () => 3]) {
    for (const { i, shrink } of order) {
      if (excess <= 0 || shrink <= 0) continue;
      const give = Math.min(excess, widths[i]! - floor(i));
      if (give > 0) {
        widths[i]! -= give;
        excess -= give;
      }
    }
  }
  return { widths, excess };
}

function layoutRows(
  columns: readonly Column[],
  cells: readonly (readonly string[])[],
  widths: readonly number[],
  o: { indent: number; gap: number; style: (text: string, column: number, row: number) => string },
): string[] {
  const layout = (values: readonly string[], row: number) =>
    ' '.repeat(o.indent) +
    values
      .map((v, i) => {
        const text = truncate(v, widths[i]!);
        const last = i === values.length - 1;
        const padded = columns[i]!.align === 'right' ? padStart(text, widths[i]!) : last ? text : padEnd(text, widths[i]!);
        return o.style(padded, i, row);
      })
      .join(' '.repeat(o.gap))
      .replace(/ +$/, '');
  return [layout(columns.map((c) => c.header), -1), ...cells.map((r, row) => layout(r, row))];
}
