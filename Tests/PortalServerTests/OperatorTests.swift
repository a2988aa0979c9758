import Foundation
import Hummingbird
import HummingbirdTesting
import Registration
import Testing

@testable import portal_server

@Suite("The operator's outbox view")
struct OperatorTests {
    static let token = "0123456789abcdef0123456789abcdef-operator"

    @Test("off without a token file; with one, the bearer token alone opens it and it lists the outbox")
    func outbox() async throws {
        let off = try await ServerTestBench()
        _ = try await off.registered()
        try await off.application().test(.live) { client in
            let response = try await client.send(
                "/api/v1/operator/outbox", .get, headers: [.authorization: "Bearer \(Self.token)"])
            #expect(response.status == .forbidden)
            #expect(try response.problem().rule == "operatorDisabled")
        }

        var settings = PortalServerSettings(origin: ServerTestBench.origin, secureCookies: false)
        settings.operatorToken = Array(Self.token.utf8)
        let bench = try await ServerTestBench(settings: settings)
        let registered = try await bench.registered()
        try await bench.application().test(.live) { client in
            for header: String? in [nil, "Bearer wrong", "Bearer \(Self.token)x", "Basic \(Self.token)", Self.token] {
                let response = try await client.send(
                    "/api/v1/operator/outbox", .get, headers: header.map { [.authorization: $0] } ?? [:])
                #expect(response.status == .unauthorized, "\(String(describing: header))")
                #expect(response.headers[.wwwAuthenticate] == "Bearer")
                #expect(try response.problem().rule == "operatorTokenRequired")
            }
            // A user's session is not the operator's.
            let cookie = try await client.login(registered.representative)
            let session = try await client.send("/api/v1/operator/outbox", .get, cookie: cookie)
            #expect(session.status == .unauthorized)

            let response = try await client.send(
                "/api/v1/operator/outbox", .get, headers: [.authorization: "Bearer \(Self.token)"])
            #expect(response.status == .ok)
            struct List: Decodable {
                struct Message: Decodable {
                    var kind: String
                    var state: String
                    var businessID: String
                }
                var messages: [Message]
            }
            let list = try response.json(List.self)
            #expect(!list.messages.isEmpty)
            #expect(list.messages.allSatisfy { $0.businessID == registered.businessID.rawValue })
            #expect(list.messages.contains { $0.kind == "gepsHandOver" && $0.state == "pending" })
        }
        #expect(bench.audit.all.contains { $0.metadata["rule"] == "operatorTokenRequired" })
    }

    @Test("the token comparison: equal only for the same bytes, whatever the lengths")
    func comparison() {
        let token = Array(Self.token.utf8)
        #expect(PortalRoutes.constantTimeEqual(token, token))
        #expect(!PortalRoutes.constantTimeEqual(token, Array(token.dropLast())))
        #expect(!PortalRoutes.constantTimeEqual(Array(token.dropLast()), token))
        #expect(!PortalRoutes.constantTimeEqual(token, []))
        var changed = token
        changed[5] ^= 1
        #expect(!PortalRoutes.constantTimeEqual(token, changed))
    }
}
