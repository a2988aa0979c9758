import Crypto
import Foundation
import Registration
import Synchronization

/// A session opened by a certificate login: who, with which certificate, until when.
///
/// It is the whole of what a session store keeps, keyed by the SHA-256 of the token in the cookie (the token
/// itself is never stored): a store shared by several server instances (a table in the registration database)
/// keeps exactly these columns, so that any instance can serve any request.
struct SessionRecord: Sendable, Hashable, Codable {
    /// The SHA-256 of the cookie's token, hexadecimal.
    var id: String
    /// The user logged in.
    var userID: UserID
    /// The user's business.
    var businessID: BusinessID
    /// The binding of the certificate that logged in; changes are made with it (and refused once it is no longer
    /// active).
    var bindingID: BindingID
    /// When the session ends, whatever happens.
    var expiresAt: Date

    /// The actor of the changes made in this session.
    var actor: RegistrationActor { .user(userID, binding: bindingID) }
}

/// Where sessions are kept. The in-memory store serves one instance; a store over the registration database lets
/// two instances share sessions (the lead's part: the same four calls over a table).
protocol SessionStore: Sendable {
    /// Keeps a new session.
    func insert(_ session: SessionRecord) async throws
    /// The session with this identifier if it has not expired at `date` (an expired one is removed).
    func session(_ id: String, at date: Date) async throws -> SessionRecord?
    /// Ends a session (logout); ending an unknown one is not an error.
    func remove(_ id: String) async throws
    /// Removes the sessions that expired before `date`; returns how many.
    func purge(expiredBefore date: Date) async throws -> Int
}

/// Sessions in this process's memory: lost when it stops, not shared with another instance.
final class InMemorySessionStore: SessionStore {
    private let sessions = Mutex<[String: SessionRecord]>([:])

    init() {}

    func insert(_ session: SessionRecord) async throws {
        sessions.withLock { $0[session.id] = session }
    }

    func session(_ id: String, at date: Date) async throws -> SessionRecord? {
        sessions.withLock { sessions in
            guard let session = sessions[id] else { return nil }
            guard date < session.expiresAt else {
                sessions[id] = nil
                return nil
            }
            return session
        }
    }

    func remove(_ id: String) async throws {
        _ = sessions.withLock { $0.removeValue(forKey: id) }
    }

    func purge(expiredBefore date: Date) async throws -> Int {
        sessions.withLock { sessions in
            let expired = sessions.filter { $0.value.expiresAt <= date }.map(\.key)
            for id in expired { sessions[id] = nil }
            return expired.count
        }
    }
}

/// Session tokens: 32 random bytes in base64url for the cookie, their SHA-256 as the stored identifier.
enum SessionToken {
    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// The identifier a store keeps for `token`.
    static func identifier(of token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
