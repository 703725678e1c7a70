// `npm run fuzz`: bundles the fuzz runner (test/fuzz/) and the parse worker into out/fuzz/, then
// runs it with the arguments given (see test/fuzz/fuzz.ts: --abc N --midi N --seed S --limit-ms MS).
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';

const common = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', sourcemap: true, logLevel: 'warning' };
await esbuild.build({ ...common, entryPoints: ['test/fuzz/fuzz.ts'], outfile: 'out/fuzz/fuzz.js' });
await esbuild.build({ ...common, entryPoints: ['src/host/parseWorker.ts'], outfile: 'out/fuzz/parseWorker.js' });
const r = spawnSync(process.execPath, ['--enable-source-maps', 'out/fuzz/fuzz.js', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
