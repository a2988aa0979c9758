public import Foundation

/// The validity period of a certificate the test certification authority issues.
public struct CertificateValidity: Sendable, Hashable, Codable {
    /// The first moment the certificate is valid.
    public var notValidBefore: Date
    /// The last moment the certificate is valid.
    public var notValidAfter: Date

    /// Makes a validity period.
    public init(notValidBefore: Date, notValidAfter: Date) {
        self.notValidBefore = notValidBefore
        self.notValidAfter = notValidAfter
    }

    private static let day: TimeInterval = 86_400

    /// Valid from a day ago for `days` days from now.
    public static func valid(days: Int = 365, from now: Date = Date()) -> CertificateValidity {
        CertificateValidity(
            notValidBefore: now.addingTimeInterval(-day), notValidAfter: now.addingTimeInterval(Double(days) * day))
    }

    /// Expired `daysAgo` days ago, after a year of validity.
    public static func expired(daysAgo: Int = 1, from now: Date = Date()) -> CertificateValidity {
        let end = now.addingTimeInterval(-Double(daysAgo) * day)
        return CertificateValidity(notValidBefore: end.addingTimeInterval(-365 * day), notValidAfter: end)
    }

    /// Issued almost a year ago and expiring in `days` days (a card due for renewal).
    public static func expiring(inDays days: Int, from now: Date = Date()) -> CertificateValidity {
        let end = now.addingTimeInterval(Double(days) * day)
        return CertificateValidity(notValidBefore: end.addingTimeInterval(-395 * day), notValidAfter: end)
    }

    /// Not valid yet: begins in `days` days.
    public static func notYetValid(inDays days: Int, from now: Date = Date()) -> CertificateValidity {
        let start = now.addingTimeInterval(Double(days) * day)
        return CertificateValidity(notValidBefore: start, notValidAfter: start.addingTimeInterval(365 * day))
    }
}
