public import CardCredentials

/// The card agent's admission rules: which requests it answers at all, before any card is touched.
///
/// In order, for every request:
///
/// 0. **The user.** When the policy has an ``owner``, the connection must come from a program of that user
///    (``AgentRequest/clientUserID``, which the HTTP layer reads from the kernel: ``LoopbackPeer``). Another user
///    of the same computer reaches 127.0.0.1 too, and could set any `Origin` header; a request of theirs is refused
///    with ``AgentError/Code-swift.struct/otherUser`` before any dialog is shown.
/// 1. **Host.** The `Host` header must be one of the agent's own loopback names with its port
///    (`127.0.0.1:P`, `[::1]:P`, `localhost:P`). A page that reaches the agent through a DNS name of its own that
///    resolves to 127.0.0.1 (DNS rebinding) sends that name, and is refused: ``AgentError/Code-swift.struct/hostNotAllowed``.
/// 2. **Origin.** The `Origin` header must be present once (``AgentError/Code-swift.struct/originMissing``), be
///    an origin as a browser writes it — `null`, a path or a trailing slash is refused, never tidied
///    (``AgentError/Code-swift.struct/originMalformed``) — and be on the allow-list, compared exactly: scheme,
///    host and port (``AgentError/Code-swift.struct/originNotAllowed``).
/// 3. **Preflight.** An `OPTIONS` request with `Access-Control-Request-Method` is a CORS preflight: for an
///    allowed origin asking for an allowed method and headers it is answered `204` with
///    `Access-Control-Allow-Origin` set to that exact origin (never `*`), `Vary: Origin`, the methods and
///    headers, and `Access-Control-Allow-Private-Network: true` when the browser asked with
///    `Access-Control-Request-Private-Network: true`.
///
/// Every refusal is `403` with a JSON reason (``AgentError/response``) and no CORS header, so a page of another
/// origin cannot even read why.
///
/// ```swift
/// switch policy.admit(request) {
/// case .proceed(let origin): answer = policy.withCORS(await operation(origin), for: origin)
/// case .answered(let response): answer = response
/// }
/// ```
public struct AgentPolicy: Sendable, Hashable {
    /// The origins whose pages the agent answers.
    public let allowedOrigins: Set<PortalOrigin>
    /// The addresses the agent listens on.
    public let listenAddresses: [ListenAddress]
    /// The user whose programs the agent answers (the agent's own user ID); nil: not checked (tests, platforms
    /// where the kernel does not say).
    public let owner: UInt32?

    /// The methods a page may use (`GET`, `POST`).
    public static let allowedMethods = ["GET", "POST"]
    /// The request headers a page may send beyond the CORS-safelisted ones (`Content-Type`).
    public static let allowedHeaders = ["Content-Type"]
    /// How long a browser may cache a preflight's answer, in seconds.
    public static let preflightMaxAge = 600

    /// A policy from its parts.
    public init(allowedOrigins: Set<PortalOrigin>, listenAddresses: [ListenAddress], owner: UInt32? = nil) {
        self.allowedOrigins = allowedOrigins
        self.listenAddresses = listenAddresses
        self.owner = owner
    }

    /// What to do with a request.
    public enum Admission: Sendable {
        /// The request may go on to its operation, for `origin` (the checked `Origin` header: what evidence is
        /// bound to). Add ``AgentPolicy/corsHeaders(for:)`` to the operation's answer.
        case proceed(origin: PortalOrigin)
        /// Answer with this and do nothing else: a preflight's `204`, or a `403` refusal.
        case answered(AgentResponse)
    }

    /// Decides on a request (the rules of the type's documentation).
    public func admit(_ request: AgentRequest) -> Admission {
        switch check(request) {
        case .failure(let error): return .answered(error.response)
        case .success(let origin):
            guard request.method == "OPTIONS", let method = request.value(of: "Access-Control-Request-Method") else {
                return .proceed(origin: origin)
            }
            return .answered(preflight(request, method: method, origin: origin))
        }
    }

    /// Checks the `Host` and `Origin` headers and returns the checked origin.
    public func check(_ request: AgentRequest) -> Result<PortalOrigin, AgentError> {
        if let owner, request.clientUserID != owner {
            return .failure(
                AgentError(
                    .otherUser,
                    request.clientUserID == nil
                        ? "The agent cannot tell which user's program sent the request, so it is refused."
                        : "The request comes from another user's program on this computer (user ID "
                            + "\(request.clientUserID ?? 0)); the agent answers only its own user's browser.",
                    status: 403))
        }
        let hosts = request.values(of: "Host")
        let ownNames = Set(listenAddresses.flatMap(\.hostHeaderValues))
        guard hosts.count == 1, ownNames.contains(hosts[0].lowercased()) else {
            let shown = hosts.count == 1 ? "\"\(Self.shown(hosts[0]))\"" : hosts.isEmpty ? "missing" : "repeated"
            return .failure(
                AgentError(
                    .hostNotAllowed,
                    "The Host header is \(shown), not one of the agent's own names (\(ownNames.sorted().joined(separator: ", "))); "
                        + "a page that reaches the agent through another name (DNS rebinding) is refused. Address "
                        + "the agent as http://127.0.0.1:PORT.",
                    status: 403))
        }
        let origins = request.values(of: "Origin")
        guard origins.count == 1 else {
            return .failure(
                AgentError(
                    .originMissing,
                    origins.isEmpty
                        ? "The request has no Origin header; the agent answers only web pages of allowed origins, "
                            + "whose browser names them."
                        : "The request has more than one Origin header; it is refused.",
                    status: 403))
        }
        let origin: PortalOrigin
        do { origin = try PortalOrigin(origins[0]) } catch {
            let reason =
                origins[0] == "null"
                ? "The Origin is null (a sandboxed frame, a file, a redirect across sites); the agent answers only "
                    + "pages of allowed origins."
                : "The Origin header is not an origin as a browser writes it: \(error.description)."
            return .failure(AgentError(.originMalformed, reason, status: 403))
        }
        guard allowedOrigins.contains(origin) else {
            return .failure(
                AgentError(
                    .originNotAllowed,
                    "The origin \(origin) is not on the agent's allow-list; if it is your portal, add it to the "
                        + "agent's configuration (allow-origin \(origin)) or start the agent with --allow-origin "
                        + "\(origin).",
                    status: 403))
        }
        return .success(origin)
    }

    /// The CORS headers of an answer to an admitted page: `Access-Control-Allow-Origin` set to the exact origin
    /// and `Vary: Origin`.
    public func corsHeaders(for origin: PortalOrigin) -> [(name: String, value: String)] {
        [("Access-Control-Allow-Origin", origin.description), ("Vary", "Origin")]
    }

    /// `response` with ``corsHeaders(for:)`` added.
    public func withCORS(_ response: AgentResponse, for origin: PortalOrigin) -> AgentResponse {
        var response = response
        response.headers += corsHeaders(for: origin)
        return response
    }

    private func preflight(_ request: AgentRequest, method: String, origin: PortalOrigin) -> AgentResponse {
        guard Self.allowedMethods.contains(method) else {
            return AgentError(
                .preflightRefused,
                "The preflight asks for the method \"\(Self.shown(method))\"; the agent accepts "
                    + "\(Self.allowedMethods.joined(separator: " and ")).",
                status: 403
            ).response
        }
        let allowed = Set(Self.allowedHeaders.map { $0.lowercased() })
        let asked = request.values(of: "Access-Control-Request-Headers")
            .flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            .filter { !$0.isEmpty }
        if let header = asked.first(where: { !allowed.contains($0) }) {
            return AgentError(
                .preflightRefused,
                "The preflight asks for the header \"\(Self.shown(header))\"; the agent accepts "
                    + "\(Self.allowedHeaders.joined(separator: ", ")).",
                status: 403
            ).response
        }
        var headers = corsHeaders(for: origin)
        headers += [
            ("Access-Control-Allow-Methods", Self.allowedMethods.joined(separator: ", ")),
            ("Access-Control-Allow-Headers", Self.allowedHeaders.joined(separator: ", ")),
            ("Access-Control-Max-Age", String(Self.preflightMaxAge)),
        ]
        if request.value(of: "Access-Control-Request-Private-Network")?.lowercased() == "true" {
            headers.append(("Access-Control-Allow-Private-Network", "true"))
        }
        return AgentResponse(status: 204, headers: headers)
    }

    /// A header value for a message: at most 80 characters, controls shown as `?`.
    static func shown(_ text: String) -> String {
        String(text.prefix(80).map { $0.isASCII && ($0.asciiValue ?? 0) < 0x20 ? "?" : $0 })
    }
}
