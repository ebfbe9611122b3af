#!/usr/bin/env node
// The `modelwatch` binary: wiring only. Exit codes are documented in cli/exit-codes.ts.

// citty decides once, when it loads, whether to colour help text, and only looks at NO_COLOR/TERM/CI: tell
// it about pipes and redirects before it loads (hence the dynamic import below).
if (!process.stdout.isTTY && process.env.FORCE_COLOR === undefined) process.env.NO_COLOR ??= '1';
const { runCli } = await import('../cli/main.js');

process.exitCode = await runCli(process.argv.slice(2));
