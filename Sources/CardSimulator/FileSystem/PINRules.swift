/// Which characters a card's PIN may hold and how long it may be, as the card checks them when a PIN is
/// changed (CHANGE REFERENCE DATA). VERIFY compares bytes and counts any mismatch as a wrong PIN, as real cards do.
public struct PINRules: Sendable, Hashable, Codable {
    /// The characters a PIN may be made of.
    public enum Characters: String, Sendable, Hashable, Codable {
        /// Half-width digits `0`–`9` (半角数字).
        case digits
        /// Half-width upper-case letters and digits (英字大文字と数字), as the JPKI signing PIN.
        case upperCaseLettersAndDigits
        /// Any printable ASCII character.
        case printableASCII

        func allows(_ byte: UInt8) -> Bool {
            switch self {
            case .digits: (0x30...0x39).contains(byte)
            case .upperCaseLettersAndDigits: (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte)
            case .printableASCII: (0x20...0x7E).contains(byte)
            }
        }
    }

    /// The allowed lengths in characters.
    public var lengths: ClosedRange<Int>
    /// The allowed characters.
    public var characters: Characters

    /// Makes a rule set.
    public init(lengths: ClosedRange<Int>, characters: Characters) {
        self.lengths = lengths
        self.characters = characters
    }

    /// The JPKI user-authentication PIN and the text-input-support PIN: four digits.
    public static let fourDigits = PINRules(lengths: 4...4, characters: .digits)
    /// The JPKI signing PIN: 6 to 16 upper-case letters and digits.
    public static let jpkiSigning = PINRules(lengths: 6...16, characters: .upperCaseLettersAndDigits)

    /// Whether a PIN (ASCII bytes) fits these rules.
    public func accepts(_ pin: [UInt8]) -> Bool {
        lengths.contains(pin.count) && pin.allSatisfy(characters.allows)
    }

    /// Checks a PIN given as text when a card is set up.
    func validate(_ pin: String) throws(CardSimulatorError) -> [UInt8] {
        let bytes = Array(pin.utf8)
        guard accepts(bytes) else {
            throw .pinDoesNotFitPolicy("\(lengths.lowerBound)–\(lengths.upperBound) characters, \(characters.rawValue)")
        }
        return bytes
    }
}

/// What a simulated card answers where the ISO 7816-4 world allows choices; real cards differ here and clients must
/// cope with each.
public struct CardBehavior: Sendable, Hashable, Codable {
    /// How a card answers the tries-left query (VERIFY without data) while the PIN is verified.
    public enum VerifiedPINQueryAnswer: String, Sendable, Hashable, Codable {
        /// `63 Cx` with the tries left, as OpenSC's JPKI driver needs.
        case triesLeft
        /// `90 00`, as ISO 7816-4 describes and some My Number cards do.
        case success
    }

    /// Whether the card takes extended-length APDUs; without, an extended APDU answers `67 00`.
    public var supportsExtendedLength: Bool
    /// The status word of a VERIFY (or PIN change, or signature) on a blocked PIN: `69 84` (My Number cards) or
    /// `69 83` (many others).
    public var blockedPINStatus: StatusWordValue
    /// The answer to the tries-left query while the PIN is verified.
    public var verifiedPINQuery: VerifiedPINQueryAnswer

    /// Makes a behaviour.
    public init(
        supportsExtendedLength: Bool = true, blockedPINStatus: StatusWordValue = .referenceDataNotUsable,
        verifiedPINQuery: VerifiedPINQueryAnswer = .triesLeft
    ) {
        self.supportsExtendedLength = supportsExtendedLength
        self.blockedPINStatus = blockedPINStatus
        self.verifiedPINQuery = verifiedPINQuery
    }

    /// The status words a card may use for a blocked PIN.
    public enum StatusWordValue: UInt16, Sendable, Hashable, Codable {
        /// `69 83`: authentication method blocked.
        case authenticationMethodBlocked = 0x6983
        /// `69 84`: reference data not usable (My Number cards).
        case referenceDataNotUsable = 0x6984
    }
}
