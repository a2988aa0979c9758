import CardCredentials
public import Foundation

/// Why the online revocation request is not available and the paper procedure (書面による失効申込) applies.
public enum PaperProcedureReason: Sendable, Hashable, CustomStringConvertible {
    /// The card's validity ends in 30 days or less (on `notAfter`): online requests end 30 days before.
    case validityEndsWithin30Days(notAfter: Date)
    /// The card expired on `notAfter` (有効期限切れ).
    case expired(notAfter: Date)
    /// The card's PIN is blocked (閉塞), so the card cannot prove it is in the holder's hands.
    case pinBlocked

    /// What the reason says, in a clause.
    public var description: String {
        switch self {
        case .validityEndsWithin30Days(let notAfter):
            "the card's validity ends on \(CertificateSummary.japanDate(notAfter)), 30 days or less from now "
                + "(online requests end 30 days before the end of validity)"
        case .expired(let notAfter):
            "the card expired on \(CertificateSummary.japanDate(notAfter)) (有効期限切れ)"
        case .pinBlocked:
            "the card's PIN is blocked (閉塞), so the card cannot show it is in your hands"
        }
    }
}
