/**
 * @module inference/net/httpAgent
 * The one HTTP connection pool of the app and the CLI: an undici `EnvHttpProxyAgent`, which sends requests
 * through `HTTPS_PROXY` / `HTTP_PROXY` (lower-case names first, as curl does) except for hosts listed in
 * `NO_PROXY` (`*`, host names, `.domain` suffixes, `host:port`). Proxies are tunnelled with CONNECT; a proxy
 * URL may carry `user:password@` (sent as Basic proxy authorization).
 */
import { EnvHttpProxyAgent, type Dispatcher } from 'undici';

/** The variables that configure proxies (a subset of the environment). */
export type ProxyEnv = Readonly<Record<string, string | undefined>>;

/** An agent for the proxy settings in `env`. Read once: a changed environment needs a new agent. */
export function httpAgentFor(env: ProxyEnv): Dispatcher {
  return new EnvHttpProxyAgent({
    httpProxy: env.http_proxy ?? env.HTTP_PROXY ?? '',
    httpsProxy: env.https_proxy ?? env.HTTPS_PROXY ?? '',
    noProxy: env.no_proxy ?? env.NO_PROXY ?? '',
  });
}

let shared: Dispatcher | undefined;

/** The process-wide agent for `process.env` (created on first use). */
export function defaultHttpAgent(): Dispatcher {
  shared ??= httpAgentFor(process.env);
  return shared;
}

/** `https://user:secret@proxy:3128` → `https://proxy:3128` (for messages: never print a proxy password). */
export function proxyForDisplay(env: ProxyEnv, protocol: 'http:' | 'https:'): string | undefined {
  const raw = protocol === 'https:' ? (env.https_proxy ?? env.HTTPS_PROXY ?? env.http_proxy ?? env.HTTP_PROXY) : (env.http_proxy ?? env.HTTP_PROXY);
  if (!raw) return undefined;
  try {
    const u = new URL(raw);
    return `${u.protocol}//${u.host}`;
  } catch {
    return raw.replace(/\/\/[^@/]*@/, '//');
  }
}
