public import CardCredentials
public import Foundation

/// The revocation request (インターネット失効申込) on the portal's server, `/api/v1/flows/revocation-request`: the
/// holder asks the certification authority to revoke an IC card still in hand. No session is needed: the flow's
/// identifier continues it, so keep it to yourself.
///
/// ```swift
/// let client = PortalClient(server: server, origin: origin)       // not logged in
/// let request = try await client.startRevocationRequest()
/// _ = try await request.openProcedure()                            // 手続きの流れを確認
/// _ = try await request.openTerms()                                // 利用規約を確認
/// _ = try await request.agree()                                    // 同意して次へ
/// let read = try await request.presentCard(with: card)             // read.card?.rows: the card's contents
/// let toSign = try await request.fill(form)                        // 失効申込情報入力
/// _ = try await request.presentSignature(try await sign(toSign))   // the card's CMS over toSign.document
/// let screen = try await request.confirmation()                    // 失効申込内容確認
/// let record = try await request.submit(checked: true)             // 失効申込をする(確定); record.text to print
/// ```
public enum RevocationRequestFlow: PortalFlow {
    public static let name = "revocation-request"
    public static let commitPath = "submit"

    /// A labelled value of a screen.
    public typealias Row = CertificateUpdateFlow.Row

    /// Where the request stands (the server's `RevocationFlow` document).
    public struct State: Sendable, Hashable, Decodable {
        /// The card's contents, once its evidence was accepted.
        public struct Card: Sendable, Hashable, Decodable {
            /// The certificate's SHA-256 fingerprint.
            public var fingerprint: String
            /// ICカード業者名称, 氏名, 所在地, シリアル番号, 発行者, 有効期間.
            public var rows: [Row]
        }
        /// What the card signs at the signature step.
        public struct Signing: Sendable, Hashable, Decodable {
            /// 申込ID.
            public var requestID: String
            /// A name for the signature's consent dialog.
            public var name: String
            /// The request's canonical JSON, base64.
            public var document: String

            /// The bytes to sign.
            public var bytes: [UInt8]? { Data(base64Encoded: document).map { [UInt8]($0) } }
        }
        /// The flow's identifier.
        public var flowID: String
        /// agreement, card, form, signature, confirm or completed.
        public var step: FlowStep
        /// Whether 手続きの流れを確認 was opened.
        public var procedureOpened: Bool
        /// Whether 利用規約を確認 was opened.
        public var termsOpened: Bool
        /// Whether the request was sent to the CA (it can no longer be changed or withdrawn).
        public var submitted: Bool
        /// When it expires unless finished.
        public var expiresAt: Date
        /// The card's contents.
        public var card: Card?
        /// What the card signs, at the signature step.
        public var toSign: Signing?
        /// 受付番号, once completed.
        public var receiptNumber: String?
    }

    /// 手続きの流れ or 利用規約.
    public struct Document: Sendable, Hashable, Decodable {
        /// The title.
        public var title: String
        /// The text, a paragraph each.
        public var paragraphs: [String]
    }

    /// 失効理由.
    public enum Reason: String, Sendable, Hashable, Codable, CaseIterable {
        /// 紛失.
        case loss
        /// 盗難.
        case theft
        /// 破損.
        case damage
        /// 秘密鍵の危殆化（PINの漏えいを含む）.
        case keyCompromise
        /// 記載事項の変更.
        case detailsChanged
        /// 退職・異動.
        case leftCompany
        /// 廃業・倒産.
        case businessClosed
        /// 利用中止.
        case noLongerNeeded
    }

    /// 失効申込情報入力; the portal checks it (`requestFormInvalid` names the field).
    public struct Form: Sendable, Hashable, Encodable {
        /// 失効理由.
        public var reason: Reason
        /// 申込者氏名.
        public var requesterName: String
        /// 電話番号.
        public var phone: String
        /// メールアドレス.
        public var mail: String
        /// 部署名.
        public var department: String?
        /// 備考.
        public var note: String?

        /// A filled form.
        public init(
            reason: Reason, requesterName: String, phone: String, mail: String, department: String? = nil,
            note: String? = nil
        ) {
            self.reason = reason
            self.requesterName = requesterName
            self.phone = phone
            self.mail = mail
            self.department = department
            self.note = note
        }
    }

    /// 失効申込内容確認.
    public struct Confirmation: Sendable, Hashable, Decodable {
        /// The screen's title.
        public var title: String
        /// The card's rows, the form's, then 申込ID.
        public var rows: [Row]
        /// What the person should know before the submit.
        public var notes: [String]
        /// 上記内容を確認しました.
        public var checkLabel: String
        /// 失効申込をする(確定).
        public var submitLabel: String

        /// The value of the row labelled `label`.
        public func value(of label: String) -> String? { rows.first { $0.label == label }?.value }
    }

    /// The CA's receipt and the printable record (失効申込内容印刷).
    public struct Completion: Sendable, Hashable, Decodable {
        /// 受付番号.
        public var receiptNumber: String
        /// 申込ID.
        public var requestID: String
        /// When the CA accepted it.
        public var acceptedAt: Date
        /// The record to print and keep.
        public var text: String
        /// How the portal's registration took it.
        public var portal: String
        /// The signed request as sent (CMS SignedData with the request inside, DER in base64).
        public var request: String
    }

    struct CardBody: Encodable, Sendable {
        var evidence: CardEvidence
    }

    struct SignatureBody: Encodable, Sendable {
        var signature: String
    }

    struct SubmitBody: Encodable, Sendable {
        var checked: Bool
    }
}

extension FlowStep {
    /// Revocation request: the card in hand (its evidence).
    public static let card = FlowStep("card")
}

/// A revocation request on the server, step by step.
public typealias RevocationRequestSession = FlowSession<RevocationRequestFlow>

extension FlowSession where Flow == RevocationRequestFlow {
    /// Where the request stands, with the card's contents and what to sign.
    public func details() async throws(PortalClientError) -> RevocationRequestFlow.State {
        try await client.send("GET", path, as: RevocationRequestFlow.State.self)
    }

    /// 手続きの流れを確認: the procedure; the portal notes it was opened.
    public func openProcedure() async throws(PortalClientError) -> RevocationRequestFlow.Document {
        try await client.send("POST", path + "/procedure", as: RevocationRequestFlow.Document.self)
    }

    /// 利用規約を確認: the terms; the portal notes they were opened.
    public func openTerms() async throws(PortalClientError) -> RevocationRequestFlow.Document {
        try await client.send("POST", path + "/terms", as: RevocationRequestFlow.Document.self)
    }

    /// 同意して次へ: refused (`documentsNotOpened`) until both documents were opened.
    public func agree() async throws(PortalClientError) -> RevocationRequestFlow.State {
        try await client.send("POST", path + "/agree", as: RevocationRequestFlow.State.self)
    }

    /// The card in hand: a challenge, evidence from `signer` (the card's key after its PIN), the evidence to the
    /// portal. The answer carries the card's contents.
    public func presentCard(with signer: some EvidenceSigner) async throws -> RevocationRequestFlow.State {
        let challenge = try await challenge(for: .card)
        let evidence = try await signer.evidence(for: challenge, origin: client.origin)
        return try await client.send(
            "POST", path + "/card", json: RevocationRequestFlow.CardBody(evidence: evidence),
            as: RevocationRequestFlow.State.self)
    }

    /// 失効申込情報入力: the answer's ``RevocationRequestFlow/State/toSign`` is the request the card signs next.
    public func fill(_ form: RevocationRequestFlow.Form) async throws(PortalClientError)
        -> RevocationRequestFlow.State
    {
        try await client.send("POST", path + "/form", json: form, as: RevocationRequestFlow.State.self)
    }

    /// The card's CMS SignedData (DER) over ``RevocationRequestFlow/State/toSign``, detached (the card agent's
    /// `POST /v1/sign`) or with the request inside.
    public func presentSignature(_ cms: [UInt8]) async throws(PortalClientError) -> RevocationRequestFlow.State {
        try await client.send(
            "POST", path + "/signature",
            json: RevocationRequestFlow.SignatureBody(signature: Data(cms).base64EncodedString()),
            as: RevocationRequestFlow.State.self)
    }

    /// Signs the request the portal wrote with `key` (a card key whose PIN was verified, or a file key) and sends
    /// the signature: ``presentSignature(_:)`` with a detached CMS made here.
    public func sign(with key: any Signer) async throws -> RevocationRequestFlow.State {
        guard let bytes = try await details().toSign?.bytes else {
            throw PortalClientError(.unexpectedAnswer, "The request is not at its signature step; nothing was signed.")
        }
        return try await presentSignature(try await CMSSignedData.sign(bytes, with: key).derEncoded)
    }

    /// 失効申込をする(確定): sends the request to the CA, once; after a lost answer (`revocationNotAnswered`), call
    /// again: the same request goes again and the CA answers with the same receipt.
    public func submit(checked: Bool) async throws(PortalClientError) -> RevocationRequestFlow.Completion {
        try await client.send(
            "POST", path + "/submit", json: RevocationRequestFlow.SubmitBody(checked: checked),
            as: RevocationRequestFlow.Completion.self)
    }
}

extension PortalClient {
    /// Starts a revocation request (no session needed).
    public func startRevocationRequest() async throws(PortalClientError) -> RevocationRequestSession {
        try await start(RevocationRequestFlow.self)
    }
}
