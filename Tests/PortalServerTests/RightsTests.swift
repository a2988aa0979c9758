import Foundation
import Hummingbird
import HummingbirdTesting
import Registration
import RegistrationPostgres
import Testing

@testable import portal_server

struct ChangeReply: Decodable {
    struct Registration: Decodable {
        struct User: Decodable {
            var id: String
            var role: String
            var status: String
            var title: String
            var certificates: [Certificate]
        }
        struct Certificate: Decodable {
            var id: String
            var status: String
            var fingerprint: String
        }
        var version: Int
        var qualifications: [String]
        var users: [User]
    }
    var changeID: String
    var version: Int
    var registration: Registration
}

@Suite("Changes under the rights matrix")
struct RightsTests {
    @Test("an agent is refused what only the representative may change (403), and nothing changes")
    func agentRefused() async throws {
        let bench = try await ServerTestBench()
        let registered = try await bench.registered()
        let before = try await bench.state(registered.businessID)
        try await bench.application().test(.router) { client in
            let cookie = try await client.login(registered.agent)
            let version: HTTPFields = [.ifMatch: "\"2\""]
            let refusals: [(String, HTTPRequest.Method, String?, String)] = [
                ("/api/v1/registration/business", .patch, #"{"phone":"03-9999-0000"}"#, "notPermitted"),
                ("/api/v1/registration/qualifications", .post, #"{"kind":"sales","grade":"B"}"#, "notPermitted"),
                (
                    "/api/v1/registration/users/\(registered.representativeID)", .patch, #"{"title":"社長"}"#,
                    "notOwnRecord"
                ),
                ("/api/v1/registration/users/\(registered.representativeID)", .delete, nil, "changeNotAllowed"),
            ]
            for (uri, method, body, rule) in refusals {
                let response = try await client.send(uri, method, cookie: cookie, json: body, headers: version)
                #expect(response.status == (rule == "changeNotAllowed" ? .unprocessableContent : .forbidden), "\(uri)")
                #expect(try response.problem().rule == rule, "\(uri)")
            }
        }
        #expect(try await bench.state(registered.businessID) == before)
        #expect(bench.audit.all.filter { $0.metadata["event"] == "change.refused" }.count == 4)
    }

    @Test("an agent may change its own information; the answer is the new version", arguments: StoreKind.allCases)
    func agentOwnRecord(_ kind: StoreKind) async throws {
        let bench = try await ServerTestBench(kind)
        let registered = try await bench.registered()
        try await bench.application().test(.router) { client in
            let cookie = try await client.login(registered.agent)
            let response = try await client.send(
                "/api/v1/registration/users/\(registered.agentID)", .patch, cookie: cookie, json: #"{"title":"営業本部長"}"#,
                headers: [.ifMatch: "\"2\""])
            #expect(response.status == .ok)
            #expect(response.headers[.eTag] == "\"3\"")
            let reply = try response.json(ChangeReply.self)
            #expect(reply.version == 3)
            #expect(reply.changeID.hasPrefix("X-"))
            #expect(reply.registration.users.first { $0.id == registered.agentID.rawValue }?.title == "営業本部長")
            // The same If-Match again is stale now.
            let stale = try await client.send(
                "/api/v1/registration/users/\(registered.agentID)", .patch, cookie: cookie, json: #"{"title":"x"}"#,
                headers: [.ifMatch: "\"2\""])
            #expect(stale.status == .preconditionFailed)
        }
        let line = try #require(bench.audit.all.first { $0.metadata["event"] == "change" })
        #expect(line.metadata["kind"] == "updateUserInformation")
        #expect(line.metadata["userID"] == registered.agentID.rawValue)
        #expect(line.metadata["version"] == "3")
    }

    @Test("the representative's changes: business, qualifications, agents, certificates, each a new version")
    func representativeChanges() async throws {
        let bench = try await ServerTestBench()
        let registered = try await bench.registered()
        let newAgent = try bench.credential(name: "代理 三郎")
        let extra = try bench.credential(name: "入札 太郎")
        try await bench.application().test(.router) { client in
            let cookie = try await client.login(registered.representative)
            var version = 2
            func change(_ uri: String, _ method: HTTPRequest.Method, _ body: String? = nil) async throws -> ChangeReply
            {
                let response = try await client.send(
                    uri, method, cookie: cookie, json: body, headers: [.ifMatch: "\"\(version)\""])
                #expect(response.status == .ok, "\(uri): \(String(buffer: response.body))")
                let reply = try response.json(ChangeReply.self)
                #expect(reply.version == version + 1)
                version = reply.version
                return reply
            }
            _ = try await change("/api/v1/registration/business", .patch, #"{"phone":"03-9999-0000"}"#)
            var reply = try await change(
                "/api/v1/registration/qualifications", .post, #"{"kind":"services","grade":"A"}"#)
            #expect(reply.registration.qualifications == ["services-A"])
            reply = try await change("/api/v1/registration/qualifications/services-A", .delete)
            #expect(reply.registration.qualifications.isEmpty)
            let certificate = Data(try der(newAgent.certificate)).base64EncodedString()
            reply = try await change(
                "/api/v1/registration/agents", .post,
                #"{"title":"主任","name":"代理 三郎","postalCode":"100-0013","address":"東京都千代田区霞が関1-1-1","#
                    + #""phone":"03-1234-5678","fax":null,"mail":"saburo@example.co.jp","certificate":"\#(certificate)","#
                    + #""kind":"fileCertificate"}"#)
            let agent = try #require(reply.registration.users.first { $0.title == "主任" })
            reply = try await change(
                "/api/v1/registration/certificates", .post,
                #"{"certificate":"\#(Data(try der(extra.certificate)).base64EncodedString())","kind":"fileCertificate"}"#
            )
            let representative = try #require(reply.registration.users.first { $0.role == "representative" })
            #expect(representative.certificates.count == 2)
            let fingerprint = try CertificateBinding.fingerprint(of: extra.certificate)
            let added = try #require(representative.certificates.first { $0.fingerprint == fingerprint })
            reply = try await change("/api/v1/registration/certificates/\(added.id)", .delete)
            reply = try await change("/api/v1/registration/users/\(agent.id)", .delete)
            #expect(reply.registration.users.first { $0.id == agent.id }?.status == "deleted")

            let history = try await client.send("/api/v1/registration/history", .get, cookie: cookie)
            #expect(history.status == .ok)
            let entries = try JSONSerialization.jsonObject(with: Data(buffer: history.body)) as? [String: [Any]]
            #expect(entries?["history"]?.count == version)
        }
        #expect(try await bench.state(registered.businessID) == [9, 9])
    }
}

@Suite("Operations")
struct OperationsTests {
    @Test("healthz, readyz, the OpenAPI document, and metrics that count requests")
    func operations() async throws {
        let bench = try await ServerTestBench()
        try await bench.application().test(.router) { client in
            #expect(try await client.send("/healthz", .get).status == .ok)
            #expect(try await client.send("/readyz", .get).status == .ok)
            let document = try await client.send("/openapi.yaml", .get)
            #expect(document.status == .ok)
            #expect(String(buffer: document.body).hasPrefix("openapi: 3.1"))
            _ = try await client.send("/api/v1/registration", .get)
            let metrics = String(buffer: try await client.send("/metrics", .get).body)
            #expect(metrics.contains(#"portal_http_requests_total{method="GET",status="200"} 3"#))
            #expect(metrics.contains(#"portal_http_requests_total{method="GET",status="401"} 1"#))
        }
    }

    @Test("readyz answers 503 once the store is gone")
    func readinessFailsWithoutStore() async throws {
        let bench = try await ServerTestBench(.postgres)
        let store = try #require(bench.store as? PostgresRegistrationStore)
        try await bench.application().test(.router) { client in
            #expect(try await client.send("/readyz", .get).status == .ok)
            let schema = try #require(store.configuration.schema)
            try await store.execute(sql: "DROP SCHEMA \"\(schema)\" CASCADE")
            let response = try await client.send("/readyz", .get)
            #expect(response.status == .serviceUnavailable)
            #expect(try response.problem().rule == "storeUnavailable")
        }
        await store.close()
    }
}
