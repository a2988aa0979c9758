import Foundation
import Hummingbird
import HummingbirdTesting
import Registration
import Testing

@testable import portal_server

/// A request that must be refused with a problem document, leaving the registration as it was.
struct BadRequest: Sendable, CustomTestStringConvertible {
    var name: String
    var uri: String
    var method: HTTPRequest.Method
    var body: String?
    var headers: [String: String] = ["If-Match": "\"2\""]
    var status: HTTPResponse.Status
    var rule: String
    var field: String?

    var testDescription: String { name }

    static let all: [BadRequest] = [
        BadRequest(
            name: "malformed JSON", uri: "/api/v1/registration/qualifications", method: .post, body: #"{"kind":"#,
            status: .badRequest, rule: "malformedJSON"),
        BadRequest(
            name: "not an object", uri: "/api/v1/registration/qualifications", method: .post, body: "[1]",
            status: .badRequest, rule: "wrongType"),
        BadRequest(
            name: "unknown field", uri: "/api/v1/registration/qualifications", method: .post,
            body: #"{"kind":"services","grade":"A","rank":1}"#, status: .badRequest, rule: "unknownField", field: "rank"
        ),
        BadRequest(
            name: "unknown nested field", uri: "/api/v1/registration/agents", method: .post,
            body:
                #"{"title":"t","name":"n","postalCode":"1000013","address":"a","phone":"03-1234-5678","mail":"a@example.jp","certificate":"AA==","kind":"icCard","powerOfAttorney":{"principal":"p","extra":true}}"#,
            status: .badRequest, rule: "unknownField", field: "powerOfAttorney.extra"),
        BadRequest(
            name: "missing field", uri: "/api/v1/registration/qualifications", method: .post,
            body: #"{"kind":"services"}"#,
            status: .badRequest, rule: "missingField", field: "grade"),
        BadRequest(
            name: "wrong type", uri: "/api/v1/registration/business", method: .patch, body: #"{"phone":3}"#,
            status: .badRequest, rule: "wrongType", field: "phone"),
        BadRequest(
            name: "a value the selection lacks", uri: "/api/v1/registration/qualifications", method: .post,
            body: #"{"kind":"services","grade":"Z"}"#, status: .unprocessableContent, rule: "invalidField",
            field: "grade"),
        BadRequest(
            name: "a field the library refuses", uri: "/api/v1/registration/business", method: .patch,
            body: #"{"postalCode":"12"}"#, status: .unprocessableContent, rule: "invalidField", field: "postalCode"),
        BadRequest(
            name: "oversized body", uri: "/api/v1/registration/business", method: .patch,
            body: #"{"address":""# + String(repeating: "x", count: 70_000) + #""}"#, status: .contentTooLarge,
            rule: "bodyTooLarge"),
        BadRequest(
            name: "wrong content type", uri: "/api/v1/registration/qualifications", method: .post,
            body: #"{"kind":"services","grade":"A"}"#, headers: ["If-Match": "\"2\"", "Content-Type": "text/plain"],
            status: .unsupportedMediaType, rule: "contentType"),
        BadRequest(
            name: "unknown route", uri: "/api/v1/registration/nothing", method: .get, status: .notFound,
            rule: "unknownRoute"),
        BadRequest(
            name: "wrong method", uri: "/api/v1/registration", method: .delete, status: .methodNotAllowed,
            rule: "methodNotAllowed"),
        BadRequest(
            name: "no If-Match", uri: "/api/v1/registration/qualifications", method: .post,
            body: #"{"kind":"services","grade":"A"}"#, headers: [:], status: .preconditionRequired,
            rule: "ifMatchMissing",
            field: "If-Match"),
        BadRequest(
            name: "malformed If-Match", uri: "/api/v1/registration/qualifications", method: .post,
            body: #"{"kind":"services","grade":"A"}"#, headers: ["If-Match": "*"], status: .badRequest,
            rule: "ifMatchMalformed", field: "If-Match"),
        BadRequest(
            name: "stale version", uri: "/api/v1/registration/qualifications", method: .post,
            body: #"{"kind":"services","grade":"A"}"#, headers: ["If-Match": "\"1\""], status: .preconditionFailed,
            rule: "staleVersion", field: "If-Match"),
        BadRequest(
            name: "unknown user", uri: "/api/v1/registration/users/U-NOBODY", method: .patch, body: #"{"title":"x"}"#,
            status: .notFound, rule: "userNotFound", field: "userID"),
        BadRequest(
            name: "unknown binding", uri: "/api/v1/registration/certificates/C-NONE", method: .delete,
            status: .notFound, rule: "bindingNotFound", field: "bindingID"),
        BadRequest(
            name: "not a certificate", uri: "/api/v1/registration/certificates", method: .post,
            body: #"{"certificate":"AAAA","kind":"icCard"}"#, status: .unprocessableContent, rule: "invalidField",
            field: "certificate"),
        BadRequest(
            name: "deleting the representative", uri: "/api/v1/registration/users/REPRESENTATIVE", method: .delete,
            status: .unprocessableContent, rule: "changeNotAllowed"),
    ]
}

@Suite("Bad input: a problem document, never a 500, never a change")
struct ErrorPathTests {
    @Test("each bad request answers its 4xx problem and leaves the registration as it was", arguments: BadRequest.all)
    func badRequest(_ bad: BadRequest) async throws {
        let bench = try await ServerTestBench()
        let registered = try await bench.registered()
        let before = try await bench.state(registered.businessID)
        try await bench.application().test(.router) { client in
            let cookie = try await client.login(registered.representative)
            var headers = HTTPFields()
            for (name, value) in bad.headers { headers[.init(name)!] = value }
            let uri = bad.uri.replacingOccurrences(of: "REPRESENTATIVE", with: registered.representativeID.rawValue)
            let response = try await client.send(uri, bad.method, cookie: cookie, json: bad.body, headers: headers)
            #expect(response.status == bad.status)
            let problem = try response.problem()
            #expect(problem.status == Int(bad.status.code))
            #expect(problem.rule == bad.rule)
            #expect(problem.type == "urn:procurement-identity:problem:\(bad.rule)")
            #expect(!problem.title.isEmpty && !problem.detail.isEmpty)
            if let field = bad.field { #expect(problem.field == field) }
            if bad.status == .methodNotAllowed { #expect(response.headers[.allow] == "GET") }
        }
        #expect(try await bench.state(registered.businessID) == before)
    }

    static func evidence(
        certificate: String, algorithm: String, origin: String = ServerTestBench.origin,
        format: String = "procurement-identity-evidence:1"
    ) -> String {
        #"{"format":"\#(format)","origin":"\#(origin)","challengeID":"x","certificate":"\#(certificate)","#
            + #""signature":"AA==","algorithm":"\#(algorithm)"}"#
    }

    @Test("a login body that is not an answer is refused (4xx problem)")
    func badLoginBodies() async throws {
        let bench = try await ServerTestBench()
        try await bench.application().test(.router) { client in
            for (body, rule) in [
                (#"{"challengeID":"x"}"#, "missingField"),
                (Self.evidence(certificate: "!!", algorithm: "RS256"), "invalidField"),
                (Self.evidence(certificate: "AA==", algorithm: "none"), "invalidField"),
                (
                    Self.evidence(certificate: "AA==", algorithm: "RS256", origin: "https://portal.example.jp/"),
                    "invalidField"
                ),
                (Self.evidence(certificate: "AA==", algorithm: "RS256", format: "web-eid:1.0"), "invalidField"),
                ("not json", "malformedJSON"),
            ] {
                let response = try await client.send("/api/v1/login", .post, json: body)
                #expect((400..<500).contains(Int(response.status.code)))
                #expect(try response.problem().rule == rule)
            }
        }
    }
}

@Suite("Concurrent changes")
struct ConcurrencyTests {
    @Test(
        "of changes made at once against one version, one commits; the others are stale (409 or 412)",
        arguments: StoreKind.allCases)
    func concurrentChanges(_ kind: StoreKind) async throws {
        let bench = try await ServerTestBench(kind)
        let registered = try await bench.registered()
        try await bench.application().test(.router) { client in
            let cookie = try await client.login(registered.representative)
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for index in 0..<6 {
                    group.addTask {
                        let response = try await client.send(
                            "/api/v1/registration/business", .patch, cookie: cookie,
                            json: #"{"phone":"03-1111-000\#(index)"}"#, headers: [.ifMatch: "\"2\""])
                        if response.status != .ok {
                            #expect(["staleChange", "staleVersion"].contains(try response.problem().rule))
                        }
                        return response.status
                    }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .ok }.count == 1)
            #expect(statuses.allSatisfy { [.ok, .conflict, .preconditionFailed].contains($0) })
        }
        #expect(try await bench.state(registered.businessID) == [3, 3])
    }
}
