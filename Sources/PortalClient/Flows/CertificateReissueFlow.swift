public import CardCredentials
import Crypto
public import Foundation
import SwiftASN1
public import X509

/// The administrator's reissue (利用者電子証明書の再発行, seed 004) on the portal's server,
/// `/api/v1/flows/reissue`: logged in with the administrator's certificate, the administrator enters the
/// contract's passwords, chooses the user, confirms, and is given the one-time code to hand to the user.
///
/// ```swift
/// try await client.logIn(with: administratorsCard)
/// let reissue = try await client.startReissue()
/// _ = try await reissue.logOn(contractID: "12345678901", password: password, confirmation: confirmation)
/// let users = try await reissue.users()                       // 利用者情報選択
/// _ = try await reissue.choose(loginID: "hanako")
/// let screen = try await reissue.confirmation()               // 利用者電子証明書再発行確認
/// let receipt = try await reissue.reissue()                   // receipt.enrollmentCode, shown once
/// ```
public enum CertificateReissueFlow: PortalFlow {
    public static let name = "reissue"
    public static let commitPath = "reissue"

    /// A labelled value of a screen.
    public typealias Row = CertificateUpdateFlow.Row

    /// Where the reissue stands (the server's `ReissueFlow` document).
    public struct State: Sendable, Hashable, Decodable {
        /// The flow's identifier.
        public var flowID: String
        /// log-on, choose-user, confirm or completed.
        public var step: FlowStep
        /// When it expires unless finished.
        public var expiresAt: Date
        /// 契約者ID, once logged on.
        public var contractID: String?
        /// 利用者ID of the user chosen.
        public var loginID: String?
        /// Until when the user may use the code, once reissued.
        public var codeExpiresAt: Date?
        /// The bindings the reissue revoked.
        public var revoked: [String]
    }

    /// 利用者情報選択.
    public struct Users: Sendable, Hashable, Decodable {
        /// A certificate a reissue revokes.
        public struct Certificate: Sendable, Hashable, Decodable {
            /// The binding in the registration.
            public var bindingID: String
            /// The serial number (hexadecimal).
            public var serialNumber: String
            /// The end of its validity.
            public var notValidAfter: Date
        }
        /// A user of the contract.
        public struct User: Sendable, Hashable, Decodable {
            /// 利用者ID.
            public var loginID: String
            /// The user in the registration.
            public var userID: String
            /// 氏名.
            public var name: String
            /// ロック.
            public var locked: Bool
            /// The active file certificates a reissue revokes.
            public var certificates: [Certificate]
        }
        /// The screen's title.
        public var title: String
        /// The users.
        public var users: [User]
    }

    /// 利用者電子証明書再発行確認.
    public struct Confirmation: Sendable, Hashable, Decodable {
        /// The screen's title.
        public var title: String
        /// 現在の電子証明書を失効し、再発行する.
        public var action: String
        /// 契約者ID, 利用者ID, 氏名, 失効する電子証明書, 処理内容, 取得期限.
        public var rows: [Row]

        /// The value of the row labelled `label`.
        public func value(of label: String) -> String? { rows.first { $0.label == label }?.value }
    }

    /// 再発行結果: give the code to the user; the server shows it once and does not keep it.
    public struct Completion: Sendable, Hashable, Decodable {
        /// 契約者ID.
        public var contractID: String
        /// 利用者ID.
        public var loginID: String
        /// The one-time code the user enters on the new computer.
        public var enrollmentCode: String
        /// The code is refused after this moment.
        public var expiresAt: Date
        /// The bindings revoked.
        public var revoked: [String]
    }

    struct UserBody: Encodable, Sendable {
        var loginID: String
    }
}

extension FlowStep {
    /// Reissue: 管理者ログオン (the contract's passwords).
    public static let logOn = FlowStep("log-on")
    /// Reissue: 利用者情報選択.
    public static let chooseUser = FlowStep("choose-user")
}

/// An administrator's reissue on the server, step by step.
public typealias CertificateReissueSession = FlowSession<CertificateReissueFlow>

extension FlowSession where Flow == CertificateReissueFlow {
    /// Where the reissue stands.
    public func details() async throws(PortalClientError) -> CertificateReissueFlow.State {
        try await client.send("GET", path, as: CertificateReissueFlow.State.self)
    }

    /// 管理者ログオン: the contract's ご契約先暗証番号 and ご契約先確認暗証番号 (a wrong pair counts toward the
    /// lock-out; the problem says how many tries are left). The passwords go to the server, which checks them;
    /// the client's copy of the request body is wiped after sending.
    public func logOn(contractID: String, password: SecretPIN, confirmation: SecretPIN)
        async throws(PortalClientError) -> CertificateReissueFlow.State
    {
        var body = SecretJSON.object([
            ("contractID", .text(contractID)), ("password", .secret(password)),
            ("confirmation", .secret(confirmation)),
        ])
        return try await client.send("POST", path + "/log-on", secretJSON: &body, as: CertificateReissueFlow.State.self)
    }

    /// 利用者情報選択: the contract's users.
    public func users() async throws(PortalClientError) -> CertificateReissueFlow.Users {
        try await client.send("GET", path + "/users", as: CertificateReissueFlow.Users.self)
    }

    /// Chooses the user whose certificate is reissued.
    public func choose(loginID: String) async throws(PortalClientError) -> CertificateReissueFlow.State {
        try await client.send(
            "POST", path + "/user", json: CertificateReissueFlow.UserBody(loginID: loginID),
            as: CertificateReissueFlow.State.self)
    }

    /// 再発行: revokes the user's current file certificates and returns the one-time code (once).
    public func reissue() async throws(PortalClientError) -> CertificateReissueFlow.Completion { try await commit() }
}

extension PortalClient {
    /// Starts the administrator's reissue (the session must be the contract's administrator's).
    public func startReissue() async throws(PortalClientError) -> CertificateReissueSession {
        let state = try await send(
            "POST", "flows/\(CertificateReissueFlow.name)", as: CertificateReissueFlow.State.self)
        return try FlowSession(client: self, flowID: state.flowID)
    }
}

// MARK: The user's side

/// The user's 電子証明書取得 on a new computer (seed 004) through the portal's server,
/// `/api/v1/flows/certificate-enrollment`: no session (the user has no certificate yet). The key is made here and
/// never leaves this computer: only a certificate request signed with it is sent, and the certificate that comes
/// back is kept with the key in a PKCS#12 file.
///
/// ```swift
/// let client = PortalClient(server: server, origin: origin)      // not logged in
/// let enrollment = try await client.startEnrollment()
/// let pending = try await enrollment.signIn(
///     contractID: "12345678901", loginID: "hanako", password: p, confirmation: c, code: code)
/// let obtained = try await enrollment.obtain(filePassword: filePassword)   // obtained.pkcs12: write it to disk
/// ```
public struct CertificateEnrollmentSession: Sendable {
    /// Where the enrollment stands (the server's `EnrollmentFlow` document).
    public struct State: Sendable, Hashable, Decodable {
        /// What the user is about to obtain.
        public struct Confirmation: Sendable, Hashable, Decodable {
            /// 契約者ID.
            public var contractID: String
            /// 利用者ID.
            public var loginID: String
            /// The user in the registration.
            public var userID: String
            /// 氏名.
            public var userName: String
            /// 商号又は名称.
            public var businessName: String
            /// The certificate's validity: one year.
            public var notValidBefore: Date
            /// The end of the validity.
            public var notValidAfter: Date
        }
        /// The subject the request must name.
        public struct Subject: Sendable, Hashable, Decodable {
            /// As text.
            public var text: String
            /// DER in base64.
            public var der: String
        }
        /// The issued certificate.
        public struct Issued: Sendable, Hashable, Decodable {
            /// DER in base64.
            public var certificate: String
            /// Its CA certificates, nearest first, DER in base64.
            public var chain: [String]
        }
        /// The flow's identifier: keep it to yourself (it alone continues the flow).
        public var flowID: String
        /// sign-in, confirm or completed.
        public var step: FlowStep
        /// When it expires unless finished.
        public var expiresAt: Date
        /// What the user is about to obtain, once signed in.
        public var confirmation: Confirmation?
        /// The subject the certificate request must name, at confirm.
        public var requestSubject: Subject?
        /// The new certificate's binding, once completed.
        public var bindingID: String?
        /// The certificate, once completed.
        public var issued: Issued?
        /// 電子証明書のインストールが完了しました…, once completed.
        public var notice: String?
    }

    /// The certificate obtained, with its key in a PKCS#12 file.
    public struct Obtained: Sendable {
        /// The certificate.
        public var certificate: Certificate
        /// Its CA certificates, nearest first.
        public var chain: [Certificate]
        /// The binding that makes it the user's login certificate.
        public var bindingID: String
        /// The PKCS#12 file (AES-256) with the key made here: write it to disk; only the file password opens it.
        public var pkcs12: [UInt8]
        /// 電子証明書のインストールが完了しました。… 有効期限は1年です。
        public var notice: String
    }

    /// The client the requests go through.
    public let client: PortalClient
    /// The flow's identifier.
    public let flowID: String

    var path: String { "flows/certificate-enrollment/\(flowID)" }

    /// Where the enrollment stands; once completed it carries the certificate (after a lost answer too).
    public func details() async throws(PortalClientError) -> State {
        try await client.send("GET", path, as: State.self)
    }

    /// ID、暗証番号を入力: 利用者暗証番号, 利用者確認暗証番号 and the administrator's code (wrong ones count toward
    /// the lock-out). The client's copy of the request body is wiped after sending.
    public func signIn(
        contractID: String, loginID: String, password: SecretPIN, confirmation: SecretPIN, code: String
    ) async throws(PortalClientError) -> State {
        var body = SecretJSON.object([
            ("contractID", .text(contractID)), ("loginID", .text(loginID)), ("password", .secret(password)),
            ("confirmation", .secret(confirmation)), ("code", .text(code)),
        ])
        return try await client.send("POST", path + "/sign-in", secretJSON: &body, as: State.self)
    }

    /// 電子証明書取得: makes a P-256 key here, sends a request for the subject the server named, checks the
    /// certificate that comes back (this key, the named subject) and returns it with the key in a PKCS#12 file
    /// protected by `filePassword`.
    ///
    /// - Throws: ``PortalClientError`` for the server's refusals (the code stays usable when the request is
    ///   refused), or `CardCredentialsError` when the file cannot be made (the certificate is bound then: call
    ///   ``details()`` for it — the key is lost with this call's end, so ask the administrator to reissue).
    public func obtain(filePassword: SecretPIN) async throws -> Obtained {
        let pending = try await details()
        guard pending.step == .confirm, let subjectText = pending.requestSubject,
            let subjectDER = Data(base64Encoded: subjectText.der)
        else {
            throw PortalClientError(.unexpectedAnswer, "The enrollment is not at its confirmation; sign in first.")
        }
        let subject: DistinguishedName
        do { subject = try DistinguishedName(derEncoded: try DER.parse(Array(subjectDER))) } catch {
            throw PortalClientError(.unexpectedAnswer, "The server named a subject the client cannot read: \(error)")
        }
        let key = P256.Signing.PrivateKey()
        let request = try CertificateSigningRequest(
            version: .v1, subject: subject, privateKey: Certificate.PrivateKey(key),
            attributes: CertificateSigningRequest.Attributes(), signatureAlgorithm: .ecdsaWithSHA256)
        var serializer = DER.Serializer()
        try serializer.serialize(request)
        let answer = try await client.send(
            "POST", path + "/certificate",
            json: RequestBody(request: Data(serializer.serializedBytes).base64EncodedString()), as: State.self)
        guard let issued = answer.issued, let bindingID = answer.bindingID,
            let certificateDER = Data(base64Encoded: issued.certificate)
        else {
            throw PortalClientError(.unexpectedAnswer, "The server completed the enrollment without a certificate.")
        }
        let certificate = try Certificate(derEncoded: Array(certificateDER))
        let chain = try issued.chain.map { text in
            guard let der = Data(base64Encoded: text) else {
                throw PortalClientError(.unexpectedAnswer, "A CA certificate of the answer is not base64.")
            }
            return try Certificate(derEncoded: Array(der))
        }
        guard certificate.publicKey == Certificate.PublicKey(key.publicKey), certificate.subject == subject else {
            throw PortalClientError(
                .unexpectedAnswer, "The certificate the server returned is not for the key made here and its subject.")
        }
        var keyBytes = Array(key.derRepresentation)
        defer {
            for index in keyBytes.indices { keyBytes[index] = 0 }
        }
        let credential = try FileCredential(privateKeyDER: keyBytes, certificate: certificate, chain: chain)
        let friendlyName = pending.confirmation.map { "\($0.contractID) \($0.loginID)" }
        return Obtained(
            certificate: certificate, chain: chain, bindingID: bindingID,
            pkcs12: try credential.pkcs12(password: filePassword, friendlyName: friendlyName),
            notice: answer.notice ?? "")
    }

    /// 戻る: back to the sign-in; the code is not used.
    public func back() async throws(PortalClientError) -> State {
        try await client.send("POST", path + "/back", as: State.self)
    }

    struct RequestBody: Encodable, Sendable {
        var request: String
    }
}

extension PortalClient {
    /// Starts the user's 電子証明書取得 on this computer (no session needed).
    public func startEnrollment() async throws(PortalClientError) -> CertificateEnrollmentSession {
        let state = try await send("POST", "flows/certificate-enrollment", as: CertificateEnrollmentSession.State.self)
        return try resumeEnrollment(flowID: state.flowID)
    }

    /// Continues the enrollment `flowID` through this client (another instance of the server).
    public func resumeEnrollment(flowID: String) throws(PortalClientError) -> CertificateEnrollmentSession {
        CertificateEnrollmentSession(client: self, flowID: try Self.checkedFlowID(flowID))
    }
}

/// A JSON object of strings, some of them secrets, written into a byte array that the sender wipes after use (a
/// `String` or an encoder's `Data` could not be wiped).
enum SecretJSON {
    enum Value {
        case text(String)
        case secret(SecretPIN)
    }

    static func object(_ fields: [(String, Value)]) -> [UInt8] {
        // Room for every byte escaped as \u00XX, so the array never grows (a grown array leaves its old copy).
        let room = fields.reduce(2) { total, field in
            let length: Int
            switch field.1 {
            case .text(let text): length = text.utf8.count
            case .secret(let secret): length = secret.withUnsafeBytes { $0.count }
            }
            return total + 6 * (field.0.utf8.count + length) + 6
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(room)
        bytes.append(UInt8(ascii: "{"))
        for (index, (name, value)) in fields.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            append(Array(name.utf8), to: &bytes)
            bytes.append(UInt8(ascii: ":"))
            switch value {
            case .text(let text): append(Array(text.utf8), to: &bytes)
            case .secret(let secret): secret.withUnsafeBytes { append(Array($0), to: &bytes) }
            }
        }
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    /// A JSON string of UTF-8 `value`, escaped.
    private static func append(_ value: [UInt8], to bytes: inout [UInt8]) {
        var value = value
        defer {
            for index in value.indices { value[index] = 0 }
        }
        bytes.append(UInt8(ascii: "\""))
        for byte in value {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(byte)
            case 0..<0x20:
                bytes.append(contentsOf: Array(String(format: "\\u%04x", byte).utf8))
            default:
                bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
