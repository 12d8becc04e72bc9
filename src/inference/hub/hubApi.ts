/**
 * @module inference/hub/hubApi
 * The model hub's HTTP API as Hugging Face's own client uses it (huggingface_hub `hf_api.py`, `file_download.py`,
 * `utils/_http.py`):
 *
 * - `GET {endpoint}/api/models/{repo}/revision/{revision}?blobs=true` → the commit (`sha`) the revision points
 *   to and every file (`siblings`) with its size, git blob id and, for LFS files, `lfs.sha256` — one request
 *   for the whole file list and every checksum (what `model_info(files_metadata=True)` asks);
 * - files from `{endpoint}/{repo}/resolve/{commit}/{path}`, which redirects LFS files to a CDN on another host
 *   (`httpGet` drops the token there);
 * - errors: the hub's `X-Error-Code` header (`RepoNotFound`, `RevisionNotFound`, `EntryNotFound`, `GatedRepo`)
 *   and status become messages that say what to do (set HF_TOKEN, accept the licence, check the name).
 */
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { SegEarthError } from '../../shared/errors.js';
import { httpGet, type HttpResponse } from '../net/httpGet.js';
import { describeNetworkError } from '../net/resumableFetch.js';
import type { HubConfig } from './hubConfig.js';

/** `org/name`, as the hub spells repository ids (huggingface_hub `validate_repo_id`). */
export const RepoIdSchema = z
  .string()
  .regex(/^[\w.-]{1,96}\/[\w.-]{1,96}$/, 'a repository id is "organisation/name"')
  .refine((s) => !s.includes('--') && !s.includes('..'), 'a repository id cannot contain "--" or ".."');

const SiblingSchema = z.object({
  rfilename: z.string().min(1),
  size: z.number().int().nonnegative().optional(),
  blobId: z.string().optional(),
  lfs: z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), size: z.number().int().nonnegative() }).passthrough().optional(),
});

const ModelInfoSchema = z.object({
  id: z.string().optional(),
  sha: z.string().regex(/^[0-9a-f]{40}$/),
  gated: z.union([z.boolean(), z.string()]).optional(),
  private: z.boolean().optional(),
  siblings: z.array(SiblingSchema),
});

/** One file of a repository at a commit. */
export interface HubFile {
  /** Path inside the repository, `/`-separated. */
  readonly path: string;
  readonly size: number;
  /** sha256 of the content for LFS files (what the download is checked against); null for plain git files. */
  readonly sha256: string | null;
  /** git blob id (sha1 of `blob <size>\0<content>`) of plain git files; null for LFS files. */
  readonly gitBlobId: string | null;
}

/** The hub cache's name for the file's blob: the LFS sha256, else the git blob id (as huggingface_hub's etag). */
export function blobName(file: HubFile): string {
  return file.sha256 ?? file.gitBlobId ?? '';
}

export interface RepoSnapshot {
  readonly repo: string;
  /** What was asked for: a branch, tag or commit. */
  readonly revision: string;
  /** The commit the revision resolved to. */
  readonly commit: string;
  readonly files: readonly HubFile[];
}

export interface HubRequestOptions {
  readonly config: HubConfig;
  readonly agent?: Dispatcher;
  readonly signal?: AbortSignal;
}

/** Headers for requests to the hub itself: the token when there is one. */
export function hubHeaders(config: HubConfig): Record<string, string> {
  return {
    'user-agent': 'segearth-desktop',
    ...(config.token ? { authorization: `Bearer ${config.token}` } : {}),
  };
}

/** `{endpoint}/{repo}/resolve/{revision}/{path}` with each part URL-quoted. */
export function resolveUrl(config: HubConfig, repo: string, revision: string, file: string): string {
  const quoted = file.split('/').map(encodeURIComponent).join('/');
  return `${config.endpoint}/${repo}/resolve/${encodeURIComponent(revision)}/${quoted}`;
}

/** The page of a repository, for messages. */
export function repoPage(config: HubConfig, repo: string): string {
  return `${config.endpoint}/${repo}`;
}

/** The commit and the file list (with checksums) of `repo` at `revision`. */
export async function fetchRepoSnapshot(repo: string, revision: string, options: HubRequestOptions): Promise<RepoSnapshot> {
  const { config } = options;
  const url = `${config.endpoint}/api/models/${repo}/revision/${encodeURIComponent(revision)}?blobs=true`;
  let res: HttpResponse;
  try {
    res = await httpGet(url, {
      headers: { ...hubHeaders(config), accept: 'application/json' },
      ...(options.agent ? { agent: options.agent } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (err) {
    if (options.signal?.aborted) throw err;
    throw unreachable(config, err);
  }
  if (res.status !== 200) {
    const err = await hubHttpError(res, config, repo, revision);
    res.discard();
    throw err;
  }
  let info: z.infer<typeof ModelInfoSchema>;
  try {
    info = ModelInfoSchema.parse(JSON.parse(await res.text()));
  } catch (err) {
    throw new SegEarthError('DOWNLOAD_FAILED', `${config.endpoint} did not answer like a model hub for ${repo} (${(err as Error).message.slice(0, 200)}).`, {
      hint: 'Check HF_ENDPOINT: it must be the address of the Hugging Face hub or of a mirror of it.',
      cause: err,
    });
  }
  const files = info.siblings.map((s): HubFile => {
    const size = s.lfs?.size ?? s.size;
    if (size === undefined || (!s.lfs && !s.blobId)) {
      throw new SegEarthError('DOWNLOAD_FAILED', `${config.endpoint} gave no size or checksum for ${repo}/${s.rfilename}.`, {
        hint: 'The hub (or the mirror in HF_ENDPOINT) must answer /api/models/…?blobs=true with file sizes and LFS sha256.',
      });
    }
    return { path: s.rfilename, size, sha256: s.lfs?.sha256 ?? null, gitBlobId: s.lfs ? null : (s.blobId ?? null) };
  });
  return { repo, revision, commit: info.sha, files };
}

/** The error for a non-2xx answer of the hub, from its status and `X-Error-Code` / `X-Error-Message` headers. */
export async function hubHttpError(res: HttpResponse, config: HubConfig, repo: string, revision: string, file?: string): Promise<SegEarthError> {
  const code = res.header('x-error-code');
  const serverMessage = res.header('x-error-message');
  const page = repoPage(config, repo);
  const where = file ? `${repo}/${file} (revision ${revision})` : `${repo} (revision ${revision})`;
  const server = serverMessage ? ` The hub said: "${serverMessage}".` : '';
  if (code === 'GatedRepo' || res.status === 401 || res.status === 403) {
    if (!config.token) {
      return new SegEarthError('DOWNLOAD_FAILED', `${config.endpoint} refused ${where} without a token (HTTP ${res.status}): the repository is gated or private.${server}`, {
        hint: `Sign in at ${page}, accept its conditions if asked, create a read token at ${config.endpoint}/settings/tokens, then set HF_TOKEN=<token> (or run \`hf auth login\`) and run the same command again.`,
      });
    }
    return new SegEarthError('DOWNLOAD_FAILED', `${config.endpoint} refused ${where} with the token from ${config.tokenSource} (HTTP ${res.status}).${server}`, {
      hint: code === 'GatedRepo' || res.status === 403
        ? `Request access to the repository at ${page} with the account of that token, or use a token of an account that has access.`
        : `The token is invalid or expired: create a new read token at ${config.endpoint}/settings/tokens and set HF_TOKEN.`,
    });
  }
  if (res.status === 404) {
    if (code === 'RevisionNotFound') {
      return new SegEarthError('DOWNLOAD_FAILED', `${repo} has no revision "${revision}" on ${config.endpoint}.${server}`, {
        hint: `Use a branch, tag or commit that exists (see ${page}/tree/main), or leave out --revision for "main".`,
      });
    }
    if (code === 'EntryNotFound' && file) {
      return new SegEarthError('DOWNLOAD_FAILED', `${repo} has no file ${file} at revision ${revision}.${server}`, {
        hint: 'The file list changed while downloading; run the same command again.',
      });
    }
    return new SegEarthError('DOWNLOAD_FAILED', `${config.endpoint} has no model repository "${repo}".${server}`, {
      hint: `Check the name (released checkpoints: earth-insights/SegEarth-R1-EarthReason, earth-insights/SegEarth-R1-RRSIS-D; or the shortcuts earthreason, rrsis-d). A private repository also answers "not found" without HF_TOKEN.`,
    });
  }
  return new SegEarthError('DOWNLOAD_FAILED', `${config.endpoint} answered HTTP ${res.status} ${res.statusMessage} for ${where}.${server}`.replace(/ \./, '.'), {
    hint: 'The hub may be busy or down: try again later.',
  });
}

const unreachableErrors = new WeakSet<SegEarthError>();

/** Whether `err` says the hub could not be reached at all (then a cached snapshot may serve). */
export function isHubUnreachable(err: unknown): boolean {
  return err instanceof SegEarthError && unreachableErrors.has(err);
}

/** The error for a hub that cannot be reached at all (offline, DNS, proxy, firewall). */
export function unreachable(config: HubConfig, err: unknown): SegEarthError {
  const e = new SegEarthError('DOWNLOAD_FAILED', `Cannot reach the model hub at ${config.endpoint} (${describeNetworkError(err)}).`, {
    hint:
      'Check the network connection. Behind a proxy, set HTTPS_PROXY (and NO_PROXY for local hosts); to use a mirror, set HF_ENDPOINT. ' +
      'On a machine without internet, download the checkpoint elsewhere and use `segearth models convert <folder> --install`.',
    cause: err,
  });
  unreachableErrors.add(e);
  return e;
}
