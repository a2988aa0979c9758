/// What can go wrong in the registration domain; each description says what to do next.
public enum RegistrationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A 法人番号 (corporate number) that is not 13 digits.
    case corporateNumberFormat(String)
    /// A 法人番号 whose check digit does not match its other 12 digits.
    case corporateNumberCheckDigit
    /// The role may not make this kind of change (the rights matrix of the 調達ポータル manual).
    case notPermitted(role: Role, change: ChangeKind)
    /// An agent may change only its own user information and its own certificates.
    case notOwnRecord(change: ChangeKind)

    public var description: String {
        switch self {
        case .corporateNumberFormat(let reason):
            return "The corporate number (法人番号) is not valid: \(reason). Enter its 13 half-width digits."
        case .corporateNumberCheckDigit:
            return "The corporate number (法人番号) has a wrong check digit; check it against the 法人番号公表サイト "
                + "record of the business and enter it again."
        case .notPermitted(let role, let change):
            return "A \(role) may not change \(change); ask the representative (代表者) of the business to do it."
        case .notOwnRecord(let change):
            return "An agent (代理人) may change \(change) only on its own record; sign in as that user instead."
        }
    }
}
