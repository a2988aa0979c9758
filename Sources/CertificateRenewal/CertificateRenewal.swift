// The CertificateRenewal module: the lifecycle flows of the manuals as state machines a front end drives step by
// step. Built so far: IC card renewal (ICCardRenewal, seeds 000 and 001).

public import CardCredentials
public import Registration

/// What the lifecycle flows share: the portal's registration desk, how certificates are checked, which IC cards
/// the portal reads, and how long a flow waits for a person at the reader.
///
/// ```swift
/// let environment = LifecycleEnvironment(
///     service: service,                                   // RegistrationService over the portal's store
///     validator: CertificateValidator(trustAnchors: roots, crls: crls, revocation: .whenAvailable))
/// let renewal = ICCardRenewal(user: session.userID, of: session.businessID, slot: slot, environment: environment)
/// ```
public struct LifecycleEnvironment: Sendable {
    /// The registration desk; its store holds the registrations and its clock (`now`) is the flows' clock.
    public var service: RegistrationService
    /// Checks a card's chain to the trusted certification authorities, its validity and its revocation (CRLs).
    public var validator: CertificateValidator
    /// The IC card profiles the portal reads, tried in order (the first whose application the card has wins).
    public var cardProfiles: [ICCardProfile]
    /// How long a flow waits for a card to be inserted or taken out before it says so.
    public var cardWaitTimeout: Duration

    /// An environment.
    ///
    /// - Parameters:
    ///   - service: The registration desk.
    ///   - validator: The certificate checks (trust anchors and CRLs).
    ///   - cardProfiles: The IC cards the portal reads; the simulator's card by default.
    ///   - cardWaitTimeout: How long to wait for a card to be inserted or removed; two minutes by default.
    public init(
        service: RegistrationService, validator: CertificateValidator,
        cardProfiles: [ICCardProfile] = [.procurementIdentitySimulator], cardWaitTimeout: Duration = .seconds(120)
    ) {
        self.service = service
        self.validator = validator
        self.cardProfiles = cardProfiles
        self.cardWaitTimeout = cardWaitTimeout
    }
}
