// Command-line arguments the benchmarks share.
import { InvalidArgumentError } from 'commander';

/** A commander parser for a whole number of at least `min`, naming the option when it is not. */
export const wholeNumber =
  (name: string, min = 1) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`${name} must be a whole number >= ${min}`);
    return n;
  };

/** A commander parser for a comma-separated list of whole numbers of at least 0 (`--only 4,11`). */
export const indexList =
  (name: string) =>
  (v: string): number[] => {
    const parts = v.split(',').map((x) => x.trim());
    const bad = parts.find((x) => !/^\d+$/.test(x));
    if (bad !== undefined)
      throw new InvalidArgumentError(
        `${name} must be whole numbers >= 0 separated by commas; got "${bad}"`,
      );
    return [...new Set(parts.map(Number))].sort((a, b) => a - b);
  };
