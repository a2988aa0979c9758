import CardCredentials
import CertificateRenewal
import Foundation
import Hummingbird
import HummingbirdTesting
import Registration
import Testing

@testable import portal_server

/// The IC card renewal over HTTP, on two instances of the server over one database: each step on the other
/// instance, card evidence made by file keys (the card-style signature; the card-through-pcscd client is the
/// reference client's test).
@Suite("IC card renewal over HTTP, continued by either instance")
struct FlowTests {
    struct FlowReply: Decodable {
        var flowID: String
        var step: String
        var changeID: String?
    }

    struct ConfirmationReply: Decodable {
        struct Block: Decodable {
            var heading: String
            var rows: [Row]
        }
        struct Row: Decodable {
            var label: String
            var value: String
        }
        var title: String
        var blocks: [Block]
    }

    @Test(
        "a whole renewal alternating between two instances; refused evidence changes nothing; the old card is refused",
        arguments: StoreKind.allCases)
    func twoInstances(_ kind: StoreKind) async throws {
        let bench = try await ServerTestBench(kind)
        let registered = try await bench.registered()
        let renewed = try bench.credential()
        let second = try await bench.secondStore()
        try await bench.application().test(.router) { a in
            try await bench.application(over: second).test(.router) { b in
                let cookie = try await a.login(registered.representative)
                let started = try await b.send("/api/v1/flows/ic-card-renewal", .post, cookie: cookie)
                #expect(started.status == .created, "\(String(buffer: started.body))")
                let flow = try started.json(FlowReply.self).flowID
                let base = "/api/v1/flows/ic-card-renewal/\(flow)"

                func challenge(_ client: some TestClientProtocol) async throws -> EvidenceChallenge {
                    let response = try await client.send(base + "/challenge", .post, cookie: cookie)
                    #expect(response.status == .created, "\(String(buffer: response.body))")
                    return try response.json(EvidenceChallenge.self)
                }
                let before = try await bench.state(registered.businessID)

                // A page of another site had the card sign: refused, the flow stays, nothing changes.
                let foreign = try await a.answer(
                    try await challenge(a), with: registered.representative, origin: "https://evil.example")
                let refused = try await b.send(base + "/current-card", .post, cookie: cookie, json: foreign)
                #expect(refused.status == .forbidden)
                #expect(try refused.problem().rule == "foreignOrigin")
                // Out of order: the new card's step now.
                let early = try await a.answer(try await challenge(a), with: renewed)
                let outOfOrder = try await a.send(base + "/new-card", .post, cookie: cookie, json: early)
                #expect(outOfOrder.status == .conflict)
                #expect(try outOfOrder.problem().rule == "notAtStep")

                let current = try await b.answer(try await challenge(b), with: registered.representative)
                let afterCurrent = try await a.send(base + "/current-card", .post, cookie: cookie, json: current)
                #expect(afterCurrent.status == .ok, "\(String(buffer: afterCurrent.body))")
                #expect(try afterCurrent.json(FlowReply.self).step == "new-card")
                // The same evidence again: a replay.
                let replay = try await b.send(base + "/new-card", .post, cookie: cookie, json: current)
                #expect(try replay.problem().rule == "challengeUnknown")

                let new = try await a.answer(try await challenge(a), with: renewed)
                let afterNew = try await b.send(base + "/new-card", .post, cookie: cookie, json: new)
                #expect(try afterNew.json(FlowReply.self).step == "confirm", "\(String(buffer: afterNew.body))")
                #expect(try await bench.state(registered.businessID) == before, "nothing stored before 更新")

                let screen = try await a.send(base + "/confirmation", .get, cookie: cookie)
                let confirmation = try screen.json(ConfirmationReply.self)
                #expect(confirmation.title == "電子証明書更新確認")
                #expect(confirmation.blocks.map(\.heading) == ["現在使用しているICカード", "新規に使用するICカード"])

                let updated = try await b.send(base + "/update", .post, cookie: cookie)
                #expect(updated.status == .ok, "\(String(buffer: updated.body))")
                // The session was the old certificate's: it ended with it.
                #expect(try await a.send(base, .get, cookie: cookie).status == .unauthorized)

                // The old certificate no longer logs in, on either instance; the new one does.
                let old = try await b.send(
                    "/api/v1/login", .post,
                    json: try await b.answer(try await b.challenge(), with: registered.representative))
                #expect(try old.problem().rule == "certificateNotActive")
                let renewedCookie = try await a.login(renewed)
                let final = try await b.send(base, .get, cookie: renewedCookie)
                #expect(try final.json(FlowReply.self).step == "completed", "\(String(buffer: final.body))")
            }
        }
    }

    @Test("a card the rules refuse is 422 with the case's name as the rule, with values or without")
    func refusalRules() {
        let mismatch = Problem(LifecycleError.companyNameMismatch(registered: "株式会社試験建設", card: "株式会社試験建設工業"))
        #expect(mismatch.rule == "companyNameMismatch")
        #expect(mismatch.status == .unprocessableContent)
        #expect(mismatch.detail.contains("株式会社試験建設工業"))
        #expect(Problem(LifecycleError.sameCard).rule == "sameCard")
        #expect(Problem(LifecycleError.newCardAlreadyRegistered).rule == "newCardAlreadyRegistered")
        #expect(Problem(LifecycleError.newCardExpired(notAfter: Date())).rule == "newCardExpired")
    }

    @Test("another user's flow is not found; a flow needs a session")
    func ownership() async throws {
        let bench = try await ServerTestBench()
        let registered = try await bench.registered()
        try await bench.application().test(.router) { client in
            let representative = try await client.login(registered.representative)
            let agent = try await client.login(registered.agent)
            let flow = try await client.send("/api/v1/flows/ic-card-renewal", .post, cookie: representative)
                .json(FlowReply.self).flowID
            let stolen = try await client.send("/api/v1/flows/ic-card-renewal/\(flow)", .get, cookie: agent)
            #expect(stolen.status == .notFound)
            #expect(try stolen.problem().rule == "flowNotFound")
            let anonymous = try await client.send("/api/v1/flows/ic-card-renewal/\(flow)/challenge", .post)
            #expect(anonymous.status == .unauthorized)
        }
    }
}

/// The certificate update without login over HTTP: no session, the flow's identifier continues it, on two
/// instances over one database.
@Suite("Certificate update over HTTP, without a session, continued by either instance")
struct CertificateUpdateFlowTests {
    struct FlowReply: Decodable {
        var flowID: String
        var type: String
        var step: String
        var businessID: String?
    }

    struct ConfirmationReply: Decodable {
        struct Details: Decodable {
            var heading: String
            var kind: String
        }
        var title: String
        var current: Details
        var new: Details
    }

    /// The body of an evidence step: the evidence and what the certificate is on.
    static func body(_ evidence: String, kind: String = "fileCertificate", extra: String = "") -> String {
        #"{"evidence":\#(evidence),"kind":"\#(kind)"\#(extra)}"#
    }

    @Test(
        "a whole update alternating between two instances; bad bodies and refused evidence change nothing",
        arguments: StoreKind.allCases)
    func twoInstances(_ kind: StoreKind) async throws {
        let bench = try await ServerTestBench(kind)
        let registered = try await bench.registered()
        let renewed = try bench.credential()
        let second = try await bench.secondStore()
        try await bench.application().test(.router) { a in
            try await bench.application(over: second).test(.router) { b in
                let unknownType = try await a.send(
                    "/api/v1/flows/certificate-update", .post, json: #"{"type":"passport"}"#)
                #expect(try unknownType.problem().field == "type")
                let started = try await b.send(
                    "/api/v1/flows/certificate-update", .post, json: #"{"type":"privateCertificate"}"#)
                #expect(started.status == .created, "\(String(buffer: started.body))")
                let flow = try started.json(FlowReply.self).flowID
                let base = "/api/v1/flows/certificate-update/\(flow)"

                func challenge(_ client: some TestClientProtocol) async throws -> EvidenceChallenge {
                    let response = try await client.send(base + "/challenge", .post)
                    #expect(response.status == .created, "\(String(buffer: response.body))")
                    return try response.json(EvidenceChallenge.self)
                }
                let before = try await bench.state(registered.businessID)

                // An unknown field inside the evidence, a wrong kind, a foreign origin: refused, nothing changes.
                let evidence = try await a.answer(try await challenge(a), with: registered.representative)
                let unknown = try await a.send(
                    base + "/current-certificate", .post,
                    json: Self.body(String(evidence.dropLast()) + #","pin":"1234"}"#))
                #expect(unknown.status == .badRequest)
                #expect(try unknown.problem().rule == "unknownField")
                let wrongKind = try await a.send(
                    base + "/current-certificate", .post, json: Self.body(evidence, kind: "myNumberCard"))
                #expect(try wrongKind.problem().field == "kind")
                let foreign = try await b.answer(
                    try await challenge(b), with: registered.representative, origin: "https://evil.example")
                let refused = try await a.send(base + "/current-certificate", .post, json: Self.body(foreign))
                #expect(refused.status == .forbidden)
                #expect(try refused.problem().rule == "foreignOrigin")

                let current = try await b.send(base + "/current-certificate", .post, json: Self.body(evidence))
                #expect(current.status == .ok, "\(String(buffer: current.body))")
                let afterCurrent = try current.json(FlowReply.self)
                #expect(afterCurrent.step == "new-certificate")
                #expect(afterCurrent.businessID == registered.businessID.rawValue)
                // Consent belongs to the registered certificate's step only; the same evidence again is a replay.
                let consent = try await a.send(
                    base + "/new-certificate", .post, json: Self.body(evidence, extra: #","consent":true"#))
                #expect(try consent.problem().field == "consent")
                let replay = try await a.send(base + "/new-certificate", .post, json: Self.body(evidence))
                #expect(try replay.problem().rule == "challengeUnknown")

                let new = try await a.answer(try await challenge(a), with: renewed)
                let afterNew = try await b.send(base + "/new-certificate", .post, json: Self.body(new))
                #expect(try afterNew.json(FlowReply.self).step == "confirm", "\(String(buffer: afterNew.body))")
                #expect(try await bench.state(registered.businessID) == before, "nothing stored before 更新実行")

                let screen = try await a.send(base + "/confirmation", .get).json(ConfirmationReply.self)
                #expect(screen.title == "電子証明書の更新確認")
                #expect(screen.current.heading == "更新元電子証明書情報")
                #expect(screen.new.heading == "更新先電子証明書情報")
                #expect(screen.new.kind == "fileCertificate")

                let updated = try await b.send(base + "/update", .post)
                #expect(updated.status == .ok, "\(String(buffer: updated.body))")
                #expect(try await a.send(base, .get).json(FlowReply.self).step == "completed")
                #expect(try await a.send(base + "/back", .post).problem().rule == "notAtStep")

                // The old certificate no longer logs in; the new one does.
                let old = try await b.send(
                    "/api/v1/login", .post,
                    json: try await b.answer(try await b.challenge(), with: registered.representative))
                #expect(try old.problem().rule == "certificateNotActive")
                _ = try await a.login(renewed)
            }
        }
    }

    @Test("an unknown flow is not found; a page of another site cannot start one")
    func unknownAndForeign() async throws {
        let bench = try await ServerTestBench()
        try await bench.application().test(.router) { client in
            let unknown = try await client.send(
                "/api/v1/flows/certificate-update/U" + String(repeating: "0", count: 32), .get)
            #expect(unknown.status == .notFound)
            #expect(try unknown.problem().rule == "flowNotFound")
            let foreign = try await client.send(
                "/api/v1/flows/certificate-update", .post, json: #"{"type":"privateCertificate"}"#,
                origin: "https://evil.example")
            #expect(foreign.status == .forbidden)
        }
    }
}

/// The expired power of attorney over HTTP (the whole flow with a My Number card is RemotePowerOfAttorneyTests'):
/// only for an agent whose power of attorney expired, and only with a session.
@Suite("Expired power of attorney over HTTP")
struct PowerOfAttorneyFlowHTTPTests {
    @Test("a representative has no power of attorney to renew; no session, no flow")
    func refusals() async throws {
        let bench = try await ServerTestBench()
        let registered = try await bench.registered()
        try await bench.application().test(.router) { client in
            let representative = try await client.login(registered.representative)
            let refused = try await client.send("/api/v1/flows/power-of-attorney", .post, cookie: representative)
            #expect(refused.status == .unprocessableContent, "\(String(buffer: refused.body))")
            #expect(try refused.problem().detail.contains("agent"))
            let anonymous = try await client.send("/api/v1/flows/power-of-attorney", .post)
            #expect(anonymous.status == .unauthorized)
        }
    }
}
