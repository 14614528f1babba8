/**
 * Container runtime detection for the optional Docker path. `testcontainers`
 * is an optional dependency and is only ever loaded here, with a dynamic
 * `import()`, so the process path never pays for it (testcontainers 12 needs
 * Node ≥ 22; we pin ^11). A `docker` binary on PATH proves nothing: only
 * testcontainers' own runtime strategies (DOCKER_HOST, ~/.testcontainers.properties,
 * the Unix socket, rootless sockets) decide.
 */

/** Result of {@link detectContainerRuntime}. */
export type ContainerRuntimeStatus =
  | {
    /** A runtime answered. */
    readonly available: true;
    /** Which runtime, as testcontainers describes it. */
    readonly description: string;
  }
  | {
    /** No runtime answered. */
    readonly available: false;
    /** Why not. */
    readonly reason: string;
  };

let cached: Promise<ContainerRuntimeStatus> | undefined;

/**
 * Asks testcontainers whether a container runtime is reachable. Never throws;
 * the answer is cached for the process (testcontainers caches it too).
 */
export function detectContainerRuntime(): Promise<ContainerRuntimeStatus> {
  cached ??= detect();
  return cached;
}

async function detect(): Promise<ContainerRuntimeStatus> {
  let tc: { getContainerRuntimeClient: () => Promise<{ info: { containerRuntime: { host: string; serverVersion: unknown } } }> };
  try {
    tc = (await import('testcontainers')) as unknown as typeof tc;
  } catch (err) {
    return { available: false, reason: `the optional dependency "testcontainers" could not be loaded (${(err as Error).message.split('\n')[0]})` };
  }
  try {
    const client = await tc.getContainerRuntimeClient();
    const { host, serverVersion } = client.info.containerRuntime;
    return { available: true, description: `runtime ${String(serverVersion)} at ${host}` };
  } catch (err) {
    return {
      available: false,
      reason: `testcontainers found no container runtime: ${(err as Error).message} (checked DOCKER_HOST, ~/.testcontainers.properties and the Docker sockets)`,
    };
  }
}
