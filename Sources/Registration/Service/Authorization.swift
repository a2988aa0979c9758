import Foundation

/// Who may make which change: the rights matrix (``Rights``) and the states that take rights away, in one place.
enum Authorization {
    /// Checks that `actor` may make `change` to `registration` at `date`.
    ///
    /// For a user: the user is registered here and not deleted; the certificate it acts with (or, without one, at
    /// least one of its certificates) is active; an agent whose power of attorney expired may only renew it or
    /// delete itself; then the rights matrix, with "own record" meaning the user the change is about.
    static func check(
        _ actor: RegistrationActor, may change: RegistrationChange, in registration: BusinessRegistration, at date: Date
    )
        throws(RegistrationError)
    {
        guard case .user(let userID, let bindingID) = actor else { return }
        guard let user = registration.users.first(where: { $0.id == userID }) else {
            throw .changeNotAllowed("user \(userID) is not a user of \(registration.business.name)")
        }
        guard user.status == .active else { throw .userDeleted(userID) }
        if let bindingID {
            let binding = try registration.binding(bindingID)
            guard binding.userID == userID else { throw .certificateNotRegistered }
            let status = binding.status(at: date)
            guard status == .active else { throw .certificateNotActive(status) }
        } else if registration.activeBindings(of: userID, at: date).isEmpty {
            throw .certificateNotActive(registration.bindings(of: userID).first?.status(at: date) ?? .removed)
        }
        if user.role == .agent, let attorney = registration.currentPowerOfAttorney(of: userID),
            !attorney.isValid(at: date)
        {
            switch change {
            case .renewPowerOfAttorney(let target, _) where target == userID: break
            case .deleteUser(let target) where target == userID: break
            default: throw .powerOfAttorneyExpired(validUntil: attorney.validUntil)
            }
        }
        let target = try targetUser(of: change, in: registration)
        switch change {
        case .addAgent:
            guard user.role == .representative else {
                throw .notPermitted(role: user.role, change: .userBasicInformation)
            }
        case .deleteUser(let id):
            let deleted = try registration.user(id)
            guard deleted.role != .representative else {
                throw .changeNotAllowed(
                    "the representative (代表者) cannot be deleted; the business registers anew when it changes")
            }
            guard user.role == .representative || id == userID else {
                throw .notOwnRecord(change: .userBasicInformation)
            }
        case .renewPowerOfAttorney(let id, _):
            guard id == userID else { throw .notOwnRecord(change: .userBasicInformation) }
        case .markCertificateRevoked:
            try Rights.check(user.role, may: .certificates, onOwnRecord: target == userID)
        default:
            try Rights.check(user.role, may: change.rightsKind, onOwnRecord: target == userID)
        }
    }

    /// The user whose record the change touches (nil: the business's own records).
    static func targetUser(of change: RegistrationChange, in registration: BusinessRegistration)
        throws(RegistrationError) -> UserID?
    {
        switch change {
        case .updateBusinessInformation, .addQualification, .removeQualification, .addAgent: return nil
        case .updateUserInformation(let id, _), .addCertificate(let id, _, _), .deleteUser(let id),
            .renewPowerOfAttorney(let id, _):
            return id
        case .removeCertificate(let id), .replaceCertificate(let id, _, _), .markCertificateRevoked(let id):
            return try registration.binding(id).userID
        }
    }
}
