#!/usr/bin/env node
// SegEarth command-line entry: runs the compiled CLI when it is current, else the sources through tsx
// (see ./entry.js for the rule and why).
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chooseEntry } from './entry.js';

const entry = chooseEntry(join(dirname(fileURLToPath(import.meta.url)), '..'));
if (entry.kind === 'source') {
  const { register } = await import('tsx/esm/api');
  register();
}
await import(pathToFileURL(entry.path).href);
