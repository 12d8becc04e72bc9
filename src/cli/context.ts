/**
 * @module cli/context
 * What a `segearth` sub-command receives: where to print, and a signal that aborts on Ctrl-C.
 * A command module exports `register(program, context)` that adds its `Command` to the program; its
 * action throws `SegEarthError`s and never calls `process.exit` (see `cli/run`).
 */
import type { Command } from 'commander';

export interface CliContext {
  /** Normal output (results, --json documents). */
  out: (text: string) => void;
  /** Diagnostics and progress, never parsed by scripts. */
  err: (text: string) => void;
  /** Aborted when the user presses Ctrl-C. */
  signal: AbortSignal;
}

export interface CliCommandModule {
  register(program: Command, context: CliContext): void;
}
