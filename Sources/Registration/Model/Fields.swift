/// The validated fields of the input screens, each named with the manual's label.
///
/// Every type here checks its text when it is made and keeps a normal form: a value that exists is valid. The
/// checks look at Unicode scalars, never at `Character`s (a digit followed by a combining mark is one `Character`
/// that starts with a digit, and is not a digit). What each field takes:
///
/// - 郵便番号, 電話番号, FAX番号, 法人番号: half-width (半角) digits, and hyphens where the field has them; full-width
///   (全角) digits are refused with a sentence that says so.
/// - メールアドレス: half-width ASCII, as mail servers take it.
/// - Free text (商号又は名称, 所在地, 代表者役職名, 代表者氏名, 役職名, 氏名, and the power of attorney's fields): any
///   printable text, including kanji, kana, full-width letters and digits (ＡＢＣ商事) and half-width katakana
///   (ｶﾌﾞｼｷｶﾞｲｼｬ), which registered business names contain; kept in Unicode normalization form C. Refused: control
///   characters, line and paragraph separators, invisible format characters (category Cf: right-to-left
///   overrides, zero-width spaces, byte-order marks), spaces other than the half-width and the full-width space,
///   private-use characters (外字) and unassigned code points, U+FFFD (text that was not valid UTF-8), and a
///   combining mark that stands on no character (at the start, or after a space).

/// A 郵便番号 (postal code): seven half-width digits, kept as `NNN-NNNN`.
public struct PostalCode: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The code as `NNN-NNNN`.
    public let text: String

    /// Checks a postal code typed as `1000013` or `100-0013`.
    /// - Throws: ``RegistrationError/invalidField(field:reason:)``.
    public init(_ input: String) throws(RegistrationError) {
        // A code in its kept form (every stored one, read back) is kept as it is: the checks below would make the
        // same text of it.
        if Self.isKeptForm(input) {
            text = input
            return
        }
        let trimmed = input.trimmingSpaces
        try Field.rejectFullWidthDigits(trimmed, field: "郵便番号")
        // The digits as ASCII bytes (every scalar kept is an ASCII digit, one byte).
        var digits: [UInt8] = []
        digits.reserveCapacity(7)
        for (index, scalar) in trimmed.unicodeScalars.enumerated() {
            if scalar.isASCIIDigit {
                digits.append(UInt8(scalar.value))
            } else if scalar == "-" && index == 3 {
                continue
            } else {
                throw .invalidField(field: "郵便番号", reason: "use seven half-width digits, as 100-0013")
            }
        }
        guard digits.count == 7 else {
            throw .invalidField(field: "郵便番号", reason: "it has \(digits.count) digits, not 7")
        }
        text = String(decoding: digits[..<3] + [UInt8(ascii: "-")] + digits[3...], as: UTF8.self)
    }

    /// Whether `input` is `NNN-NNNN` in half-width digits.
    private static func isKeptForm(_ input: String) -> Bool {
        input.utf8.count == 8
            && input.utf8.enumerated().allSatisfy { index, byte in
                index == 3 ? byte == UInt8(ascii: "-") : (48...57).contains(byte)
            }
    }

    public var description: String { text }
}

/// A 電話番号 or FAX番号: a Japanese number of 10 or 11 half-width digits starting with 0, with optional hyphens.
public struct PhoneNumber: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The number as typed, with its hyphens, trimmed.
    public let text: String
    /// The digits alone.
    public var digits: String { String(String.UnicodeScalarView(text.unicodeScalars.filter(\.isASCIIDigit))) }

    /// Checks a telephone or fax number.
    /// - Parameters:
    ///   - input: The number, e.g. `03-1234-5678`.
    ///   - field: The label to name in an error: `電話番号` or `FAX番号`.
    /// - Throws: ``RegistrationError/invalidField(field:reason:)``.
    public init(_ input: String, field: String = "電話番号") throws(RegistrationError) {
        let trimmed = input.trimmingSpaces
        try Field.rejectFullWidthDigits(trimmed, field: field)
        guard trimmed.unicodeScalars.allSatisfy({ $0.isASCIIDigit || $0 == "-" }) else {
            throw .invalidField(field: field, reason: "use half-width digits and hyphens only")
        }
        // Every scalar is now an ASCII digit or hyphen, one UTF-8 byte each: the rest is checked on the bytes.
        let hyphen = UInt8(ascii: "-")
        let bytes = trimmed.utf8
        var previous: UInt8 = 0
        var digits = 0
        var first: UInt8?
        for byte in bytes {
            if byte == hyphen {
                if previous == hyphen {
                    throw .invalidField(field: field, reason: "a hyphen may only stand between digits")
                }
            } else {
                if first == nil { first = byte }
                digits += 1
            }
            previous = byte
        }
        guard bytes.first != hyphen, bytes.last != hyphen else {
            throw .invalidField(field: field, reason: "a hyphen may only stand between digits")
        }
        guard first == UInt8(ascii: "0") else {
            throw .invalidField(field: field, reason: "a Japanese number starts with 0 (市外局番 or 0120, 090 …)")
        }
        guard (10...11).contains(digits) else {
            throw .invalidField(field: field, reason: "it has \(digits) digits; a number has 10 or 11")
        }
        text = trimmed
    }

    public var description: String { text }
}

/// A メールアドレス: an ASCII address `local@domain` (RFC 5321 limits), as mail servers take it.
public struct MailAddress: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The address, trimmed, with the domain in lower case.
    public let text: String
    /// The part before `@`.
    public var localPart: Substring { text[..<(text.lastIndex(of: "@") ?? text.endIndex)] }
    /// The part after `@`.
    public var domain: Substring {
        guard let at = text.lastIndex(of: "@") else { return "" }
        return text[text.index(after: at)...]
    }

    /// Checks a mail address.
    /// - Throws: ``RegistrationError/invalidField(field:reason:)`` naming メールアドレス.
    public init(_ input: String) throws(RegistrationError) {
        let field = "メールアドレス"
        let trimmed = input.trimmingSpaces
        guard trimmed.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7F }) else {
            throw .invalidField(field: field, reason: "use half-width characters only, with no spaces")
        }
        // Every scalar is printable ASCII (checked above): each Character is one scalar and one UTF-8 byte, so the
        // rest is checked on the bytes (the words against RFC 5322's atext), without splitting Characters.
        let bytes = Array(trimmed.utf8)
        let at = UInt8(ascii: "@")
        guard let separator = bytes.firstIndex(of: at), bytes.lastIndex(of: at) == separator else {
            throw .invalidField(field: field, reason: "it needs exactly one @")
        }
        let local = bytes[..<separator]
        let domain = bytes[(separator + 1)...]
        guard (1...64).contains(local.count) else {
            throw .invalidField(field: field, reason: "the part before @ must have 1 to 64 characters")
        }
        let dot = UInt8(ascii: ".")
        // Words separated by single dots, none empty: no dot at an end or next to another.
        let badLocalPart =
            "the part before @ has a character mail servers refuse, or dots next to each other or at an end"
        var previous = dot
        for byte in local {
            guard byte == dot ? previous != dot : Self.isAtext(byte) else {
                throw .invalidField(field: field, reason: badLocalPart)
            }
            previous = byte
        }
        guard previous != dot else { throw .invalidField(field: field, reason: badLocalPart) }
        // Labels of 1 to 63 letters, digits and hyphens, not at a label's ends; at least two labels. Upper-case
        // letters are taken and kept in lower case.
        let hyphen = UInt8(ascii: "-")
        var labels = 1
        var labelLength = 0
        var hasUpperCase = false
        var validHost = domain.count <= 253
        previous = dot
        for byte in domain where validHost {
            if byte == dot {
                validHost = labelLength >= 1 && previous != hyphen
                labels += 1
                labelLength = 0
            } else {
                let upper = (0x41...0x5A).contains(byte)
                hasUpperCase = hasUpperCase || upper
                validHost =
                    (upper || (0x30...0x39).contains(byte) || (0x61...0x7A).contains(byte) || byte == hyphen)
                    && !(byte == hyphen && previous == dot)
                labelLength += 1
                validHost = validHost && labelLength <= 63
            }
            previous = byte
        }
        guard validHost, labels >= 2, labelLength >= 1, previous != hyphen else {
            throw .invalidField(field: field, reason: "the domain after @ is not a valid host name, as example.co.jp")
        }
        guard bytes.count <= 254 else {
            throw .invalidField(field: field, reason: "it is longer than 254 characters")
        }
        // The domain in lower case (ASCII letters only; nothing else changes case in ASCII).
        if hasUpperCase {
            let lowered = domain.map { (0x41...0x5A).contains($0) ? $0 + 0x20 : $0 }
            text = String(decoding: local + [at] + lowered, as: UTF8.self)
        } else {
            text = trimmed
        }
    }

    /// Whether an ASCII byte is one of RFC 5322's atext: an ASCII letter or digit, or one of
    /// ``!#$%&'*+-/=?^_`{|}~``.
    private static func isAtext(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default: "!#$%&'*+-/=?^_`{|}~".utf8.contains(byte)
        }
    }

    public var description: String { text }
}

/// Checks of free text fields (names, titles, addresses).
enum Field {
    /// Checks a required or optional free-text field: trimmed, printable (see the rules at the top of this file),
    /// in normalization form C, at most `maximum` characters.
    static func text(_ input: String, field: String, maximum: Int, required: Bool = true) throws(RegistrationError)
        -> String
    {
        let trimmed = input.trimmingSpaces
        if trimmed.isEmpty {
            if required { throw .invalidField(field: field, reason: "it is required (必須)") }
            return ""
        }
        // Text of the plainly printable scalars alone is in normalization form C as well.
        let plain = try requirePrintable(trimmed, field: field)
        let normalized =
            plain || isPlainlyNFC(trimmed) ? trimmed : trimmed.precomposedStringWithCanonicalMapping
        // A character has at least one UTF-8 byte: text of at most `maximum` bytes needs no counting.
        guard normalized.utf8.count <= maximum || normalized.count <= maximum else {
            throw .invalidField(field: field, reason: "it has \(normalized.count) characters; at most \(maximum)")
        }
        return normalized
    }

    /// Whether `text` is in normalization form C by a quick check that needs no normalizing: every scalar is one
    /// whose NFC quick check is Yes and whose canonical combining class is 0 (printable ASCII, Latin-1, the CJK
    /// symbols, kana without the combining sound marks U+3099 and U+309A, the unified ideographs and the half-width
    /// and full-width forms: what Japanese names and addresses are made of). Text with any other scalar is
    /// normalized as before.
    static func isPlainlyNFC(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { scalar in
            switch scalar.value {
            case 0x20...0x7E, 0xA0...0xFF, 0x3000...0x3029, 0x3030...0x3098, 0x309B...0x30FF, 0x3400...0x4DBF,
                0x4E00...0x9FFF, 0xFF01...0xFFEE:
                true
            default: false
            }
        }
    }

    /// Refuses what a person cannot see or what shows differently from what was typed; whether every scalar was
    /// one of ``isPlainlyPrintable(_:)``'s (which are all in normalization form C).
    @discardableResult
    static func requirePrintable(_ text: String, field: String) throws(RegistrationError) -> Bool {
        var previous: Unicode.Scalar?
        var plain = true
        for scalar in text.unicodeScalars {
            defer { previous = scalar }
            // Printable ASCII, and the kana, ideographs and full-width forms that Japanese text is made of, pass
            // every rule below; skip the lookup of their properties.
            if Self.isPlainlyPrintable(scalar) { continue }
            plain = false
            var code: String { "U+" + String(scalar.value, radix: 16, uppercase: true).leftPadded(to: 4) }
            if scalar == "\u{FFFD}" {
                throw .invalidField(
                    field: field,
                    reason: "it has a character that could not be read (U+FFFD): the text was not valid UTF-8 "
                        + "(another encoding such as Shift_JIS?); type it again")
            }
            switch scalar.properties.generalCategory {
            case .control:
                throw .invalidField(field: field, reason: "it has a control character (a line break or a tab)")
            case .lineSeparator, .paragraphSeparator:
                throw .invalidField(field: field, reason: "it has a line or paragraph separator (\(code))")
            case .format:
                throw .invalidField(
                    field: field,
                    reason: "it has an invisible formatting character (\(code): a direction override, a zero-width "
                        + "space or a byte-order mark), which would show the text otherwise than it reads")
            case .spaceSeparator where scalar != " " && scalar != "\u{3000}":
                throw .invalidField(
                    field: field,
                    reason: "it has a space (\(code)) other than the half-width or the full-width (全角) space")
            case .privateUse:
                throw .invalidField(
                    field: field,
                    reason: "it has a private-use character (外字, \(code)) that other computers show differently")
            case .unassigned, .surrogate:
                throw .invalidField(field: field, reason: "it has a code point that is not a character (\(code))")
            case .nonspacingMark, .spacingMark, .enclosingMark:
                if previous == nil || previous == " " || previous == "\u{3000}" {
                    throw .invalidField(
                        field: field, reason: "it has a combining mark (\(code)) that stands on no character")
                }
            default:
                break
            }
        }
        return plain
    }

    /// The scalars that ``requirePrintable(_:field:)`` passes without looking at their properties: printable ASCII
    /// and the space; the ideographic space and CJK symbols up to U+3029 (U+302A–U+302F are combining marks); the
    /// kana (U+3041–U+3096, U+309B–U+30FF: not the unassigned U+3040 and U+3097–U+3098, nor the combining sound
    /// marks U+3099–U+309A); the unified ideographs U+4E00–U+9FFF; the full-width forms and half-width katakana
    /// U+FF01–U+FF9F. Each of these is assigned and is a letter, a number, a symbol, punctuation or a space that
    /// is allowed, so no rule refuses it (a test checks every scalar against its properties).
    static func isPlainlyPrintable(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x20...0x7E, 0x3000...0x3029, 0x3041...0x3096, 0x309B...0x30FF, 0x4E00...0x9FFF, 0xFF01...0xFF9F: true
        default: false
        }
    }

    static func rejectFullWidthDigits(_ text: String, field: String) throws(RegistrationError) {
        if text.unicodeScalars.contains(where: { (0xFF10...0xFF19).contains($0.value) || $0.value == 0xFF0D }) {
            throw .invalidField(field: field, reason: "it has full-width (全角) characters; use half-width (半角)")
        }
    }
}

extension Character {
    /// One of the ten ASCII digits, alone: a digit with a combining mark after it is not one.
    var isASCIIDigit: Bool { asciiValue.map { (48...57).contains($0) } ?? false }
}

extension Unicode.Scalar {
    /// One of the ten ASCII digits.
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

extension String {
    /// The text with `0`s before it up to `width` characters.
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: Swift.max(0, width - count)) + self
    }
}

extension String {
    /// The text without leading and trailing spaces (half-width and full-width).
    var trimmingSpaces: String {
        // A Character equal to a space is that one scalar: text that neither starts nor ends with one of the three
        // scalars has nothing to trim.
        func isSpace(_ scalar: Unicode.Scalar?) -> Bool { scalar == " " || scalar == "\u{3000}" || scalar == "\t" }
        if !isSpace(unicodeScalars.first), !isSpace(unicodeScalars.last) { return self }
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\u{3000}" || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\u{3000}" || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}
