/**
 * @module scripts/build-qgis-plugin
 * `npm run build:qgis-plugin`: zips `qgis-plugin/segearth/` for QGIS's *Plugins → Install from ZIP*
 * (`segearth/` at the top of the archive, as QGIS wants), with the version of package.json written into its
 * metadata.txt. Writes `dist-qgis/segearth-qgis-plugin-<version>.zip` (temporary file, then rename; fixed
 * timestamps, so the same sources give the same bytes) and prints its path as the last line.
 * Zip writing: fflate (no zip writer in Node itself).
 */
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipSync, type Zippable } from 'fflate';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pluginDir = join(root, 'qgis-plugin', 'segearth');
const version = (JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string }).version;
const MTIME = new Date('2026-01-01T00:00:00Z');

const files: Zippable = {};
for (const entry of (await readdir(pluginDir, { recursive: true, withFileTypes: true })).sort((a, b) => join(a.parentPath, a.name).localeCompare(join(b.parentPath, b.name)))) {
  const path = join(entry.parentPath, entry.name);
  const rel = relative(pluginDir, path).split(sep).join('/');
  if (!entry.isFile() || rel.includes('__pycache__') || rel.endsWith('.pyc')) continue;
  let data = await readFile(path);
  if (rel === 'metadata.txt') data = Buffer.from(data.toString('utf8').replace(/^version=.*$/m, `version=${version}`));
  files[`segearth/${rel}`] = [data, { mtime: MTIME }];
}
const out = join(root, 'dist-qgis', `segearth-qgis-plugin-${version}.zip`);
await mkdir(dirname(out), { recursive: true });
await writeFile(`${out}.partial`, zipSync(files, { level: 9 }));
await rename(`${out}.partial`, out);
console.log(`${Object.keys(files).length} files`);
console.log(out);
