import CardCredentials

/// The certificate update without login (電子証明書更新) on the portal's server, `/api/v1/flows/certificate-update`:
/// for a person whose registered certificate no longer logs in (expired, say). No session is needed: the flow's
/// identifier continues it, so keep it to yourself.
///
/// ```swift
/// let client = PortalClient(server: server, origin: origin)      // not logged in
/// let update = try await client.startCertificateUpdate(.privateCertificate)
/// _ = try await update.presentCurrentCertificate(with: oldCard)
/// _ = try await update.presentNewCertificate(with: newCard)      // after the swap
/// let screen = try await update.confirmation()                   // 電子証明書の更新確認
/// let done = try await update.update()                           // 更新実行
/// ```
///
/// For the My Number card, ``FlowSession/presentCurrentCertificate(with:kind:consent:)`` with the person's
/// consent takes the flow straight to the confirmation: JPKI names the new certificate.
public enum CertificateUpdateFlow: PortalFlow {
    public static let name = "certificate-update"
    public static let commitPath = "update"

    /// 更新する電子証明書の種別.
    public enum CertificateType: String, Sendable, Hashable, Codable {
        /// 民間電子証明書(ICカード・ファイルタイプ).
        case privateCertificate
        /// マイナンバーカード.
        case myNumberCard
    }

    /// What a private certificate is on.
    public enum Carrier: String, Sendable, Hashable, Codable {
        /// An IC card.
        case icCard
        /// A file (PKCS#12).
        case fileCertificate
    }

    /// A labelled value of the screen.
    public struct Row: Sendable, Hashable, Decodable {
        /// The manual's label.
        public var label: String
        /// The value.
        public var value: String
    }

    /// One certificate's section (更新元電子証明書情報, 更新先電子証明書情報).
    public struct Details: Sendable, Hashable, Decodable {
        /// The section's heading.
        public var heading: String
        /// icCard, fileCertificate or myNumberCard.
        public var kind: String
        /// The certificate's SHA-256 fingerprint.
        public var fingerprint: String
        /// The rows.
        public var rows: [Row]

        /// The value of the row labelled `label`.
        public func value(of label: String) -> String? { rows.first { $0.label == label }?.value }
    }

    /// 電子証明書の更新確認.
    public struct Confirmation: Sendable, Hashable, Decodable {
        /// The screen's title.
        public var title: String
        /// The registered certificate.
        public var current: Details
        /// The new certificate.
        public var new: Details
        /// The business's rows.
        public var business: [Row]
        /// What the person should know before 更新実行.
        public var notes: [String]
    }

    /// What 更新実行 answers.
    public struct Completion: Sendable, Hashable, Decodable {
        /// The completion message to show.
        public var message: String
        /// The change (受付番号).
        public var changeID: String
        /// The registration's version after it.
        public var version: Int
        /// The registered certificate's binding, now superseded.
        public var supersededBindingID: String
        /// The new certificate's binding, now active.
        public var newBindingID: String
    }

    struct Start: Encodable, Sendable {
        var type: CertificateType
    }

    struct EvidenceBody: Encodable, Sendable {
        var evidence: CardEvidence
        var kind: Carrier?
        var consent: Bool?
    }
}

extension FlowStep {
    /// Certificate update: the registered certificate's evidence.
    public static let currentCertificate = FlowStep("current-certificate")
    /// Certificate update: the new private certificate's evidence.
    public static let newCertificate = FlowStep("new-certificate")
}

/// A certificate update on the server, step by step.
public typealias CertificateUpdateSession = FlowSession<CertificateUpdateFlow>

extension FlowSession where Flow == CertificateUpdateFlow {
    /// 更新元電子証明書の読込: evidence signed with the registered certificate's key.
    ///
    /// - Parameters:
    ///   - signer: The registered card's (or file's) signer; for the My Number card, its signing key's.
    ///   - kind: What a private certificate is on.
    ///   - consent: The person's consent to ask JPKI (the My Number card only).
    public func presentCurrentCertificate(
        with signer: some EvidenceSigner, kind: CertificateUpdateFlow.Carrier = .icCard, consent: Bool = false
    ) async throws -> FlowState {
        let challenge = try await challenge(for: .currentCertificate)
        let evidence = try await signer.evidence(for: challenge, origin: client.origin)
        return try await post(
            CertificateUpdateFlow.EvidenceBody(evidence: evidence, kind: kind, consent: consent ? true : nil),
            to: .currentCertificate)
    }

    /// 更新先電子証明書の読込: evidence signed with the new private certificate's key.
    public func presentNewCertificate(
        with signer: some EvidenceSigner, kind: CertificateUpdateFlow.Carrier = .icCard
    ) async throws -> FlowState {
        let challenge = try await challenge(for: .newCertificate)
        let evidence = try await signer.evidence(for: challenge, origin: client.origin)
        return try await post(
            CertificateUpdateFlow.EvidenceBody(evidence: evidence, kind: kind, consent: nil), to: .newCertificate)
    }

    /// 更新実行: binds the new certificate and supersedes the registered one.
    public func update() async throws(PortalClientError) -> CertificateUpdateFlow.Completion {
        try await commit()
    }
}

extension PortalClient {
    /// Starts a certificate update without login (no session needed).
    public func startCertificateUpdate(_ type: CertificateUpdateFlow.CertificateType) async throws(PortalClientError)
        -> CertificateUpdateSession
    {
        try await start(CertificateUpdateFlow.self, with: CertificateUpdateFlow.Start(type: type))
    }
}
