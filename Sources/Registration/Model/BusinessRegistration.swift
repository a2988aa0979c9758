public import Foundation

/// One registered business with everything that hangs on it: its users, their certificate bindings and powers of
/// attorney, and its qualifications.
///
/// It is the unit of consistency: a change reads one registration at a ``version`` and commits only if the
/// registration is still at that version (optimistic concurrency).
public struct BusinessRegistration: Sendable, Hashable, Codable, Identifiable {
    /// The business's identifier.
    public var id: BusinessID
    /// 事業者基本情報.
    public var business: BusinessInformation
    /// 資格情報.
    public var qualifications: [Qualification]
    /// The users, the representative first; deleted users stay, marked deleted.
    public var users: [User]
    /// Every certificate binding, current and past.
    public var bindings: [CertificateBinding]
    /// Every power of attorney, current and past.
    public var powersOfAttorney: [PowerOfAttorney]
    /// The version this value was read at: 1 after registration, one more for each committed change.
    public var version: Int
    /// When the business was registered.
    public var registeredAt: Date

    /// A registration not yet stored (version 0).
    public init(id: BusinessID = .random(), business: BusinessInformation, at date: Date) {
        self.id = id
        self.business = business
        qualifications = []
        users = []
        bindings = []
        powersOfAttorney = []
        version = 0
        registeredAt = date
    }

    /// The representative (代表者), if registered and not deleted.
    public var representative: User? { users.first { $0.role == .representative && $0.status == .active } }

    /// The user with this identifier.
    public func user(_ id: UserID) throws(RegistrationError) -> User {
        guard let user = users.first(where: { $0.id == id }) else { throw .userNotFound(id) }
        return user
    }

    /// The user's bindings, newest first.
    public func bindings(of user: UserID) -> [CertificateBinding] {
        bindings.filter { $0.userID == user }.sorted { $0.boundAt > $1.boundAt }
    }

    /// The user's active bindings at `date`.
    public func activeBindings(of user: UserID, at date: Date) -> [CertificateBinding] {
        bindings(of: user).filter { $0.status(at: date) == .active }
    }

    /// The binding of the certificate with this SHA-256 fingerprint, if any. Of several bindings of it (bound,
    /// removed, bound again), the active one, otherwise the one bound last (of those bound at the same moment, the
    /// first in ``bindings``).
    public func binding(fingerprint: String) -> CertificateBinding? {
        var chosen: CertificateBinding?
        for binding in bindings where binding.fingerprint == fingerprint {
            if binding.recordedStatus == .active { return binding }
            if chosen.map({ binding.boundAt > $0.boundAt }) ?? true { chosen = binding }
        }
        return chosen
    }

    /// The binding with this identifier.
    public func binding(_ id: BindingID) throws(RegistrationError) -> CertificateBinding {
        guard let binding = bindings.first(where: { $0.id == id }) else { throw .bindingNotFound(id) }
        return binding
    }

    /// The agent's current power of attorney (the newest not superseded), if any.
    public func currentPowerOfAttorney(of agent: UserID) -> PowerOfAttorney? {
        powersOfAttorney.filter { $0.agentID == agent && !$0.isSuperseded }.max { $0.validUntil < $1.validUntil }
    }
}
