/// The characters a PIN may contain: a set of ASCII characters (half-width, 半角).
public struct PINCharacterSet: Sendable, Hashable {
    // Bit n of the 128-bit map says whether ASCII code n is allowed.
    private var low: UInt64 = 0
    private var high: UInt64 = 0
    /// A short English name for messages (“digits”, “upper-case letters A–Z and digits”).
    public let name: String

    /// A set made of the ASCII characters in `characters`; any other character in it is ignored.
    ///
    /// - Parameters:
    ///   - characters: The allowed characters.
    ///   - name: How messages name the set.
    public init(characters: String, name: String) {
        self.name = name
        for byte in characters.utf8 where byte < 0x80 { insert(byte) }
    }

    private init(name: String, ranges: [ClosedRange<UInt8>]) {
        self.name = name
        for range in ranges { for byte in range { insert(byte) } }
    }

    private mutating func insert(_ byte: UInt8) {
        if byte < 64 { low |= 1 << UInt64(byte) } else { high |= 1 << UInt64(byte - 64) }
    }

    /// Whether the ASCII byte is in the set.
    public func contains(_ byte: UInt8) -> Bool {
        guard byte < 0x80 else { return false }
        return byte < 64 ? low & (1 << UInt64(byte)) != 0 : high & (1 << UInt64(byte - 64)) != 0
    }

    /// `0`–`9`.
    public static let digits = PINCharacterSet(name: "digits 0–9", ranges: [0x30...0x39])
    /// `A`–`Z` and `0`–`9` (英字大文字と数字), the JPKI signing PIN's alphabet.
    public static let uppercaseLettersAndDigits = PINCharacterSet(
        name: "upper-case letters A–Z and digits 0–9", ranges: [0x41...0x5A, 0x30...0x39])
    /// `A`–`Z`, `a`–`z` and `0`–`9`.
    public static let lettersAndDigits = PINCharacterSet(
        name: "letters A–Z, a–z and digits 0–9", ranges: [0x41...0x5A, 0x61...0x7A, 0x30...0x39])
    /// Every printable ASCII character from `!` to `~` (no space).
    public static let printableASCII = PINCharacterSet(
        name: "half-width letters, digits and symbols", ranges: [0x21...0x7E])
    /// Every printable ASCII character, space included (`0x20`–`0x7E`): the default for passwords.
    public static let printableASCIIWithSpace = PINCharacterSet(
        name: "half-width letters, digits, symbols and spaces", ranges: [0x20...0x7E])
}

/// The form a PIN or password must have before it may reach a card: its length and its characters.
///
/// A ``SecretPIN`` is checked against its policy when it is made, so a PIN of the wrong form is refused before
/// any byte is sent and never spends one of the card's tries.
///
/// ```swift
/// let pin = try SecretPIN("abc123", policy: .jpkiSigning)  // upper-cased to "ABC123"
/// ```
public struct PINPolicy: Sendable, Hashable {
    /// What the PIN is called in messages (“the JPKI signing PIN”).
    public var name: String
    /// How many characters the PIN has.
    public var length: ClosedRange<Int>
    /// The characters it may contain.
    public var allowedCharacters: PINCharacterSet
    /// Whether lower-case `a`–`z` typed by the user are turned into upper case before the check.
    public var uppercasesInput: Bool
    /// How many wrong tries the card allows before it blocks the PIN, when known (informational).
    public var maximumTries: Int?

    /// A policy.
    ///
    /// - Parameters:
    ///   - name: What messages call the PIN.
    ///   - length: The allowed number of characters (at least 1).
    ///   - allowedCharacters: The allowed characters.
    ///   - uppercasesInput: Whether to upper-case `a`–`z` before checking.
    ///   - maximumTries: The card's retry limit, when known.
    public init(
        name: String, length: ClosedRange<Int>, allowedCharacters: PINCharacterSet, uppercasesInput: Bool = false,
        maximumTries: Int? = nil
    ) {
        self.name = name
        self.length = max(1, length.lowerBound)...max(1, length.upperBound)
        self.allowedCharacters = allowedCharacters
        self.uppercasesInput = uppercasesInput
        self.maximumTries = maximumTries
    }

    /// The My Number card's user-authentication PIN (利用者証明用電子証明書のパスワード): 4 digits, 3 tries.
    public static let jpkiAuthentication = PINPolicy(
        name: "the user-authentication PIN", length: 4...4, allowedCharacters: .digits, maximumTries: 3)

    /// The My Number card's signing PIN (署名用電子証明書のパスワード): 6–16 upper-case letters and digits, 5 tries.
    ///
    /// Lower-case letters the user types are upper-cased; anything else (symbols, full-width characters) is
    /// refused.
    public static let jpkiSigning = PINPolicy(
        name: "the signing PIN", length: 6...16, allowedCharacters: .uppercaseLettersAndDigits,
        uppercasesInput: true, maximumTries: 5)

    /// The My Number card's text-input-support PIN (券面事項入力補助用暗証番号): 4 digits, 3 tries.
    public static let textInputSupport = PINPolicy(
        name: "the text-input-support PIN", length: 4...4, allowedCharacters: .digits, maximumTries: 3)

    /// The PIN of a private certification authority's IC card (民間認証局の IC カード); each CA sets its own rules.
    ///
    /// - Parameters:
    ///   - length: The allowed number of characters (for example `4...16`).
    ///   - allowedCharacters: The allowed characters; digits unless the CA says otherwise.
    ///   - maximumTries: The card's retry limit when the CA publishes it (AOSign: 10).
    public static func privateCA(
        length: ClosedRange<Int>, allowedCharacters: PINCharacterSet = .digits, maximumTries: Int? = nil
    ) -> PINPolicy {
        PINPolicy(
            name: "the IC card PIN", length: length, allowedCharacters: allowedCharacters, maximumTries: maximumTries)
    }

    /// A password (for a file-type certificate or a service): printable half-width characters and spaces by
    /// default. Characters outside ASCII (full-width, kana) are refused.
    ///
    /// - Parameters:
    ///   - length: The allowed number of characters.
    ///   - allowedCharacters: The allowed characters.
    public static func password(
        length: ClosedRange<Int> = 1...128, allowedCharacters: PINCharacterSet = .printableASCIIWithSpace
    ) -> PINPolicy {
        PINPolicy(name: "the password", length: length, allowedCharacters: allowedCharacters)
    }
}

/// Why a PIN does not have the form its policy asks for. Never carries the PIN's characters.
public enum PINFormatProblem: Sendable, Hashable, CustomStringConvertible {
    /// Nothing was entered.
    case empty(policy: String)
    /// Fewer characters than the policy's minimum.
    case tooShort(policy: String, minimum: Int)
    /// More characters than the policy's maximum.
    case tooLong(policy: String, maximum: Int)
    /// The character at `position` (1-based) is not allowed; `allowed` names the allowed set.
    case disallowedCharacter(policy: String, position: Int, allowed: String)

    /// A sentence naming the rule that was broken.
    public var description: String {
        switch self {
        case .empty(let policy):
            "\(policy) is empty"
        case .tooShort(let policy, let minimum):
            "\(policy) needs at least \(minimum) characters"
        case .tooLong(let policy, let maximum):
            "\(policy) has at most \(maximum) characters"
        case .disallowedCharacter(let policy, let position, let allowed):
            "character \(position) of \(policy) is not allowed: use only half-width (半角) \(allowed)"
        }
    }
}
