import Foundation

/// One writer per `tiles/<tileset>`: a container install (ingest queue) and a publish job or
/// retirement (publish queue) that name the same tileset take turns instead of racing.
///
/// Both run in this process, so an in-process table of held names guarded by a condition is
/// enough (the root's `tiledrop.lock` already keeps a second daemon out). A waiter re-checks
/// every 200 ms whether it must give up (shutdown, cancel), so waiting never wedges a queue.
final class TilesetWriterLock: @unchecked Sendable {
    /// Who holds a tileset, for the waiter's log line.
    private var holders: [String: String] = [:]
    private let condition = NSCondition()

    /// Runs `body` while holding `tileset`. When another writer holds it, `onWait` is called
    /// once with that writer's description, then this waits; `shouldGiveUp` is asked every
    /// 200 ms and its error, if it throws, ends the wait without running `body`.
    func withTileset<T>(_ tileset: String, as writer: String, onWait: (String) -> Void = { _ in },
                        shouldGiveUp: () throws -> Void = {}, _ body: () throws -> T) throws -> T {
        condition.lock()
        var reported = false
        while let holder = holders[tileset] {
            if !reported {
                reported = true
                condition.unlock()
                onWait(holder)
                condition.lock()
                continue
            }
            condition.unlock()
            try shouldGiveUp()
            condition.lock()
            if holders[tileset] != nil { _ = condition.wait(until: Date().addingTimeInterval(0.2)) }
        }
        holders[tileset] = writer
        condition.unlock()
        defer {
            condition.lock()
            holders[tileset] = nil
            condition.broadcast()
            condition.unlock()
        }
        return try body()
    }
}
