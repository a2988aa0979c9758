/// The flow of an agent whose My Number card power of attorney expired, on the portal's server,
/// `/api/v1/flows/power-of-attorney`: renew it (マイナンバーカード電子委任状更新) or delete the agent
/// (利用者情報削除). The agent is logged in.
///
/// ```swift
/// let flow = try await client.startExpiredPowerOfAttorney()      // 電子委任状失効画面
/// _ = try await flow.chooseRenewal()
/// _ = try await flow.presentRenewalCard(with: signingKey)        // the My Number card's signing key
/// _ = try await flow.request(applicationNumber: "APP-2026-0001") // 取得依頼
/// let screen = try await flow.confirmation()                     // マイナンバーカード電子委任状確認
/// let done = try await flow.renew()
/// ```
public enum ExpiredPowerOfAttorneyFlow: PortalFlow {
    public static let name = "power-of-attorney"
    public static let commitPath = "renew"

    /// A labelled value of the screen.
    public struct Row: Sendable, Hashable, Decodable {
        /// The manual's label.
        public var label: String
        /// The value.
        public var value: String
    }

    /// The confirmation screen (マイナンバーカード電子委任状確認, or 利用者情報削除確認) in sections.
    public struct Confirmation: Sendable, Hashable, Decodable {
        /// A section.
        public struct Section: Sendable, Hashable, Decodable {
            /// Its heading.
            public var heading: String
            /// Its rows.
            public var rows: [Row]
        }
        /// The screen's title.
        public var title: String
        /// The sections.
        public var sections: [Section]
        /// What the person should know before the commit.
        public var notes: [String]
    }

    /// What 電子委任状更新 and 削除 answer.
    public struct Completion: Sendable, Hashable, Decodable {
        /// The completion message to show.
        public var message: String
        /// The change (受付番号).
        public var changeID: String
        /// The registration's version after it.
        public var version: Int
    }

    struct Request: Encodable, Sendable {
        var applicationNumber: String
    }

    struct Deletion: Encodable, Sendable {
        var acknowledgeIrreversible: Bool
    }

    struct Empty: Encodable, Sendable {}
}

extension FlowStep {
    /// Expired power of attorney: the 失効画面.
    public static let expired = FlowStep("expired")
    /// Expired power of attorney: the signing key's evidence for a renewal.
    public static let renewalCard = FlowStep("renewal-card")
    /// Expired power of attorney: 取得依頼.
    public static let request = FlowStep("request")
    /// Expired power of attorney: the user-authentication key's evidence for a deletion.
    public static let deletionCard = FlowStep("deletion-card")
}

/// The flow of an expired power of attorney on the server, step by step.
public typealias ExpiredPowerOfAttorneySession = FlowSession<ExpiredPowerOfAttorneyFlow>

extension FlowSession where Flow == ExpiredPowerOfAttorneyFlow {
    /// 電子委任状更新 on the 失効画面.
    public func chooseRenewal() async throws(PortalClientError) -> FlowState {
        try await post(ExpiredPowerOfAttorneyFlow.Empty(), to: FlowStep("renewal"))
    }

    /// 代理人情報削除 on the 失効画面.
    public func chooseDeletion() async throws(PortalClientError) -> FlowState {
        try await post(ExpiredPowerOfAttorneyFlow.Empty(), to: FlowStep("deletion"))
    }

    /// マイナンバーカード読込 for a renewal: the signing key's evidence.
    public func presentRenewalCard(with signer: some EvidenceSigner) async throws -> FlowState {
        try await presentCard(with: signer, at: .renewalCard)
    }

    /// マイナンバーカード読込 for a deletion: the user-authentication key's evidence.
    public func presentDeletionCard(with signer: some EvidenceSigner) async throws -> FlowState {
        try await presentCard(with: signer, at: .deletionCard)
    }

    /// 取得依頼 with the 電子委任状取扱事業者's application number.
    public func request(applicationNumber: String) async throws(PortalClientError) -> FlowState {
        try await post(ExpiredPowerOfAttorneyFlow.Request(applicationNumber: applicationNumber), to: .request)
    }

    /// 電子委任状更新: commits the fresh power of attorney.
    public func renew() async throws(PortalClientError) -> ExpiredPowerOfAttorneyFlow.Completion {
        try await commit()
    }

    /// 削除: deletes the agent; `acknowledgingIrreversible` says the person read it cannot be undone.
    public func delete(acknowledgingIrreversible: Bool) async throws(PortalClientError)
        -> ExpiredPowerOfAttorneyFlow.Completion
    {
        try await client.send(
            "POST", path + "/delete",
            json: ExpiredPowerOfAttorneyFlow.Deletion(acknowledgeIrreversible: acknowledgingIrreversible),
            as: ExpiredPowerOfAttorneyFlow.Completion.self)
    }
}

extension PortalClient {
    /// Opens the 電子委任状失効画面 for the session's agent.
    public func startExpiredPowerOfAttorney() async throws(PortalClientError) -> ExpiredPowerOfAttorneySession {
        try await start(ExpiredPowerOfAttorneyFlow.self)
    }
}
