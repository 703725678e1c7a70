// Checks that the commands package.json contributes are exactly the ones the code registers
// (src/commands/index.ts `createCommands`), and that every menu entry names a contributed command.
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const source = readFileSync(new URL('../src/commands/index.ts', import.meta.url), 'utf8');
const table = source.slice(source.indexOf('export function createCommands'));
const body = table.slice(table.indexOf('return {') + 'return {'.length, table.indexOf('};'));
const inCode = new Set([...body.matchAll(/^\s*([A-Za-z][A-Za-z0-9]*)\s*:/gm)].map((m) => `refrain.${m[1]}`));
const contributed = new Set(pkg.contributes.commands.map((c) => c.command));
const problems = [];
for (const id of contributed) {
  if (!inCode.has(id)) problems.push(`${id} is in package.json but not registered in src/commands/index.ts`);
}
for (const id of inCode) {
  if (!contributed.has(id)) problems.push(`${id} is registered in code but not contributed in package.json`);
}
for (const [menu, items] of Object.entries(pkg.contributes.menus ?? {})) {
  for (const item of items) {
    if (item.command && !contributed.has(item.command)) problems.push(`menu ${menu} names unknown command ${item.command}`);
  }
}
for (const c of pkg.contributes.commands) {
  if (c.category !== 'Refrain') problems.push(`${c.command} should have category "Refrain"`);
}
if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`check-commands: ${contributed.size} commands match the code`);
