public import ISO7816
import SwiftASN1
public import X509

/// A client of a private certification authority's IC card (民間認証局の IC カード) over any `CardTransport`,
/// driven by the card's ``ICCardProfile``: its certificates, its PIN and its signing key.
///
/// Every operation sends the fewest APDUs the card allows: the application is selected once and kept while
/// nothing resets it, a certificate is read with one extended-length READ BINARY where the card takes it, and a
/// signature with its PIN costs at most four APDUs (SELECT AP when needed, tries-left query, VERIFY, COMPUTE
/// DIGITAL SIGNATURE). Operations on one `ICCard` run one at a time, so concurrent tasks never interleave them.
///
/// ```swift
/// let card = try await ICCard.connect(transport: connection, profile: .procurementIdentitySimulator)
/// let pin = try SecretPIN(typed, policy: card.profile.pinPolicy)   // wrong form: refused here
/// let key = try await card.signingKey(pin: pin)                    // a CardKey: Signer and CustomPrivateKey
/// let cms = try await CMSSignedData.sign(document, with: key)
/// ```
///
/// Errors are ``CardCredentialsError`` values: ``CardCredentialsError/notThisCard(profile:reason:)`` for another
/// card, the PIN errors of ``PINVerifier``, ``CardCredentialsError/cardRemoved`` and the other link failures,
/// ``CardCredentialsError/malformedCertificate(_:)``, ``CardCredentialsError/unexpectedCardStatus(_:operation:)``.
public actor ICCard {
    /// The card's profile.
    public nonisolated let profile: ICCardProfile
    /// The channel to the card; its `statistics` count the APDUs this client sent.
    public nonisolated let channel: CardChannel

    /// Whether the profile's application is selected in this session, as far as this client knows.
    private var applicationSelected = false
    /// Whether this session verified the PIN (the card keeps it until the application is selected again or the
    /// card is reset).
    private var pinVerified = false
    /// Keeps this client's operations from interleaving, in the order they were asked for.
    private let operations = AsyncLock()

    /// A client over a transport (a PC/SC connection, a simulated card, an NFC tag).
    ///
    /// Nothing is sent yet: use ``connect(transport:profile:)`` to check the card is the profile's, or
    /// ``select()`` later.
    ///
    /// - Parameters:
    ///   - transport: The link to the card.
    ///   - profile: The card's profile; its ``ICCardProfile/extendedLength`` configures the channel.
    public init(transport: any CardTransport, profile: ICCardProfile) {
        var configuration = CardChannel.Configuration()
        configuration.extendedLength = profile.extendedLength
        self.init(channel: CardChannel(transport: transport, configuration: configuration), profile: profile)
    }

    /// A client over an existing channel (for its configuration or tracer).
    public init(channel: CardChannel, profile: ICCardProfile) {
        self.channel = channel
        self.profile = profile
    }

    /// Makes a client and checks the card is the profile's (one APDU: SELECT of its application, which stays
    /// selected).
    ///
    /// - Throws: ``CardCredentialsError/notThisCard(profile:reason:)`` when the card has no such application, or
    ///   a link error.
    public static func connect(transport: any CardTransport, profile: ICCardProfile) async throws -> ICCard {
        let card = ICCard(transport: transport, profile: profile)
        try await card.select()
        return card
    }

    // MARK: - Recognition

    /// Selects the profile's application (`00 A4 04 0C Lc AID`), which checks that the card is the profile's.
    ///
    /// The SELECT is sent even when this client selected the application before, so it also ends the card's
    /// session: the PIN must be verified again.
    ///
    /// - Throws: ``CardCredentialsError/notThisCard(profile:reason:)`` when the card answers that it has no such
    ///   application, ``CardCredentialsError/unexpectedCardStatus(_:operation:)`` for another refusal, or a link
    ///   error.
    public func select() async throws {
        try await perform {
            self.applicationSelected = false
            try await self.selectApplication()
        }
    }

    /// Forgets what this client knows of the card's session (selected application, verified PIN), so the next
    /// operation selects again. Call it after another program may have used the card.
    public func forgetSession() {
        applicationSelected = false
        pinVerified = false
    }

    // MARK: - Certificates

    /// Reads the holder's certificate's DER bytes: SELECT EF and one READ BINARY where the card takes extended
    /// length (plus SELECT AP when needed), else one READ BINARY per 256 bytes.
    ///
    /// - Throws: ``CardCredentialsError/malformedCertificate(_:)`` when the EF does not hold a whole DER
    ///   SEQUENCE, ``CardCredentialsError/unexpectedCardStatus(_:operation:)`` when the EF cannot be selected, or
    ///   a link error.
    public func certificateDER() async throws -> [UInt8] {
        try await perform { try await self.readCertificateDER(self.profile.holderCertificateFileID, "holder") }
    }

    /// Reads and parses the holder's certificate (see ``certificateDER()``).
    public func certificate() async throws -> Certificate {
        try await perform {
            try Self.parse(try await self.readCertificateDER(self.profile.holderCertificateFileID, "holder"), "holder")
        }
    }

    /// Reads the issuing CA's certificate's DER bytes, or `nil` when the profile says the card has none (then
    /// nothing is sent).
    public func caCertificateDER() async throws -> [UInt8]? {
        guard let fileID = profile.caCertificateFileID else { return nil }
        return try await perform { try await self.readCertificateDER(fileID, "CA") }
    }

    /// Reads and parses the issuing CA's certificate, or `nil` when the profile says the card has none.
    public func caCertificate() async throws -> Certificate? {
        guard let fileID = profile.caCertificateFileID else { return nil }
        return try await perform { try Self.parse(try await self.readCertificateDER(fileID, "CA"), "CA") }
    }

    private func readCertificateDER(_ fileID: UInt16, _ role: String) async throws -> [UInt8] {
        try await selectApplication()
        let name = "the \(role) certificate EF \(Hex.encode([UInt8(fileID >> 8), UInt8(fileID & 0xFF)]))"
        let select = try await channel.transmit(try CommandAPDU.select(fileID: fileID))
        guard select.isSuccess else {
            throw CardCredentialsError.unexpectedCardStatus(select.statusWord, operation: "SELECT of \(name)")
        }
        let bytes = try await channel.readTransparentFile()
        guard bytes.first == 0x30, let length = BERTLV.encodedLength(ofFirstObjectIn: bytes), length <= bytes.count
        else {
            throw CardCredentialsError.malformedCertificate("\(name) does not hold a whole DER SEQUENCE")
        }
        return Array(bytes.prefix(length))  // an EF may be longer than its certificate
    }

    private static func parse(_ der: [UInt8], _ role: String) throws -> Certificate {
        do {
            return try Certificate(untrustedDER: der)
        } catch {
            throw CardCredentialsError.malformedCertificate("the \(role) certificate on the card: \(error)")
        }
    }

    // MARK: - PIN

    /// Asks how many tries the PIN has left, without spending one (SELECT AP when needed, and the query
    /// `00 20 00 ref`).
    ///
    /// - Returns: ``PINStatus/triesLeft(_:)``, ``PINStatus/verified`` (cards that answer `90 00` once verified)
    ///   or ``PINStatus/blocked``.
    public func pinStatus() async throws -> PINStatus {
        try await perform {
            try await self.selectApplication()
            do {
                return try await self.verifier.status()
            } catch CardCredentialsError.unexpectedCardStatus(let statusWord, _)
                where self.profile.blockedPINStatusWords.contains(statusWord)
            {
                return .blocked
            }
        }
    }

    /// Verifies the PIN through ``PINVerifier``: its form is checked against the profile's policy before
    /// anything is sent, then the tries left are asked, and the last try is spent only when `allowLastTry` says
    /// so.
    ///
    /// - Parameters:
    ///   - pin: The PIN.
    ///   - allowLastTry: Whether to send the PIN when only one try is left (a wrong PIN then blocks the card).
    /// - Throws: ``CardCredentialsError/pinFormat(_:)`` (nothing sent), ``CardCredentialsError/wrongPIN(triesLeft:)``,
    ///   ``CardCredentialsError/pinBlocked``, ``CardCredentialsError/lastTryRefused`` (the PIN not sent), or a
    ///   link error.
    public func verifyPIN(_ pin: SecretPIN, allowLastTry: Bool = false) async throws {
        try await perform { try await self.verifyInSession(pin, allowLastTry: allowLastTry) }
    }

    private var verifier: PINVerifier {
        PINVerifier(channel: channel, policy: profile.pinPolicy, reference: profile.pinReference)
    }

    private func verifyInSession(_ pin: SecretPIN, allowLastTry: Bool) async throws {
        if pin.policy != profile.pinPolicy { try pin.check(against: profile.pinPolicy) }
        try await selectApplication()
        pinVerified = false
        do {
            try await verifier.verify(pin, allowLastTry: allowLastTry)
        } catch CardCredentialsError.unexpectedCardStatus(let statusWord, _)
            where profile.blockedPINStatusWords.contains(statusWord)
        {
            throw CardCredentialsError.pinBlocked
        }
        pinVerified = true
    }

    // MARK: - Signatures

    /// Signs a DER `DigestInfo` (RFC 8017 §9.2) with the card's key: `00 2A 9E 9A Lc DigestInfo 00` (the
    /// profile's header); the card adds the PKCS#1 v1.5 padding.
    ///
    /// With `pin`, the PIN is verified first unless this session verified it already, and again if the card
    /// answers that it forgot (another program reset it); without, the caller verified it with
    /// ``verifyPIN(_:allowLastTry:)``. The signature is not checked here: use ``signingKey(pin:allowLastTry:)``,
    /// whose `CardKey` checks it against the certificate.
    ///
    /// - Throws: ``CardCredentialsError/pinNotVerified`` when the card wants the PIN and none was given, the PIN
    ///   errors of ``verifyPIN(_:allowLastTry:)``, ``CardCredentialsError/unexpectedCardStatus(_:operation:)``, or
    ///   a link error.
    public func signDigestInfo(_ digestInfo: [UInt8], pin: SecretPIN? = nil, allowLastTry: Bool = false)
        async throws -> [UInt8]
    {
        try await perform {
            if let pin, !self.pinVerified {
                try await self.verifyInSession(pin, allowLastTry: allowLastTry)
            }
            do {
                return try await self.computeSignature(digestInfo)
            } catch CardCredentialsError.pinNotVerified {
                // The card forgot the verification (another program selected or reset it).
                guard let pin else { throw CardCredentialsError.pinNotVerified }
                try await self.verifyInSession(pin, allowLastTry: allowLastTry)
                return try await self.computeSignature(digestInfo)
            }
        }
    }

    private func computeSignature(_ digestInfo: [UInt8]) async throws -> [UInt8] {
        try await selectApplication()
        let command = try CommandAPDU.computeDigitalSignature(
            data: digestInfo, cla: profile.signatureCLA, p1: profile.signatureP1, p2: profile.signatureP2)
        let response = try await channel.transmit(command)
        switch response.statusWord {
        case .success:
            guard !response.data.isEmpty else {
                throw CardCredentialsError.malformedCardAnswer("COMPUTE DIGITAL SIGNATURE returned no signature")
            }
            return response.data
        case .securityStatusNotSatisfied:
            pinVerified = false
            throw CardCredentialsError.pinNotVerified
        case let statusWord where profile.blockedPINStatusWords.contains(statusWord):
            pinVerified = false
            throw CardCredentialsError.pinBlocked
        default:
            throw CardCredentialsError.unexpectedCardStatus(response.statusWord, operation: "COMPUTE DIGITAL SIGNATURE")
        }
    }

    /// The card's key as a `CardKey` — a ``Signer`` for CMS and a swift-certificates `CustomPrivateKey` for
    /// CSRs — with the holder's certificate and, where the card has it, the CA certificate as its chain.
    ///
    /// The PIN is verified first (a wrong PIN fails here, before any document is signed) and kept in the key's
    /// operation so a later signature can verify again where the card forgot it. Each signature is checked
    /// against the certificate before it is returned.
    ///
    /// - Parameters:
    ///   - pin: The card's PIN.
    ///   - allowLastTry: Whether the last try may be spent.
    /// - Throws: The errors of ``verifyPIN(_:allowLastTry:)`` and ``certificate()``, or
    ///   ``CardCredentialsError/unsupportedSignatureAlgorithm(_:)`` when the certificate's key is not RSA.
    public func signingKey(pin: SecretPIN, allowLastTry: Bool = false) async throws -> CardKey {
        let (certificate, caCertificate) = try await perform {
            try await self.verifyInSession(pin, allowLastTry: allowLastTry)
            let certificate = try Self.parse(
                try await self.readCertificateDER(self.profile.holderCertificateFileID, "holder"), "holder")
            var ca: Certificate?
            if let fileID = self.profile.caCertificateFileID {
                ca = try Self.parse(try await self.readCertificateDER(fileID, "CA"), "CA")
            }
            return (certificate, ca)
        }
        return try CardKey(
            certificate: certificate, chain: caCertificate.map { [$0] } ?? [],
            operation: ICCardSigningOperation(card: self, pin: pin, allowLastTry: allowLastTry))
    }

    // MARK: - Selection

    private func selectApplication() async throws {
        guard !applicationSelected else { return }
        pinVerified = false
        let response = try await channel.transmit(try CommandAPDU.select(aid: profile.applicationID))
        switch response.statusWord {
        case .success:
            applicationSelected = true
        case .fileNotFound, .functionNotSupported, .incorrectP1P2, .instructionNotSupported, .classNotSupported:
            throw CardCredentialsError.notThisCard(
                profile: profile.name,
                reason: "it has no application \(Hex.encode(profile.applicationID)): SELECT answered "
                    + response.statusWord.hexString)
        default:
            throw CardCredentialsError.unexpectedCardStatus(
                response.statusWord, operation: "SELECT of the application \(Hex.encode(profile.applicationID))")
        }
    }

    // MARK: - One operation at a time

    /// Runs `body` alone (no other operation of this client interleaves), mapping lower layers' errors to
    /// ``CardCredentialsError`` and forgetting the session when the link failed.
    private func perform<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await operations.lock()
        defer { operations.unlock() }
        do {
            return try await body()
        } catch {
            if error.cardTransportFailure != nil { forgetSession() }
            throw Self.mapped(error)
        }
    }

    /// The ``CardCredentialsError`` for an error of a lower layer, where there is one.
    static func mapped(_ error: any Error) -> any Error {
        if error is CardCredentialsError { return error }
        if let failure = error.cardTransportFailure {
            switch failure {
            case .cardRemoved: return CardCredentialsError.cardRemoved
            case .cardReset: return CardCredentialsError.cardReset
            default: return CardCredentialsError.cardUnavailable(failure)
            }
        }
        if let error = error as? ISO7816Error {
            switch error {
            case .unexpectedStatus(.securityStatusNotSatisfied, _):
                return CardCredentialsError.pinNotVerified
            case .unexpectedStatus(let statusWord, let operation):
                return CardCredentialsError.unexpectedCardStatus(statusWord, operation: operation)
            case .malformedResponse(let reason):
                return CardCredentialsError.malformedCardAnswer(reason)
            case .tooManyGetResponses, .repeatedWrongLength:
                return CardCredentialsError.malformedCardAnswer(error.description)
            default:
                return error
            }
        }
        return error
    }
}

/// The `CardSigningOperation` of an ``ICCard``: what a ``CardKey`` calls to have the card sign a DigestInfo.
///
/// It verifies the PIN where this session has not (or the card forgot it), then sends COMPUTE DIGITAL
/// SIGNATURE. ``ICCard/signingKey(pin:allowLastTry:)`` makes one inside a `CardKey`.
public struct ICCardSigningOperation: CardSigningOperation {
    /// The card.
    public let card: ICCard
    let pin: SecretPIN?
    let allowLastTry: Bool

    /// An operation on `card`.
    ///
    /// - Parameters:
    ///   - card: The card client.
    ///   - pin: The card's PIN, verified before a signature when needed; `nil` when the caller verifies it.
    ///   - allowLastTry: Whether the PIN's last try may be spent.
    public init(card: ICCard, pin: SecretPIN?, allowLastTry: Bool = false) {
        self.card = card
        self.pin = pin
        self.allowLastTry = allowLastTry
    }

    /// Signs the DigestInfo with the card's key (see ``ICCard/signDigestInfo(_:pin:allowLastTry:)``).
    public func signDigestInfo(_ digestInfo: [UInt8]) async throws -> [UInt8] {
        try await card.signDigestInfo(digestInfo, pin: pin, allowLastTry: allowLastTry)
    }
}
