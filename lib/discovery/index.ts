export type { DiscoveryProvider } from './provider.js';
export { zooKeeperDiscovery } from './zookeeper.js';
export { ZooKeeperStore, type ZooKeeperStoreOptions, type ZnodeListener } from './zookeeper-store.js';
export { dnsSrvDiscovery, type DnsSrvDiscoveryOptions, type SrvTarget } from './dns-srv.js';
export { parseNodesDocument, formatNodesDocument, type NodesDocument } from '../core/nodes-document.js';
export { watchConfig } from '../config/watch-config.js';
export { LIVE_OPTIONS } from '../config/live-options.js';
export type { ConfigSource } from '../config/config-source.js';
