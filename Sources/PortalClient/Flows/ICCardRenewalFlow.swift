/// IC card renewal (ICカード更新) on the portal's server, `/api/v1/flows/ic-card-renewal`: the current card, the
/// new card (swapped into the reader in between), the confirmation screen (電子証明書更新確認), and `update`,
/// which binds the new card's certificate and supersedes the current one's.
///
/// ```swift
/// let completion = try await client.renewICCard(current: currentCard, new: newCard) {
///     print("Take the current card out and insert the new one, then press Enter.")
///     _ = readLine()
/// }
/// ```
public enum ICCardRenewalFlow: PortalFlow {
    public static let name = "ic-card-renewal"
    public static let commitPath = "update"

    /// 電子証明書更新確認: both cards' certificates, as the person checks them before 更新.
    public struct Confirmation: Sendable, Hashable, Decodable {
        /// One card's block (現在使用しているICカード, 新規に使用するICカード).
        public struct Block: Sendable, Hashable, Decodable {
            /// A labelled value.
            public struct Row: Sendable, Hashable, Decodable {
                /// The label (`ICカード取得者氏名`).
                public var label: String
                /// The value.
                public var value: String
            }
            /// The block's heading.
            public var heading: String
            /// The certificate's SHA-256 fingerprint.
            public var fingerprint: String
            /// The rows.
            public var rows: [Row]

            /// The value of the row labelled `label`.
            public func value(of label: String) -> String? { rows.first { $0.label == label }?.value }
        }
        /// 電子証明書更新確認.
        public var title: String
        /// The current card's block, then the new card's.
        public var blocks: [Block]
        /// What the person should know before 更新.
        public var notes: [String]
    }

    /// What `update` answers.
    public struct Completion: Sendable, Hashable, Decodable {
        /// The completion message to show.
        public var message: String
        /// The change (受付番号).
        public var changeID: String
        /// The registration's version after it.
        public var version: Int
        /// The current card's binding, now superseded.
        public var supersededBindingID: String
        /// The new card's binding, now active.
        public var newBindingID: String
    }
}

extension FlowStep {
    /// IC card renewal: the current card's evidence.
    public static let currentCard = FlowStep("current-card")
    /// IC card renewal: the new card's evidence.
    public static let newCard = FlowStep("new-card")
}

/// An IC card renewal on the server, step by step.
public typealias ICCardRenewalSession = FlowSession<ICCardRenewalFlow>

extension FlowSession where Flow == ICCardRenewalFlow {
    /// 古いICカードの確認: evidence from the current card (the one the session's certificate is on).
    public func presentCurrentCard(with signer: some EvidenceSigner) async throws -> FlowState {
        try await presentCard(with: signer, at: .currentCard)
    }

    /// 新しいICカードの確認: evidence from the new card (same company, same holder, not yet registered).
    public func presentNewCard(with signer: some EvidenceSigner) async throws -> FlowState {
        try await presentCard(with: signer, at: .newCard)
    }

    /// 更新: binds the new card and supersedes the current one. The session logged in with the current card
    /// ends with it: log in again with the new card.
    public func update() async throws(PortalClientError) -> ICCardRenewalFlow.Completion {
        try await commit()
    }
}

extension PortalClient {
    /// Starts an IC card renewal for the session's user.
    public func startICCardRenewal() async throws(PortalClientError) -> ICCardRenewalSession {
        try await start(ICCardRenewalFlow.self)
    }

    /// A whole IC card renewal: starts it, presents the current card, lets the person swap the cards (`swap`),
    /// presents the new card, reads the confirmation screen and gives it to `review`, then updates.
    ///
    /// - Parameters:
    ///   - current: The current card's signer.
    ///   - new: The new card's signer.
    ///   - swap: Called between the two cards (take the current card out, insert the new one).
    ///   - review: Sees the confirmation screen before 更新; throwing there goes back (戻る) and stops, with
    ///     nothing stored, as ``PortalClientError/Code-swift.struct/cancelled``.
    /// - Returns: The completion; the session ended with the current card's certificate.
    /// - Throws: ``PortalClientError`` with the problem's rule (`companyNameMismatch`, `sameCard`,
    ///   `newCardAlreadyRegistered`, `registrationChanged`, …), or a signer's own error. A refused step leaves the
    ///   flow where it was: it expires unless continued (``resume(_:flowID:)``).
    public func renewICCard(
        current: some EvidenceSigner, new: some EvidenceSigner, swap: () async throws -> Void,
        review: (ICCardRenewalFlow.Confirmation) async throws -> Void = { _ in }
    ) async throws -> ICCardRenewalFlow.Completion {
        let renewal = try await startICCardRenewal()
        _ = try await renewal.presentCurrentCard(with: current)
        try await swap()
        let state = try await renewal.presentNewCard(with: new)
        guard state.step == .confirm else {
            throw PortalClientError(
                .unexpectedAnswer, "After the new card the flow is at \(state.step), not at the confirmation.")
        }
        let confirmation = try await renewal.confirmation()
        do {
            try await review(confirmation)
        } catch {
            _ = try? await renewal.back()
            throw PortalClientError(.cancelled, "The confirmation was not accepted (\(error)); nothing was changed.")
        }
        return try await renewal.update()
    }
}
