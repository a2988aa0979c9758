import CardCredentials
import Foundation
import Hummingbird
import Logging
import PortalDocuments
import Prometheus
import Registration
import X509

/// The API's prefix: a new incompatible version gets a new one.
let apiPrefix = "/api/v1"

/// The routes, each thin: decode, call the library, encode.
struct PortalRoutes: Sendable {
    let settings: PortalServerSettings
    let dependencies: PortalServerDependencies
    let limiter: LoginRateLimiter
    /// Challenges without a session (login, the certificate update), per client address: four for each login
    /// attempt, since a flow asks one per card step; the login's own budget stays whole.
    let challengeLimiter: LoginRateLimiter
    let metrics: ServerMetrics

    init(settings: PortalServerSettings, dependencies: PortalServerDependencies) {
        self.settings = settings
        self.dependencies = dependencies
        limiter = LoginRateLimiter(burst: settings.loginBurst, perMinute: settings.loginPerMinute)
        challengeLimiter = LoginRateLimiter(burst: settings.loginBurst * 4, perMinute: settings.loginPerMinute * 4)
        metrics = ServerMetrics(registry: dependencies.registry)
    }

    var audit: Logger { dependencies.audit }

    // MARK: Documents

    struct SessionDocument: Encodable {
        var userID: String
        var businessID: String
        var bindingID: String
        var role: String
        var expiresAt: Date
    }

    struct ChangeDocument: Encodable {
        /// 受付番号.
        var changeID: String
        /// The registration's version after the change (its new ETag).
        var version: Int
        /// The confirmation screen that was carried out.
        var review: ChangeReview
        var registration: PortalJSON.Show
    }

    struct HistoryDocument: Encodable {
        var history: [PortalJSON.Show.HistoryEntry]
    }

    struct StatusDocument: Encodable {
        var status: String
    }

    static func json(
        _ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]
    ) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        var fields = headers
        fields[.contentType] = "application/json"
        fields[.cacheControl] = "no-store"
        return Response(
            status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }

    // MARK: Router

    func router() -> Router<PortalRequestContext> {
        let router = Router(context: PortalRequestContext.self)
        router.add(middleware: ProblemMiddleware(requests: metrics.request, logger: audit))
        router.add(middleware: OriginCheckMiddleware(origin: settings.origin))

        router.get("/healthz") { _, _ in try Self.json(StatusDocument(status: "ok")) }
        router.get("/readyz") { _, _ in try await ready() }
        router.get("/metrics") { _, _ in metricsText() }
        router.get("/openapi.yaml") { _, _ in try openAPI() }
        addPages(to: router)

        let api = router.group(RouterPath(apiPrefix))
        api.post("login/challenge") { request, context in
            try limitChallenges(request, context)
            return try await challenge()
        }
        api.post("login") { request, context in try await login(request, context: context) }
        api.post("logout") { request, _ in try await logout(request) }

        addCertificateUpdateRoutes(to: api)
        addRevocationRoutes(to: api)
        addEnrollmentRoutes(to: api)
        addOperatorRoutes(to: api)

        let authenticated = api.group().add(
            middleware: SessionMiddleware(settings: settings, dependencies: dependencies))
        authenticated.get("session") { _, context in try await session(context.requireSession()) }
        authenticated.get("registration") { _, context in try await registration(context.requireSession().session) }
        authenticated.get("registration/history") { _, context in
            try await history(context.requireSession().session)
        }
        addFlowRoutes(to: authenticated)
        addPowerOfAttorneyRoutes(to: authenticated)
        addReissueRoutes(to: authenticated)
        // Each change: If-Match present and well-formed, then the body (its syntax and the values the schema
        // names), then the version, then what only the library can judge.
        let limit = settings.bodyLimit
        authenticated.patch("registration/business") { request, context in
            try await change(request, context, kind: "updateBusinessInformation") {
                try await request.decodeStrictly(BusinessPatchBody.self, limit: limit)
            } make: { body, registration in
                .updateBusinessInformation(try body.information(updating: registration.business))
            }
        }
        authenticated.patch("registration/users/:userID") { request, context in
            let id = UserID(rawValue: try context.parameters.require("userID"))
            return try await change(request, context, kind: "updateUserInformation") {
                try await request.decodeStrictly(UserPatchBody.self, limit: limit)
            } make: { body, registration in
                .updateUserInformation(id, try body.information(updating: try registration.user(id).information))
            }
        }
        authenticated.delete("registration/users/:userID") { request, context in
            let id = UserID(rawValue: try context.parameters.require("userID"))
            return try await change(request, context, kind: "deleteUser") {
            } make: { _, _ in
                .deleteUser(id)
            }
        }
        authenticated.post("registration/agents") { request, context in
            try await change(request, context, kind: "addAgent") {
                let body = try await request.decodeStrictly(NewAgentBody.self, limit: limit)
                _ = try credentialKind(body.kind)
                return body
            } make: { body, _ in
                try body.change()
            }
        }
        authenticated.post("registration/qualifications") { request, context in
            try await change(request, context, kind: "addQualification") {
                try await request.decodeStrictly(QualificationBody.self, limit: limit).qualification()
            } make: { qualification, _ in
                .addQualification(qualification)
            }
        }
        authenticated.delete("registration/qualifications/:qualification") { request, context in
            let text = try context.parameters.require("qualification")
            return try await change(request, context, kind: "removeQualification") {
                let parts = text.split(separator: "-", maxSplits: 1).map(String.init)
                return try parseQualification(kind: parts.first ?? "", grade: parts.count > 1 ? parts[1] : "")
            } make: { qualification, _ in
                .removeQualification(qualification)
            }
        }
        authenticated.post("registration/certificates") { request, context in
            let session = try context.requireSession().session
            return try await change(request, context, kind: "addCertificate") {
                let body = try await request.decodeStrictly(CertificateBody.self, limit: limit)
                return (body, try credentialKind(body.kind))
            } make: { input, _ in
                let (body, kind) = input
                let certificate = try decodeCertificate(body.certificate, field: "certificate")
                return .addCertificate(body.userID.map { UserID(rawValue: $0) } ?? session.userID, certificate, kind)
            }
        }
        authenticated.delete("registration/certificates/:bindingID") { request, context in
            let id = BindingID(rawValue: try context.parameters.require("bindingID"))
            return try await change(request, context, kind: "removeCertificate") {
            } make: { _, _ in
                .removeCertificate(id)
            }
        }
        return router
    }

    // MARK: Login

    func challenge() async throws -> Response {
        let challenge = try await dependencies.login.issueChallenge()
        // The challenge's own JSON form (Documentation/CardEvidence.md): the card agent signs it for the origin it
        // checked, never for bytes the page chose.
        return try Self.json(challenge, status: .created)
    }

    func login(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let client = clientAddress(request, context: context, trustedProxies: settings.trustedProxies)
        let now = dependencies.now()
        if let wait = limiter.take("address:" + client, at: now) {
            refused(rule: "rateLimited", client: client, metadata: ["limit": "address"])
            throw Problem.rateLimited(wait)
        }
        let answer: CardEvidence
        do {
            answer = try await request.decodeStrictly(LoginAnswerBody.self, limit: settings.bodyLimit).evidence()
        } catch {
            refused(rule: Problem.from(error).rule, client: client, metadata: [:])
            throw error
        }
        let fingerprint = (try? CertificateBinding.fingerprint(of: answer.certificate)) ?? "unencodable"
        if let wait = limiter.take("certificate:" + fingerprint, at: now) {
            refused(
                rule: "rateLimited", client: client,
                metadata: ["limit": "certificate", "fingerprint": "\(fingerprint)"])
            throw Problem.rateLimited(wait)
        }
        let session: LoginSession
        do {
            session = try await dependencies.login.login(answer)
        } catch {
            let problem = Problem(error)
            refused(
                rule: problem.rule, client: client,
                metadata: ["fingerprint": "\(fingerprint)", "challengeID": "\(answer.challengeID)"])
            throw problem
        }
        let opened = try await dependencies.sessions.open(session)
        let token = opened.token
        metrics.login("accepted")
        audit.info(
            "login",
            metadata: [
                "event": "login", "userID": "\(session.userID)", "businessID": "\(session.businessID)",
                "bindingID": "\(session.bindingID)", "client": "\(client)",
            ])
        var headers = HTTPFields()
        headers[.setCookie] = sessionCookie(token, maxAge: Int(opened.expiresAt.timeIntervalSince(now)))
        return try Self.json(
            SessionDocument(
                userID: session.userID.rawValue, businessID: session.businessID.rawValue,
                bindingID: session.bindingID.rawValue, role: session.role.rawValue, expiresAt: opened.expiresAt),
            headers: headers)
    }

    func refused(rule: String, client: String, metadata: Logger.Metadata) {
        metrics.login("refused")
        audit.notice(
            "login refused",
            metadata: metadata.merging(["event": "login.refused", "rule": "\(rule)", "client": "\(client)"]) { $1 })
    }

    func logout(_ request: Request) async throws -> Response {
        if let token = request.cookies[settings.cookieName]?.value, !token.isEmpty {
            if let session = try await dependencies.sessions.session(for: token) {
                audit.info("logout", metadata: ["event": "logout", "userID": "\(session.session.userID)"])
            }
            try await dependencies.sessions.close(token)
        }
        var headers = HTTPFields()
        headers[.setCookie] = sessionCookie("", maxAge: 0)
        headers[.cacheControl] = "no-store"
        return Response(status: .noContent, headers: headers)
    }

    /// The session cookie: `HttpOnly`, `SameSite=Strict`, path /, `Secure` under TLS or an https origin.
    func sessionCookie(_ value: String, maxAge: Int) -> String {
        "\(settings.cookieName)=\(value); Path=/; Max-Age=\(maxAge); HttpOnly; SameSite=Strict"
            + (settings.secureCookies ? "; Secure" : "")
    }
}

/// The paths the server answers and their methods, so that a known path asked with another method is answered 405
/// with `Allow` (Hummingbird's router says 404 for both). `*` is a path parameter.
enum RouteTable {
    static let routes: [(path: [String], methods: [String])] = [
        ([], ["GET"]), (["pages", "*"], ["GET"]),
        (["healthz"], ["GET"]), (["readyz"], ["GET"]), (["metrics"], ["GET"]), (["openapi.yaml"], ["GET"]),
        (["api", "v1", "login", "challenge"], ["POST"]), (["api", "v1", "login"], ["POST"]),
        (["api", "v1", "logout"], ["POST"]), (["api", "v1", "session"], ["GET"]),
        (["api", "v1", "operator", "outbox"], ["GET"]), (["operator"], ["GET"]),
        (["api", "v1", "registration"], ["GET"]), (["api", "v1", "registration", "history"], ["GET"]),
        (["api", "v1", "registration", "business"], ["PATCH"]),
        (["api", "v1", "registration", "users", "*"], ["PATCH", "DELETE"]),
        (["api", "v1", "registration", "agents"], ["POST"]),
        (["api", "v1", "registration", "qualifications"], ["POST"]),
        (["api", "v1", "registration", "qualifications", "*"], ["DELETE"]),
        (["api", "v1", "registration", "certificates"], ["POST"]),
        (["api", "v1", "registration", "certificates", "*"], ["DELETE"]),
        (["api", "v1", "flows", "ic-card-renewal"], ["POST"]),
        (["api", "v1", "flows", "ic-card-renewal", "*"], ["GET"]),
        (["api", "v1", "flows", "ic-card-renewal", "*", "challenge"], ["POST"]),
        (["api", "v1", "flows", "ic-card-renewal", "*", "current-card"], ["POST"]),
        (["api", "v1", "flows", "ic-card-renewal", "*", "new-card"], ["POST"]),
        (["api", "v1", "flows", "ic-card-renewal", "*", "confirmation"], ["GET"]),
        (["api", "v1", "flows", "ic-card-renewal", "*", "update"], ["POST"]),
        (["api", "v1", "flows", "ic-card-renewal", "*", "back"], ["POST"]),
        (["api", "v1", "flows", "power-of-attorney"], ["POST"]),
        (["api", "v1", "flows", "power-of-attorney", "*"], ["GET"]),
        (["api", "v1", "flows", "power-of-attorney", "*", "notice"], ["GET"]),
        (["api", "v1", "flows", "power-of-attorney", "*", "renewal"], ["POST"]),
        (["api", "v1", "flows", "power-of-attorney", "*", "deletion"], ["POST"]),
        (["api", "v1", "flows", "power-of-attorney", "*", "challenge"], ["POST"]),
        (["api", "v1", "flows", "power-of-attorney", "*", "renewal-card"], ["POST"]),
        (["api", "v1", "flows", "power-of-attorney", "*", "deletion-card"], ["POST"]),
        (["api", "v1", "flows", "power-of-attorney", "*", "request"], ["POST"]),
        (["api", "v1", "flows", "power-of-attorney", "*", "confirmation"], ["GET"]),
        (["api", "v1", "flows", "power-of-attorney", "*", "renew"], ["POST"]),
        (["api", "v1", "flows", "power-of-attorney", "*", "delete"], ["POST"]),
        (["api", "v1", "flows", "power-of-attorney", "*", "back"], ["POST"]),
        (["api", "v1", "flows", "certificate-update"], ["POST"]),
        (["api", "v1", "flows", "certificate-update", "*"], ["GET"]),
        (["api", "v1", "flows", "certificate-update", "*", "challenge"], ["POST"]),
        (["api", "v1", "flows", "certificate-update", "*", "current-certificate"], ["POST"]),
        (["api", "v1", "flows", "certificate-update", "*", "new-certificate"], ["POST"]),
        (["api", "v1", "flows", "certificate-update", "*", "confirmation"], ["GET"]),
        (["api", "v1", "flows", "certificate-update", "*", "update"], ["POST"]),
        (["api", "v1", "flows", "certificate-update", "*", "back"], ["POST"]),
        (["api", "v1", "flows", "revocation-request"], ["POST"]),
        (["api", "v1", "flows", "revocation-request", "*"], ["GET"]),
        (["api", "v1", "flows", "revocation-request", "*", "procedure"], ["POST"]),
        (["api", "v1", "flows", "revocation-request", "*", "terms"], ["POST"]),
        (["api", "v1", "flows", "revocation-request", "*", "agree"], ["POST"]),
        (["api", "v1", "flows", "revocation-request", "*", "challenge"], ["POST"]),
        (["api", "v1", "flows", "revocation-request", "*", "card"], ["POST"]),
        (["api", "v1", "flows", "revocation-request", "*", "form"], ["POST"]),
        (["api", "v1", "flows", "revocation-request", "*", "signature"], ["POST"]),
        (["api", "v1", "flows", "revocation-request", "*", "confirmation"], ["GET"]),
        (["api", "v1", "flows", "revocation-request", "*", "submit"], ["POST"]),
        (["api", "v1", "flows", "revocation-request", "*", "back"], ["POST"]),
        (["api", "v1", "flows", "reissue"], ["POST"]),
        (["api", "v1", "flows", "reissue", "*"], ["GET"]),
        (["api", "v1", "flows", "reissue", "*", "log-on"], ["POST"]),
        (["api", "v1", "flows", "reissue", "*", "users"], ["GET"]),
        (["api", "v1", "flows", "reissue", "*", "user"], ["POST"]),
        (["api", "v1", "flows", "reissue", "*", "confirmation"], ["GET"]),
        (["api", "v1", "flows", "reissue", "*", "reissue"], ["POST"]),
        (["api", "v1", "flows", "reissue", "*", "back"], ["POST"]),
        (["api", "v1", "flows", "certificate-enrollment"], ["POST"]),
        (["api", "v1", "flows", "certificate-enrollment", "*"], ["GET"]),
        (["api", "v1", "flows", "certificate-enrollment", "*", "sign-in"], ["POST"]),
        (["api", "v1", "flows", "certificate-enrollment", "*", "certificate"], ["POST"]),
        (["api", "v1", "flows", "certificate-enrollment", "*", "back"], ["POST"]),
    ]

    /// The methods `path` takes; empty when no route has it.
    static func methods(for path: String) -> [String] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        for route in routes where route.path.count == segments.count {
            if zip(route.path, segments).allSatisfy({ $0 == "*" || $0 == $1 }) { return route.methods }
        }
        return []
    }
}
