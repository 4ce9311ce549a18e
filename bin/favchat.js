#!/usr/bin/env node
// The `favchat` command: loads the TypeScript CLI through tsx, so `npm ci` is the whole set-up (no build step).
import { register } from "tsx/esm/api";

register();
const { main, exitQuietlyOnClosedStdout } = await import("../src/cli/main.ts");
exitQuietlyOnClosedStdout();
process.exitCode = await main(process.argv.slice(2));
