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

/** The parts of testcontainers' runtime client the engine uses (structural: no static import). */
export interface DockerClient {
  readonly container: { readonly dockerode: Dockerode };
  readonly image: { build(context: string, opts: Record<string, unknown>): Promise<void> };
}

/** The bits of dockerode the engine calls. */
export interface Dockerode {
  createContainer(opts: Record<string, unknown>): Promise<DockerContainer>;
  getContainer(id: string): DockerContainer;
  getImage(name: string): { inspect(): Promise<unknown> };
  listContainers(opts: Record<string, unknown>): Promise<Array<{ Id: string; Labels: Record<string, string> }>>;
  pull(image: string): Promise<NodeJS.ReadableStream>;
  modem: {
    followProgress(stream: NodeJS.ReadableStream, done: (err: Error | null) => void): void;
    socketPath?: string;
    host?: string;
    port?: number | string;
    protocol?: string;
  };
}

/** The bits of a dockerode Container the engine calls. */
export interface DockerContainer {
  readonly id: string;
  start(): Promise<unknown>;
  kill(opts: { signal: string }): Promise<unknown>;
  pause(): Promise<unknown>;
  unpause(): Promise<unknown>;
  remove(opts: { force: boolean; v: boolean }): Promise<unknown>;
  wait(): Promise<unknown>;
  inspect(): Promise<{ State: { Running: boolean; Paused: boolean }; NetworkSettings: { IPAddress: string; Networks?: Record<string, { IPAddress: string }> } }>;
}

/** testcontainers' runtime client (loads the optional dependency). */
export async function dockerClient(): Promise<DockerClient> {
  const tc = (await import('testcontainers')) as unknown as { getContainerRuntimeClient(): Promise<DockerClient> };
  return tc.getContainerRuntimeClient();
}

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
