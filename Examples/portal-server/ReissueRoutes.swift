import CardCredentials
import CertificateRenewal
import Foundation
import Hummingbird
import Registration
import SwiftASN1
import X509

// The certificate reissue on a new computer (seed 004) across the network: the library's RemoteCertificateReissue
// (the administrator, with a session) and RemoteCertificateEnrollment (the user, without one: the user has no
// certificate yet) do the work, with the rules of `portal reissue`; these routes carry their state as JSON. The
// passwords are the service's own (the contract's and the user's, checked by the server as the manual's service
// does); they become SecretPINs at once and reach no log. The user's key is made on the user's computer: only its
// certificate request comes here.

/// `POST …/reissue/{flowID}/log-on`: 管理者ログオン's 契約者ID and the two contract passwords.
struct ReissueLogOnBody: StrictBody {
    enum CodingKeys: String, CodingKey, CaseIterable { case contractID, password, confirmation }
    typealias Keys = CodingKeys
    /// 契約者ID (11 digits).
    var contractID: String
    /// ご契約先暗証番号.
    var password: String
    /// ご契約先確認暗証番号.
    var confirmation: String
}

/// `POST …/reissue/{flowID}/user`: 利用者情報選択.
struct ReissueUserBody: StrictBody {
    enum CodingKeys: String, CodingKey, CaseIterable { case loginID }
    typealias Keys = CodingKeys
    /// 利用者ID.
    var loginID: String
}

/// `POST …/certificate-enrollment/{flowID}/sign-in`: ID、暗証番号を入力.
struct EnrollmentSignInBody: StrictBody {
    enum CodingKeys: String, CodingKey, CaseIterable { case contractID, loginID, password, confirmation, code }
    typealias Keys = CodingKeys
    /// 契約者ID (11 digits).
    var contractID: String
    /// 利用者ID.
    var loginID: String
    /// 利用者暗証番号.
    var password: String
    /// 利用者確認暗証番号.
    var confirmation: String
    /// The administrator's one-time code.
    var code: String
}

/// `POST …/certificate-enrollment/{flowID}/certificate`: 電子証明書取得 with the computer's certificate request.
struct EnrollmentRequestBody: StrictBody {
    enum CodingKeys: String, CodingKey, CaseIterable { case request }
    typealias Keys = CodingKeys
    /// The certificate request (PKCS #10, DER in base64), for the flow's `requestSubject`.
    var request: String
}

extension Problem {
    /// This server has no reissue service (no `--reissue-ca`).
    static let reissueNotConfigured = Problem(
        .serviceUnavailable, rule: "reissueNotConfigured", title: "電子証明書の再発行は利用できません",
        detail: "This portal has no certification authority for reissued certificates configured (--reissue-ca).")

    /// A password of a body as a secret; the body's string is the only copy left, and it is not logged.
    static func secret(_ text: String, field: String) throws -> SecretPIN {
        do { return try SecretPIN(text, policy: .password()) } catch {
            // The format's problem (its length, a character's position), never the password; not the card's
            // sentence either: these passwords go to the portal, not to a card.
            let reason = if case .pinFormat(let problem) = error { "\(problem)" } else { "it cannot be kept" }
            throw Problem.invalid(field, "\(field) is not a password the service takes: \(reason).")
        }
    }
}

extension PortalRoutes {
    struct ReissueFlowDocument: Encodable {
        var flowID: String
        /// log-on, choose-user, confirm or completed.
        var step: String
        var expiresAt: Date
        var contractID: String?
        var loginID: String?
        /// Until when the user may use the code, once reissued.
        var codeExpiresAt: Date?
        /// The bindings revoked by the reissue.
        var revoked: [String]

        init(_ state: CertificateReissueState) {
            flowID = state.flowID
            step = state.step.rawValue
            expiresAt = state.expiresAt
            contractID = state.contractID?.digits
            loginID = state.loginID
            codeExpiresAt = state.codeExpiresAt
            revoked = state.revoked.map(\.rawValue)
        }
    }

    struct ReissueUsersDocument: Encodable {
        struct Certificate: Encodable {
            var bindingID: String
            var serialNumber: String
            var notValidAfter: Date
        }
        struct User: Encodable {
            var loginID: String
            var userID: String
            /// 氏名.
            var name: String
            /// ロック.
            var locked: Bool
            /// The active file certificates a reissue revokes.
            var certificates: [Certificate]
        }
        /// 利用者情報選択.
        var title = "利用者情報選択"
        var users: [User]

        init(_ candidates: [ReissueCandidate]) {
            users = candidates.map { candidate in
                User(
                    loginID: candidate.loginID, userID: candidate.userID.rawValue, name: candidate.name,
                    locked: candidate.isLocked,
                    certificates: candidate.certificates.map {
                        Certificate(
                            bindingID: $0.id.rawValue, serialNumber: $0.serialNumber, notValidAfter: $0.notValidAfter)
                    })
            }
        }
    }

    struct ReissueConfirmationDocument: Encodable {
        /// 利用者電子証明書再発行確認.
        var title = ReissueConfirmation.title
        /// 現在の電子証明書を失効し、再発行する.
        var action = ReissueConfirmation.action
        var rows: [ScreenRow]
    }

    struct ReissueReceiptDocument: Encodable {
        var contractID: String
        var loginID: String
        /// The one-time code for the user: shown once, never kept by the server.
        var enrollmentCode: String
        var expiresAt: Date
        var revoked: [String]
    }

    struct EnrollmentFlowDocument: Encodable {
        struct Confirmation: Encodable {
            var contractID: String
            var loginID: String
            var userID: String
            /// 氏名.
            var userName: String
            /// 商号又は名称.
            var businessName: String
            var notValidBefore: Date
            var notValidAfter: Date
        }
        struct Subject: Encodable {
            /// The subject as text (RFC 4514).
            var text: String
            /// The subject's DER in base64: put exactly this in the request.
            var der: String
        }
        struct Issued: Encodable {
            /// The certificate, DER in base64.
            var certificate: String
            /// Its CA certificates, nearest first, DER in base64.
            var chain: [String]
        }
        var flowID: String
        /// sign-in, confirm or completed.
        var step: String
        var expiresAt: Date
        var confirmation: Confirmation?
        /// The subject the certificate request must name, once signed in.
        var requestSubject: Subject?
        var bindingID: String?
        /// The certificate to install beside the key, once completed.
        var issued: Issued?
        /// 電子証明書のインストールが完了しました…, once completed.
        var notice: String?

        init(_ state: CertificateEnrollmentState) throws {
            flowID = state.flowID
            step = state.step.rawValue
            expiresAt = state.expiresAt
            confirmation = state.confirmation.map {
                Confirmation(
                    contractID: $0.contractID.digits, loginID: $0.loginID, userID: $0.userID.rawValue,
                    userName: $0.userName, businessName: $0.businessName, notValidBefore: $0.notValidBefore,
                    notValidAfter: $0.notValidAfter)
            }
            if state.step == .confirm, let subject = state.requestSubject {
                requestSubject = Subject(
                    text: subject.description,
                    der: Data(try derBytes(subject)).base64EncodedString())
            }
            bindingID = state.bindingID?.rawValue
            if let issued = state.certificate {
                self.issued = Issued(
                    certificate: Data(try issued.certificate.derBytes()).base64EncodedString(),
                    chain: try issued.chain.map { Data(try $0.derBytes()).base64EncodedString() })
                notice = EnrolledCertificate.notice
            }
        }
    }

    /// The administrator's flow and the user's, over the reissue's desk; nil without `--reissue-ca`.
    private var reissueFlows: (reissue: RemoteCertificateReissue, enrollment: RemoteCertificateEnrollment)? {
        dependencies.reissue.map { (RemoteCertificateReissue(desk: $0), RemoteCertificateEnrollment(desk: $0)) }
    }

    /// The flows, or 503 `reissueNotConfigured`.
    private static func configured<Flow>(_ flow: Flow?) throws -> Flow {
        guard let flow else { throw Problem.reissueNotConfigured }
        return flow
    }

    /// The administrator's routes, behind the session.
    func addReissueRoutes(to authenticated: RouterGroup<PortalRequestContext>) {
        let limit = settings.bodyLimit
        let configured = reissueFlows?.reissue
        let flows = authenticated.group("flows/reissue")
        flows.post { _, context in
            let reissue = try Self.configured(configured)
            let state = try await lifecycle { try await reissue.start(for: context.requireSession().session) }
            return try Self.json(ReissueFlowDocument(state), status: .created)
        }
        flows.get(":flowID") { _, context in
            let reissue = try Self.configured(configured)
            let id = try context.parameters.require("flowID")
            let state = try await lifecycle {
                try await reissue.state(of: id, session: context.requireSession().session)
            }
            return try Self.json(ReissueFlowDocument(state))
        }
        flows.post(":flowID/log-on") { request, context in
            try limitAddress(request, context)
            let reissue = try Self.configured(configured)
            let id = try context.parameters.require("flowID")
            let body = try await request.decodeStrictly(ReissueLogOnBody.self, limit: limit)
            let password = try Problem.secret(body.password, field: "password")
            let confirmation = try Problem.secret(body.confirmation, field: "confirmation")
            let session = try context.requireSession().session
            do {
                let state = try await lifecycle {
                    try await reissue.logOn(
                        contractID: body.contractID, password: password, confirmation: confirmation, flow: id,
                        session: session)
                }
                return try Self.json(ReissueFlowDocument(state))
            } catch let problem as Problem {
                audit.notice(
                    "refused",
                    metadata: [
                        "event": "reissueLogOn", "rule": "\(problem.rule)", "flowID": "\(id)",
                        "userID": "\(session.userID)",
                    ])
                throw problem
            }
        }
        flows.get(":flowID/users") { _, context in
            let reissue = try Self.configured(configured)
            let id = try context.parameters.require("flowID")
            let candidates = try await lifecycle {
                try await reissue.candidates(flow: id, session: context.requireSession().session)
            }
            return try Self.json(ReissueUsersDocument(candidates))
        }
        flows.post(":flowID/user") { request, context in
            let reissue = try Self.configured(configured)
            let id = try context.parameters.require("flowID")
            let loginID = try await request.decodeStrictly(ReissueUserBody.self, limit: limit).loginID
            let state = try await lifecycle {
                try await reissue.choose(loginID: loginID, flow: id, session: context.requireSession().session)
            }
            return try Self.json(ReissueFlowDocument(state))
        }
        flows.get(":flowID/confirmation") { _, context in
            let reissue = try Self.configured(configured)
            let id = try context.parameters.require("flowID")
            let confirmation = try await lifecycle {
                try await reissue.confirmation(flow: id, session: context.requireSession().session)
            }
            return try Self.json(ReissueConfirmationDocument(rows: confirmation.rows))
        }
        flows.post(":flowID/reissue") { _, context in
            let reissue = try Self.configured(configured)
            let id = try context.parameters.require("flowID")
            let session = try context.requireSession().session
            let receipt = try await lifecycle { try await reissue.reissue(flow: id, session: session) }
            for binding in receipt.revoked {
                metrics.change("markCertificateRevoked")
                audit.info(
                    "change",
                    metadata: [
                        "event": "reissue", "flowID": "\(id)", "userID": "\(session.userID)",
                        "bindingID": "\(binding)",
                    ])
            }
            audit.info(
                "change",
                metadata: [
                    "event": "enrollmentGranted", "flowID": "\(id)", "userID": "\(session.userID)",
                    "contractID": "\(receipt.contractID)", "loginID": "\(receipt.loginID)",
                ])
            return try Self.json(
                ReissueReceiptDocument(
                    contractID: receipt.contractID.digits, loginID: receipt.loginID,
                    enrollmentCode: receipt.enrollmentCode, expiresAt: receipt.expiresAt,
                    revoked: receipt.revoked.map(\.rawValue)))
        }
        flows.post(":flowID/back") { _, context in
            let reissue = try Self.configured(configured)
            let id = try context.parameters.require("flowID")
            let state = try await lifecycle {
                try await reissue.back(flow: id, session: context.requireSession().session)
            }
            return try Self.json(ReissueFlowDocument(state))
        }
    }

    /// The user's routes, without a session; starts, sign-ins and requests limited per client address.
    func addEnrollmentRoutes(to api: RouterGroup<PortalRequestContext>) {
        let limit = settings.bodyLimit
        let configured = reissueFlows?.enrollment
        let flows = api.group("flows/certificate-enrollment")
        flows.post { request, context in
            try limitAddress(request, context)
            let enrollment = try Self.configured(configured)
            let state = try await lifecycle { try await enrollment.start() }
            return try Self.json(try EnrollmentFlowDocument(state), status: .created)
        }
        flows.get(":flowID") { _, context in
            let enrollment = try Self.configured(configured)
            let id = try context.parameters.require("flowID")
            return try Self.json(try EnrollmentFlowDocument(try await lifecycle { try await enrollment.state(of: id) }))
        }
        flows.post(":flowID/sign-in") { request, context in
            try limitAddress(request, context)
            let enrollment = try Self.configured(configured)
            let id = try context.parameters.require("flowID")
            let body = try await request.decodeStrictly(EnrollmentSignInBody.self, limit: limit)
            let password = try Problem.secret(body.password, field: "password")
            let confirmation = try Problem.secret(body.confirmation, field: "confirmation")
            do {
                let state = try await lifecycle {
                    try await enrollment.signIn(
                        contractID: body.contractID, loginID: body.loginID, password: password,
                        confirmation: confirmation, code: body.code, flow: id)
                }
                return try Self.json(try EnrollmentFlowDocument(state))
            } catch let problem as Problem {
                let client = clientAddress(request, context: context, trustedProxies: settings.trustedProxies)
                audit.notice(
                    "refused",
                    metadata: [
                        "event": "enrollmentSignIn", "rule": "\(problem.rule)", "flowID": "\(id)",
                        "client": "\(client)",
                    ])
                throw problem
            }
        }
        flows.post(":flowID/certificate") { request, context in
            try limitAddress(request, context)
            let enrollment = try Self.configured(configured)
            let id = try context.parameters.require("flowID")
            let body = try await request.decodeStrictly(EnrollmentRequestBody.self, limit: limit)
            let der = try decodeBase64(body.request, field: "request")
            let csr: CertificateSigningRequest
            do { csr = try CertificateSigningRequest(derEncoded: der) } catch {
                throw Problem.invalid("request", "request is not a certificate request (PKCS #10 in DER): \(error)")
            }
            let state = try await lifecycle { try await enrollment.obtain(request: csr, flow: id) }
            if let binding = state.bindingID {
                metrics.change("addCertificate")
                audit.info(
                    "change",
                    metadata: [
                        "event": "certificateEnrolled", "flowID": "\(id)", "bindingID": "\(binding)",
                        "userID": "\(state.confirmation?.userID.rawValue ?? "")",
                    ])
            }
            return try Self.json(try EnrollmentFlowDocument(state))
        }
        flows.post(":flowID/back") { _, context in
            let enrollment = try Self.configured(configured)
            let id = try context.parameters.require("flowID")
            return try Self.json(
                try EnrollmentFlowDocument(try await lifecycle { try await enrollment.back(flow: id) }))
        }
    }
}

/// The DER of an ASN.1 value.
func derBytes(_ value: some DERSerializable) throws -> [UInt8] {
    var serializer = DER.Serializer()
    try serializer.serialize(value)
    return serializer.serializedBytes
}
