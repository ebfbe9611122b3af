#!/usr/bin/env node
// Published bin shim: the compiled CLI lives in dist/ (npm run build). In the repository, use
// `npm run modelwatch -- <command>`, which runs the TypeScript source directly.
import '../dist/bin/modelwatch.js';
