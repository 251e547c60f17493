// What Python's int() makes of a request value, as dcmanager's validators use it: an integer, a float (truncated)
// or a string of digits with optional sign and surrounding blanks ("5", " 7 "). Anything else is undefined.
export function pythonInt(v: unknown): number | undefined {
  const n = typeof v === 'number' ? Math.trunc(v) : typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v) ? Number(v) : NaN;
  return Number.isSafeInteger(n) ? n : undefined;
}

/** pythonInt within [min, max], else undefined. */
export function intInRange(v: unknown, min: number, max: number): number | undefined {
  const n = pythonInt(v);
  return n !== undefined && n >= min && n <= max ? n : undefined;
}
