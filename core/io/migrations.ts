/**
 * Migrations between file-format versions. Migration N takes a parsed file of version N and
 * returns one of version N + 1; loading applies them in order up to the current version.
 * Version 1 is the first format, so the list is empty; the machinery is tested with a
 * synthetic migration so that version 2 only has to add an entry here.
 */
export interface Migration {
  /** The version this migration reads. */
  from: number;
  /** What it does, e.g. "rename Dense 'use_bias' to 'bias'". */
  name: string;
  up(file: Record<string, unknown>): Record<string, unknown>;
}

export const MIGRATIONS: readonly Migration[] = [];

/** Apply migrations from `version` up to `target`. Throws if a step is missing. */
export function migrate(
  file: Record<string, unknown>,
  version: number,
  target: number,
  migrations: readonly Migration[] = MIGRATIONS,
): Record<string, unknown> {
  let current = file;
  for (let v = version; v < target; v++) {
    const step = migrations.find((m) => m.from === v);
    if (!step) throw new Error(`no migration from format version ${v} to ${v + 1}`);
    current = { ...step.up(current), version: v + 1 };
  }
  return current;
}
