import SystemSupport

/// Watches `drop/` with inotify and decides when a dropped file is ready to ingest.
///
/// Readiness (issue 5): a file arrives by rename (`IN_MOVED_TO`), close-after-write
/// (`IN_CLOSE_WRITE`) or link (`IN_CREATE`), then must stay unchanged in size and mtime for
/// the settle period on the monotonic clock; a file modified since its last close-after-write
/// is still being written and is left alone. Watches are added before scanning, so nothing
/// slips between the two. `IN_Q_OVERFLOW` means events were lost: everything is rescanned.
/// Folders that cannot be watched (watch limits, remote filesystems) are scanned periodically.
/// Owned by the event-loop thread only.
final class DropWatcher {
    private struct WatchedFolder {
        var path: String
        /// The map id (`DropNames.mapID`); nil for `drop/` itself.
        var map: String?
        /// The map's folder name under `drop/`, which is also its title.
        var title: String = ""
        var group: String?
        var mode: DropCandidate.Mode
    }

    private struct Pending {
        var candidate: DropCandidate
        var lastChange: Double
        var beingWritten: Bool
    }

    let dropDir: String
    var settleSeconds: Double
    private let inotify: Inotify
    private let fileSystem: FileSystem
    private let logger: Logger
    private var watches: [Int32: WatchedFolder] = [:]
    private var pending: [String: Pending] = [:]
    /// Folders scanned by polling because inotify cannot watch them.
    private var polledFolders: [String: WatchedFolder] = [:]
    /// Problems an operator should see in the status (map id collisions, unwritable map
    /// folders, polling fallbacks, files dropped outside a map), by folder or file path.
    private(set) var warnings: [String: String] = [:]
    /// Map id → the folder name that holds it, to report two folders with the same id.
    private var mapFolders: [String: String] = [:]
    /// Map folders the daemon cannot write (no work folder, no claiming): their files wait.
    private var unwritable: Set<String> = []
    /// True while `drop/` itself is renamed away: nothing is watched, and the
    /// daemon waits for it to come back instead of re-creating it under the user's feet.
    private(set) var waitingForDropFolder = false

    init(dropDir: String, settleSeconds: Double, fileSystem: FileSystem, logger: Logger) throws(SystemError) {
        self.dropDir = dropDir
        self.settleSeconds = settleSeconds
        self.fileSystem = fileSystem
        self.logger = logger
        inotify = try Inotify()
    }

    var fileDescriptor: Int32 { inotify.fileDescriptor }

    /// The maps (first-level folders of `drop/`) currently watched or polled.
    var maps: [String] {
        let all = watches.values.compactMap { $0.group == nil && $0.mode == .append ? $0.map : nil }
            + polledFolders.values.compactMap { $0.group == nil && $0.mode == .append ? $0.map : nil }
        return Array(Set(all)).sorted()
    }

    var pendingCount: Int { pending.count }

    /// The folders scanned by polling because inotify cannot watch them.
    var polledFolderPaths: [String] { polledFolders.keys.sorted() }

    /// Adds every watch, then scans every folder (files already present count as drops).
    func start(now: Double) throws(SystemError) {
        try fileSystem.createDirectories(dropDir)
        unwatchAll()
        waitingForDropFolder = false
        warnings[dropDir] = nil
        let wd = try inotify.addWatch(dropDir, mask: [.create, .movedTo, .closeWrite, .modify, .deleteSelf, .moveSelf, .onlyDirectory])
        watches[wd] = WatchedFolder(path: dropDir, map: nil, group: nil, mode: .append)
        try rescan(now: now)
    }

    /// Full scan: discovers new map and group folders and notes every file in them.
    func rescan(now: Double) throws(SystemError) {
        guard !waitingForDropFolder else { return }
        let known = Set(watches.values.map(\.path)).union(polledFolders.keys)
        for (id, name) in mapFolders where (try? fileSystem.status(dropDir + "/" + name))??.kind != .directory {
            mapFolders[id] = nil
        }
        renameInvalidNames(in: dropDir)
        for name in try fileSystem.list(dropDir) where !name.hasPrefix(".") {
            let path = dropDir + "/" + name
            guard try fileSystem.status(path)?.kind == .directory else {
                if let root = folder(at: dropDir), pending[path] == nil { note(path, in: root, now: now, writing: false) }
                continue
            }
            if !known.contains(path) { addMapFolder(name, now: now) } else {
                checkWritable(path, name: name)
                scanFolder(folder(at: path), now: now)
            }
            renameInvalidNames(in: path)
            for groupName in (try? fileSystem.list(path)) ?? [] where !groupName.hasPrefix(".") {
                let groupPath = path + "/" + groupName
                guard (try? fileSystem.status(groupPath))?.kind == .directory else { continue }
                if !known.contains(groupPath) { addGroupFolder(folder: name, group: groupName, now: now) }
                else { scanFolder(folder(at: groupPath), now: now) }
            }
        }
    }

    /// Scans only the folders inotify cannot watch, and watches `drop/` again once it is back.
    func scanPolledFolders(now: Double) {
        if waitingForDropFolder {
            guard (try? fileSystem.status(dropDir))??.kind == .directory else { return }
            logger.info("the drop folder \(dropDir) is back; watching it again")
            do { try start(now: now) } catch { logger.error("cannot watch \(dropDir) again: \(error); retrying") }
            return
        }
        for f in polledFolders.values { scanFolder(f, now: now) }
    }

    /// `drop/` was renamed away: forget every watch and pending file (their paths
    /// are no longer where they were) and wait; the folder is not re-created, so a user moving
    /// it and back never finds a stray new `drop/` with files going to the wrong place.
    private func dropFolderGone() {
        unwatchAll()
        pending.removeAll()
        mapFolders.removeAll()
        waitingForDropFolder = true
        report(dropDir, "the drop folder \(dropDir) was moved away; nothing is ingested until it is back (tiledrop does not re-create it; move it back or mkdir it)", error: true)
    }

    private func unwatchAll() {
        for wd in watches.keys { inotify.removeWatch(wd) }
        watches.removeAll()
        polledFolders.removeAll()
    }

    /// Reads and applies all pending inotify events.
    func handleEvents(now: Double) throws(SystemError) {
        for event in try inotify.readEvents() {
            if event.mask.contains(.queueOverflow) {
                logger.warning("inotify queue overflowed; rescanning every drop folder")
                // Close events may have been lost: let the settle period alone decide readiness.
                for path in pending.keys { pending[path]?.beingWritten = false }
                try rescan(now: now)
                continue
            }
            guard let folder = watches[event.watch] else { continue }
            if event.mask.contains(.ignored) {
                watches[event.watch] = nil
                continue
            }
            if event.mask.contains(.deleteSelf) || event.mask.contains(.moveSelf) {
                inotify.removeWatch(event.watch)
                watches[event.watch] = nil
                if folder.path == dropDir {
                    if event.mask.contains(.moveSelf) {
                        dropFolderGone()
                    } else if !waitingForDropFolder {
                        // Deleted (not moved): nobody is bringing it back, so an empty one is made.
                        logger.warning("the drop folder \(dropDir) was deleted; re-creating it")
                        try start(now: now)
                    }
                }
                continue
            }
            guard !event.name.isEmpty, !event.name.hasPrefix(".") else { continue }
            if event.name.unicodeScalars.contains("\u{FFFD}") {
                // Possibly a name that is not UTF-8 (a file, or a map or group folder): it is
                // renamed, and the rename's own event brings it back under its escaped name.
                renameInvalidNames(in: folder.path)
                if folder.map != nil && !event.mask.contains(.isDirectory) { scanFolder(folder, now: now) }
                continue
            }
            let path = folder.path + "/" + event.name
            if event.mask.contains(.isDirectory) {
                if event.mask.contains(.create) || event.mask.contains(.movedTo) {
                    if folder.map == nil { addMapFolder(event.name, now: now) }
                    else if folder.group == nil && folder.mode == .append {
                        addGroupFolder(folder: folder.title, group: event.name, now: now)
                    }
                }
                continue
            }
            if event.mask.contains(.modify) {
                note(path, in: folder, now: now, writing: true)
            } else if event.mask.contains(.closeWrite) || event.mask.contains(.movedTo) {
                note(path, in: folder, now: now, writing: false)
            } else if event.mask.contains(.create) || event.mask.contains(.attrib) {
                note(path, in: folder, now: now, writing: pending[path]?.beingWritten ?? false)
            }
        }
    }

    /// Files whose settle period has passed unchanged; they leave the pending set.
    func takeReady(now: Double) -> [DropCandidate] {
        var ready: [DropCandidate] = []
        for (path, p) in pending where now - p.lastChange >= settleSeconds && !p.beingWritten
            && !unwritable.contains(dropDir + "/" + p.candidate.title) {
            guard let status = try? fileSystem.status(path), status.kind != .directory else {
                pending[path] = nil
                continue
            }
            if status != p.candidate.status || (status.kind == .regular && status.size == 0) {
                pending[path]?.candidate.status = status
                pending[path]?.lastChange = now
                continue
            }
            pending[path] = nil
            ready.append(p.candidate)
        }
        return ready.sorted { $0.path < $1.path }
    }

    /// When the next pending file could become ready, for the event loop's poll timeout.
    func nextDeadline() -> Double? {
        pending.values.filter { !$0.beingWritten }.map { $0.lastChange + settleSeconds }.min()
    }

    /// Forgets a path (e.g. after it was claimed) so its events do not resurrect it.
    func forget(_ path: String) { pending[path] = nil }

    /// Tracks a file; one directly in `drop/` becomes a candidate without a map (`misplaced`).
    private func note(_ path: String, in folder: WatchedFolder, now: Double, writing: Bool) {
        let map = folder.map ?? ""
        let name = FileSystem.name(of: path)
        guard !DropNames.isIgnored(name) else { return }
        guard let status = try? fileSystem.status(path), status.kind != .directory else {
            pending[path] = nil
            return
        }
        if var p = pending[path] {
            if p.candidate.status != status || writing { p.lastChange = now }
            p.candidate.status = status
            p.beingWritten = writing
            pending[path] = p
        } else {
            let c = DropCandidate(path: path, map: map, title: folder.title, group: folder.group, mode: folder.mode, name: name, status: status)
            pending[path] = Pending(candidate: c, lastChange: now, beingWritten: writing)
        }
    }

    private func scanFolder(_ folder: WatchedFolder?, now: Double) {
        guard let folder else { return }
        renameInvalidNames(in: folder.path)
        guard let names = try? fileSystem.list(folder.path) else { return }
        for name in names where !DropNames.isIgnored(name) {
            let path = folder.path + "/" + name
            if pending[path] == nil { note(path, in: folder, now: now, writing: false) }
        }
    }

    /// Gives files and folders whose names are not valid UTF-8 an escaped UTF-8 name
    /// (`caf\xE9.kml` → `caf%E9.kml`, a map folder `caf\xE9/` → `caf%E9/`), so they are
    /// ingested once under that name instead of being invisible.
    private func renameInvalidNames(in folder: String) {
        for raw in (try? RawNames.invalidNames(in: folder)) ?? [] {
            var name = RawNames.escaped(raw)
            var n = 1
            while (try? fileSystem.status(folder + "/" + name)) != nil {
                name = RawNames.escaped(raw) + ".\(n)"
                n += 1
            }
            do {
                try RawNames.rename(raw, in: folder, to: name)
                logger.warning("\(folder)/\(name): the name was not valid UTF-8; renamed (bad bytes as %XX) so it can be ingested")
            } catch {
                logger.error("cannot rename the non-UTF-8 name \(name) in \(folder): \(error)")
            }
        }
    }

    private func folder(at path: String) -> WatchedFolder? {
        watches.values.first { $0.path == path } ?? polledFolders[path]
    }

    /// A new folder under `drop/` becomes a map whose title is the folder name and whose id is
    /// `DropNames.mapID` of it, unless another folder already has that id.
    private func addMapFolder(_ name: String, now: Double) {
        let path = dropDir + "/" + name
        let id = DropNames.mapID(forFolder: name)
        if let other = mapFolders[id], other != name {
            report(path, "drop/\(name) and drop/\(other) would both be map '\(id)'; the files in drop/\(name) are not ingested until one folder is renamed", error: true)
            return
        }
        mapFolders[id] = name
        warnings[path] = nil
        checkWritable(path, name: name)
        watch(WatchedFolder(path: path, map: id, title: name, group: nil, mode: .append), now: now)
        renameInvalidNames(in: path)
        for groupName in (try? fileSystem.list(path)) ?? [] where !groupName.hasPrefix(".") {
            if (try? fileSystem.status(path + "/" + groupName))?.kind == .directory {
                addGroupFolder(folder: name, group: groupName, now: now)
            }
        }
    }

    private func addGroupFolder(folder name: String, group: String, now: Double) {
        let path = dropDir + "/" + name + "/" + group
        guard let map = folder(at: dropDir + "/" + name)?.map else { return }
        let isReplace = group == DropNames.replaceFolder
        watch(WatchedFolder(path: path, map: map, title: name, group: isReplace ? nil : group, mode: isReplace ? .replace : .append), now: now)
    }

    /// The daemon claims a file by renaming it into `<map folder>/.tiledrop/`: a map folder it
    /// cannot write (created with umask 022 by someone else, no default ACL) is reported once,
    /// with the fix, and its files wait until the next scan finds it writable.
    private func checkWritable(_ path: String, name: String) {
        let key = path + " (permissions)"
        if fileSystem.canModifyDirectory(path) {
            if unwritable.remove(path) != nil {
                warnings[key] = nil
                logger.info("drop/\(name) is writable now; its files are ingested")
            }
            return
        }
        unwritable.insert(path)
        report(key, "drop/\(name) is not writable by the tiledrop daemon, so it cannot create its work folder \(path)/\(DropNames.workFolder) and the files stay where they are. Fix: chmod g+w '\(path)' (and make sure the folder's group is the daemon's group); the default ACL on drop/ (systemd/tiledrop.tmpfiles) prevents this for new folders", error: true)
    }

    /// Records a status warning for `key` and logs it once, when it is new or changed.
    private func report(_ key: String, _ message: String, error: Bool) {
        guard warnings[key] != message else { return }
        warnings[key] = message
        if error { logger.error(message) } else { logger.warning(message) }
    }

    private func watch(_ folder: WatchedFolder, now: Double) {
        let mask: InotifyMask = [.closeWrite, .movedTo, .create, .modify, .attrib, .deleteSelf, .moveSelf, .onlyDirectory]
        if (try? fileSystem.isRemoteFilesystem(folder.path)) == true {
            polledFolders[folder.path] = folder
            warnings[folder.path] = "\(folder.path) is on a network filesystem where inotify sees no remote changes; it is scanned periodically instead"
        } else {
            do {
                let wd = try inotify.addWatch(folder.path, mask: mask)
                watches[wd] = folder
            } catch {
                polledFolders[folder.path] = folder
                warnings[folder.path] = "cannot watch \(folder.path) (\(error.message)); it is scanned periodically instead. Raise fs.inotify.max_user_watches if the limit was reached"
                logger.warning(warnings[folder.path]!)
            }
        }
        scanFolder(folder, now: now)
    }
}
