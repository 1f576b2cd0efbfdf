#if canImport(Glibc)
import Glibc
#endif
import Foundation
import GeoModel
import SystemSupport

/// One API token as stored: never the secret, only its SHA-256.
public struct TokenRecord: Sendable, Equatable {
    public var id: String
    public var owner: String
    public var scopes: [String]
    /// Hex SHA-256 of the whole token string.
    public var sha256: String
    /// Milliseconds since the epoch.
    public var created: Int64

    public func allows(_ scope: String) -> Bool { scopes.contains(scope) }

    var json: JSONValue {
        ["id": .string(id), "owner": .string(owner), "scopes": .array(scopes.map(JSONValue.string)),
         "sha256": .string(sha256), "created": .int(created)]
    }
}

/// A tokens file problem, with the file and what to do.
public struct TokenError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// The tokens file (`tokens_file`, default `ROOT/tokens`): one JSON object per line with the
/// token's id, owner, scopes and SHA-256, mode 0600, replaced atomically on every change.
///
/// Tokens are Mapbox-shaped, `tk.<base64url {"u": OWNER, "a": ID}>.<secret>`, because the
/// Mapbox CLI reads the username from the middle part. The daemon re-reads the file when it
/// changes, so `tiledrop token create` and `revoke` take effect at once.
public final class TokenStore: @unchecked Sendable {
    public let path: String
    private let fileSystem = FileSystem()
    private let lock = NSLock()
    private var cached: (status: FileStatus, byID: [String: TokenRecord])?

    public init(path: String) { self.path = path }

    /// Every stored token, oldest first.
    public func list() throws(TokenError) -> [TokenRecord] {
        try load().sorted { ($0.created, $0.id) < ($1.created, $1.id) }
    }

    /// Creates a token for `owner` with `scopes`; returns the token (shown once) and its record.
    public func create(owner: String, scopes: [String], now: Int64) throws(TokenError) -> (token: String, record: TokenRecord) {
        guard !owner.isEmpty, owner.utf8.allSatisfy({ $0 > 0x20 && $0 != UInt8(ascii: "\"") && $0 < 0x7F }) else {
            throw TokenError(message: "the owner '\(owner)' must be a plain name (letters, digits, '-', '_', '.')")
        }
        // The id is typed as an argument (`tiledrop token revoke ID`): never one starting with
        // "-", which the command line would take for an option (1 in 64 random ids would).
        var id = Base64URL.encode(Self.randomBytes(9))
        while id.hasPrefix("-") { id = Base64URL.encode(Self.randomBytes(9)) }
        var header = JSONObject()
        header["u"] = .string(owner)
        header["a"] = .string(id)
        let token = "tk." + Base64URL.encode(Array(JSONWriter.string(.object(header)).utf8)) + "." + Base64URL.encode(Self.randomBytes(32))
        let record = TokenRecord(id: id, owner: owner, scopes: scopes, sha256: Self.digest(token), created: now)
        try update { $0.append(record) }
        return (token, record)
    }

    /// Removes the token with `id` (or whose full token string is `id`); false when none matched.
    public func revoke(_ idOrToken: String) throws(TokenError) -> Bool {
        let id = Self.parse(idOrToken)?.id ?? idOrToken
        var removed = false
        try update { records in
            let before = records.count
            records.removeAll { $0.id == id }
            removed = records.count < before
        }
        return removed
    }

    /// The record of `token` when it is one of ours (constant-time digest comparison); nil otherwise.
    public func verify(_ token: String) -> TokenRecord? {
        guard let (id, _) = Self.parse(token), let records = try? current(), let record = records[id] else { return nil }
        return Self.constantTimeEqual(Array(Self.digest(token).utf8), Array(record.sha256.utf8)) ? record : nil
    }

    /// `(id, owner)` from a Mapbox-shaped token's middle part; nil when it is not one.
    static func parse(_ token: String) -> (id: String, owner: String)? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard token.utf8.count <= 512, parts.count == 3, parts[0] == "tk", let header = Base64URL.decode(parts[1]),
              let json = try? JSONParser.parse(header), let id = json["a"]?.stringValue, let owner = json["u"]?.stringValue else { return nil }
        return (id, owner)
    }

    static func digest(_ token: String) -> String {
        var h = SHA256()
        h.update(Array(token.utf8))
        return h.finalize()
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<a.count { difference |= a[i] ^ b[i] }
        return difference == 0
    }

    private static func randomBytes(_ n: Int) -> [UInt8] {
        var g = SystemRandomNumberGenerator()
        return (0..<n).map { _ in UInt8.random(in: 0...255, using: &g) }
    }

    /// The records by id, re-read when the file's inode, size or mtime changed.
    private func current() throws(TokenError) -> [String: TokenRecord] {
        let status = try? fileSystem.status(path)
        lock.lock()
        defer { lock.unlock() }
        if let cached, let status, cached.status == status { return cached.byID }
        guard let status else {
            cached = nil
            return [:]
        }
        let records = try load()
        let byID = Dictionary(records.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        cached = (status, byID)
        return byID
    }

    private func load() throws(TokenError) -> [TokenRecord] {
        guard let status = try? fileSystem.status(path) else { return [] }
        guard status.kind == .regular else { throw TokenError(message: "\(path) is not a regular file; remove it and create tokens again") }
        let bytes: [UInt8]
        do { bytes = try fileSystem.readFile(path, maxBytes: 16 << 20) } catch {
            throw TokenError(message: "cannot read the tokens file: \(error)")
        }
        var records: [TokenRecord] = []
        for (index, line) in bytes.split(separator: 0x0A).enumerated() {
            guard let o = try? JSONParser.parse(Array(line)), let id = o["id"]?.stringValue, let owner = o["owner"]?.stringValue,
                  let digest = o["sha256"]?.stringValue, digest.utf8.count == 64 else {
                throw TokenError(message: "\(path) line \(index + 1) is not a token record; fix or remove that line (tiledrop token list shows the valid ones)")
            }
            let scopes = o["scopes"]?.arrayValue?.compactMap(\.stringValue) ?? []
            records.append(TokenRecord(id: id, owner: owner, scopes: scopes, sha256: digest, created: Int64(o["created"]?.intValue ?? 0)))
        }
        return records
    }

    /// Read-modify-write under `<tokens>.lock` (flock), written atomically with mode 0600.
    private func update(_ change: (inout [TokenRecord]) -> Void) throws(TokenError) {
        var held: FileLock?
        do { try fileSystem.createDirectories(FileSystem.parent(of: path)) } catch {
            throw TokenError(message: "cannot create the folder of the tokens file: \(error)")
        }
        for _ in 0..<50 {
            do {
                held = try FileLock(path: path + ".lock")
                break
            } catch {
                guard error.errno == EWOULDBLOCK else { throw TokenError(message: "cannot lock \(path).lock: \(error)") }
            }
            usleep(100_000)
        }
        guard let held else { throw TokenError(message: "another tiledrop token command holds \(path).lock; try again") }
        defer { withExtendedLifetime(held) {} }
        var records = try load()
        change(&records)
        var bytes: [UInt8] = []
        for r in records {
            bytes += Array(JSONWriter.string(r.json).utf8)
            bytes.append(0x0A)
        }
        do {
            try fileSystem.writeAtomically(path, bytes: bytes, mode: 0o600)
        } catch {
            throw TokenError(message: "cannot write the tokens file: \(error)")
        }
    }
}

