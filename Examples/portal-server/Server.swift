import CardCredentials
import CertificateRenewal
import Foundation
import Hummingbird
import Logging
import Metrics
import NIOCore
import Prometheus
import Registration

/// What the server is told on its command line, apart from where it listens and its store.
struct PortalServerSettings: Sendable {
    /// The origin the server serves, `scheme://host[:port]` (no path): state-changing requests must come from it.
    var origin: String
    /// Whether the session cookie is `Secure` (TLS, or an https origin behind a proxy).
    var secureCookies: Bool
    /// How long a session lasts after the login.
    var sessionLifetime: TimeInterval = 30 * 60
    /// The largest request body taken, in bytes.
    var bodyLimit: Int = 64 * 1024
    /// Login attempts: the bucket's size and how many come back a minute, per client address and per certificate.
    var loginBurst: Int = 10
    var loginPerMinute: Double = 6
    /// The addresses of reverse proxies whose `X-Forwarded-For` is believed; empty: the header is ignored.
    var trustedProxies: Set<String> = []
    /// The operator's bearer token (`--operator-token-file`); nil: the operator's view is off.
    var operatorToken: [UInt8]? = nil
    /// The card agent the pages talk to (an origin on loopback: `http://127.0.0.1:24780`).
    var cardAgent: String = "http://127.0.0.1:24780"

    /// The session cookie's name: with `Secure`, the `__Host-` prefix pins it to this host and path /.
    var cookieName: String { secureCookies ? "__Host-pi_session" : "pi_session" }

    /// `text` as an origin (`scheme://host[:port]`, lower case, the scheme's default port left out), or nil when
    /// it is not one (a path, a query, a user, another scheme).
    static func normalizedOrigin(_ text: String) -> String? {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host?.lowercased(), !host.isEmpty,
            components.path.isEmpty, components.query == nil, components.fragment == nil, components.user == nil,
            components.password == nil
        else { return nil }
        let port = components.port.flatMap {
            (scheme == "http" && $0 == 80) || (scheme == "https" && $0 == 443) ? nil : $0
        }
        let hostText = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return "\(scheme)://\(hostText)" + (port.map { ":\($0)" } ?? "")
    }
}

/// The parts the routes work with; tests build them over their own stores and clocks.
struct PortalServerDependencies: Sendable {
    var store: any RegistrationStore
    var service: RegistrationService
    var login: CertificateLogin
    /// Sessions in the registration store: every instance of the server knows them.
    var sessions: SessionDesk
    /// The IC card renewal across the network (its state in the store).
    var renewal: RemoteICCardRenewal
    /// The certificate update without login across the network (its state in the store).
    var certificateUpdate: RemoteCertificateUpdate
    /// The expired power of attorney across the network (its state in the store).
    var powerOfAttorney: RemotePowerOfAttorney
    /// The revocation request across the network (its state in the store).
    var revocation: RemoteRevocationRequest
    /// The reissue's desk (contracts in the store, the certification authority), or nil: no reissue here.
    var reissue: ReissueDesk? = nil
    var registry: PrometheusCollectorRegistry
    var now: @Sendable () -> Date
    /// Where the audit lines go: one for every change and every refused login, with identifiers only.
    var audit: Logger
}

/// The context of a request: where it came from and, behind the session check, whose session it is.
struct PortalRequestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?
    var session: SessionDesk.ActiveSession?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        session = nil
    }

    /// The session, or a 401 problem.
    func requireSession() throws -> SessionDesk.ActiveSession {
        guard let session else { throw Problem.noSession }
        return session
    }
}

extension Problem {
    static let noSession = Problem(
        .unauthorized, rule: "noSession", title: "ログインしてください",
        detail: "No session, or it expired or ended: log in with the certificate again (POST /api/v1/login/challenge).")
}

// MARK: Middleware

/// The outermost middleware: every error becomes a problem document, and every answer is counted.
struct ProblemMiddleware: RouterMiddleware {
    typealias Context = PortalRequestContext
    let requests: @Sendable (String, Int) -> Void
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        do {
            var response = try await next(request, context)
            response.headers[.init("X-Content-Type-Options")!] = "nosniff"
            requests(request.method.rawValue, Int(response.status.code))
            return response
        } catch {
            var problem = Problem.from(error)
            if problem.rule == "unknownRoute" {
                let methods = RouteTable.methods(for: request.uri.path)
                if !methods.isEmpty {
                    problem = Problem(
                        .methodNotAllowed, rule: "methodNotAllowed", title: "Method Not Allowed",
                        detail: "\(request.uri.path) takes \(methods.joined(separator: ", ")).",
                        headers: [.allow: methods.joined(separator: ", ")])
                }
            }
            if problem.status.code >= 500 {
                // The error's own text may name files or tables: it stays in the log.
                logger.error(
                    "request failed",
                    metadata: ["path": "\(request.uri.path)", "rule": "\(problem.rule)", "error": "\(error)"])
            }
            var response = try problem.response(from: request, context: context)
            response.headers[.init("X-Content-Type-Options")!] = "nosniff"
            requests(request.method.rawValue, Int(response.status.code))
            return response
        }
    }
}

/// CSRF defence for state-changing requests (POST, PUT, PATCH, DELETE): the browser-set `Origin` must be the
/// configured origin; without `Origin`, `Sec-Fetch-Site: same-origin` is taken; a request with neither is refused.
/// With the session cookie's `SameSite=Strict` and the JSON content type (which a cross-site form cannot send
/// without a CORS preflight, which this server never grants) that makes three fences.
struct OriginCheckMiddleware: RouterMiddleware {
    typealias Context = PortalRequestContext
    let origin: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        switch request.method {
        case .get, .head, .options:
            return try await next(request, context)
        default:
            if let sent = request.headers[.origin] {
                // The configured origin is normalized: the same text needs no parsing (URLComponents is about
                // 1 % of a login's processor time).
                guard sent == origin || PortalServerSettings.normalizedOrigin(sent) == origin else {
                    throw Problem(
                        .forbidden, rule: "foreignOrigin", title: "Forbidden",
                        detail: "The request comes from another origin than \(origin); it was not carried out.",
                        field: "Origin")
                }
            } else if let site = request.headers[.init("Sec-Fetch-Site")!] {
                guard site == "same-origin" else {
                    throw Problem(
                        .forbidden, rule: "foreignOrigin", title: "Forbidden",
                        detail:
                            "The request comes from another site (Sec-Fetch-Site: \(site)); it was not carried out.",
                        field: "Sec-Fetch-Site")
                }
            } else {
                throw Problem(
                    .forbidden, rule: "originMissing", title: "Forbidden",
                    detail: "A state-changing request names its origin: send Origin: \(origin).", field: "Origin")
            }
            return try await next(request, context)
        }
    }
}

/// Puts the session of the cookie into the context; refuses the request (401) without one.
struct SessionMiddleware: RouterMiddleware {
    typealias Context = PortalRequestContext
    let settings: PortalServerSettings
    let dependencies: PortalServerDependencies

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        guard let token = request.cookies[settings.cookieName]?.value, !token.isEmpty else {
            throw Problem.noSession
        }
        let now = dependencies.now()
        guard let active = try await dependencies.sessions.session(for: token) else { throw Problem.noSession }
        let session = active.session
        // The certificate or the user may have gone since the login (superseded, revoked, deleted): the session
        // ends with them.
        guard let registration = try await dependencies.store.registration(session.businessID),
            let user = registration.users.first(where: { $0.id == session.userID }), user.status == .active,
            let binding = registration.bindings.first(where: { $0.id == session.bindingID }),
            binding.status(at: now) == .active
        else {
            try await dependencies.sessions.close(token)
            dependencies.audit.notice(
                "session ended: its user or certificate is no longer active",
                metadata: [
                    "event": "session.revoked", "userID": "\(session.userID)", "bindingID": "\(session.bindingID)",
                ])
            throw Problem.noSession
        }
        var context = context
        context.session = active
        return try await next(request, context)
    }
}

/// The client's address: the peer's, or, when the peer is a trusted proxy, the right-most `X-Forwarded-For`
/// entry that is not a trusted proxy.
func clientAddress(_ request: Request, context: PortalRequestContext, trustedProxies: Set<String>) -> String {
    let peer = context.remoteAddress?.ipAddress ?? "unknown"
    guard trustedProxies.contains(peer), let forwarded = request.headers[.init("X-Forwarded-For")!] else {
        return peer
    }
    let hops = forwarded.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    return hops.reversed().first { !trustedProxies.contains($0) } ?? peer
}

/// The server's counters, in the registry `/metrics` shows.
struct ServerMetrics: Sendable {
    let factory: PrometheusMetricsFactory

    init(registry: PrometheusCollectorRegistry) {
        factory = PrometheusMetricsFactory(registry: registry)
    }

    func request(method: String, status: Int) {
        Counter(
            label: "portal_http_requests_total", dimensions: [("method", method), ("status", "\(status)")],
            factory: factory
        ).increment()
    }

    func login(_ outcome: String) {
        Counter(label: "portal_logins_total", dimensions: [("outcome", outcome)], factory: factory).increment()
    }

    func change(_ kind: String) {
        Counter(label: "portal_changes_total", dimensions: [("kind", kind)], factory: factory).increment()
    }
}
