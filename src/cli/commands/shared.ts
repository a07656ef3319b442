import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { SafetyOptions } from '../../index.js';

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Option parsers: a bad value is a usage error (exit 2) naming the option and the value. */
export function integer(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n)) throw new InvalidArgumentError('expected an integer');
  return n;
}

export function positiveInteger(value: string): number {
  const n = integer(value);
  if (n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

export function nonNegativeInteger(value: string): number {
  const n = integer(value);
  if (n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}

export function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a non-negative number');
  return n;
}

/** The safety-gate flags every command that needs the model accepts. */
export function trustOption(cmd: Command): Command {
  return cmd
    .option('--trust <global>', 'allow this module.name global although it is not on the allowlist (repeatable)', collect)
    .option('--unsafe-skip-check', 'use the model even if it imports unsafe globals (nothing is ever executed)');
}

export function safetyOptions(flags: { trust?: string[]; unsafeSkipCheck?: boolean }): SafetyOptions {
  const o: SafetyOptions = {};
  if (flags.trust?.length) o.trust = flags.trust;
  if (flags.unsafeSkipCheck) o.unsafeSkipCheck = true;
  return o;
}
