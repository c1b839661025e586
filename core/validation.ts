// Shared pieces of input validation: read a JSON file, and turn schema issues into lines that
// name the exact field (`artists[3].popularity.SE: Too big: expected number to be <=1`).
import fs from 'node:fs';
import type { z } from 'zod';

/** `artists[3].popularity.SE` for the path ['artists', 3, 'popularity', 'SE']. */
export function fieldPath(p: readonly PropertyKey[]): string {
  return p
    .map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`))
    .join('');
}

/** One indented line per issue, each naming its field. */
export function issueLines(error: z.ZodError): string[] {
  return error.issues.map((i) => `  ${fieldPath(i.path) || '(root)'}: ${i.message}`);
}

/** Parses a JSON file; `what` names it in the error ("catalog", "world"...). */
export function readJsonFile(
  file: string,
  what: string,
  ErrorType: new (m: string) => Error = Error,
): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
  } catch (err) {
    throw new ErrorType(`cannot read ${what} ${file}: ${(err as Error).message}`);
  }
}
