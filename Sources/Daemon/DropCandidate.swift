import SystemSupport

/// A file found in a drop folder, with where it goes: its map, its group, and the mode.
struct DropCandidate: Sendable, Hashable {
    /// How a drop changes its map's source (MTS: append to or replace a tileset source).
    ///
    /// `rewrite` is a changeset's rewrite of the whole source (only the daemon writes one): it
    /// replaces the source like `replace`, and its lines keep the `tiledrop_id` they carry.
    enum Mode: String, Sendable { case append, replace, rewrite }

    var path: String
    /// The map id; empty for a file dropped directly into `drop/` (see `isMisplaced`).
    var map: String
    /// The map's folder name under `drop/` (its title).
    var title: String
    var group: String?
    var mode: Mode
    var name: String
    var status: FileStatus

    /// A file dropped into `drop/` itself, outside any map folder.
    var isMisplaced: Bool { map.isEmpty }
}
