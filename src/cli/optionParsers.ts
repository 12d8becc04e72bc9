/**
 * @module cli/optionParsers
 * Commander value parsers for numeric and tolerance options; a bad value becomes a usage error (exit 2)
 * naming the option and the expected form.
 */
import { InvalidArgumentError } from 'commander';
import { isSegEarthError } from '../shared/errors.js';
import { parseTolerance, type SimplifyTolerance } from '../geo/simplify.js';

export function parseNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`"${value}" is not a number.`);
  return n;
}

export function parseNonNegative(value: string): number {
  const n = parseNumber(value);
  if (n < 0) throw new InvalidArgumentError(`"${value}" must not be negative.`);
  return n;
}

export function parsePositiveInteger(value: string): number {
  const n = parseNumber(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`"${value}" must be a whole number ≥ 1.`);
  return n;
}

/** A whole number ≥ 0 (e.g. `--retries 0`). */
export function parseNonNegativeInteger(value: string): number {
  return value.trim() === '0' ? 0 : parsePositiveInteger(value);
}

export function parseToleranceOption(value: string): SimplifyTolerance {
  try {
    return parseTolerance(value);
  } catch (err) {
    if (isSegEarthError(err)) throw new InvalidArgumentError(`${err.message} ${err.hint ?? ''}`.trim());
    throw err;
  }
}
