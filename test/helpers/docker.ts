/**
 * The container path in tests: skip (saying why) where no container runtime
 * is reachable; otherwise use an image that needs no registry — built from
 * the local redis-server when absent (SLOTWISE_TEST_IMAGE overrides).
 */
import type { Context } from 'mocha';
import { dockerClient } from '../../testcontainers/docker.js';
import { detectContainerRuntime, LOCAL_REDIS_IMAGE } from '../../testcontainers/index.js';

/** Image for container tests. */
export const TEST_IMAGE = process.env.SLOTWISE_TEST_IMAGE ?? LOCAL_REDIS_IMAGE;

/** Skips the current test (title says why) unless a container runtime answers. */
export async function requireDocker(ctx: Context): Promise<void> {
  const rt = await detectContainerRuntime();
  if (rt.available) return;
  if (ctx.test) ctx.test.title += ` — skipped: ${rt.reason}`;
  ctx.skip();
}

/** Ids of containers (running or not) labelled as made by the engine in process `pid`. */
export async function containersOf(pid: number): Promise<string[]> {
  const docker = (await dockerClient()).container.dockerode;
  const list = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`org.slotwise.engine=${pid}`] }) });
  return list.map((c) => c.Id);
}

/** Names of networks labelled as made by the engine in process `pid`. */
export async function networksOf(pid: number): Promise<string[]> {
  const docker = (await dockerClient()).container.dockerode as unknown as {
    listNetworks(opts: Record<string, unknown>): Promise<Array<{ Name: string }>>;
  };
  const list = await docker.listNetworks({ filters: JSON.stringify({ label: [`org.slotwise.engine=${pid}`] }) });
  return list.map((n) => n.Name);
}
