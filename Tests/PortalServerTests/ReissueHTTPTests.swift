import CardCredentials
import CertificateRenewal
import Crypto
import Foundation
import Hummingbird
import HummingbirdTesting
import Registration
import SwiftASN1
import Testing
import X509

@testable import portal_server

/// The certificate reissue on a new computer (seed 004) over HTTP: the administrator with a session, the user
/// without one, each step on the other of two instances over one database; the user's key made here (only its
/// certificate request is sent).
@Suite("Certificate reissue over HTTP, continued by either instance")
struct ReissueHTTPTests {
    struct Flow: Decodable {
        var flowID: String
        var step: String
        var contractID: String?
        var loginID: String?
        var revoked: [String]
    }

    struct Users: Decodable {
        struct User: Decodable {
            var loginID: String
            var name: String
            var certificates: [[String: String]]
        }
        var title: String
        var users: [User]
    }

    struct Screen: Decodable {
        var title: String
        var action: String
        var rows: [ScreenRow]
    }

    struct Receipt: Decodable {
        var contractID: String
        var loginID: String
        var enrollmentCode: String
        var revoked: [String]
    }

    struct Enrollment: Decodable {
        struct Confirmation: Decodable {
            var userName: String
            var businessName: String
        }
        struct Subject: Decodable {
            var text: String
            var der: String
        }
        struct Issued: Decodable {
            var certificate: String
            var chain: [String]
        }
        var flowID: String
        var step: String
        var confirmation: Confirmation?
        var requestSubject: Subject?
        var bindingID: String?
        var issued: Issued?
        var notice: String?
    }

    static let contract = "12345678901"
    static let adminPassword = "admin-pass-1"
    static let adminConfirmation = "admin-check-2"
    static let userPassword = "user-pass-1"
    static let userConfirmation = "user-check-2"

    /// The contract: the representative administers it; the agent is its user `hanako`.
    static func contract(_ bench: ServerTestBench, _ registered: ServerTestBench.Registered) async throws {
        func secret(_ text: String) throws -> SecretPIN { try SecretPIN(text, policy: .password()) }
        try await StoredReissueAccounts(store: bench.store).save(
            ReissueAccount(
                contractID: try ContractID(contract), businessID: registered.businessID,
                administrator: registered.representativeID,
                administratorPasswords: try PasswordPair(
                    password: try secret(adminPassword), confirmation: try secret(adminConfirmation), rounds: 1000),
                users: [
                    ReissueUserAccount(
                        loginID: "hanako", userID: registered.agentID,
                        passwords: try PasswordPair(
                            password: try secret(userPassword), confirmation: try secret(userConfirmation),
                            rounds: 1000))
                ]))
    }

    static func logOn(password: String = adminPassword) -> String {
        #"{"contractID":"\#(contract)","password":"\#(password)","confirmation":"\#(adminConfirmation)"}"#
    }

    static func signIn(code: String) -> String {
        #"{"contractID":"\#(contract)","loginID":"hanako","password":"\#(userPassword)","#
            + #""confirmation":"\#(userConfirmation)","code":"\#(code)"}"#
    }

    /// A certificate request for `subject` made with `key`, as JSON for `…/certificate`.
    static func request(_ subject: DistinguishedName, key: P256.Signing.PrivateKey) throws -> String {
        let csr = try CertificateSigningRequest(
            version: .v1, subject: subject, privateKey: Certificate.PrivateKey(key),
            attributes: CertificateSigningRequest.Attributes(), signatureAlgorithm: .ecdsaWithSHA256)
        let der = try derBytes(csr)
        return #"{"request":"\#(Data(der).base64EncodedString())"}"#
    }

    @Test(
        "the administrator reissues and the user obtains the certificate, across two instances; the new key logs in",
        arguments: StoreKind.allCases)
    func twoInstances(_ kind: StoreKind) async throws {
        let bench = try await ServerTestBench(kind)
        let registered = try await bench.registered()
        try await Self.contract(bench, registered)
        let second = try await bench.secondStore()
        try await bench.application().test(.router) { a in
            try await bench.application(over: second).test(.router) { b in
                let cookie = try await a.login(registered.representative)
                let started = try await b.send("/api/v1/flows/reissue", .post, cookie: cookie)
                #expect(started.status == .created, "\(String(buffer: started.body))")
                let flow = try started.json(Flow.self).flowID
                let base = "/api/v1/flows/reissue/\(flow)"

                let early = try await a.send(base + "/users", .get, cookie: cookie)
                #expect(early.status == .conflict)
                #expect(try early.problem().rule == "notAtStep")

                let wrong = try await a.send(
                    base + "/log-on", .post, cookie: cookie, json: Self.logOn(password: "nope-1"))
                #expect(wrong.status == .forbidden)
                let refusal = try wrong.problem()
                #expect(refusal.rule == "signInRejected")
                #expect(refusal.detail.contains("4"), "says how many tries are left: \(refusal.detail)")

                let loggedOn = try await a.send(base + "/log-on", .post, cookie: cookie, json: Self.logOn())
                #expect(loggedOn.status == .ok, "\(String(buffer: loggedOn.body))")
                #expect(try loggedOn.json(Flow.self).step == "choose-user")
                let users = try await b.send(base + "/users", .get, cookie: cookie).json(Users.self)
                #expect(users.users.map(\.loginID) == ["hanako"])
                #expect(users.users.first?.certificates.count == 1)
                let chosen = try await a.send(base + "/user", .post, cookie: cookie, json: #"{"loginID":"hanako"}"#)
                #expect(try chosen.json(Flow.self).step == "confirm")
                let screen = try await b.send(base + "/confirmation", .get, cookie: cookie).json(Screen.self)
                #expect(screen.title == "利用者電子証明書再発行確認")
                #expect(screen.rows.contains { $0.label == "処理内容" && $0.value == "現在の電子証明書を失効し、再発行する" })
                let reissued = try await a.send(base + "/reissue", .post, cookie: cookie)
                #expect(reissued.status == .ok, "\(String(buffer: reissued.body))")
                let receipt = try reissued.json(Receipt.self)
                #expect(receipt.revoked.count == 1)
                let after = try await b.send(base, .get, cookie: cookie)
                #expect(!String(buffer: after.body).contains(receipt.enrollmentCode), "the code is shown once")
                #expect(try after.json(Flow.self).step == "completed")

                // The old certificate no longer logs in.
                let challenge = try await a.challenge()
                let old = try await a.send(
                    "/api/v1/login", .post, json: try await a.answer(challenge, with: registered.agent))
                #expect(old.status == .forbidden)

                // The user's new computer: no session.
                let enrolled = try await b.send("/api/v1/flows/certificate-enrollment", .post)
                #expect(enrolled.status == .created)
                let enrollment = "/api/v1/flows/certificate-enrollment/\(try enrolled.json(Enrollment.self).flowID)"
                let signedIn = try await a.send(
                    enrollment + "/sign-in", .post, json: Self.signIn(code: receipt.enrollmentCode))
                #expect(signedIn.status == .ok, "\(String(buffer: signedIn.body))")
                let pending = try signedIn.json(Enrollment.self)
                #expect(pending.step == "confirm")
                #expect(pending.confirmation?.userName == "代理 花子")
                let subjectDER = try #require(pending.requestSubject.flatMap { Data(base64Encoded: $0.der) })
                let subject = try DistinguishedName(derEncoded: try DER.parse(Array(subjectDER)))

                // A request for another subject is refused and the code stays.
                let other = try DistinguishedName { CommonName("入札 太郎") }
                let refused = try await b.send(
                    enrollment + "/certificate", .post, json: try Self.request(other, key: P256.Signing.PrivateKey()))
                #expect(refused.status == .unprocessableContent)
                #expect(try refused.problem().rule == "certificateRequestRefused")
                let garbage = try await b.send(enrollment + "/certificate", .post, json: #"{"request":"AAAA"}"#)
                #expect(try garbage.problem().field == "request")

                let key = P256.Signing.PrivateKey()
                let obtained = try await b.send(
                    enrollment + "/certificate", .post, json: try Self.request(subject, key: key))
                #expect(obtained.status == .ok, "\(String(buffer: obtained.body))")
                let done = try obtained.json(Enrollment.self)
                #expect(done.step == "completed")
                #expect(done.notice?.contains("有効期限は1年") == true)
                let issued = try #require(done.issued.flatMap { Data(base64Encoded: $0.certificate) })
                let certificate = try Certificate(derEncoded: Array(issued))
                #expect(certificate.publicKey == Certificate.PublicKey(key.publicKey))
                // The answer again from the other instance (a lost answer loses nothing).
                #expect(
                    try await a.send(enrollment, .get).json(Enrollment.self).issued?.certificate
                        == done.issued?.certificate)

                // The key made here, with its certificate, logs in as the user.
                let file = try FileCredential(privateKeyDER: Array(key.derRepresentation), certificate: certificate)
                let login = try await a.send(
                    "/api/v1/login", .post, json: try await a.answer(try await a.challenge(), with: file))
                #expect(login.status == .ok, "\(String(buffer: login.body))")
                #expect(String(buffer: login.body).contains(registered.agentID.rawValue))

                // The audit has the change, and no password or code.
                let lines = bench.audit.all.map { "\($0.message) \($0.metadata)" }.joined(separator: "\n")
                #expect(lines.contains("certificateEnrolled"))
                for secret in [Self.adminPassword, Self.userPassword, Self.userConfirmation, receipt.enrollmentCode] {
                    #expect(!lines.contains(secret))
                }
            }
        }
    }

    @Test("without a session, as an agent, with unknown fields: refused, nothing changed")
    func refusals() async throws {
        let bench = try await ServerTestBench()
        let registered = try await bench.registered()
        try await Self.contract(bench, registered)
        let before = try await bench.state(registered.businessID)
        try await bench.application().test(.router) { client in
            #expect(try await client.send("/api/v1/flows/reissue", .post).status == .unauthorized)
            let agent = try await client.login(registered.agent)
            let asAgent = try await client.send("/api/v1/flows/reissue", .post, cookie: agent)
            #expect(asAgent.status == .forbidden)
            #expect(try asAgent.problem().rule == "notTheAdministrator")

            let cookie = try await client.login(registered.representative)
            let flow = try await client.send("/api/v1/flows/reissue", .post, cookie: cookie).json(Flow.self).flowID
            let extra = try await client.send(
                "/api/v1/flows/reissue/\(flow)/log-on", .post, cookie: cookie,
                json: #"{"contractID":"\#(Self.contract)","password":"a","confirmation":"b","remember":true}"#)
            #expect(extra.status == .badRequest)
            #expect(try extra.problem().field == "remember")
            let empty = try await client.send(
                "/api/v1/flows/reissue/\(flow)/log-on", .post, cookie: cookie,
                json: #"{"contractID":"\#(Self.contract)","password":"","confirmation":"admin-check-2"}"#)
            #expect(empty.status == .unprocessableContent)
            let emptyProblem = try empty.problem()
            #expect(emptyProblem.field == "password")
            #expect(
                !emptyProblem.detail.contains("card"), "a service password, not a card's PIN: \(emptyProblem.detail)")
            let badContract = try await client.send(
                "/api/v1/flows/reissue/\(flow)/log-on", .post, cookie: cookie,
                json: #"{"contractID":"1234","password":"admin-pass-1","confirmation":"admin-check-2"}"#)
            #expect(try badContract.problem().rule == "contractIDFormat")
            // Another user's session does not see the flow.
            let foreign = try await client.send("/api/v1/flows/reissue/\(flow)", .get, cookie: agent)
            #expect(foreign.status == .notFound)

            let enrollment = try await client.send("/api/v1/flows/certificate-enrollment", .post)
                .json(Enrollment.self).flowID
            let badCode = try await client.send(
                "/api/v1/flows/certificate-enrollment/\(enrollment)/sign-in", .post,
                json: Self.signIn(code: "AAAA-BBBB-CCCC-DDDD"))
            #expect(badCode.status == .forbidden)
            #expect(try badCode.problem().rule == "enrollmentCodeInvalid")
            let early = try await client.send(
                "/api/v1/flows/certificate-enrollment/\(enrollment)/certificate", .post, json: #"{"request":"AAAA"}"#)
            #expect(early.status == .unprocessableContent || early.status == .conflict)
        }
        #expect(try await bench.state(registered.businessID) == before)
    }
}
