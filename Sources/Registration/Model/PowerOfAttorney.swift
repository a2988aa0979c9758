public import Foundation

/// An electronic power of attorney (電子委任状) from a 電子委任状取扱事業者, for an agent registered with a My Number
/// card.
public struct PowerOfAttorney: Sendable, Hashable, Codable, Identifiable {
    /// The record's identifier.
    public var id: PowerOfAttorneyID
    /// The agent it empowers.
    public var agentID: UserID
    /// 委任者: the principal (the business and its representative), as the document names them.
    public var principal: String
    /// 受任者: the agent, as the document names them.
    public var agent: String
    /// 代理権: the authority delegated, one item per line of the document.
    public var authority: [String]
    /// The start of the validity period.
    public var validFrom: Date
    /// The end of the validity period.
    public var validUntil: Date
    /// 電子委任状取扱事業者: the provider that issued it.
    public var provider: String
    /// The provider's reference of the document.
    public var reference: String
    /// Whether a newer power of attorney replaced it.
    public var isSuperseded: Bool

    /// A power of attorney as the provider issued it.
    public init(
        agentID: UserID, principal: String, agent: String, authority: [String], validFrom: Date, validUntil: Date,
        provider: String, reference: String
    ) throws(RegistrationError) {
        id = .random()
        self.agentID = agentID
        self.principal = try Field.text(principal, field: "委任者", maximum: 200)
        self.agent = try Field.text(agent, field: "受任者", maximum: 200)
        guard !authority.isEmpty else { throw .invalidField(field: "代理権", reason: "it names no authority") }
        self.authority = try authority.map { (item: String) throws(RegistrationError) -> String in
            try Field.text(item, field: "代理権", maximum: 200)
        }
        guard validFrom < validUntil else {
            throw .invalidField(field: "有効期間", reason: "it ends before it starts")
        }
        self.validFrom = validFrom
        self.validUntil = validUntil
        self.provider = try Field.text(provider, field: "電子委任状取扱事業者", maximum: 100)
        self.reference = try Field.text(reference, field: "電子委任状の識別番号", maximum: 100)
        isSuperseded = false
    }

    /// Whether it is in force at `date`.
    public func isValid(at date: Date) -> Bool { !isSuperseded && validFrom <= date && date <= validUntil }

    /// The fields as the confirmation screen lists them.
    public var labeledFields: [(label: String, value: String)] {
        [
            ("委任者", principal), ("受任者", agent), ("代理権", authority.joined(separator: "、")),
            ("有効期間", "\(RegistrationError.day(validFrom)) 〜 \(RegistrationError.day(validUntil))"),
            ("電子委任状取扱事業者", provider),
        ]
    }
}
