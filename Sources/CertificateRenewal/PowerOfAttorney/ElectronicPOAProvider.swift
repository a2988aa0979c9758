public import Foundation
public import X509

/// What the 電子委任状取扱事業者 needs to issue a fresh power of attorney (マイナンバーカード電子委任状取得依頼).
///
/// The flow fills in what the registration and the card say; the person enters the provider's application
/// number (申込番号) of the power of attorney.
public struct PowerOfAttorneyRequest: Sendable, Hashable {
    /// 委任者: the business (商号又は名称) and its representative, as registered.
    public var principal: String
    /// 法人番号 of the business, when registered.
    public var corporateNumber: String?
    /// 受任者: the agent's name, as registered.
    public var agent: String
    /// The agent's My Number signing certificate (署名用電子証明書), read with the signing PIN.
    public var agentCertificate: Certificate
    /// 申込番号: the provider's number of the power of attorney, entered by the person.
    public var applicationNumber: String
    /// The provider's reference of the expired power of attorney.
    public var previousReference: String

    /// A request.
    public init(
        principal: String, corporateNumber: String?, agent: String, agentCertificate: Certificate,
        applicationNumber: String, previousReference: String
    ) {
        self.principal = principal
        self.corporateNumber = corporateNumber
        self.agent = agent
        self.agentCertificate = agentCertificate
        self.applicationNumber = applicationNumber
        self.previousReference = previousReference
    }
}

/// A power of attorney as the 電子委任状取扱事業者 issued it.
public struct IssuedPowerOfAttorney: Sendable, Hashable {
    /// 委任者 as the document names them.
    public var principal: String
    /// 受任者 as the document names them.
    public var agent: String
    /// 代理権: the authority delegated, one item per line.
    public var authority: [String]
    /// The start of the validity period.
    public var validFrom: Date
    /// The end of the validity period.
    public var validUntil: Date
    /// The provider's reference of the document.
    public var reference: String

    /// An issued power of attorney.
    public init(
        principal: String, agent: String, authority: [String], validFrom: Date, validUntil: Date, reference: String
    ) {
        self.principal = principal
        self.agent = agent
        self.authority = authority
        self.validFrom = validFrom
        self.validUntil = validUntil
        self.reference = reference
    }
}

/// A 電子委任状取扱事業者 (electronic power-of-attorney provider): issues the power of attorney under which an
/// agent registered with a My Number card acts.
public protocol ElectronicPOAProvider: Sendable {
    /// The provider's name (電子委任状取扱事業者), recorded with the power of attorney.
    var name: String { get }

    /// Asks for a fresh power of attorney (取得依頼).
    ///
    /// - Throws: Any error of the provider; the flow reports it as
    ///   ``LifecycleError/powerOfAttorneyRequestFailed(reason:)``.
    func requestPowerOfAttorney(_ request: PowerOfAttorneyRequest) async throws -> IssuedPowerOfAttorney
}
