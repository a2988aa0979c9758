public import CardCredentials
public import Foundation
import Synchronization

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A client of `portal-server`'s JSON API: certificate login with card evidence, the registration, and the
/// lifecycle flows step by step — what a browser page does, in Swift.
///
/// ```swift
/// let client = PortalClient(server: URL(string: "https://portal.example.jp")!,
///                           origin: try PortalOrigin("https://portal.example.jp"))
/// let session = try await client.logIn(with: card)
/// let registration = try await client.registration()
/// ```
///
/// The client keeps the session cookie itself (never in a shared cookie store) and sends it back to the server
/// it was set by, and only over HTTPS when the cookie is `Secure`. Every state-changing request carries
/// `Origin: <origin>`, as the server's CSRF check requires; card evidence is made for that same origin.
///
/// Several clients may share one session: ``sharingSession(with:)`` gives a client of another instance of the
/// portal (behind the same origin) that sends the same cookie — what a load balancer does with a browser.
///
/// Every method throws ``PortalClientError`` for what the server or the network did; an ``EvidenceSigner``'s own
/// errors (no card, a wrong PIN) pass through unchanged.
public final class PortalClient: Sendable {
    /// Where the server answers (`https://portal.example.jp`, `http://127.0.0.1:8080`); the API is under
    /// `/api/v1` of it.
    public let server: URL
    /// The origin the portal is served at: sent as `Origin`, and what card evidence is signed for.
    public let origin: PortalOrigin
    /// How long to wait for an answer, in seconds.
    public let timeout: TimeInterval

    let cookies: CookieJar
    private let session: URLSession

    /// The API's prefix.
    static let apiPrefix = "/api/v1"

    /// A client of the server at `server` for the portal at `origin`, with no session yet.
    ///
    /// - Parameters:
    ///   - server: Where to send requests. Usually the origin itself; a test or an operator may reach one
    ///     instance directly (`http://127.0.0.1:8081`) while the portal's origin stays what browsers see.
    ///   - origin: The portal's origin, exactly as the server is configured with it (`--origin`).
    ///   - timeout: How long to wait for each answer, in seconds.
    public convenience init(server: URL, origin: PortalOrigin, timeout: TimeInterval = 30) {
        self.init(server: server, origin: origin, timeout: timeout, cookies: CookieJar())
    }

    init(server: URL, origin: PortalOrigin, timeout: TimeInterval, cookies: CookieJar) {
        self.server = server
        self.origin = origin
        self.timeout = timeout
        self.cookies = cookies
        let configuration = URLSessionConfiguration.ephemeral
        // The session cookie is the client's own: no shared store, no automatic cookies, no cache.
        configuration.httpCookieStorage = nil
        configuration.httpShouldSetCookies = false
        configuration.httpCookieAcceptPolicy = .never
        configuration.urlCache = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.timeoutIntervalForRequest = timeout
        session = URLSession(configuration: configuration)
    }

    deinit {
        session.finishTasksAndInvalidate()
    }

    /// A client of another instance of the same portal (same origin) that shares this client's session: a login
    /// or logout through either is seen by both.
    public func sharingSession(with server: URL) -> PortalClient {
        PortalClient(server: server, origin: origin, timeout: timeout, cookies: cookies)
    }

    /// Whether the client holds a session cookie (the server may still have ended the session).
    public var hasSession: Bool { !cookies.isEmpty }

    // MARK: Login

    /// Certificate login (ログイン): asks for a challenge, has `signer` make evidence for it for ``origin``, and
    /// sends it; the session cookie the server sets is kept for the following requests.
    ///
    /// - Returns: The session: the user, the business, the certificate binding, the role.
    /// - Throws: ``PortalClientError`` (a refusal's rule: `certificateNotRegistered`, `certificateNotActive`,
    ///   `certificateUntrusted`, `signatureInvalid`, `rateLimited`, …), or the signer's own error.
    @discardableResult
    public func logIn(with signer: some EvidenceSigner) async throws -> PortalSession {
        let challenge = try await challenge(at: "login/challenge", expecting: .login)
        let evidence = try await signer.evidence(for: challenge, origin: origin)
        return try await send("POST", "login", json: evidence, as: PortalSession.self)
    }

    /// Ends the session on the server and forgets its cookie.
    public func logOut() async throws {
        defer { cookies.removeAll() }
        _ = try await exchange("POST", "logout")
    }

    // MARK: Reading

    /// The session the cookie stands for (`GET /api/v1/session`).
    public func currentSession() async throws -> PortalSession {
        try await send("GET", "session", as: PortalSession.self)
    }

    /// The business's registration, as the session's user sees it (`GET /api/v1/registration`).
    public func registration() async throws -> PortalRegistration {
        try await send("GET", "registration", as: PortalRegistration.self)
    }

    /// The registration's history of changes (`GET /api/v1/registration/history`).
    public func history() async throws -> [PortalRegistration.HistoryEntry] {
        struct History: Decodable { var history: [PortalRegistration.HistoryEntry] }
        return try await send("GET", "registration/history", as: History.self).history
    }

    // MARK: The exchange

    /// Asks for a challenge at `path` (POST) and checks it is for `purpose` before anything signs it.
    func challenge(at path: String, expecting purpose: EvidencePurpose) async throws(PortalClientError)
        -> EvidenceChallenge
    {
        let challenge = try await send("POST", path, as: EvidenceChallenge.self)
        guard challenge.purpose == purpose else {
            throw PortalClientError(
                .unexpectedAnswer,
                "The server issued a challenge for \(challenge.purpose), not for \(purpose); nothing was signed.")
        }
        return challenge
    }

    /// Sends a request to `/api/v1/<path>` and decodes a 2xx answer as `Answer`.
    func send<Answer: Decodable>(
        _ method: String, _ path: String, json body: (any Encodable)? = nil, as type: Answer.Type
    ) async throws(PortalClientError) -> Answer {
        try await send(method, path, body: try Self.encoded(body), as: type)
    }

    /// The JSON of a request's body.
    static func encoded(_ body: (any Encodable)?) throws(PortalClientError) -> Data? {
        guard let body else { return nil }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do { return try encoder.encode(body) } catch {
            throw PortalClientError(.unexpectedAnswer, "The request's body cannot be encoded: \(error)")
        }
    }

    /// Sends a JSON body holding secrets (passwords) and wipes the caller's bytes after the request was made.
    func send<Answer: Decodable>(
        _ method: String, _ path: String, secretJSON body: inout [UInt8], as type: Answer.Type
    ) async throws(PortalClientError) -> Answer {
        var data = Data(body)
        for index in body.indices { body[index] = 0 }
        // Best effort: once the request is done nothing else holds these bytes, and they are zeroed in place.
        defer { data.resetBytes(in: 0..<data.count) }
        return try await send(method, path, body: data, as: type)
    }

    func send<Answer: Decodable>(_ method: String, _ path: String, body: Data?, as type: Answer.Type)
        async throws(PortalClientError) -> Answer
    {
        let answer = try await exchange(method, path, body: body)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do {
            return try decoder.decode(Answer.self, from: answer.body)
        } catch {
            throw PortalClientError(
                .unexpectedAnswer,
                "\(method) \(Self.apiPrefix)/\(path) answered \(answer.status) with JSON the client cannot read as "
                    + "\(Answer.self): \(Self.decodingSummary(error))")
        }
    }

    struct Answer {
        var status: Int
        var body: Data
    }

    /// Sends a request and returns a 2xx answer; a problem document is thrown as ``PortalClientError/refused(_:)``.
    func exchange(_ method: String, _ path: String, json body: (any Encodable)? = nil)
        async throws(PortalClientError) -> Answer
    {
        try await exchange(method, path, body: try Self.encoded(body))
    }

    func exchange(_ method: String, _ path: String, body: Data?) async throws(PortalClientError) -> Answer {
        let base =
            server.absoluteString.hasSuffix("/") ? String(server.absoluteString.dropLast()) : server.absoluteString
        guard let url = URL(string: base + Self.apiPrefix + "/" + path) else {
            throw PortalClientError(.unexpectedAnswer, "\(base)\(Self.apiPrefix)/\(path) is not a URL.")
        }
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = method
        request.setValue("application/json, application/problem+json", forHTTPHeaderField: "Accept")
        if method != "GET" && method != "HEAD" {
            request.setValue(origin.description, forHTTPHeaderField: "Origin")
        }
        if let cookie = cookies.header(secure: url.scheme == "https") {
            request.setValue(cookie, forHTTPHeaderField: "Cookie")
        }
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: request)
        } catch {
            throw PortalClientError(
                .unreachable, "\(method) \(url.absoluteString) failed: \(error.localizedDescription)")
        }
        guard let http = response as? HTTPURLResponse else {
            throw PortalClientError(.unexpectedAnswer, "\(url.absoluteString) did not answer HTTP.")
        }
        if let setCookie = http.value(forHTTPHeaderField: "Set-Cookie") { cookies.take(setCookie) }
        let status = http.statusCode
        if (200..<300).contains(status) { return Answer(status: status, body: data) }

        let mediaType = (http.value(forHTTPHeaderField: "Content-Type") ?? "").split(separator: ";").first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }
        guard mediaType == "application/problem+json",
            var problem = try? JSONDecoder().decode(PortalProblem.self, from: data)
        else {
            throw PortalClientError(
                .unexpectedAnswer,
                "\(method) \(url.absoluteString) answered HTTP \(status) without a problem document.")
        }
        problem.retryAfter = http.value(forHTTPHeaderField: "Retry-After").flatMap { Int($0) }
        // The server has no session for the cookie: it is of no more use.
        if problem.rule == "noSession" { cookies.removeAll() }
        throw .refused(problem)
    }

    /// The path and reason of a decoding error, without the values.
    static func decodingSummary(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(type(of: error))" }
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined()
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context)).\(key.stringValue) is missing"
        case .valueNotFound(_, let context): return "\(path(context)) is null"
        case .typeMismatch(_, let context): return "\(path(context)) has another type"
        case .dataCorrupted(let context): return "\(path(context)): \(context.debugDescription)"
        @unknown default: return "it does not decode"
        }
    }
}

/// The cookies the server set (in practice, its one session cookie), shared by the clients of one session.
final class CookieJar: Sendable {
    private struct Cookie {
        var value: String
        var secure: Bool
    }
    private let cookies = Mutex<[String: Cookie]>([:])

    init() {}

    var isEmpty: Bool { cookies.withLock { $0.isEmpty } }

    func removeAll() { cookies.withLock { $0.removeAll() } }

    /// Takes a `Set-Cookie` header: `name=value; attributes`; an empty value or `Max-Age=0` deletes the cookie.
    func take(_ header: String) {
        let parts = header.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let first = parts.first, let equals = first.firstIndex(of: "=") else { return }
        let name = String(first[..<equals])
        let value = String(first[first.index(after: equals)...])
        guard !name.isEmpty else { return }
        let attributes = parts.dropFirst().map { $0.lowercased() }
        let expired = attributes.contains { $0.hasPrefix("max-age=") && (Int($0.dropFirst(8)) ?? 1) <= 0 }
        cookies.withLock { cookies in
            if value.isEmpty || expired {
                cookies[name] = nil
            } else {
                cookies[name] = Cookie(value: value, secure: attributes.contains("secure"))
            }
        }
    }

    /// The `Cookie` header for a request, over HTTPS when `secure`; nil when there is nothing to send.
    func header(secure: Bool) -> String? {
        let pairs = cookies.withLock { cookies in
            cookies.filter { secure || !$0.value.secure }.map { "\($0.key)=\($0.value.value)" }.sorted()
        }
        return pairs.isEmpty ? nil : pairs.joined(separator: "; ")
    }
}
