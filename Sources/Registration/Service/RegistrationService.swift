import CardCredentials
public import Foundation
public import X509

/// The portal's registration desk: new registrations and changes, each prepared (validated, rights checked,
/// reviewable), then committed with optimistic concurrency, writing the hand-over to GEPS and the completion mail
/// in the same transaction.
///
/// ```swift
/// let service = RegistrationService(store: store, portal: .init(name: "調達ポータル", mailFrom: sender))
/// let prepared = try await service.prepare(.updateUserInformation(agent, newInformation), to: business,
///                                          by: session.actor)
/// show(prepared.review)                         // 確認
/// let done = try await service.commit(prepared) // 完了
/// ```
public struct RegistrationService: Sendable {
    /// The store.
    public let store: any RegistrationStore
    /// The portal's name and mail sender.
    public let portal: PortalProfile
    /// How long a prepared change may wait for its confirmation.
    public var preparationLifetime: TimeInterval
    /// The clock (tests set it).
    public var now: @Sendable () -> Date

    /// A service over a store.
    public init(
        store: any RegistrationStore, portal: PortalProfile, preparationLifetime: TimeInterval = 30 * 60,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.store = store
        self.portal = portal
        self.preparationLifetime = preparationLifetime
        self.now = now
    }

    // MARK: New registration

    /// Prepares the registration of a business with its representative (新規登録); the portal makes it.
    ///
    /// Refused when the certificate's company name differs from 商号又は名称, when the certificate is already
    /// registered, or when a business with the same 法人番号 is registered already (one representative
    /// registration per business).
    public func prepareRegistration(
        of business: BusinessInformation, representative: UserInformation, certificate: Certificate,
        kind: CredentialKind, by actor: RegistrationActor
    ) async throws(RegistrationError) -> PreparedChange {
        guard case .portal = actor else {
            throw .changeNotAllowed("a new business is registered by the portal (新規登録), not by a user")
        }
        let date = now()
        // Said early, before anything else is asked; the store enforces it again at the commit, whoever commits.
        if let number = business.corporateNumber, try await store.registration(corporateNumber: number) != nil {
            throw .corporateNumberAlreadyRegistered(number)
        }
        try Self.requireCompanyName(of: certificate, equals: business.name)
        try await requireUnbound(certificate)
        var registration = BusinessRegistration(business: business, at: date)
        let user = User(role: .representative, information: representative, at: date)
        registration.users = [user]
        registration.bindings = [
            try CertificateBinding(certificate: certificate, kind: kind, userID: user.id, at: date)
        ]
        registration.version = 1
        let review = ChangeReview(
            title: "新規登録確認", businessName: business.name,
            rows: (business.labeledFields + representative.labeledFields).map {
                ReviewRow(label: $0.label, before: nil, after: $0.value.isEmpty ? nil : $0.value)
            }
                + Self.certificateRows(registration.bindings[0], before: nil))
        return PreparedChange(
            businessID: registration.id, change: .newRegistration, actor: actor, review: review, before: nil,
            after: registration, preparedAt: date, expiresAt: date.addingTimeInterval(preparationLifetime))
    }

    // MARK: Changes

    /// Prepares a change: reads the registration, checks the actor's rights and the input, and computes the
    /// registration after the change and its confirmation screen. Nothing is stored.
    public func prepare(_ change: RegistrationChange, to business: BusinessID, by actor: RegistrationActor)
        async throws(RegistrationError) -> PreparedChange
    {
        guard let registration = try await store.registration(business) else { throw .businessNotFound(business) }
        let date = now()
        try Authorization.check(actor, may: change, in: registration, at: date)
        let outcome = try ChangeApplication.apply(change, to: registration, at: date)
        for certificate in outcome.newCertificates {
            try await requireUnbound(certificate)
        }
        var after = outcome.registration
        after.version = registration.version + 1
        return PreparedChange(
            businessID: business, change: .change(change), actor: actor, review: outcome.review, before: registration,
            after: after, preparedAt: date, expiresAt: date.addingTimeInterval(preparationLifetime))
    }

    /// Commits a prepared change: checks it has not expired and that the actor may still make it, then stores the
    /// registration, its history entry, the GEPS hand-over and the completion mails in one transaction.
    ///
    /// - Throws: ``RegistrationError/staleChange(_:)`` if the registration changed since the preparation (nothing
    ///   is stored: prepare again), ``RegistrationError/preparationExpired``, or what authorization throws.
    public func commit(_ prepared: PreparedChange) async throws(RegistrationError) -> CommittedChange {
        let date = now()
        guard date <= prepared.expiresAt else { throw .preparationExpired }
        if case .change(let change) = prepared.change, let before = prepared.before {
            try Authorization.check(prepared.actor, may: change, in: before, at: date)
        }
        let record = ChangeRecord(
            businessID: prepared.businessID, actor: prepared.actor.userID, kind: prepared.change.name,
            summary: prepared.review.title.replacingOccurrences(of: "確認", with: ""), version: prepared.after.version,
            committedAt: date)
        let outbox = try Notifications(portal: portal).outbox(for: prepared, record: record)
        try await store.commit(
            RegistrationCommit(
                expectedVersion: prepared.expectedVersion, registration: prepared.after, record: record,
                outbox: outbox))
        return CommittedChange(
            changeID: record.id, registration: prepared.after, review: prepared.review, outbox: outbox)
    }

    // MARK: Checks

    static func requireCompanyName(of certificate: Certificate, equals registered: String)
        throws(RegistrationError)
    {
        guard let company = CertificateSummary(certificate).companyName else { return }
        guard Self.normalizedName(company) == Self.normalizedName(registered) else {
            throw .companyNameMismatch(registered: registered, certificate: company)
        }
    }

    /// Names compare as the manuals ask ("exactly the registered name"), ignoring only spaces at the ends.
    static func normalizedName(_ name: String) -> String { name.trimmingSpaces }

    /// A certificate can be bound once: a superseded, revoked or removed certificate never comes back.
    private func requireUnbound(_ certificate: Certificate) async throws(RegistrationError) {
        let fingerprint = try CertificateBinding.fingerprint(of: certificate)
        if try await store.registration(boundTo: fingerprint) != nil {
            throw .certificateAlreadyBound(fingerprint: fingerprint)
        }
    }

    static func certificateRows(_ binding: CertificateBinding, before: CertificateBinding?) -> [ReviewRow] {
        [
            ReviewRow(label: "証明書の種類", before: before?.kind.japaneseLabel, after: binding.kind.japaneseLabel),
            ReviewRow(label: "証明書シリアル番号", before: before?.serialNumber, after: binding.serialNumber),
            ReviewRow(label: "証明書発行者", before: before?.issuer, after: binding.issuer),
            ReviewRow(
                label: "証明書有効期限", before: before.map { CertificateSummary.japanDate($0.notValidAfter) },
                after: CertificateSummary.japanDate(binding.notValidAfter)),
        ]
    }
}

/// The portal's own details, used in the completion mails and GEPS documents.
public struct PortalProfile: Sendable, Hashable {
    /// The portal's name as mails sign it, e.g. `調達ポータル`.
    public var name: String
    /// The sender of completion mails.
    public var mailFrom: MailAddress

    /// A profile.
    public init(name: String, mailFrom: MailAddress) {
        self.name = name
        self.mailFrom = mailFrom
    }
}
