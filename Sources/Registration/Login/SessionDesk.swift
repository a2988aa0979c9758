import CardCredentials
import Crypto
public import Foundation

/// Sessions after a certificate login, kept in the registration store so that every instance of a portal's server
/// knows them: a random token goes to the browser (in a cookie); the store keeps only the token's SHA-256, so a copy
/// of the database opens no session.
///
/// ```swift
/// let sessions = SessionDesk(store: store)
/// let opened = try await sessions.open(try await login.login(evidence))   // Set-Cookie: opened.token
/// let active = try await sessions.session(for: token)                     // nil: log in again
/// try await sessions.close(token)                                         // logout
/// ```
public struct SessionDesk: Sendable {
    /// The store.
    public let store: any RegistrationStore
    /// How long a session lasts without a request.
    public var idleLifetime: TimeInterval
    /// How long a session lasts at most, however busy.
    public var absoluteLifetime: TimeInterval
    /// The clock.
    public var now: @Sendable () -> Date

    /// The kind of a session's row in the store.
    public static let kind = "session"

    /// A session desk: 30 minutes idle, 8 hours at most, by default.
    public init(
        store: any RegistrationStore, idleLifetime: TimeInterval = 30 * 60, absoluteLifetime: TimeInterval = 8 * 3600,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.store = store
        self.idleLifetime = idleLifetime
        self.absoluteLifetime = absoluteLifetime
        self.now = now
    }

    /// A session and its token: the token for the browser (never stored), who logged in, and when it ends unless
    /// used.
    public struct ActiveSession: Sendable, Hashable {
        /// 32 random bytes, base64url: the cookie's value.
        public let token: String
        /// Who logged in.
        public let session: LoginSession
        /// When it ends unless used.
        public let expiresAt: Date
    }

    private struct Stored: Codable {
        var session: LoginSession
        var ends: Date
    }

    /// Opens a session for a login and keeps it in the store.
    public func open(_ session: LoginSession) async throws(RegistrationError) -> ActiveSession {
        let token = Base64URL.encode(RandomBytes.make(32))
        let date = now()
        let ends = date.addingTimeInterval(absoluteLifetime)
        let expires = min(ends, date.addingTimeInterval(idleLifetime))
        _ = try await store.purgeFlows(expiredBefore: date)
        try await store.save(
            StoredFlow(
                id: Self.key(token), kind: Self.kind, owner: session.userID.rawValue,
                state: try Self.encode(Stored(session: session, ends: ends)), updatedAt: date, expiresAt: expires))
        return ActiveSession(token: token, session: session, expiresAt: expires)
    }

    /// The session of a token, or nil when there is none, it ended, or the token is malformed. A session in use
    /// is extended by ``idleLifetime`` (never beyond ``absoluteLifetime``); of two servers extending it at once,
    /// one extension is enough.
    public func session(for token: String) async throws(RegistrationError) -> ActiveSession? {
        guard Self.isWellFormed(token) else { return nil }
        let date = now()
        guard let flow = try await store.flow(Self.key(token)), flow.kind == Self.kind, date <= flow.expiresAt,
            let stored = try? JSONDecoder().decode(Stored.self, from: flow.state), date <= stored.ends
        else { return nil }
        let extended = min(stored.ends, date.addingTimeInterval(idleLifetime))
        if extended.timeIntervalSince(flow.expiresAt) > 60 {
            var next = flow
            next.version += 1
            next.updatedAt = date
            next.expiresAt = extended
            do {
                try await store.save(next)
                return ActiveSession(token: token, session: stored.session, expiresAt: extended)
            } catch .flowChanged {
                // Another server extended it, or a logout came between.
            }
        }
        return ActiveSession(token: token, session: stored.session, expiresAt: flow.expiresAt)
    }

    /// Ends a session (logout); returns whether there was one.
    @discardableResult
    public func close(_ token: String) async throws(RegistrationError) -> Bool {
        guard Self.isWellFormed(token) else { return false }
        return try await store.removeFlow(Self.key(token))
    }

    /// The store's key of a token: `S` and its SHA-256 in hexadecimal.
    static func key(_ token: String) -> String {
        "S" + LowerHex.string(Array(SHA256.hash(data: Data(token.utf8))))
    }

    static func isWellFormed(_ token: String) -> Bool {
        token.utf8.count == 43
            && token.utf8.allSatisfy {
                (65...90).contains($0) || (97...122).contains($0) || (48...57).contains($0) || $0 == 45 || $0 == 95
            }
    }

    private static func encode(_ stored: Stored) throws(RegistrationError) -> Data {
        do { return try JSONEncoder().encode(stored) } catch {
            throw .storeFailure("a session could not be encoded: \(error)")
        }
    }
}
