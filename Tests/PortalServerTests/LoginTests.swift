import CardCredentials
import Foundation
import Hummingbird
import HummingbirdTesting
import Registration
import Testing

@testable import portal_server

@Suite("Certificate login over HTTP")
struct LoginTests {
    @Test("a challenge signed with the registered certificate opens a session", arguments: StoreKind.allCases)
    func happyPath(_ kind: StoreKind) async throws {
        let bench = try await ServerTestBench(kind)
        let registered = try await bench.registered()
        try await bench.application().test(.router) { client in
            let cookie = try await client.login(registered.representative)
            let session = try await client.send("/api/v1/session", .get, cookie: cookie)
            #expect(session.status == .ok)
            let document = try session.json([String: String].self)
            #expect(document["userID"] == registered.representativeID.rawValue)
            #expect(document["businessID"] == registered.businessID.rawValue)
            #expect(document["role"] == "representative")
            let registration = try await client.send("/api/v1/registration", .get, cookie: cookie)
            #expect(registration.status == .ok)
            #expect(registration.headers[.eTag] == "\"2\"")
        }
        #expect(bench.audit.all.contains { $0.metadata["event"] == "login" })
    }

    @Test("a signature over other bytes is refused (403 signatureInvalid), and the refusal is audited")
    func wrongSignature() async throws {
        let bench = try await ServerTestBench()
        let registered = try await bench.registered()
        try await bench.application().test(.router) { client in
            let challenge = try await client.challenge()
            let body = try await client.answer(challenge, with: registered.representative, bytes: Array("other".utf8))
            let response = try await client.send("/api/v1/login", .post, json: body)
            #expect(response.status == .forbidden)
            #expect(try response.problem().rule == "signatureInvalid")
            #expect(response.headers[.setCookie] == nil)
        }
        let line = try #require(bench.audit.all.first { $0.metadata["event"] == "login.refused" })
        #expect(line.metadata["rule"] == "signatureInvalid")
        #expect(line.metadata["fingerprint"] != nil)
        // Identifiers only: no signature, no certificate, no names.
        #expect(
            Set(line.metadata.keys).isSubset(of: ["event", "rule", "client", "fingerprint", "challengeID", "limit"]))
    }

    @Test("an unknown challenge and an expired one are refused (400)")
    func unknownAndExpiredChallenge() async throws {
        let bench = try await ServerTestBench()
        let registered = try await bench.registered()
        try await bench.application().test(.router) { client in
            let challenge = try await client.challenge()
            let invented = try EvidenceChallenge(
                id: String(repeating: "0", count: 32), nonce: challenge.nonce, purpose: challenge.purpose,
                expiresAt: challenge.expiresAt)
            var response = try await client.send(
                "/api/v1/login", .post, json: try await client.answer(invented, with: registered.representative))
            #expect(response.status == .badRequest)
            #expect(try response.problem().rule == "challengeUnknown")

            bench.clock.advance(by: 121)
            response = try await client.send(
                "/api/v1/login", .post, json: try await client.answer(challenge, with: registered.representative))
            #expect(response.status == .badRequest)
            let problem = try response.problem()
            #expect(problem.rule == "challengeExpired")
            #expect(problem.field == "challengeID")
        }
    }

    @Test("evidence signed for another origin is refused (403 foreignOrigin), even relabelled (signatureInvalid)")
    func foreignOrigin() async throws {
        let bench = try await ServerTestBench()
        let registered = try await bench.registered()
        try await bench.application().test(.router) { client in
            let foreign = try await client.answer(
                try await client.challenge(), with: registered.representative, origin: "https://evil.example")
            let response = try await client.send("/api/v1/login", .post, json: foreign)
            #expect(response.status == .forbidden)
            #expect(try response.problem().rule == "foreignOrigin")
            // The same, claiming the portal's origin: the signature binds the origin it was made for.
            let relabelled = try await client.answer(
                try await client.challenge(), with: registered.representative, origin: "https://evil.example"
            ).replacingOccurrences(of: "https:\\/\\/evil.example", with: "http:\\/\\/127.0.0.1:8080")
            #expect(relabelled.contains("127.0.0.1:8080"))
            let second = try await client.send("/api/v1/login", .post, json: relabelled)
            #expect(try second.problem().rule == "signatureInvalid")
            #expect(second.headers[.setCookie] == nil)
        }
    }

    @Test("a replayed answer is refused: a challenge is taken once")
    func replay() async throws {
        let bench = try await ServerTestBench()
        let registered = try await bench.registered()
        try await bench.application().test(.router) { client in
            let body = try await client.answer(try await client.challenge(), with: registered.representative)
            #expect(try await client.send("/api/v1/login", .post, json: body).status == .ok)
            let again = try await client.send("/api/v1/login", .post, json: body)
            #expect(again.status == .badRequest)
            #expect(try again.problem().rule == "challengeUnknown")
        }
    }

    @Test("a certificate not registered, and one superseded by a renewal, cannot log in")
    func notRegisteredOrSuperseded() async throws {
        let bench = try await ServerTestBench()
        let registered = try await bench.registered()
        let stranger = try bench.credential(name: "他人 次郎")
        let renewed = try bench.credential()
        try await bench.application().test(.router) { client in
            var response = try await client.send(
                "/api/v1/login", .post, json: try await client.answer(try await client.challenge(), with: stranger))
            #expect(response.status == .forbidden)
            #expect(try response.problem().rule == "certificateNotRegistered")

            // The representative's certificate is renewed (the binding moves to the new one).
            let registration = try #require(try await bench.store.registration(registered.businessID))
            let binding = try #require(
                registration.activeBindings(of: registered.representativeID, at: bench.clock.now).first)
            _ = try await bench.service.commit(
                try await bench.service.prepare(
                    .replaceCertificate(binding.id, with: renewed.certificate, .fileCertificate),
                    to: registered.businessID, by: .portal(operator: "test")))
            response = try await client.send(
                "/api/v1/login", .post,
                json: try await client.answer(try await client.challenge(), with: registered.representative))
            #expect(response.status == .forbidden)
            #expect(try response.problem().rule == "certificateNotActive")
            _ = try await client.login(renewed)
        }
    }

    @Test("login attempts are limited per client address (429 with Retry-After)")
    func rateLimitPerAddress() async throws {
        var settings = PortalServerSettings(origin: ServerTestBench.origin, secureCookies: false)
        settings.loginBurst = 3
        settings.loginPerMinute = 1
        let bench = try await ServerTestBench(settings: settings)
        let registered = try await bench.registered()
        try await bench.application().test(.live) { client in
            for _ in 0..<3 {
                let response = try await client.send("/api/v1/login", .post, json: "{}")
                #expect(response.status == .badRequest)
            }
            let body = try await client.answer(try await client.challenge(), with: registered.representative)
            let limited = try await client.send("/api/v1/login", .post, json: body)
            #expect(limited.status == .tooManyRequests)
            #expect(try limited.problem().rule == "rateLimited")
            #expect(Int(limited.headers[.retryAfter] ?? "") ?? 0 >= 1)
            // A minute later a token is back.
            bench.clock.advance(by: 60)
            #expect(try await client.send("/api/v1/login", .post, json: body).status == .ok)
        }
    }

    @Test("challenges without a session are limited per client address (four per login attempt), apart from logins")
    func challengeRateLimit() async throws {
        var settings = PortalServerSettings(origin: ServerTestBench.origin, secureCookies: false)
        settings.loginBurst = 1
        settings.loginPerMinute = 1
        let bench = try await ServerTestBench(settings: settings)
        let registered = try await bench.registered()
        try await bench.application().test(.live) { client in
            var challenges: [ChallengeReply] = []
            for _ in 0..<4 { challenges.append(try await client.challenge()) }
            let limited = try await client.send("/api/v1/login/challenge", .post)
            #expect(limited.status == .tooManyRequests)
            #expect(try limited.problem().rule == "rateLimited")
            // The login's own budget is whole: one of the challenges logs in.
            let body = try await client.answer(challenges[0], with: registered.representative)
            #expect(try await client.send("/api/v1/login", .post, json: body).status == .ok)
        }
        #expect(bench.audit.all.contains { $0.metadata["limit"] == "challenges" })
    }

    @Test("login attempts are limited per certificate, whatever address a trusted proxy forwards")
    func rateLimitPerCertificate() async throws {
        var settings = PortalServerSettings(origin: ServerTestBench.origin, secureCookies: false)
        settings.loginBurst = 2
        settings.trustedProxies = ["127.0.0.1"]
        let bench = try await ServerTestBench(settings: settings)
        let registered = try await bench.registered()
        try await bench.application().test(.live) { client in
            for index in 0..<3 {
                let body = try await client.answer(
                    try await client.challenge(), with: registered.representative, bytes: Array("wrong".utf8))
                let response = try await client.send(
                    "/api/v1/login", .post, json: body, headers: [.init("X-Forwarded-For")!: "192.0.2.\(index + 1)"])
                #expect(response.status == (index < 2 ? .forbidden : .tooManyRequests))
            }
        }
        let clients = bench.audit.all.filter { $0.metadata["event"] == "login.refused" }.compactMap {
            $0.metadata["client"]
        }
        #expect(clients == ["192.0.2.1", "192.0.2.2", "192.0.2.3"])
    }
}
