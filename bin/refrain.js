#!/usr/bin/env node
// The `refrain` command: runs the bundled CLI (build it first with `npm run build`).
'use strict';
process.env.ORT_DISABLE_TELEMETRY = '1';
const path = require('node:path');
const fs = require('node:fs');
const bundle = path.join(__dirname, '..', 'dist', 'cli.js');
if (!fs.existsSync(bundle)) {
  process.stderr.write('refrain: the CLI is not built yet; run "npm run build" in ' + path.join(__dirname, '..') + '\n');
  process.exit(70);
}
require(bundle).runFromProcess();
