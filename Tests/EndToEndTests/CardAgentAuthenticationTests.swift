import CardAgent
import CardCredentials
import CardSimulator
import Foundation
import PCSC
import Testing

/// The authentication operation through the real stack: pcscd (`PCSCLITE_CSOCK_NAME`), the vpcd reader of slot 0
/// (`PI_VPCD_PORT`), a simulated My Number card, and the scripted pinentry.
extension EndToEnd {
    @Suite("Card agent: authentication through pcscd", .serialized)
    struct CardAuthenticationTests {
        static let origin = "https://portal.example.jp"
        static let authority: Result<TestCertificateAuthority, any Error> = Result { try .temporary() }

        static func card() throws -> JPKICard {
            try JPKICard.issue(by: authority.get(), holder: .example, signingPIN: "ABC123", authenticationPIN: "1234")
        }

        static func agent(_ script: ScriptedPinentry) throws -> CardAgent {
            CardAgent(
                policy: AgentPolicy(
                    allowedOrigins: [try PortalOrigin(origin)], listenAddresses: [try ListenAddress("127.0.0.1:24780")]),
                authenticator: CardAuthenticator(dialogs: script.pinentry()))
        }

        static func request(_ challenge: EvidenceChallenge) throws -> AgentRequest {
            AgentRequest(
                method: "POST", path: "/v1/authenticate",
                headers: [("Host", "127.0.0.1:24780"), ("Origin", origin), ("Content-Type", "application/json")],
                body: Array(try JSONEncoder().encode(challenge)))
        }

        static func errorBody(_ response: AgentResponse) throws -> [String: Any] {
            let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
            return try #require(object?["error"] as? [String: Any])
        }

        /// Inserts `card` into slot 0, waits until pcscd sees it, runs `body`, pulls the card.
        static func withCard<T>(_ card: JPKICard, _ body: (VPCDCardServer) async throws -> T) async throws -> T {
            let server = VPCDCardServer(port: VPCDCardServer.port(forSlot: 0))
            try await server.insert(card)
            defer { Task { await server.remove() } }
            try await waitUntil(present: true)
            let value = try await body(server)
            await server.remove()
            try await waitUntil(present: false)
            return value
        }

        static func waitUntil(present: Bool) async throws {
            let context = try PCSCContext()
            let reader = try #require(try await context.readers().filter { $0.hasPrefix("Virtual PCD") }.sorted().first)
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline {
                if try await context.readerStatuses(of: [reader]).first?.isCardPresent == present { return }
                try await Task.sleep(for: .milliseconds(20))
            }
            Issue.record("pcscd did not see the card \(present ? "inserted" : "removed")")
            throw CancellationError()
        }

        @Test("login evidence from a My Number card verifies for the origin; the dialog named it and the tries left")
        func login() async throws {
            let script = try ScriptedPinentry(["pin 1234"])
            defer { script.remove() }
            let challenge = EvidenceChallenge.random(for: .login, expiresAt: Date() + 120)
            let response = try await Self.withCard(try Self.card()) { _ in
                try await Self.agent(script).handle(try Self.request(challenge))
            }
            #expect(response.status == 200, "\(String(decoding: response.body, as: UTF8.self))")
            #expect(response.value(of: "Access-Control-Allow-Origin") == Self.origin)
            let evidence = try JSONDecoder().decode(CardEvidence.self, from: Data(response.body))
            let validator = CertificateValidator(
                trustAnchors: [try Self.authority.get().rootCertificate(.jpkiAuthentication)])
            _ = try await evidence.verify(
                challenge, origin: try PortalOrigin(Self.origin), purpose: .login, at: Date(), validator: validator)
            let description = try #require(script.log.first { $0.hasPrefix("SETDESC ") })
            #expect(description.contains("https://portal.example.jp asks to sign you in with your card"))
            #expect(description.contains("3 tries are left before it is blocked (閉塞)."))
        }

        @Test("a wrong PIN says the tries left, and the next dialog says them too")
        func wrongPIN() async throws {
            let script = try ScriptedPinentry(["pin 9999", "pin 1234"])
            defer { script.remove() }
            try await Self.withCard(try Self.card()) { _ in
                let agent = try Self.agent(script)
                let first = await agent.handle(
                    try Self.request(EvidenceChallenge.random(for: .login, expiresAt: Date() + 120)))
                #expect(first.status == 409)
                let error = try Self.errorBody(first)
                #expect(error["code"] as? String == "wrongPIN")
                #expect(error["triesLeft"] as? Int == 2)
                #expect((error["message"] as? String)?.contains("9999") == false)
                let second = await agent.handle(
                    try Self.request(EvidenceChallenge.random(for: .login, expiresAt: Date() + 120)))
                #expect(second.status == 200)
            }
            let descriptions = script.log.filter { $0.hasPrefix("SETDESC ") }
            #expect(descriptions.count == 2)
            #expect(descriptions.last?.contains("2 tries are left before it is blocked (閉塞).") == true)
        }

        @Test("a card pulled during the dialog gives cardRemoved, and the next request works")
        func pulledCard() async throws {
            let script = try ScriptedPinentry(["slow 1234", "pin 1234"])
            defer { script.remove() }
            let card = try Self.card()
            try await Self.withCard(card) { server in
                let agent = try Self.agent(script)
                let request = try Self.request(EvidenceChallenge.random(for: .login, expiresAt: Date() + 120))
                async let answer = agent.handle(request)
                try await Task.sleep(for: .milliseconds(700))
                await server.remove()
                let response = await answer
                #expect(response.status == 409, "\(String(decoding: response.body, as: UTF8.self))")
                #expect(try Self.errorBody(response)["code"] as? String == "cardRemoved")
                try await Self.waitUntil(present: false)
                try await server.insert(card)
                try await Self.waitUntil(present: true)
                let again = await agent.handle(
                    try Self.request(EvidenceChallenge.random(for: .login, expiresAt: Date() + 120)))
                #expect(again.status == 200, "\(String(decoding: again.body, as: UTF8.self))")
            }
        }

        @Test("one try left asks for consent first (declined: nothing sent); a blocked PIN fails without a dialog")
        func lastTryAndBlocked() async throws {
            let script = try ScriptedPinentry(["pin 9999", "pin 9999", "no", "yes", "pin 9999"])
            defer { script.remove() }
            try await Self.withCard(try Self.card()) { _ in
                let agent = try Self.agent(script)
                func code() async throws -> String? {
                    let response = await agent.handle(
                        try Self.request(EvidenceChallenge.random(for: .login, expiresAt: Date() + 120)))
                    return try Self.errorBody(response)["code"] as? String
                }
                #expect(try await code() == "wrongPIN")
                #expect(try await code() == "wrongPIN")
                #expect(try await code() == "lastTryRefused")
                #expect(script.log.filter { $0 == "GETPIN" }.count == 2)
                let consent = try #require(script.log.last { $0.hasPrefix("SETDESC ") })
                #expect(consent.contains("Only one try is left for the user-authentication PIN"))
                #expect(["wrongPIN", "pinBlocked"].contains(try await code()))
                let dialogs = script.log.count
                #expect(try await code() == "pinBlocked")
                #expect(script.log.count == dialogs)
            }
        }

        @Test("the certificate update's and the power of attorney renewal's challenges are signed with the signing key")
        func signingKeyByPurpose() async throws {
            let script = try ScriptedPinentry(["pin ABC123", "pin ABC123", "pin 1234"])
            defer { script.remove() }
            let card = try Self.card()
            let purposes = [
                try EvidencePurpose(flow: "certificate-update", step: "current-certificate"),
                try EvidencePurpose(flow: "power-of-attorney", step: "renewal-card"),
                try EvidencePurpose(flow: "power-of-attorney", step: "deletion-card"),
            ]
            let certificates = try await Self.withCard(card) { _ in
                var certificates: [[UInt8]] = []
                for purpose in purposes {
                    let challenge = EvidenceChallenge.random(for: purpose, expiresAt: Date() + 120)
                    let response = try await Self.agent(script).handle(try Self.request(challenge))
                    #expect(response.status == 200, "\(String(decoding: response.body, as: UTF8.self))")
                    let evidence = try JSONDecoder().decode(CardEvidence.self, from: Data(response.body))
                    _ = try evidence.verifyPossession(
                        challenge, origin: try PortalOrigin(Self.origin), purpose: purpose, at: Date())
                    certificates.append(try evidence.certificate.derBytes())
                }
                return certificates
            }
            #expect(certificates[0] == card.snapshot.signingCertificate)
            #expect(certificates[1] == card.snapshot.signingCertificate)
            #expect(certificates[2] == card.snapshot.authenticationCertificate)
            let descriptions = script.log.filter { $0.hasPrefix("SETDESC ") }
            #expect(descriptions.count == 3)
            #expect(descriptions[0].contains("read your registered certificate for its update (電子証明書更新)"))
            #expect(descriptions[0].contains("signing PIN (署名用電子証明書のパスワード)"))
            #expect(descriptions[2].contains("user-authentication PIN"))
        }

        @Test("no card in any reader: noCard without a dialog")
        func noCard() async throws {
            let script = try ScriptedPinentry(["pin 1234"])
            defer { script.remove() }
            let response = try await Self.agent(script).handle(
                try Self.request(EvidenceChallenge.random(for: .login, expiresAt: Date() + 120)))
            #expect(try Self.errorBody(response)["code"] as? String == "noCard")
            #expect(script.log.isEmpty)
        }

        // Seen in the browser tests on a loaded machine: the page shows the swap screen, the person (the test) takes
        // the card out while the agent is still reading it to know which card is the current one.
        @Test("the swap: the current card taken out while the agent reads it at the start is the card going out")
        func swapWhileTheCurrentCardLeaves() async throws {
            let (old, new) = (try Self.card(), try Self.card())
            let script = try ScriptedPinentry([])
            defer { script.remove() }
            let authenticator = CardAuthenticator(dialogs: script.pinentry())
            let server = VPCDCardServer(port: VPCDCardServer.port(forSlot: 0))
            try await server.insert(old)
            try await Self.waitUntil(present: true)
            server.faults.arm(.pullCard)  // the agent's first read of the current card finds it gone
            async let swapped = authenticator.waitForSwap(timeout: .seconds(20))
            try await Self.waitUntil(present: false)
            try await server.insert(new)
            let reader = try await swapped
            let der = try #require(reader.card?.certificates.first.flatMap { Data(base64Encoded: $0) })
            #expect(Array(der) == new.snapshot.authenticationCertificate)
            #expect(script.log.isEmpty)
            await server.remove()
            try await Self.waitUntil(present: false)
        }
    }
}
