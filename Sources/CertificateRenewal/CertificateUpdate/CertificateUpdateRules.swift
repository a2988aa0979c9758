import CardCredentials
import Foundation
import Registration
import X509

/// The rules of the certificate update (電子証明書更新, seed 002), shared by the flow that reads the cards itself
/// (``CertificateUpdate``) and the one a server drives with evidence (``RemoteCertificateUpdate``): which
/// registered certificate may be updated, what the new one must be, the change and its confirmation screen, and
/// the commit.
struct CertificateUpdateRules: Sendable {
    let environment: LifecycleEnvironment
    let linkage: (any JPKILinkageService)?
    let operatorName: String

    /// The registered binding of a certificate read, refusing what may not be updated.
    func registeredBinding(of credential: UpdateCredential, type: CertificateUpdateType)
        async throws(LifecycleError) -> CertificateBinding
    {
        let now = environment.service.now()
        let found: BusinessRegistration?
        do { found = try await environment.service.store.registration(boundTo: credential.fingerprint) } catch {
            throw LifecycleError.desk(error)
        }
        guard let registration = found, let binding = registration.binding(fingerprint: credential.fingerprint)
        else { throw .certificateNotRegistered }
        let user: User
        do { user = try registration.user(binding.userID) } catch { throw .registration(error) }
        guard user.status == .active else { throw .registration(.userDeleted(user.id)) }
        switch binding.status(at: now) {
        case .active, .expired: break
        case let status: throw .registeredCertificateNotActive(status)
        }
        guard (binding.kind == .myNumberCard) == (type == .myNumberCard) else {
            throw .certificateTypeMismatch(registered: binding.kind)
        }
        // The chain is checked at the last moment the certificate was valid, so an expired one is still checked.
        let moment = min(now, credential.certificate.notValidAfter)
        switch await environment.validation(of: credential, at: moment) {
        case .valid: break
        case .revoked(_, let date, _):
            // A My Number certificate is revoked by its renewal; the JPKI linkage decides about it.
            if type == .privateCertificate { throw .registeredCertificateRevoked(date: date) }
        case let failure:
            throw .certificateUntrusted(.current, reason: failure.description)
        }
        return binding
    }

    /// Checks the new certificate against the old one and the registration.
    func check(_ new: UpdateCredential, replacing old: UpdateCredential) async throws(LifecycleError) {
        guard new.fingerprint != old.fingerprint else { throw .sameCard }
        do {
            if try await environment.service.store.registration(boundTo: new.fingerprint) != nil {
                throw LifecycleError.newCardAlreadyRegistered
            }
        } catch {
            throw LifecycleError.desk(error)
        }
        switch await environment.validation(of: new, at: environment.service.now()) {
        case .valid: break
        case .expired(let notAfter, _): throw .newCardExpired(notAfter: notAfter)
        case .revoked(_, let date, _): throw .newCardRevoked(date: date)
        case .notYetValid(let notBefore, _): throw .newCardNotYetValid(notBefore: notBefore)
        case let failure: throw .certificateUntrusted(.new, reason: failure.description)
        }
        let registration: BusinessRegistration?
        do { registration = try await environment.service.store.registration(boundTo: old.fingerprint) } catch {
            throw LifecycleError.desk(error)
        }
        guard let registration else { throw .certificateNotRegistered }
        if new.kind == .myNumberCard {
            let oldPerson = old.summary.jpkiPersonalAttributes
            let newPerson = new.summary.jpkiPersonalAttributes
            try Self.requireSame("氏名", oldPerson?.name, newPerson?.name)
            try Self.requireSame("生年月日", oldPerson?.dateOfBirthText, newPerson?.dateOfBirthText)
        } else {
            let registered = registration.business.name
            guard let company = new.summary.companyName, Self.same(company, registered) else {
                throw .companyNameMismatch(registered: registered, card: new.summary.companyName)
            }
            try Self.requireSame("氏名", old.summary.holderName, new.summary.holderName)
            if old.summary.holderAddress != nil {
                try Self.requireSame("所在地", old.summary.holderAddress, new.summary.holderAddress)
            }
        }
    }

    /// Prepares the change (nothing stored) and the confirmation screen's data.
    func prepare(_ new: UpdateCredential, replacing old: UpdateCredential, binding: CertificateBinding)
        async throws(LifecycleError) -> (PreparedChange, CertificateUpdateConfirmation)
    {
        let registration: BusinessRegistration
        let prepared: PreparedChange
        do {
            prepared = try await environment.service.prepare(
                .replaceCertificate(binding.id, with: new.certificate, new.kind),
                to: try await businessID(of: old), by: .portal(operator: operatorName))
            registration = prepared.before ?? prepared.after
        } catch {
            throw LifecycleError.desk(error)
        }
        let user: User
        do { user = try registration.user(binding.userID) } catch { throw .registration(error) }
        let confirmation = CertificateUpdateConfirmation(
            registration: registration, user: user,
            current: CertificateUpdateDetails(
                heading: "更新元電子証明書情報", kind: binding.kind, certificate: old.summary, fingerprint: old.fingerprint),
            new: CertificateUpdateDetails(
                heading: "更新先電子証明書情報", kind: new.kind, certificate: new.summary, fingerprint: new.fingerprint))
        return (prepared, confirmation)
    }

    /// 更新実行: commits a prepared change as `RegistrationActor.portal(operator:)`.
    ///
    /// - Throws: ``LifecycleError/registrationChanged``, ``LifecycleError/confirmationExpired``,
    ///   ``LifecycleError/registration(_:)``.
    func commit(
        _ prepared: PreparedChange, _ confirmation: CertificateUpdateConfirmation, binding: CertificateBinding
    ) async throws(LifecycleError) -> CertificateUpdateCompletion {
        let committed: CommittedChange
        do { committed = try await environment.service.commit(prepared) } catch { throw LifecycleError.desk(error) }
        let newBinding = committed.registration.binding(fingerprint: confirmation.new.fingerprint)
        return CertificateUpdateCompletion(
            changeID: committed.changeID, supersededBindingID: binding.id, newBindingID: newBinding?.id ?? binding.id,
            registration: committed.registration, confirmation: confirmation, outbox: committed.outbox)
    }

    /// The signing certificate JPKI issued in place of the registered My Number card's `credential` (asked only
    /// with the person's consent): only a renewal (`superseded`) is linked; the new certificate is checked.
    ///
    /// - Throws: ``LifecycleError/jpkiLinkageUnavailable(reason:)``, ``LifecycleError/jpkiCertificateNotRenewed``,
    ///   ``LifecycleError/jpkiDetailsChanged``, and the checks of ``check(_:replacing:)``.
    func successor(of credential: UpdateCredential) async throws(LifecycleError) -> UpdateCredential {
        guard let linkage else {
            throw .jpkiLinkageUnavailable(reason: "this portal has no link to JPKI configured")
        }
        let successor: JPKILinkage?
        do {
            successor = try await linkage.successor(
                ofSigningCertificate: credential.certificate.serialNumber, issuer: credential.certificate.issuer)
        } catch {
            throw .jpkiLinkageUnavailable(reason: String(describing: error))
        }
        guard let successor else { throw .jpkiCertificateNotRenewed }
        guard successor.cause == .superseded else { throw .jpkiDetailsChanged }
        let new = try UpdateCredential(kind: .myNumberCard, certificate: successor.newCertificate, chain: [])
        try await check(new, replacing: credential)
        return new
    }

    func businessID(of credential: UpdateCredential) async throws -> BusinessID {
        guard let registration = try await environment.service.store.registration(boundTo: credential.fingerprint)
        else { throw LifecycleError.certificateNotRegistered }
        return registration.id
    }

    static func requireSame(_ field: String, _ old: String?, _ new: String?) throws(LifecycleError) {
        guard Self.same(old ?? "", new ?? "") else {
            throw .holderMismatch(field: field, current: old ?? "", new: new ?? "")
        }
    }

    /// Names compare exactly, ignoring only spaces at the ends.
    static func same(_ a: String, _ b: String) -> Bool {
        a.trimmingCharacters(in: .whitespaces) == b.trimmingCharacters(in: .whitespaces)
    }
}
