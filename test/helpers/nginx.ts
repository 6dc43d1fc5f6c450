// A real web server for the tests that serve a published repository: nginx
// from Debian's own .deb (unpacked, not installed: no service of the machine
// starts or changes), one process with its own configuration on 127.0.0.1,
// logging every request with the bytes it sent, stopped by its process id.

import { execa, type ResultPromise } from 'execa';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './guest.js';

export interface Served {
  path: string;
  status: number;
  bytes: number;
}

export interface Nginx {
  url: string;
  pid: number;
  /** Every request served so far, in order. */
  log(): Served[];
  stop(): Promise<void>;
}

/** Serves ROOT (and its subdirectories) over HTTP; DIR holds the server's own files. */
export async function startNginx(nginxDeb: string, root: string, dir: string): Promise<Nginx> {
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  await execa('dpkg-deb', ['-x', nginxDeb, join(dir, 'pkg')]);
  const port = await freePort();
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `${k}_temp_path ${join(dir, 'tmp', k)};`).join(' ');
  writeFileSync(
    join(dir, 'nginx.conf'),
    `daemon off;
master_process off;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')};
events { worker_connections 1024; }
http {
  log_format bytes '$uri $status $body_bytes_sent';
  access_log ${join(dir, 'access.log')} bytes;
  default_type application/octet-stream;
  ${temp}
  server { listen 127.0.0.1:${port}; root ${root}; }
}
`,
  );
  writeFileSync(join(dir, 'access.log'), '');
  const server: ResultPromise = execa(join(dir, 'pkg/usr/sbin/nginx'), ['-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf')], { reject: false });
  const url = `http://127.0.0.1:${port}/`;
  for (let i = 0; ; i++) {
    if (server.exitCode !== undefined && server.exitCode !== null) throw new Error(`nginx exited: ${readFileSync(join(dir, 'error.log'), 'utf8')}`);
    const up = await fetch(url).then(() => true, () => false);
    if (up) break;
    if (i > 100) throw new Error(`nginx did not answer on ${url}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const pid = server.pid!;
  return {
    url,
    pid,
    log: () =>
      readFileSync(join(dir, 'access.log'), 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => {
          const [path, status, bytes] = l.split(' ');
          return { path: path!, status: Number(status), bytes: Number(bytes) };
        }),
    async stop() {
      process.kill(pid, 'SIGTERM');
      await server;
    },
  };
}
