#!/usr/bin/env node
// Entry point for the `waybill` executable. The CLI is TypeScript run through Node's type stripping
// (Node >= 22.13 with --experimental-strip-types on 22, on by default from 23.6), so this shim only
// forwards to it.
import '../src/cli/run.ts';
