public import CardCredentials
public import ISO7816
import SwiftASN1
public import X509

/// A client of the My Number card (マイナンバーカード) over any `CardTransport`: its JPKI application (the four
/// certificates, the PINs, the signing and user-authentication keys) and its text-input-support application.
///
/// Every operation sends the fewest APDUs the card allows: the application is selected once and kept while
/// nothing resets it, a certificate is read with one extended-length READ BINARY where the card takes it, and a
/// signature with its PIN costs at most six APDUs (SELECT AP, SELECT PIN EF, tries-left query, VERIFY, SELECT key
/// EF, COMPUTE DIGITAL SIGNATURE). Operations on one `MyNumberCard` run one at a time, so concurrent tasks never
/// interleave their SELECTs.
///
/// ```swift
/// let card = try await MyNumberCard.connect(transport: connection)   // refuses other cards
/// let pin = try SecretPIN(typed, policy: .jpkiSigning)               // wrong form: refused here
/// let key = try await card.signingKey(pin: pin)                      // a CardKey: Signer and CustomPrivateKey
/// let cms = try await CMSSignedData.sign(document, with: key)
/// ```
///
/// Every operation throws a ``JPKIError`` (`throws(JPKIError)`: wrong or blocked PIN, card removed, not a My
/// Number card, cancelled, …), except the signature check a `CardKey` makes after the card signed, which stays
/// `CardCredentialsError/cardSignatureInvalid`. Operations wait for one another in the order they were asked for;
/// a task cancelled while it waits throws ``JPKIError/Code-swift.struct/cancelled`` and sends nothing.
public actor MyNumberCard {
    /// The token label (EF `0006`) of a My Number card.
    public static let myNumberCardTokenLabel = "JPKIAPICCTOKEN2"
    /// The token label of the older Basic Resident Register card (住民基本台帳カード).
    public static let basicResidentRegisterCardTokenLabel = "JPKIAPICCTOKEN"

    /// The channel to the card; its `statistics` count the APDUs this client sent.
    public nonisolated let channel: CardChannel

    /// The application the card has selected in this session, as far as this client knows.
    private var selectedApplication: MyNumberCardApplication?
    /// PINs verified in this session and not yet used by a signature.
    private var verifiedPINs: Set<JPKIPIN> = []
    /// Keeps this client's operations from interleaving, in the order they were asked for.
    private let operations = AsyncLock()

    /// A client over a transport (a PC/SC connection, a simulated card, an NFC tag).
    ///
    /// Nothing is sent yet: use ``connect(transport:extendedLength:)`` to check the card is a My Number card, or
    /// ``checkIsMyNumberCard()`` later.
    ///
    /// - Parameters:
    ///   - transport: The link to the card.
    ///   - extendedLength: What is known about extended-length APDUs; `.unknown`
    ///     (the default) probes once, on the first certificate read, and remembers the answer.
    public init(transport: any CardTransport, extendedLength: CardChannel.ExtendedLengthSupport = .unknown) {
        var configuration = CardChannel.Configuration()
        configuration.extendedLength = extendedLength
        self.channel = CardChannel(transport: transport, configuration: configuration)
    }

    /// A client over an existing channel (for its configuration or tracer).
    public init(channel: CardChannel) {
        self.channel = channel
    }

    /// Makes a client and checks the card is a My Number card (three APDUs: SELECT AP, SELECT EF `0006`, READ
    /// BINARY); the JPKI application stays selected.
    ///
    /// - Throws: ``JPKIError/notAMyNumberCard(reason:)``, ``JPKIError/basicResidentRegisterCard``, or a link error.
    public static func connect(
        transport: any CardTransport, extendedLength: CardChannel.ExtendedLengthSupport = .unknown
    ) async throws(JPKIError) -> MyNumberCard {
        let card = MyNumberCard(transport: transport, extendedLength: extendedLength)
        try await card.checkIsMyNumberCard()
        return card
    }

    // MARK: - Recognition

    /// The JPKI application's token label (EF `0006`, trailing spaces removed).
    ///
    /// - Throws: ``JPKIError/notAMyNumberCard(reason:)`` when the card has no JPKI application.
    public func tokenLabel() async throws(JPKIError) -> String {
        try await perform { try await self.readTokenLabel() }
    }

    /// Checks that the card is a My Number card: its JPKI application answers and its token label is
    /// `JPKIAPICCTOKEN2`.
    ///
    /// - Throws: ``JPKIError/basicResidentRegisterCard`` for the older card (`JPKIAPICCTOKEN`),
    ///   ``JPKIError/notAMyNumberCard(reason:)`` for any other card.
    public func checkIsMyNumberCard() async throws(JPKIError) {
        try await perform {
            let label = try await self.readTokenLabel()
            switch label {
            case Self.myNumberCardTokenLabel: return
            case Self.basicResidentRegisterCardTokenLabel: throw JPKIError.basicResidentRegisterCard
            default:
                throw JPKIError.notAMyNumberCard(reason: "its JPKI token label is not \(Self.myNumberCardTokenLabel)")
            }
        }
    }

    private func readTokenLabel() async throws -> String {
        try await selectApplication(.jpki)
        let select = try await channel.transmit(try CommandAPDU.select(fileID: 0x0006))
        guard select.isSuccess else {
            throw JPKIError.notAMyNumberCard(reason: "its JPKI application has no token label (EF 0006)")
        }
        let bytes = try await channel.readTransparentFile(expectedLength: 32)
        let trimmed = bytes.reversed().drop { $0 == 0x20 || $0 == 0x00 }.reversed()
        guard trimmed.allSatisfy({ (0x20...0x7E).contains($0) }) else {
            throw JPKIError.notAMyNumberCard(reason: "its JPKI token label is not text")
        }
        return String(decoding: trimmed, as: UTF8.self)
    }

    /// Forgets what this client knows of the card's session (selected application, verified PINs), so the next
    /// operation selects again. Call it after another program may have used the card.
    public func forgetSession() {
        selectedApplication = nil
        verifiedPINs = []
    }

    // MARK: - Certificates

    /// Reads a certificate's DER bytes: SELECT EF and one READ BINARY where the card takes extended length
    /// (plus SELECT AP when another application is selected), else one READ BINARY per 256 bytes.
    ///
    /// The signing certificate is readable only after ``verifyPIN(_:for:allowLastTry:)`` with the signing PIN.
    ///
    /// - Throws: ``JPKIError/pinNotVerified(_:)`` for the signing certificate without its PIN,
    ///   ``JPKIError/malformedCertificate(_:reason:)``, or a link error.
    public func certificateDER(_ kind: JPKICertificateKind) async throws(JPKIError) -> [UInt8] {
        try await perform(pin: kind.requiredPIN) { try await self.readCertificateDER(kind) }
    }

    /// Reads and parses a certificate (see ``certificateDER(_:)``).
    public func certificate(_ kind: JPKICertificateKind) async throws(JPKIError) -> Certificate {
        try await perform(pin: kind.requiredPIN) { try Self.parse(try await self.readCertificateDER(kind), kind) }
    }

    private func readCertificateDER(_ kind: JPKICertificateKind) async throws -> [UInt8] {
        try await selectApplication(.jpki)
        try await selectFile(kind.fileID, operation: "SELECT of \(kind)")
        let bytes: [UInt8]
        do {
            bytes = try await channel.readTransparentFile()
        } catch ISO7816Error.unexpectedStatus(.securityStatusNotSatisfied, _) {
            throw JPKIError.pinNotVerified(kind.requiredPIN ?? .signing)
        }
        guard bytes.first == 0x30, let length = BERTLV.encodedLength(ofFirstObjectIn: bytes), length <= bytes.count
        else {
            throw JPKIError.malformedCertificate(kind, reason: "the file does not hold a whole DER SEQUENCE")
        }
        return Array(bytes.prefix(length))  // an EF may be longer than its certificate
    }

    static func parse(_ der: [UInt8], _ kind: JPKICertificateKind) throws -> Certificate {
        do {
            return try Certificate(untrustedDER: der)
        } catch {
            throw JPKIError.malformedCertificate(kind, reason: "\(error)")
        }
    }

    // MARK: - PINs

    /// Asks how many tries a PIN has left, without spending one (SELECT AP when needed, SELECT PIN EF, and the
    /// query `00 20 00 80`).
    public func pinStatus(_ pin: JPKIPIN) async throws(JPKIError) -> PINStatus {
        try await perform(pin: pin) {
            try await self.selectPIN(pin)
            return try await PINVerifier(channel: self.channel, policy: pin.policy).status()
        }
    }

    /// The status of every PIN, the JPKI application's first (so the application is switched once).
    public func pinStatuses() async throws(JPKIError) -> [JPKIPIN: PINStatus] {
        var statuses: [JPKIPIN: PINStatus] = [:]
        for pin in JPKIPIN.allCases { statuses[pin] = try await pinStatus(pin) }
        return statuses
    }

    /// Verifies a PIN through CardCredentials' `PINVerifier`: its form is checked before anything is sent, then
    /// the tries left are asked, and the last try is spent only when `allowLastTry` says so.
    ///
    /// - Throws: ``JPKIError/pinFormat(_:_:)`` (nothing sent), ``JPKIError/wrongPIN(_:triesLeft:)``,
    ///   ``JPKIError/pinBlocked(_:)``, ``JPKIError/lastTryRefused(_:)``, or a link error.
    public func verifyPIN(_ secret: SecretPIN, for pin: JPKIPIN, allowLastTry: Bool = false) async throws(JPKIError) {
        try await perform(pin: pin) { try await self.verifyInSession(secret, for: pin, allowLastTry: allowLastTry) }
    }

    func verifyInSession(_ secret: SecretPIN, for pin: JPKIPIN, allowLastTry: Bool) async throws {
        if secret.policy != pin.policy { try secret.check(against: pin.policy) }
        try await selectPIN(pin)
        verifiedPINs.remove(pin)
        try await PINVerifier(channel: channel, policy: pin.policy).verify(secret, allowLastTry: allowLastTry)
        verifiedPINs.insert(pin)
    }

    /// Changes a PIN (暗証番号の変更): VERIFY of the current PIN, then CHANGE REFERENCE DATA `00 24 01 80 Lc NEW`
    /// on the PIN's EF, as the card wants it (jpki/myna).
    ///
    /// Both PINs are checked against the PIN's policy before anything is sent, so a new PIN of the wrong form
    /// costs no APDU and no try. The current PIN is verified as ``verifyPIN(_:for:allowLastTry:)`` does it (the
    /// tries left are asked first, the last try spent only with `allowLastTry`). Five APDUs with the application
    /// selected: SELECT AP when needed, SELECT PIN EF, tries-left query, VERIFY, CHANGE REFERENCE DATA. The command
    /// bytes holding a PIN are wiped after sending; neither PIN is logged.
    ///
    /// ```swift
    /// let current = try SecretPIN(typedCurrent, policy: .jpkiAuthentication)
    /// let new = try SecretPIN(typedNew, policy: .jpkiAuthentication)   // wrong form: refused here
    /// try await card.changePIN(.authentication, from: current, to: new)
    /// ```
    ///
    /// - Parameters:
    ///   - pin: Which PIN: ``JPKIPIN/signing``, ``JPKIPIN/authentication`` or ``JPKIPIN/textInputSupport``.
    ///   - current: The PIN as it is now.
    ///   - new: The PIN it becomes.
    ///   - allowLastTry: Whether the current PIN may be sent when only one try is left.
    /// - Throws: ``JPKIError/pinFormat(_:_:)`` (nothing sent), ``JPKIError/wrongPIN(_:triesLeft:)`` for a wrong
    ///   current PIN, ``JPKIError/pinBlocked(_:)``, ``JPKIError/lastTryRefused(_:)``,
    ///   ``JPKIError/newPINRefused(_:)`` when the card refuses the new PIN's value, or a link error.
    public func changePIN(
        _ pin: JPKIPIN, from current: SecretPIN, to new: SecretPIN, allowLastTry: Bool = false
    ) async throws(JPKIError) {
        try await perform(pin: pin) {
            try new.check(against: pin.policy)
            try await self.verifyInSession(current, for: pin, allowLastTry: allowLastTry)
            var command = try new.withUnsafeBytes { bytes throws(ISO7816Error) in
                var newPIN = Array(bytes)
                defer { newPIN.withUnsafeMutableBufferPointer { $0.update(repeating: 0) } }
                return try CommandAPDU.changeReferenceData(reference: 0x80, newPIN: newPIN)
            }
            defer { command.wipeData() }
            let response = try await self.channel.transmit(command)
            switch response.statusWord {
            case .success:
                return
            case .securityStatusNotSatisfied:
                self.verifiedPINs.remove(pin)
                throw JPKIError.pinNotVerified(pin)
            case .authenticationMethodBlocked, .referenceDataNotUsable:
                self.verifiedPINs.remove(pin)
                throw JPKIError.pinBlocked(pin)
            case .incorrectData, .wrongLength:
                throw JPKIError.newPINRefused(pin)
            default:
                throw JPKIError.unexpectedStatus(response.statusWord, operation: "CHANGE REFERENCE DATA")
            }
        }
    }

    private func selectPIN(_ pin: JPKIPIN) async throws {
        try await selectApplication(pin.application)
        try await selectFile(pin.fileID, operation: "SELECT of \(pin)")
    }

    // MARK: - Signatures

    /// Signs a DER DigestInfo with one of the JPKI keys: `80 2A 00 80 Lc DigestInfo 00`; the card adds PKCS#1
    /// v1.5 padding.
    ///
    /// With `pin`, the PIN is verified first unless this session verified it since the last signature (at most
    /// six APDUs in all); without, the caller verified it with ``verifyPIN(_:for:allowLastTry:)``. The signature is
    /// not checked here: use ``signingKey(_:pin:allowLastTry:includeCACertificate:)``, whose `CardKey` checks it against the
    /// certificate.
    ///
    /// - Throws: ``JPKIError/pinNotVerified(_:)`` when the card wants the PIN, the PIN errors of
    ///   ``verifyPIN(_:for:allowLastTry:)``, or a link error.
    public func signDigestInfo(
        _ digestInfo: [UInt8], with key: JPKIKey, pin: SecretPIN? = nil, allowLastTry: Bool = false
    ) async throws(JPKIError) -> [UInt8] {
        try await perform(pin: key.pin) {
            if let pin, !self.verifiedPINs.contains(key.pin) {
                try await self.verifyInSession(pin, for: key.pin, allowLastTry: allowLastTry)
            }
            do {
                return try await self.computeSignature(digestInfo, key: key)
            } catch let error as JPKIError where error.code == .pinNotVerified && pin != nil {
                // The card forgot the verification (another program, or a card that wants it per signature).
                guard let pin else { throw error }
                try await self.verifyInSession(pin, for: key.pin, allowLastTry: allowLastTry)
                return try await self.computeSignature(digestInfo, key: key)
            }
        }
    }

    private func computeSignature(_ digestInfo: [UInt8], key: JPKIKey) async throws -> [UInt8] {
        try await selectApplication(.jpki)
        try await selectFile(key.fileID, operation: "SELECT of \(key)")
        // The key has user consent: each signature wants its own VERIFY on cards that enforce it.
        defer { verifiedPINs.remove(key.pin) }
        let command = try CommandAPDU.computeDigitalSignature(data: digestInfo, cla: 0x80, p1: 0x00, p2: 0x80)
        let response = try await channel.transmit(command)
        switch response.statusWord {
        case .success:
            guard !response.data.isEmpty else {
                throw JPKIError.malformedAnswer("COMPUTE DIGITAL SIGNATURE returned no signature")
            }
            return response.data
        case .securityStatusNotSatisfied:
            throw JPKIError.pinNotVerified(key.pin)
        case .authenticationMethodBlocked, .referenceDataNotUsable:
            throw JPKIError.pinBlocked(key.pin)
        default:
            throw JPKIError.unexpectedStatus(response.statusWord, operation: "COMPUTE DIGITAL SIGNATURE")
        }
    }

    /// A key on the card as a `CardKey` — a `Signer` for CMS and a swift-certificates `CustomPrivateKey` for
    /// CSRs — with its certificate read from the card, and its CA certificate when asked for.
    ///
    /// The PIN is verified first (a wrong PIN fails here, before any document is signed) and kept in the key's
    /// operation so each later signature can verify again where the card wants it. Each signature is checked
    /// against the certificate before it is returned.
    ///
    /// The CA certificate on the card (EF `0002` or `000B`) is J-LIS's own root, which a verifier holds already:
    /// a CMS signature needs only the signer's certificate. So it is read only with `includeCACertificate`, and
    /// the key's `chain` is empty otherwise. With a key's PIN and an extended-length card, the key costs five
    /// APDUs (SELECT AP when needed, SELECT PIN EF, tries-left query, VERIFY, SELECT EF + READ BINARY of the
    /// certificate) and two more with the CA certificate.
    ///
    /// - Parameters:
    ///   - key: ``JPKIKey/signing`` (default) or ``JPKIKey/authentication``.
    ///   - pin: The key's PIN.
    ///   - allowLastTry: Whether the last try may be spent.
    ///   - includeCACertificate: Whether to read the CA certificate into the key's `chain` (two more APDUs).
    public func signingKey(
        _ key: JPKIKey = .signing, pin: SecretPIN, allowLastTry: Bool = false, includeCACertificate: Bool = false
    ) async throws(JPKIError) -> CardKey {
        let (certificate, chain) = try await perform(pin: key.pin) {
            try await self.verifyInSession(pin, for: key.pin, allowLastTry: allowLastTry)
            let certificate = try Self.parse(try await self.readCertificateDER(key.certificate), key.certificate)
            guard includeCACertificate else { return (certificate, [Certificate]()) }
            let ca = try Self.parse(try await self.readCertificateDER(key.caCertificate), key.caCertificate)
            return (certificate, [ca])
        }
        do {
            return try CardKey(
                certificate: certificate, chain: chain,
                operation: JPKISigningOperation(card: self, key: key, pin: pin, allowLastTry: allowLastTry))
        } catch {
            throw JPKIError.from(error, pin: key.pin)
        }
    }

    /// The user-authentication key as a `CardKey` (for TLS client certificates, certificate login, CSRs): the
    /// same as ``signingKey(_:pin:allowLastTry:includeCACertificate:)`` with ``JPKIKey/authentication``.
    ///
    /// - Parameters:
    ///   - pin: The user-authentication PIN (4 digits).
    ///   - allowLastTry: Whether the last try may be spent.
    ///   - includeCACertificate: Whether to read the CA certificate into the key's `chain` (two more APDUs).
    public func authenticationKey(
        pin: SecretPIN, allowLastTry: Bool = false, includeCACertificate: Bool = false
    ) async throws(JPKIError) -> CardKey {
        try await signingKey(
            .authentication, pin: pin, allowLastTry: allowLastTry, includeCACertificate: includeCACertificate)
    }

    // MARK: - Selection

    func selectApplication(_ application: MyNumberCardApplication) async throws {
        guard selectedApplication != application else { return }
        selectedApplication = nil
        verifiedPINs = []
        let response = try await channel.transmit(try CommandAPDU.select(aid: application.aid))
        switch response.statusWord {
        case .success:
            selectedApplication = application
        case .fileNotFound, .functionNotSupported, .incorrectP1P2, .instructionNotSupported, .classNotSupported:
            throw JPKIError.notAMyNumberCard(reason: "\(application) is missing")
        default:
            throw JPKIError.unexpectedStatus(response.statusWord, operation: "SELECT of \(application)")
        }
    }

    func selectFile(_ fileID: UInt16, operation: String) async throws {
        let response = try await channel.transmit(try CommandAPDU.select(fileID: fileID))
        guard response.isSuccess else { throw JPKIError.unexpectedStatus(response.statusWord, operation: operation) }
    }

    func readFile(_ fileID: UInt16, operation: String) async throws -> [UInt8] {
        try await selectFile(fileID, operation: "SELECT of \(operation)")
        return try await channel.readTransparentFile()
    }

    // MARK: - One operation at a time

    /// Runs `body` alone (no other operation of this client interleaves), mapping lower layers' errors to
    /// ``JPKIError`` and forgetting the session when the link failed.
    func perform<T: Sendable>(pin: JPKIPIN? = nil, _ body: () async throws -> T) async throws(JPKIError) -> T {
        do {
            try await operations.lock()
        } catch {
            throw .cancelled
        }
        defer { operations.unlock() }
        do {
            return try await body()
        } catch {
            if error.cardTransportFailure != nil { forgetSession() }
            throw JPKIError.from(error, pin: pin)
        }
    }
}

/// The `CardSigningOperation` of a JPKI key: what a `CardKey` calls to have the card sign a DigestInfo.
///
/// It verifies the key's PIN where this session has not (or the card forgot it), then sends COMPUTE DIGITAL
/// SIGNATURE. ``MyNumberCard/signingKey(_:pin:allowLastTry:includeCACertificate:)`` makes one inside a `CardKey`.
public struct JPKISigningOperation: CardSigningOperation {
    /// The card.
    public let card: MyNumberCard
    /// The key that signs.
    public let key: JPKIKey
    let pin: SecretPIN?
    let allowLastTry: Bool

    /// An operation for `key` on `card`.
    ///
    /// - Parameters:
    ///   - card: The card client.
    ///   - key: The key.
    ///   - pin: The key's PIN, verified before a signature when needed; `nil` when the caller verifies it.
    ///   - allowLastTry: Whether the PIN's last try may be spent.
    public init(card: MyNumberCard, key: JPKIKey, pin: SecretPIN?, allowLastTry: Bool = false) {
        self.card = card
        self.key = key
        self.pin = pin
        self.allowLastTry = allowLastTry
    }

    /// Signs the DigestInfo with the key (see ``MyNumberCard/signDigestInfo(_:with:pin:allowLastTry:)``).
    public func signDigestInfo(_ digestInfo: [UInt8]) async throws -> [UInt8] {
        try await card.signDigestInfo(digestInfo, with: key, pin: pin, allowLastTry: allowLastTry)
    }
}
