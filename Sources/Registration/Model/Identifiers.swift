/// An identifier of a stored record: a short text, made at random when the record is created.
public protocol RecordIdentifier: RawRepresentable, Sendable, Hashable, Codable, Comparable, CustomStringConvertible
where RawValue == String {
    /// The one-letter prefix that tells which kind of record an identifier names (B, U, C, P, M, X).
    static var prefix: String { get }
    /// Makes an identifier from its text.
    init(rawValue: String)
}

extension RecordIdentifier {
    /// A new identifier: the prefix, a hyphen and 10 random characters of Crockford's Base32 (e.g. `U-7K3Q9D2M1X`).
    public static func random() -> Self {
        // Ten characters of 32 (5 bits each) from one 64-bit draw: one system call, not ten.
        let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)
        var generator = SystemRandomNumberGenerator()
        let bits: UInt64 = generator.next()
        let body = String(decoding: (0..<10).map { alphabet[Int(bits >> (5 * UInt64($0)) & 31)] }, as: UTF8.self)
        return Self(rawValue: "\(prefix)-\(body)")
    }

    public var description: String { rawValue }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    public init(from decoder: any Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// Identifies a registered business (事業者).
public struct BusinessID: RecordIdentifier {
    public static let prefix = "B"
    public let rawValue: String
    /// Makes an identifier from its text.
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// Identifies a user (利用者) of a business: its representative or one of its agents.
public struct UserID: RecordIdentifier {
    public static let prefix = "U"
    public let rawValue: String
    /// Makes an identifier from its text.
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// Identifies one binding of a certificate to a user.
public struct BindingID: RecordIdentifier {
    public static let prefix = "C"
    public let rawValue: String
    /// Makes an identifier from its text.
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// Identifies an electronic power of attorney (電子委任状) on record.
public struct PowerOfAttorneyID: RecordIdentifier {
    public static let prefix = "P"
    public let rawValue: String
    /// Makes an identifier from its text.
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// Identifies one committed change; the outbox derives its idempotency keys from it.
public struct ChangeID: RecordIdentifier {
    public static let prefix = "X"
    public let rawValue: String
    /// Makes an identifier from its text.
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// Identifies one message of the outbox.
public struct OutboxMessageID: RecordIdentifier {
    public static let prefix = "M"
    public let rawValue: String
    /// Makes an identifier from its text.
    public init(rawValue: String) { self.rawValue = rawValue }
}
