import Foundation
import Hummingbird
import Logging
import PortalDocuments
import Registration

// The operator's view of the outbox (the GEPS hand-overs and completion mails): read-only, behind a bearer token
// of its own (`--operator-token-file`), apart from the users' sessions. Without the option the route answers 403.

extension PortalRoutes {
    func addOperatorRoutes(to api: RouterGroup<PortalRequestContext>) {
        api.get("operator/outbox") { request, context in
            try requireOperator(request, context)
            let messages = try await dependencies.store.outbox(state: nil)
            return try Self.json(PortalJSON.Outbox(messages))
        }
    }

    /// The `Authorization: Bearer …` of the operator, compared in constant time with the configured token.
    func requireOperator(_ request: Request, _ context: PortalRequestContext) throws {
        let sent = request.headers[.authorization].flatMap { value -> [UInt8]? in
            guard value.hasPrefix("Bearer ") else { return nil }
            return Array(value.dropFirst("Bearer ".count).utf8)
        }
        // No token at all is 401 whether or not the view is on; a token for a view that is off, 403.
        if sent != nil, settings.operatorToken == nil { throw Problem.operatorDisabled }
        guard let sent, let token = settings.operatorToken, Self.constantTimeEqual(sent, token) else {
            let client = clientAddress(request, context: context, trustedProxies: settings.trustedProxies)
            audit.notice(
                "operator refused",
                metadata: ["event": "operator.refused", "rule": "operatorTokenRequired", "client": "\(client)"])
            throw Problem.operatorTokenRequired
        }
    }

    /// Whether `a` and `b` are equal, in a time that depends on their lengths only.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0xFF)
        }
        return difference == 0
    }
}

extension Problem {
    static let operatorTokenRequired = Problem(
        .unauthorized, rule: "operatorTokenRequired", title: "運用者の認証が必要です",
        detail: "This is the operator's view: send the operator's token as Authorization: Bearer TOKEN.",
        headers: [.wwwAuthenticate: "Bearer"])
    static let operatorDisabled = Problem(
        .forbidden, rule: "operatorDisabled", title: "Forbidden",
        detail: "The operator's view is off: start portal-server with --operator-token-file to turn it on.")
}
