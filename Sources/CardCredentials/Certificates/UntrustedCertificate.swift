import SwiftASN1
public import X509

extension Certificate {
    /// Parses a DER certificate that came from a card, a file, a database or the network.
    ///
    /// As `init(derEncoded:)`, and also refuses a validity time with 61 seconds. swift-asn1 accepts UTCTime and
    /// GeneralizedTime seconds up to 61 (leap seconds), but swift-certificates' conversion of those times to dates
    /// asserts that the seconds are below 61: such a certificate parses, then traps in a debug build at its first
    /// `notValidBefore` or `notValidAfter` (a confirmation screen's summary, a validator).
    ///
    /// - Throws: An `ASN1Error`, as `init(derEncoded:)` does.
    public init(untrustedDER bytes: [UInt8]) throws {
        try self.init(derEncoded: bytes)
        try Self.checkValidityTimes(tbsCertificateBytes)
    }

    /// Checks the seconds of the two times in the Validity of a DER TBSCertificate.
    static func checkValidityTimes(_ tbsCertificate: ArraySlice<UInt8>) throws {
        let tbs = try DER.parse(tbsCertificate)
        guard case .constructed(let children) = tbs.content else {
            throw ASN1Error.invalidASN1Object(reason: "the TBSCertificate is not a SEQUENCE")
        }
        var fields = Array(children)
        // version [0] EXPLICIT is optional; then serialNumber, signature, issuer, validity.
        if fields.first?.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific) {
            fields.removeFirst()
        }
        guard fields.count > 3, case .constructed(let times) = fields[3].content else {
            throw ASN1Error.invalidASN1Object(reason: "the certificate has no Validity")
        }
        for time in times {
            let seconds =
                switch time.identifier {
                case .utcTime: try UTCTime(derEncoded: time).seconds
                case .generalizedTime: try GeneralizedTime(derEncoded: time).seconds
                default:
                    throw ASN1Error.invalidASN1Object(reason: "a validity time is neither UTCTime nor GeneralizedTime")
                }
            guard seconds < 61 else {
                throw ASN1Error.invalidASN1Object(reason: "a validity time has \(seconds) seconds")
            }
        }
    }
}
