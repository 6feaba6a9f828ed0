/**
 * Values from a file, put into a message. Graph files come from strangers: an id, label, port
 * name or version may be a megabyte long or hold terminal control sequences (ESC, BEL, CR, BS,
 * NUL). Every value a message echoes goes through these helpers, so a message stays one short
 * line and printing it can never drive the terminal.
 */

/** Longest stretch of a file's value that a message echoes (then an ellipsis). */
export const MAX_ECHO = 60;

// C0 and C1 controls, DEL, and the Unicode bidirectional overrides (which reorder what a
// terminal shows, e.g. to disguise an id).
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const CONTROL_TEST = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\u0007': '\\a', '\u001b': '\\e', '\u0000': '\\0' };

/** Whether `s` holds a control character (what ids and kinds must not contain). */
export function hasControlCharacters(s: string): boolean {
  return CONTROL_TEST.test(s);
}

/** `s` with every control character written out visibly: ESC as `\e`, CR as `\r`, others as `\xNN` or `\uNNNN`. */
export function escapeControls(s: string): string {
  return s.replace(CONTROL, (c) => NAMED[c] ?? (c.charCodeAt(0) <= 0xff ? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}` : `\\u${c.charCodeAt(0).toString(16)}`));
}

/** `s` cut to `max` characters with an ellipsis, never splitting a surrogate pair. */
export function clip(s: string, max = MAX_ECHO): string {
  if (s.length <= max) return s;
  let end = max - 1;
  const c = s.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end--;
  return `${s.slice(0, end)}…`;
}

/** A value from a file as a message shows it: escaped, bounded. Escape first so `\e` counts toward the bound. */
export function echo(s: string, max = MAX_ECHO): string {
  // Escaping a huge string only to cut it is wasted work: escaping at most quadruples the length.
  return clip(escapeControls(s.length > max * 4 ? s.slice(0, max * 4) : s), max);
}

/** A value from a file in single quotes, as messages name ids, ports and kinds: `'fc1'`. */
export function quoted(s: string, max = MAX_ECHO): string {
  return `'${echo(s, max)}'`;
}

/**
 * Any JSON value, as a message shows what it got: strings and numbers as JSON, containers
 * bounded (a version given as a megabyte object reads as `{"a":1,"b":…`).
 */
export function preview(value: unknown, max = MAX_ECHO): string {
  if (typeof value === 'string') return JSON.stringify(echo(value, max));
  if (value === undefined) return 'nothing';
  if (typeof value !== 'object' || value === null) return String(value);
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = Array.isArray(value) ? 'a list' : 'an object';
  }
  return echo(text, max);
}

/**
 * A list of names as a message summarises it: all of them when there are few, else the first
 * few and how many there are ("a, b, c, … (5,000 in all)").
 */
export function summarize(items: readonly string[], shown = 3, separator = ', '): string {
  if (items.length <= shown + 1) return items.join(separator);
  return `${items.slice(0, shown).join(separator)}${separator}… (${items.length.toLocaleString('en-US')} in all)`;
}

/**
 * Text for a terminal: every control character except newline and tab written out visibly,
 * so that nothing a file holds can move the cursor, clear the screen or ring the bell.
 */
export function terminalSafe(text: string): string {
  return text.replace(CONTROL, (c) => (c === '\n' || c === '\t' ? c : escapeControls(c)));
}

/**
 * JSON text for a terminal: JSON.stringify already writes C0 controls as `\u001b`; this also
 * writes DEL, the C1 controls and the bidirectional overrides that way (still valid JSON,
 * the same strings once parsed).
 */
export function jsonTerminalSafe(json: string): string {
  return json.replace(/[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
