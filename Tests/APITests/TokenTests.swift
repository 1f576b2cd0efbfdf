import Foundation
import GeoModel
import HTTP
import XCTest
@testable import API

final class TokenTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "tiledrop-tokens-" + UUID().uuidString.prefix(8)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// Ids are command-line arguments (`token revoke ID`): none may start with "-" (with 300
    /// random ids, about 99 % of runs would meet one if the store did not prevent it).
    func testTokenIdsNeverStartWithADash() throws {
        let store = TokenStore(path: dir + "/tokens")
        for _ in 0..<300 {
            let (_, record) = try store.create(owner: "alice", scopes: ["tilesets:read"], now: 1)
            XCTAssertFalse(record.id.hasPrefix("-"), record.id)
        }
    }

    func testTokensAreMapboxShapedStoredAsDigestsAndRevocable() throws {
        let store = TokenStore(path: dir + "/tokens")
        let (token, record) = try store.create(owner: "alice", scopes: ["tilesets:read", "tilesets:list"], now: 1)
        let parts = token.split(separator: ".")
        XCTAssertEqual(parts.count, 3)
        XCTAssertEqual(parts[0], "tk")
        let header = try JSONParser.parse(try XCTUnwrap(Base64URL.decode(parts[1])))
        XCTAssertEqual(header["u"]?.stringValue, "alice", "the Mapbox CLI reads the username here")
        XCTAssertEqual(header["a"]?.stringValue, record.id)
        let file = try String(contentsOfFile: dir + "/tokens", encoding: .utf8)
        XCTAssertFalse(file.contains(String(parts[2])), "the secret is never stored")
        XCTAssertTrue(file.contains(record.sha256))
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: dir + "/tokens")[.posixPermissions] as? Int, 0o600)
        XCTAssertEqual(store.verify(token), record)
        XCTAssertNil(store.verify(token + "x"))
        XCTAssertNil(store.verify(String(token.dropLast()) + (token.last == "A" ? "B" : "A")), "a changed secret is refused")
        XCTAssertNil(store.verify("tk.garbage.x"))
        // Another process (tiledrop token create) adds a token: the store sees it without a restart.
        let other = TokenStore(path: dir + "/tokens")
        let (second, _) = try other.create(owner: "bob", scopes: [], now: 2)
        XCTAssertEqual(store.verify(second)?.owner, "bob")
        XCTAssertEqual(try store.list().map(\.owner), ["alice", "bob"])
        XCTAssertTrue(try other.revoke(record.id))
        XCTAssertFalse(try other.revoke(record.id))
        XCTAssertNil(store.verify(token), "revoked at once")
        XCTAssertEqual(Base64URL.decode(Base64URL.encode(Array("any carnal pleas".utf8))), Array("any carnal pleas".utf8))
    }

    func testAuthenticatorReadsEachServicesWayAndChecksScopes() throws {
        let store = TokenStore(path: dir + "/tokens")
        let (token, _) = try store.create(owner: "alice", scopes: ["tilesets:read"], now: 1)
        let auth = Authenticator(store: store)
        func request(_ target: String, _ headers: [(String, String)] = [], uid: uid_t? = nil) throws -> Request {
            try Request(method: "GET", target: target, headers: HTTPHeaders(headers), peer: Peer(uid: uid, address: uid == nil ? "10.0.0.1:5" : "unix"))
        }
        XCTAssertEqual(try auth.require("tilesets:read", of: request("/x?access_token=\(token)")).get(), .token(try XCTUnwrap(store.verify(token))))
        XCTAssertNoThrow(try auth.require("tilesets:read", of: request("/x", [("Authorization", "Token \(token)")])).get())
        XCTAssertNoThrow(try auth.require("tilesets:read", of: request("/x?api_key=\(token)")).get())
        XCTAssertEqual(auth.require("tilesets:read", of: try request("/x")).failureStatus, 401)
        XCTAssertEqual(auth.require("tilesets:read", of: try request("/x?access_token=tk.bad.bad")).failureStatus, 401)
        XCTAssertEqual(auth.require("tilesets:write", of: try request("/x?access_token=\(token)")).failureStatus, 403)
        XCTAssertEqual(try auth.require("tilesets:write", of: request("/x", uid: getuid())).get(), .localAdmin, "the daemon's user on the socket needs no token")
        let stranger: uid_t = getuid() == 4242 ? 4243 : 4242
        XCTAssertEqual(auth.require("tilesets:write", of: try request("/x", uid: stranger)).failureStatus, 401)
    }
}

extension Result where Failure == AuthFailure {
    var failureStatus: Int? {
        if case .failure(let f) = self { return f.status }
        return nil
    }
}
