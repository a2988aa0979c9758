import CardCredentials
import Foundation
import Registration
import X509

/// A card's certificate as the renewal's rules see it, whichever driver got it: read from a card in a slot (the
/// in-process ``ICCardRenewal``) or received as evidence (``RemoteICCardRenewal``).
struct RenewalCard: Sendable, Hashable {
    var certificate: Certificate
    var chain: [Certificate]
    var fingerprint: String
    var summary: CertificateSummary

    init(certificate: Certificate, chain: [Certificate], fingerprint: String) {
        self.certificate = certificate
        self.chain = chain
        self.fingerprint = fingerprint
        summary = CertificateSummary(certificate)
    }
}

/// The rules of the IC card renewal (seeds 000 and 001), once, for both drivers: which current card may be
/// renewed, which new card may replace it, the change that is prepared, and the confirmation screen.
struct ICCardRenewalRules: Sendable {
    let userID: UserID
    let businessID: BusinessID
    let environment: LifecycleEnvironment
    let wording: RenewalWording

    /// The user's registration, checking the user is there and not deleted.
    func registration() async throws(LifecycleError) -> BusinessRegistration {
        do {
            guard let registration = try await environment.service.store.registration(businessID) else {
                throw RegistrationError.businessNotFound(businessID)
            }
            let user = try registration.user(userID)
            guard user.status == .active else { throw RegistrationError.userDeleted(userID) }
            return registration
        } catch {
            throw Self.mapped(error)
        }
    }

    /// The current card must carry the user's active registered certificate, neither expired nor revoked nor
    /// untrusted. Returns its binding.
    func checkCurrent(_ card: RenewalCard, at date: Date) async throws(LifecycleError) -> CertificateBinding {
        let registration = try await registration()
        guard let binding = registration.binding(fingerprint: card.fingerprint), binding.userID == userID else {
            throw .currentCardNotRegistered
        }
        switch binding.status(at: date) {
        case .active: break
        case .expired: throw .currentCardExpired(notAfter: binding.notValidAfter)
        case let status: throw .currentCardNotActive(status)
        }
        try await validate(card, as: .current, at: date)
        return binding
    }

    /// The new card must not be the current card; its certificate must chain to a trusted CA, be neither expired
    /// nor revoked nor registered already; its company name must be the registered 商号又は名称 exactly, and its
    /// holder's name (and address, where the current card has one) the current card's.
    func checkNew(_ card: RenewalCard, replacing old: RenewalCard, at date: Date) async throws(LifecycleError) {
        guard card.fingerprint != old.fingerprint else { throw .sameCard }
        let registration = try await registration()
        try await validate(card, as: .new, at: date)
        let registered = registration.business.name
        guard let company = card.summary.companyName, Self.same(company, registered) else {
            throw .companyNameMismatch(registered: registered, card: card.summary.companyName)
        }
        let holderName = old.summary.holderName ?? ""
        let newHolderName = card.summary.holderName ?? ""
        guard Self.same(holderName, newHolderName) else {
            throw .holderMismatch(field: "ICカード取得者氏名", current: holderName, new: newHolderName)
        }
        if let address = old.summary.holderAddress {
            let newAddress = card.summary.holderAddress ?? ""
            guard Self.same(address, newAddress) else {
                throw .holderMismatch(field: "ICカード取得者所在地", current: address, new: newAddress)
            }
        }
        do {
            if try await environment.service.store.registration(boundTo: card.fingerprint) != nil {
                throw LifecycleError.newCardAlreadyRegistered
            }
        } catch {
            throw Self.mapped(error)
        }
    }

    /// Validates a card's certificate with the environment's validator (its CA certificates as intermediates),
    /// in the words of the renewal.
    func validate(_ card: RenewalCard, as role: RenewalCardRole, at date: Date) async throws(LifecycleError) {
        var validator = environment.validator
        validator.intermediates += card.chain
        switch await validator.validate(card.certificate, for: .any, at: date) {
        case .valid:
            return
        case .expired(let notAfter, _):
            throw role == .current ? .currentCardExpired(notAfter: notAfter) : .newCardExpired(notAfter: notAfter)
        case .revoked(_, let date, _):
            throw role == .current ? .currentCardRevoked(date: date) : .newCardRevoked(date: date)
        case .notYetValid(let notBefore, _) where role == .new:
            throw .newCardNotYetValid(notBefore: notBefore)
        case let failure:
            throw .certificateUntrusted(role, reason: failure.description)
        }
    }

    /// Prepares `RegistrationChange.replaceCertificate` (nothing is stored) and the confirmation screen
    /// (電子証明書更新確認).
    func prepare(new card: RenewalCard, replacing old: RenewalCard, binding: CertificateBinding)
        async throws(LifecycleError) -> (PreparedChange, RenewalConfirmation)
    {
        let change = RegistrationChange.replaceCertificate(binding.id, with: card.certificate, .icCard)
        let prepared: PreparedChange
        do {
            prepared = try await environment.service.prepare(
                change, to: businessID, by: .user(userID, binding: binding.id))
        } catch {
            throw Self.mapped(error)
        }
        let business = prepared.before?.business ?? prepared.after.business
        let confirmation = RenewalConfirmation(
            current: RenewalCardDetails(
                role: .current, business: business, certificate: old.summary, fingerprint: old.fingerprint,
                wording: wording),
            new: RenewalCardDetails(
                role: .new, business: business, certificate: card.summary, fingerprint: card.fingerprint,
                wording: wording),
            wording: wording)
        return (prepared, confirmation)
    }

    /// 更新: commits the prepared change and describes the result.
    func commit(_ prepared: PreparedChange, _ confirmation: RenewalConfirmation, binding: CertificateBinding)
        async throws(LifecycleError) -> RenewalCompletion
    {
        let committed: CommittedChange
        do { committed = try await environment.service.commit(prepared) } catch { throw Self.mapped(error) }
        let newBinding = committed.registration.binding(fingerprint: confirmation.new.fingerprint)
        return RenewalCompletion(
            changeID: committed.changeID, supersededBindingID: binding.id,
            newBindingID: newBinding?.id ?? binding.id, registration: committed.registration,
            confirmation: confirmation, outbox: committed.outbox)
    }

    /// The lifecycle error for an error of the registration desk: the shared mapping, and a certificate that may
    /// no longer act is the current card's.
    static func mapped(_ error: any Error) -> LifecycleError {
        if case .certificateNotActive(let status)? = error as? RegistrationError {
            return .currentCardNotActive(status)
        }
        return .desk(error)
    }

    /// Names compare exactly, ignoring only spaces at the ends (as the registration desk compares them).
    static func same(_ a: String, _ b: String) -> Bool {
        a.trimmingCharacters(in: .whitespaces) == b.trimmingCharacters(in: .whitespaces)
    }
}
