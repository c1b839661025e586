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
