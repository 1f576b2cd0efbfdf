import SystemSupport

/// A file found in a drop folder, with where it goes: its map, its group, and the mode.
struct DropCandidate: Sendable, Hashable {
    /// How a drop changes its map's source (MTS: append to or replace a tileset source).
    enum Mode: String, Sendable { case append, replace }

    var path: String
    var map: String
    var group: String?
    var mode: Mode
    var name: String
    var status: FileStatus
}
