/**
 * @module cli/run
 * Builds the `segearth` commander program from command modules and runs it: usage errors exit 2, typed
 * errors are printed as `error:` / `  hint:` with the status from `cli/exitCodes`, Ctrl-C aborts the
 * running command through an AbortSignal (a second Ctrl-C exits at once), always with status 130.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import type { CliCommandModule, CliContext } from './context.js';
import { EXIT } from './exitCodes.js';
import { reportError } from './reportError.js';

/** A sub-command: its name (as typed after `segearth`) and the module that registers it, loaded on demand. */
export interface CommandLoader {
  name: string;
  load: () => Promise<CliCommandModule>;
}

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

const processIo: CliIo = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

function packageVersion(): string {
  try {
    const json = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return json.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

function createProgram(io: CliIo): Command {
  return new Command('segearth')
    .description('SegEarth Desktop command line: inspect rasters, vectorize masks, ask the model about scenes.')
    .version(packageVersion(), '-V, --version')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err, outputError: (text, write) => write(text) })
    .showSuggestionAfterError(true);
}

/** Runs the CLI on `argv` (process.argv shape) and resolves to the exit status. */
export async function runCli(argv: string[], commands: CommandLoader[], io: CliIo = processIo): Promise<number> {
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(EXIT.CANCELLED);
    io.err('cancelling… (press Ctrl-C again to quit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  const context: CliContext = { out: io.out, err: io.err, signal: controller.signal };
  const program = createProgram(io);
  let unknownCommandNote = '';
  try {
    // A command module that fails to load (a broken optional dependency) must not take the other commands
    // down: it is skipped, and named if the user asked for a command that is then unknown.
    const loadFailures: string[] = [];
    for (const { load } of commandsToLoad(argv, commands)) {
      try {
        (await load()).register(program, context);
      } catch (err) {
        loadFailures.push(err instanceof Error ? err.message : String(err));
      }
    }
    if (loadFailures.length > 0 && process.env.SEGEARTH_DEBUG) {
      for (const failure of loadFailures) io.err(`debug: a command failed to load: ${failure}\n`);
    }
    unknownCommandNote = loadFailures.length > 0 ? `  note: ${loadFailures.length} command module(s) failed to load: ${loadFailures.join('; ')}\n` : '';
    if (argv.length <= 2) {
      io.err(program.helpInformation());
      return EXIT.USAGE;
    }
    await program.parseAsync(argv);
    return controller.signal.aborted ? EXIT.CANCELLED : EXIT.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) return EXIT.OK;
      io.err(`  hint: run "segearth ${commandPath(argv)}--help" for the usage.\n`);
      if (err.code === 'commander.unknownCommand') io.err(unknownCommandNote);
      return EXIT.USAGE;
    }
    return reportError(err, io.err);
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/**
 * Only the command being run is loaded (start-up time: each command module pulls in GDAL or onnxruntime),
 * none for `--version`, and all of them when commander needs the whole list (help, an unknown command).
 */
function commandsToLoad(argv: string[], commands: CommandLoader[]): CommandLoader[] {
  const args = argv.slice(2);
  const named = commands.find((c) => c.name === args[0]);
  if (named) return [named];
  if (args.length === 1 && (args[0] === '-V' || args[0] === '--version')) return [];
  return commands;
}

function commandPath(argv: string[]): string {
  const first = argv[2];
  return first && !first.startsWith('-') ? `${first} ` : '';
}
