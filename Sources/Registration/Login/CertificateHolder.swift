/// Whose certificate it is: the binding of a certificate, the user it is bound to, and the user's business. What a
/// certificate login reads, without the rest of the registration.
///
/// ```swift
/// guard let holder = try await store.holder(ofCertificate: fingerprint) else { … }   // not registered
/// holder.binding.status(at: now)   // .active, .expired, .superseded …
/// holder.user.role                 // 代表者 or 代理人
/// ```
public struct CertificateHolder: Sendable, Equatable {
    /// The business the certificate is registered with.
    public var businessID: BusinessID
    /// Its 商号又は名称.
    public var businessName: String
    /// The certificate's binding: an active one if there is one, otherwise the one bound last.
    public var binding: CertificateBinding
    /// The user the binding belongs to.
    public var user: User

    /// A holder from its parts.
    public init(businessID: BusinessID, businessName: String, binding: CertificateBinding, user: User) {
        self.businessID = businessID
        self.businessName = businessName
        self.binding = binding
        self.user = user
    }

    /// A stored 商号又は名称, checked as ``BusinessInformation`` checks it: a store's reading of the name alone.
    package static func storedBusinessName(_ name: String) throws -> String {
        try StoredField.checked("business") { try Field.text(name, field: "商号又は名称", maximum: 100) }
    }

    /// The holder of the certificate with this SHA-256 fingerprint in `registration`, or nil when the registration
    /// has no binding of it. Of several bindings of the same certificate (bound, removed, bound again), the active
    /// one is taken, otherwise the one bound last (``BusinessRegistration/binding(fingerprint:)``).
    ///
    /// - Throws: ``RegistrationError/userNotFound(_:)`` when the binding's user is not in the registration.
    public init?(fingerprint: String, in registration: BusinessRegistration) throws(RegistrationError) {
        guard let binding = registration.binding(fingerprint: fingerprint) else { return nil }
        self.init(
            businessID: registration.id, businessName: registration.business.name, binding: binding,
            user: try registration.user(binding.userID))
    }
}
