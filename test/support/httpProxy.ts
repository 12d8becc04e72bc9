/**
 * @module test/support/httpProxy
 * A tiny HTTP proxy for tests: CONNECT tunnels (what undici's ProxyAgent uses, for http and https targets)
 * and plain forward requests (`GET http://host/path`), recording each so a test can tell that traffic went
 * through it. Optional Basic proxy authentication (`user:password`): without it the proxy answers 407.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';

export interface TestProxy {
  /** `http://127.0.0.1:<port>` (with `user:password@` when authentication is required). */
  readonly url: string;
  /** `host:port` of every CONNECT tunnel opened. */
  readonly tunnels: string[];
  /** Absolute URLs of forwarded requests. */
  readonly forwarded: string[];
  /** Requests refused for missing or wrong credentials. */
  readonly refused: number;
  close(): Promise<void>;
}

export async function startProxy(options: { auth?: string } = {}): Promise<TestProxy> {
  const tunnels: string[] = [];
  const forwarded: string[] = [];
  let refused = 0;
  const sockets = new Set<Socket>();
  const expected = options.auth ? `Basic ${Buffer.from(options.auth).toString('base64')}` : undefined;
  const server: Server = createServer((req, res) => {
    if (expected && req.headers['proxy-authorization'] !== expected) {
      refused++;
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="test"' }).end();
      return;
    }
    forwarded.push(req.url ?? '');
    const target = new URL(req.url ?? '');
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const up = httpRequest(target, { method: req.method, headers }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.on('connect', (req, client: Socket, head: Buffer) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    if (expected && req.headers['proxy-authorization'] !== expected) {
      refused++;
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\n\r\n');
      return;
    }
    tunnels.push(req.url ?? '');
    const [host, port] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host ?? '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${options.auth ? `${options.auth}@` : ''}127.0.0.1:${port}`,
    tunnels,
    forwarded,
    get refused() {
      return refused;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
