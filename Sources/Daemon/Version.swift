/// The daemon: config, watcher, ingest, publish queue, status server.
public enum DaemonInfo { public static let version = "0.1.0" }
