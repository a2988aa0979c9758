/// The validated fields of the input screens, each named with the manual's label.
///
/// Every type here checks its text when it is made and keeps a normal form: a value that exists is valid.

/// A 郵便番号 (postal code): seven half-width digits, kept as `NNN-NNNN`.
public struct PostalCode: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The code as `NNN-NNNN`.
    public let text: String

    /// Checks a postal code typed as `1000013` or `100-0013`.
    /// - Throws: ``RegistrationError/invalidField(field:reason:)``.
    public init(_ input: String) throws(RegistrationError) {
        let trimmed = input.trimmingSpaces
        try Field.rejectFullWidthDigits(trimmed, field: "郵便番号")
        var digits = ""
        for (index, character) in trimmed.enumerated() {
            if character.isASCIIDigit {
                digits.append(character)
            } else if character == "-" && index == 3 {
                continue
            } else {
                throw .invalidField(field: "郵便番号", reason: "use seven half-width digits, as 100-0013")
            }
        }
        guard digits.count == 7 else {
            throw .invalidField(field: "郵便番号", reason: "it has \(digits.count) digits, not 7")
        }
        text = "\(digits.prefix(3))-\(digits.suffix(4))"
    }

    public var description: String { text }
}

/// A 電話番号 or FAX番号: a Japanese number of 10 or 11 half-width digits starting with 0, with optional hyphens.
public struct PhoneNumber: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The number as typed, with its hyphens, trimmed.
    public let text: String
    /// The digits alone.
    public var digits: String { text.filter(\.isASCIIDigit) }

    /// Checks a telephone or fax number.
    /// - Parameters:
    ///   - input: The number, e.g. `03-1234-5678`.
    ///   - field: The label to name in an error: `電話番号` or `FAX番号`.
    /// - Throws: ``RegistrationError/invalidField(field:reason:)``.
    public init(_ input: String, field: String = "電話番号") throws(RegistrationError) {
        let trimmed = input.trimmingSpaces
        try Field.rejectFullWidthDigits(trimmed, field: field)
        guard trimmed.allSatisfy({ $0.isASCIIDigit || $0 == "-" }) else {
            throw .invalidField(field: field, reason: "use half-width digits and hyphens only")
        }
        guard !trimmed.hasPrefix("-"), !trimmed.hasSuffix("-"), !trimmed.contains("--") else {
            throw .invalidField(field: field, reason: "a hyphen may only stand between digits")
        }
        let digits = trimmed.filter(\.isASCIIDigit)
        guard digits.first == "0" else {
            throw .invalidField(field: field, reason: "a Japanese number starts with 0 (市外局番 or 0120, 090 …)")
        }
        guard (10...11).contains(digits.count) else {
            throw .invalidField(field: field, reason: "it has \(digits.count) digits; a number has 10 or 11")
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
        let parts = trimmed.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw .invalidField(field: field, reason: "it needs exactly one @") }
        let local = parts[0]
        let domain = parts[1].lowercased()
        guard (1...64).contains(local.count) else {
            throw .invalidField(field: field, reason: "the part before @ must have 1 to 64 characters")
        }
        let atext = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~")
        guard
            local.split(separator: ".", omittingEmptySubsequences: false).allSatisfy({ word in
                !word.isEmpty && word.allSatisfy { atext.contains($0) }
            })
        else {
            throw .invalidField(
                field: field,
                reason: "the part before @ has a character mail servers refuse, or dots next to "
                    + "each other or at an end")
        }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, domain.count <= 253,
            labels.allSatisfy({ label in
                (1...63).contains(label.count) && label.first != "-" && label.last != "-"
                    && label.allSatisfy { $0.isASCIIDigit || ("a"..."z").contains($0) || $0 == "-" }
            })
        else {
            throw .invalidField(field: field, reason: "the domain after @ is not a valid host name, as example.co.jp")
        }
        guard trimmed.count <= 254 else {
            throw .invalidField(field: field, reason: "it is longer than 254 characters")
        }
        text = "\(local)@\(domain)"
    }

    public var description: String { text }
}

/// Checks of free text fields (names, titles, addresses).
enum Field {
    /// Checks a required or optional free-text field: trimmed, no control characters, at most `maximum` characters.
    static func text(_ input: String, field: String, maximum: Int, required: Bool = true) throws(RegistrationError)
        -> String
    {
        let trimmed = input.trimmingSpaces
        if trimmed.isEmpty {
            if required { throw .invalidField(field: field, reason: "it is required (必須)") }
            return ""
        }
        guard !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .invalidField(field: field, reason: "it has a control character (a line break or a tab)")
        }
        guard trimmed.count <= maximum else {
            throw .invalidField(field: field, reason: "it has \(trimmed.count) characters; at most \(maximum)")
        }
        return trimmed
    }

    static func rejectFullWidthDigits(_ text: String, field: String) throws(RegistrationError) {
        if text.unicodeScalars.contains(where: { (0xFF10...0xFF19).contains($0.value) || $0.value == 0xFF0D }) {
            throw .invalidField(field: field, reason: "it has full-width (全角) characters; use half-width (半角)")
        }
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

extension String {
    /// The text without leading and trailing spaces (half-width and full-width).
    var trimmingSpaces: String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\u{3000}" || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\u{3000}" || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}
