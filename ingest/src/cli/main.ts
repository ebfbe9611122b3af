/**
 * The `modelwatch` command tree and the one place that turns a command's outcome into an exit code.
 * Subcommands load lazily (`--help` stays fast and does not load the ClickHouse engine). A command's `run`
 * may return a number: its exit code (report returns 2 when it finds a degradation).
 */
import { defineCommand, runCommand, showUsage, type CommandDef } from 'citty';
import { errorMessage } from '../errors.js';
import { EXIT_CODE_HELP, EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, exitCodeFor } from './exit-codes.js';
import { colorsFor, err } from './terminal.js';

export const VERSION = '0.1.0';

export const main = defineCommand({
  meta: {
    name: 'modelwatch',
    version: VERSION,
    description: `Which LLM provider, model and model version is failing or slowing down — and is it their infrastructure or the model?\n\n${EXIT_CODE_HELP}`,
  },
  subCommands: {
    demo: () => import('./commands/demo.js').then((m) => m.default),
    report: () => import('./commands/report.js').then((m) => m.default),
    query: () => import('./commands/query.js').then((m) => m.default),
    gateway: () => import('./commands/gateway.js').then((m) => m.default),
    ingest: () => import('./commands/ingest.js').then((m) => m.default),
    migrate: () => import('./commands/migrate.js').then((m) => m.default),
    dashboards: () => import('./commands/dashboards.js').then((m) => m.default),
    kafka: () => import('./commands/kafka/index.js').then((m) => m.default),
  },
});

type AnyCommand = CommandDef<never>;
const resolveValue = async <T>(value: T | Promise<T> | (() => T | Promise<T>)): Promise<T> =>
  typeof value === 'function' ? (value as () => T | Promise<T>)() : value;

interface Resolved {
  command: AnyCommand;
  parent: AnyCommand | undefined;
  /** How many leading arguments named (sub)commands. */
  depth: number;
  /** A positional that should have named a subcommand but matches none. */
  unknown?: string;
}

/**
 * The (sub)command the arguments name. The CLI runs the leaf itself (rather than letting citty walk the
 * tree) because citty drops a subcommand's return value, and that value is the exit code.
 */
async function resolveCommand(rawArgs: readonly string[]): Promise<Resolved> {
  let command = main as unknown as AnyCommand;
  let parent: AnyCommand | undefined;
  let depth = 0;
  for (const arg of rawArgs) {
    const subs = command.subCommands ? await resolveValue(command.subCommands) : undefined;
    if (subs === undefined || arg.startsWith('-')) break;
    const next = subs[arg];
    if (next === undefined) return { command, parent, depth, unknown: arg };
    parent = command;
    command = (await resolveValue(next)) as AnyCommand;
    depth += 1;
  }
  return { command, parent, depth };
}

/** Runs the CLI; resolves to the process exit code (never calls process.exit itself). */
export async function runCli(rawArgs: readonly string[]): Promise<number> {
  const colors = colorsFor(process.stderr);
  try {
    if (rawArgs.length === 1 && (rawArgs[0] === '--version' || rawArgs[0] === '-v')) {
      process.stdout.write(`${VERSION}\n`);
      return EXIT_OK;
    }
    const resolved = await resolveCommand(rawArgs);
    const wantsHelp = rawArgs.includes('--help') || rawArgs.includes('-h');
    if (resolved.unknown !== undefined && !wantsHelp) {
      err(`${colors.red('modelwatch:')} unknown command "${resolved.unknown}"`);
      await showUsage(resolved.command, resolved.parent);
      return EXIT_USAGE;
    }
    // A group without its subcommand (`modelwatch`, `modelwatch kafka`) shows its usage.
    if (wantsHelp || resolved.command.subCommands !== undefined) {
      await showUsage(resolved.command, resolved.parent);
      return wantsHelp ? EXIT_OK : EXIT_USAGE;
    }
    const { result } = await runCommand(resolved.command, { rawArgs: rawArgs.slice(resolved.depth) });
    return typeof result === 'number' ? result : EXIT_OK;
  } catch (error) {
    const code = exitCodeFor(error);
    if (code === EXIT_USAGE) {
      err(`${colors.red('modelwatch:')} ${errorMessage(error)}`);
      err(
        colors.dim(
          `run \`modelwatch ${rawArgs
            .filter((a) => !a.startsWith('-'))
            .slice(0, 1)
            .join(' ')} --help\` for usage`.replace('  ', ' '),
        ),
      );
    } else if (code === EXIT_INTERNAL) {
      // A bug: the stack helps whoever reports it, but only when asked for.
      err(`${colors.red('modelwatch: unexpected error:')} ${errorMessage(error)}`);
      if (process.env.MODELWATCH_DEBUG) err(error instanceof Error ? (error.stack ?? '') : String(error));
      else err(colors.dim('rerun with MODELWATCH_DEBUG=1 for the stack trace'));
    } else {
      const label = (error as { code?: unknown }).code;
      err(
        `${colors.red('modelwatch:')} ${typeof label === 'string' ? `${label}: ` : ''}${errorMessage(error)}`,
      );
    }
    return code;
  }
}
