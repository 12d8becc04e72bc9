/**
 * @module scripts/make-tiny-bundle
 * `npm run make:tiny-bundle`: (re)generates the deterministic tiny TEST bundle at models/tiny-test/ (random
 * weights, never a model) through the same helper the tests use, so the freshness stamp stays consistent.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TINY_BUNDLE_DIR, ensureTinyBundle } from '../test/support/tinyBundle.js';

await rm(join(TINY_BUNDLE_DIR, '.stamp'), { force: true });
const dir = await ensureTinyBundle();
console.log(`tiny test bundle ready: ${dir}`);
