/// A 法人番号 (corporate number): 13 digits, a check digit followed by a 12-digit base.
///
/// The check digit is 9 − ((Σ Pn × Qn) mod 9), where Pn is the n-th digit of the base counted from the right and
/// Qn is 1 for odd n and 2 for even n (the 省令 on 法人番号).
///
/// ```swift
/// let number = try CorporateNumber("4011001098993")
/// number.checkDigit   // 4
/// ```
public struct CorporateNumber: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The 13 digits.
    public let digits: String
    /// The check digit (the first of the 13).
    public let checkDigit: Int

    /// Checks and keeps a corporate number.
    ///
    /// - Parameter text: 13 half-width digits; spaces and hyphens between them are allowed and dropped.
    /// - Throws: ``RegistrationError/corporateNumberFormat(_:)`` or ``RegistrationError/corporateNumberCheckDigit``.
    public init(_ text: String) throws(RegistrationError) {
        var values: [Int] = []
        for scalar in text.unicodeScalars {
            switch scalar {
            case "0"..."9": values.append(Int(scalar.value) - 48)
            case " ", "-": continue
            case "０"..."９": throw .corporateNumberFormat("it has full-width (全角) digits")
            default: throw .corporateNumberFormat("it has a character that is not a digit")
            }
        }
        guard values.count == 13 else { throw .corporateNumberFormat("it has \(values.count) digits, not 13") }
        guard values[0] == Self.checkDigit(base: Array(values[1...])) else { throw .corporateNumberCheckDigit }
        digits = String(decoding: values.map { UInt8(48 + $0) }, as: UTF8.self)
        checkDigit = values[0]
    }

    /// The check digit for a 12-digit base, most significant digit first.
    static func checkDigit(base: [Int]) -> Int {
        var sum = 0
        for (index, digit) in base.reversed().enumerated() {
            let n = index + 1
            sum += digit * (n % 2 == 1 ? 1 : 2)
        }
        return 9 - sum % 9
    }

    public var description: String { digits }
}
