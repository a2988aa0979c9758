public import CertificateRenewal

/// The 電子委任状取扱事業者 of a portal that has none configured (`portal-server` without `--poa-provider`,
/// `portal agent delete`, which never asks one): every request (取得依頼) is refused with that sentence, which the
/// flow reports as `LifecycleError.powerOfAttorneyRequestFailed(reason:)`.
public struct NoPowerOfAttorneyProvider: ElectronicPOAProvider {
    /// The refusal.
    public struct NotConfigured: Error, CustomStringConvertible {
        public var description: String { "no 電子委任状取扱事業者 is configured for this portal" }
    }

    /// `none`.
    public let name = "none"

    /// The provider of a portal without one.
    public init() {}

    /// Throws ``NotConfigured``.
    public func requestPowerOfAttorney(_ request: PowerOfAttorneyRequest) async throws -> IssuedPowerOfAttorney {
        throw NotConfigured()
    }
}
