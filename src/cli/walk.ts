import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { formatOfPath } from '../music/load';

/** Every .abc/.mid/.midi file below `root` (or `root` itself), sorted, skipping hidden folders and node_modules. */
export function listMusicFiles(root: string): string[] {
  const st = statSync(root);
  if (st.isFile()) {
    return formatOfPath(root) ? [root] : [];
  }
  const out: string[] = [];
  const visit = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith('.') || name === 'node_modules') {
        continue;
      }
      const p = join(dir, name);
      const s = statSync(p);
      if (s.isDirectory()) {
        visit(p);
      } else if (s.isFile() && formatOfPath(p)) {
        out.push(p);
      }
    }
  };
  visit(root);
  return out;
}

/** A path relative to `root` for display, with forward slashes. */
export function displayPath(root: string, path: string): string {
  const rel = relative(root, path);
  return (rel === '' ? path : rel).split('\\').join('/');
}
