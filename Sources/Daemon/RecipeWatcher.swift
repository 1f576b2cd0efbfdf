import SystemSupport

/// Watches `recipes/` with inotify and says when it is time to look at the recipes again.
///
/// Editors write a recipe in several steps (temporary file, rename, attribute change): events
/// only mark the folder dirty, and `due(now:)` answers true once no event came for
/// `quietSeconds`, so one edit leads to one `RecipeBook.scan()`. Owned by the event loop.
final class RecipeWatcher {
    private let inotify: Inotify
    private let folder: String
    private let logger: Logger
    private var watch: Int32?
    private var dirtySince: Double?
    let quietSeconds = 0.2

    init(folder: String, logger: Logger) throws(SystemError) {
        self.folder = folder
        self.logger = logger
        inotify = try Inotify()
        addWatch()
    }

    var fileDescriptor: Int32 { inotify.fileDescriptor }

    /// Reads pending events; any change to the folder's entries marks it dirty.
    func handleEvents(now: Double) {
        let events = (try? inotify.readEvents()) ?? []
        for event in events {
            if event.mask.contains(.ignored) || event.mask.contains(.deleteSelf) || event.mask.contains(.moveSelf) {
                watch = nil
            }
        }
        if !events.isEmpty { dirtySince = now }
        if watch == nil { addWatch() }
    }

    /// When the event loop should call `due` next (nil when nothing is pending).
    var deadline: Double? { dirtySince.map { $0 + quietSeconds } }

    /// True once the folder changed and then stayed quiet; resets the dirty mark.
    func due(now: Double) -> Bool {
        guard let since = dirtySince, now - since >= quietSeconds else { return false }
        dirtySince = nil
        return true
    }

    private func addWatch() {
        do {
            watch = try inotify.addWatch(folder, mask: [.closeWrite, .movedTo, .movedFrom, .create, .delete, .attrib,
                                                        .deleteSelf, .moveSelf, .onlyDirectory])
        } catch {
            // The safety scan still reads the recipes every scan_interval_seconds.
            logger.warning("cannot watch \(folder) (\(error)); recipe changes are picked up by the periodic scan only")
        }
    }
}
