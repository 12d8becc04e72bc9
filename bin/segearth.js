#!/usr/bin/env node
// SegEarth command-line entry. In a source checkout (src/ present) it runs the TypeScript sources through tsx
// (a runtime dependency), so a fresh clone works and a stale `dist/` can never shadow the code being edited;
// an installed package without src/ (or SEGEARTH_USE_DIST=1) runs the compiled CLI from `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const compiled = join(root, 'dist', 'cli', 'index.js');
const source = join(root, 'src', 'cli', 'index.ts');
if (existsSync(compiled) && (!existsSync(source) || process.env.SEGEARTH_USE_DIST === '1')) {
  await import(pathToFileURL(compiled).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(source).href);
}
