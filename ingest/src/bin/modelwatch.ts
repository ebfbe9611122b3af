#!/usr/bin/env node
// The `modelwatch` binary: wiring only. Exit codes are documented in cli/exit-codes.ts.
import { runCli } from '../cli/main.js';

process.exitCode = await runCli(process.argv.slice(2));
