public import ISO7816

/// What a reader needs to know about one certification authority's IC card (民間認証局の IC カード): its
/// application, files, PIN and signature command.
///
/// Private certification authorities issue e-bidding IC cards whose applications differ by CA. An ``ICCard``
/// reads any card that follows the common pattern — one ISO/IEC 7816-4 application holding the holder's
/// certificate, the CA certificate, one PIN and one RSA key that signs a DER `DigestInfo` — once it is given the
/// card's profile. Write one for another CA's card from the CA's specification (or a trace of its own
/// middleware), as the article <doc:ICCardProfiles> shows:
///
/// ```swift
/// let profile = ICCardProfile(
///     name: "Example CA's e-bidding IC card",
///     applicationID: [0xD3, 0x92, 0x00, 0x00, 0x99, 0x01],
///     holderCertificateFileID: 0x0001, caCertificateFileID: 0x0002,
///     pinReference: 0x81, pinPolicy: .privateCA(length: 4...8, maximumTries: 5))
/// let card = try await ICCard.connect(transport: connection, profile: profile)
/// ```
public struct ICCardProfile: Sendable, Hashable, CustomStringConvertible {
    /// What messages call the card (“the simulator's e-bidding IC card”), as a phrase that follows “is not”.
    public var name: String
    /// The application's DF name (AID), selected with `00 A4 04 0C Lc AID`; 1 to 16 bytes.
    public var applicationID: [UInt8]
    /// The EF of the holder's certificate (DER), selected with `00 A4 02 0C 02 FID` and read with READ BINARY.
    public var holderCertificateFileID: UInt16
    /// The EF of the issuing CA's certificate (DER), or `nil` when the card does not carry it.
    public var caCertificateFileID: UInt16?
    /// VERIFY's P2: the reference of the card's PIN (`81` for “specific reference 1”).
    public var pinReference: UInt8
    /// The form of the card's PIN (length, characters, retry limit), checked before anything is sent.
    public var pinPolicy: PINPolicy
    /// The status words by which the card says its PIN is blocked (閉塞): `69 83` and/or `69 84`.
    ///
    /// `63 C0`, `69 83` and `69 84` always mean blocked to a VERIFY; a word listed here also does when it answers
    /// the tries-left query, VERIFY or COMPUTE DIGITAL SIGNATURE.
    public var blockedPINStatusWords: Set<StatusWord>
    /// COMPUTE DIGITAL SIGNATURE's class byte (`00` on most cards, `80` on the My Number card).
    public var signatureCLA: UInt8
    /// COMPUTE DIGITAL SIGNATURE's P1 (`9E`: a digital signature is returned).
    public var signatureP1: UInt8
    /// COMPUTE DIGITAL SIGNATURE's P2 (`9A`: the data field holds the DigestInfo to sign).
    public var signatureP2: UInt8
    /// Whether the card takes extended-length APDUs: `.supported` reads a certificate with one READ BINARY;
    /// `.unknown` probes once and remembers (ISO7816's `CardChannel.ExtendedLengthSupport`).
    ///
    /// A card that refuses extended length (`67 00`) is read in 256-byte pieces whatever this says; the
    /// profile only saves that first refused APDU.
    public var extendedLength: CardChannel.ExtendedLengthSupport

    /// A profile.
    ///
    /// - Parameters:
    ///   - name: What messages call the card (a phrase that follows “is not”).
    ///   - applicationID: The application's DF name, 1 to 16 bytes.
    ///   - holderCertificateFileID: The holder's certificate EF.
    ///   - caCertificateFileID: The CA certificate EF, `nil` when the card has none.
    ///   - pinReference: VERIFY's P2.
    ///   - pinPolicy: The PIN's form.
    ///   - blockedPINStatusWords: How the card says its PIN is blocked; `69 83` and `69 84` by default.
    ///   - signatureCLA: COMPUTE DIGITAL SIGNATURE's class byte; `00` by default.
    ///   - signatureP1: Its P1; `9E` by default.
    ///   - signatureP2: Its P2; `9A` by default.
    ///   - extendedLength: Whether the card takes extended length; probed once by default.
    public init(
        name: String, applicationID: [UInt8], holderCertificateFileID: UInt16, caCertificateFileID: UInt16?,
        pinReference: UInt8, pinPolicy: PINPolicy,
        blockedPINStatusWords: Set<StatusWord> = [.authenticationMethodBlocked, .referenceDataNotUsable],
        signatureCLA: UInt8 = 0x00, signatureP1: UInt8 = 0x9E, signatureP2: UInt8 = 0x9A,
        extendedLength: CardChannel.ExtendedLengthSupport = .unknown
    ) {
        self.name = name
        self.applicationID = applicationID
        self.holderCertificateFileID = holderCertificateFileID
        self.caCertificateFileID = caCertificateFileID
        self.pinReference = pinReference
        self.pinPolicy = pinPolicy
        self.blockedPINStatusWords = blockedPINStatusWords
        self.signatureCLA = signatureCLA
        self.signatureP1 = signatureP1
        self.signatureP2 = signatureP2
        self.extendedLength = extendedLength
    }

    /// The card of this package's simulator (`PrivateCAICCard` in CardSimulator), as its profile article
    /// specifies: AID `F0 50 52 4F 43 49 44 01`, holder certificate `01 01`, CA certificate `01 02`, PIN
    /// reference `81` (4–16 printable ASCII characters, 10 tries), blocked `69 83`, signature `00 2A 9E 9A`,
    /// extended length.
    public static let procurementIdentitySimulator = ICCardProfile(
        name: "the simulator's private-CA e-bidding IC card",
        applicationID: [0xF0, 0x50, 0x52, 0x4F, 0x43, 0x49, 0x44, 0x01],
        holderCertificateFileID: 0x0101, caCertificateFileID: 0x0102, pinReference: 0x81,
        pinPolicy: .privateCA(length: 4...16, allowedCharacters: .printableASCIIWithSpace, maximumTries: 10),
        blockedPINStatusWords: [.authenticationMethodBlocked], extendedLength: .supported)

    /// The profile's ``name``.
    public var description: String { name }
}
