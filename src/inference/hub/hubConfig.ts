/**
 * @module inference/hub/hubConfig
 * Where the model hub is and who we are to it, read from the same environment variables as Hugging Face's own
 * client (`huggingface_hub` constants.py and utils/_auth.py), so a machine set up for `huggingface-cli` /
 * `hf download` works unchanged:
 *
 * - `HF_ENDPOINT`: the hub or a mirror (default https://huggingface.co);
 * - `HF_TOKEN` (legacy `HUGGING_FACE_HUB_TOKEN`), else the token file `HF_TOKEN_PATH` (default `$HF_HOME/token`,
 *   written by `hf auth login`): sent as `Authorization: Bearer …` for gated or private repositories;
 * - `HF_HUB_CACHE` (legacy `HUGGINGFACE_HUB_CACHE`), default `$HF_HOME/hub`, with `HF_HOME` defaulting to
 *   `$XDG_CACHE_HOME/huggingface`, else `~/.cache/huggingface` (the same on Windows and macOS);
 * - `HF_HUB_OFFLINE` (or `TRANSFORMERS_OFFLINE`) = 1/true/yes/on: no network, the cache only.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

export type HubEnv = Readonly<Record<string, string | undefined>>;

export interface HubConfig {
  /** Base URL without a trailing slash. */
  readonly endpoint: string;
  readonly token: string | null;
  /** Where the token came from, for messages ("HF_TOKEN", "the token file ~/.cache/huggingface/token"). */
  readonly tokenSource: string | null;
  /** The hub cache folder (`models--org--name/` folders inside). */
  readonly cacheDir: string;
  readonly offline: boolean;
}

/** Reads the hub settings from `env` (default `process.env`); `home` is the user's home folder. */
export function resolveHubConfig(env: HubEnv = process.env, home: string = os.homedir()): HubConfig {
  const expand = (p: string): string => (p === '~' || p.startsWith('~/') || p.startsWith('~\\') ? path.join(home, p.slice(1)) : p);
  const hfHome = expand(env.HF_HOME || path.join(env.XDG_CACHE_HOME || path.join(home, '.cache'), 'huggingface'));
  const cacheDir = expand(env.HF_HUB_CACHE || env.HUGGINGFACE_HUB_CACHE || path.join(hfHome, 'hub'));
  const tokenFile = expand(env.HF_TOKEN_PATH || path.join(hfHome, 'token'));
  let token = clean(env.HF_TOKEN);
  let tokenSource: string | null = token ? 'HF_TOKEN' : null;
  if (!token) {
    token = clean(env.HUGGING_FACE_HUB_TOKEN);
    tokenSource = token ? 'HUGGING_FACE_HUB_TOKEN' : null;
  }
  if (!token) {
    token = clean(readIfExists(tokenFile));
    tokenSource = token ? `the token file ${tokenFile}` : null;
  }
  return {
    endpoint: (env.HF_ENDPOINT || DEFAULT_ENDPOINT).replace(/\/+$/, ''),
    token,
    tokenSource,
    cacheDir,
    offline: isTrue(env.HF_HUB_OFFLINE) || isTrue(env.TRANSFORMERS_OFFLINE),
  };
}

function clean(value: string | undefined): string | null {
  const t = value?.replace(/\r?\n/g, '').trim();
  return t ? t : null;
}

function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function isTrue(value: string | undefined): boolean {
  return value !== undefined && ['1', 'on', 'yes', 'true'].includes(value.trim().toLowerCase());
}
