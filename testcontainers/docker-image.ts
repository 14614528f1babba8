/**
 * Images for container nodes. Where no registry answers (air-gapped CI, our
 * build machine), a tiny image is built locally from the host's own
 * `redis-server` and the shared libraries `ldd` lists for it (≈18 MB,
 * `FROM scratch`, no pull). Where the configured image exists locally it is
 * used as is; any other name is pulled by the runtime as usual.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { ClusterEngineError } from '../lib/errors.js';
import { dockerClient } from './docker.js';
import { findRedisServer } from './redis-binary.js';

/** Name of the image built from the local redis-server when it is absent. */
export const LOCAL_REDIS_IMAGE = 'slotwise/redis-server:local';

const run = promisify(execFile);
const building = new Map<string, Promise<void>>();

/** Absolute paths of the shared libraries (and the loader) `ldd` lists for `bin`. */
async function sharedLibraries(bin: string): Promise<string[]> {
  let out: string;
  try {
    out = (await run('ldd', [bin], { encoding: 'utf8', timeout: 10_000 })).stdout;
  } catch (err) {
    throw new ClusterEngineError(`cannot list the libraries of ${bin} with ldd (needed to build ${LOCAL_REDIS_IMAGE}): ${(err as Error).message}`, { cause: err });
  }
  const paths = new Set<string>();
  for (const line of out.split('\n')) {
    // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)" or "/lib64/ld-linux-x86-64.so.2 (0x…)"
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (m?.[1] !== undefined) paths.add(m[1]);
  }
  if (paths.size === 0) throw new ClusterEngineError(`ldd listed no libraries for ${bin}; is it a dynamically linked Linux binary?`);
  return [...paths];
}

/**
 * Builds `name` (default {@link LOCAL_REDIS_IMAGE}) from a local redis-server:
 * the binary (as `/usr/bin/redis-server`, whatever symlink it is reached by —
 * Redis picks its mode from argv[0]) and its libraries at the paths `ldd`
 * printed. Linux only.
 */
export async function buildLocalRedisImage(name = LOCAL_REDIS_IMAGE, bin?: string): Promise<void> {
  const server = await findRedisServer(bin);
  const context = mkdtempSync(join(tmpdir(), 'slotwise-image-'));
  try {
    const put = (from: string, to: string) => {
      mkdirSync(join(context, dirname(to)), { recursive: true });
      copyFileSync(realpathSync(from), join(context, to));
    };
    put(server.path, '/usr/bin/redis-server');
    for (const lib of await sharedLibraries(server.path)) put(lib, lib);
    mkdirSync(join(context, 'data'));
    writeFileSync(
      join(context, 'Dockerfile'),
      ['FROM scratch', 'COPY . /', 'ENV PATH=/usr/bin:/bin', 'WORKDIR /data', 'CMD ["redis-server"]', ''].join('\n'),
    );
    const client = await dockerClient();
    await client.image.build(context, { t: name, labels: { 'org.slotwise.image': 'redis-server-local' } } as never);
    if (!(await imageExists(name))) throw new ClusterEngineError(`building ${name} reported success but the image is absent`);
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

async function imageExists(name: string): Promise<boolean> {
  const client = await dockerClient();
  try {
    await client.container.dockerode.getImage(name).inspect();
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes sure `image` exists locally: {@link LOCAL_REDIS_IMAGE} is built from
 * the local redis-server when absent; other images are pulled when absent.
 * Single-flight per image within this process.
 */
export function ensureImage(image: string, bin?: string): Promise<void> {
  let p = building.get(image);
  if (p === undefined) {
    p = (async () => {
      if (await imageExists(image)) return;
      if (image === LOCAL_REDIS_IMAGE) return buildLocalRedisImage(image, bin);
      const client = await dockerClient();
      const stream = await client.container.dockerode.pull(image);
      await new Promise<void>((resolve, reject) =>
        client.container.dockerode.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve())),
      );
    })().catch((err: unknown) => {
      building.delete(image);
      throw err instanceof ClusterEngineError ? err : new ClusterEngineError(`image ${image} is not available: ${(err as Error).message}`, { cause: err });
    });
    building.set(image, p);
  }
  return p;
}
