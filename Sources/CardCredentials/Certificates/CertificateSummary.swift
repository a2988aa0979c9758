public import Foundation
import SwiftASN1
public import X509

/// What confirmation screens show of a certificate (電子証明書更新確認, seeds 000 and 001 of the manuals),
/// read from an X.509 certificate with every Japanese string decoded.
///
/// | property | label | read from |
/// |---|---|---|
/// | ``companyName`` | ICカード業者名称 | subject `O` (organizationName) |
/// | ``holderName`` | ICカード取得者氏名 | subject `CN` (commonName) |
/// | ``holderAddress`` | ICカード取得者所在地 | subject `ST`, `L`, `street`, in certificate order |
/// | ``serialNumber`` | 証明書シリアル番号 | serial, upper-case hex as CAs print it |
/// | ``issuer`` | 証明書発行者 | issuer name, `C=…, O=…, CN=…` |
/// | ``notValidAfter`` | 証明書有効期限 | validity `notAfter` (shown as `yyyy/MM/dd`, Japan time) |
///
/// ```swift
/// let summary = CertificateSummary(certificate)
/// for field in summary.labeledFields { print("\(field.label)\t: \(field.value)") }
/// ```
public struct CertificateSummary: Sendable, Hashable {
    /// One line of a confirmation screen.
    public enum Field: String, Sendable, Hashable, CaseIterable {
        /// ICカード業者名称: the company name.
        case companyName
        /// ICカード取得者氏名: the holder's name.
        case holderName
        /// ICカード取得者所在地: the holder's address.
        case holderAddress
        /// 証明書シリアル番号: the serial number.
        case serialNumber
        /// 証明書発行者: the issuer.
        case issuer
        /// 証明書有効期限: the expiry date.
        case expiry

        /// The label the manuals print (seed 000's wording; seed 001 says ICカード商号又は名称 and
        /// ICカード取得者業者所在地 for the first and third).
        public var japaneseLabel: String {
            switch self {
            case .companyName: "ICカード業者名称"
            case .holderName: "ICカード取得者氏名"
            case .holderAddress: "ICカード取得者所在地"
            case .serialNumber: "証明書シリアル番号"
            case .issuer: "証明書発行者"
            case .expiry: "証明書有効期限"
            }
        }
    }

    /// A field with its label and printable value.
    public struct LabeledField: Sendable, Hashable {
        /// Which field.
        public var field: Field
        /// The Japanese label.
        public var label: String
        /// The value as shown (empty when the certificate lacks it).
        public var value: String
    }

    /// The company name: subject `O` (several `O`s are joined with a space).
    public var companyName: String?
    /// The holder's name: subject `CN`.
    public var holderName: String?
    /// The holder's address: subject `ST`, `L` and `street` values in certificate order, joined without a
    /// separator when any is Japanese text (`東京都` + `千代田区` → `東京都千代田区`) and with a space when all
    /// are ASCII (a romaji address).
    public var holderAddress: String?
    /// The serial number in upper-case hex without separators, leading zero bytes dropped (`06D18006`), as
    /// `openssl x509 -serial` and CA notices print it.
    public var serialNumber: String
    /// The issuer's name, `C=JP, O=…, CN=…`, strings decoded.
    public var issuer: String
    /// The subject's name, `C=JP, O=…, CN=…`, strings decoded.
    public var subject: String
    /// Start of validity.
    public var notValidBefore: Date
    /// End of validity (証明書有効期限).
    public var notValidAfter: Date
    /// The key usage extension, when present.
    public var keyUsage: KeyUsage?
    /// The person, when this is a JPKI signing certificate.
    public var jpkiPersonalAttributes: JPKIPersonalAttributes?

    /// Reads the summary of `certificate`.
    public init(_ certificate: Certificate) {
        let subject = certificate.subject
        let organizations = DirectoryString.values(of: .RDNAttributeType.organizationName, in: subject)
        companyName = organizations.isEmpty ? nil : organizations.joined(separator: " ")
        holderName = DirectoryString.values(of: .RDNAttributeType.commonName, in: subject).first
        let addressTypes: [ASN1ObjectIdentifier] = [
            .RDNAttributeType.stateOrProvinceName, .RDNAttributeType.localityName,
            .RDNAttributeType.streetAddress,
        ]
        let parts = subject.flatMap { rdn in
            rdn.filter { addressTypes.contains($0.type) }.compactMap { DirectoryString.text(of: $0.value) }
        }
        if parts.isEmpty {
            holderAddress = nil
        } else {
            let ascii = parts.allSatisfy { $0.utf8.allSatisfy { $0 < 0x80 } }
            holderAddress = parts.joined(separator: ascii ? " " : "")
        }
        serialNumber = Self.hex(certificate.serialNumber.bytes)
        issuer = DirectoryString.display(certificate.issuer)
        self.subject = DirectoryString.display(subject)
        notValidBefore = certificate.notValidBefore
        notValidAfter = certificate.notValidAfter
        keyUsage = try? certificate.extensions.keyUsage
        jpkiPersonalAttributes = JPKIPersonalAttributes(certificate: certificate)
    }

    /// The key usage bits that are set, by their RFC 5280 names (`digitalSignature`, `nonRepudiation`, …).
    public var keyUsageNames: [String] {
        guard let usage = keyUsage else { return [] }
        let bits: [(Bool, String)] = [
            (usage.digitalSignature, "digitalSignature"), (usage.nonRepudiation, "nonRepudiation"),
            (usage.keyEncipherment, "keyEncipherment"), (usage.dataEncipherment, "dataEncipherment"),
            (usage.keyAgreement, "keyAgreement"), (usage.keyCertSign, "keyCertSign"), (usage.cRLSign, "cRLSign"),
            (usage.encipherOnly, "encipherOnly"), (usage.decipherOnly, "decipherOnly"),
        ]
        return bits.filter(\.0).map(\.1)
    }

    /// The expiry as the manuals print it: `yyyy/MM/dd` in Japan Standard Time (UTC+9, no daylight saving).
    public var expiryText: String { Self.japanDate(notValidAfter) }

    /// The six lines of the confirmation screen, in the manuals' order.
    public var labeledFields: [LabeledField] {
        Field.allCases.map { LabeledField(field: $0, label: $0.japaneseLabel, value: value(of: $0)) }
    }

    /// The printable value of one field (empty when the certificate lacks it).
    public func value(of field: Field) -> String {
        switch field {
        case .companyName: companyName ?? ""
        case .holderName: holderName ?? ""
        case .holderAddress: holderAddress ?? ""
        case .serialNumber: serialNumber
        case .issuer: issuer
        case .expiry: expiryText
        }
    }

    static func hex(_ bytes: some Collection<UInt8>) -> String {
        var trimmed = Array(bytes.drop(while: { $0 == 0 }))
        if trimmed.isEmpty { trimmed = [0] }
        return trimmed.map { byte in
            let text = String(byte, radix: 16, uppercase: true)
            return text.count == 1 ? "0" + text : text
        }.joined()
    }

    /// A date as the manuals' confirmation screens print it: `YYYY/MM/DD` in Japan time (JST), as in
    /// 証明書有効期限 : 2014/11/14.
    public static func japanDate(_ date: Date) -> String {
        // JST is UTC+9 all year.
        let seconds = Int((date.timeIntervalSince1970 + 9 * 3600).rounded(.down))
        let days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        let (y, m, d) = civil(fromDays: days)
        func pad(_ n: Int, _ w: Int) -> String {
            let t = String(n)
            return String(repeating: "0", count: max(0, w - t.count)) + t
        }
        return "\(pad(y, 4))/\(pad(m, 2))/\(pad(d, 2))"
    }

    /// Inverse of Howard Hinnant's days-from-civil.
    static func civil(fromDays days: Int) -> (Int, Int, Int) {
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
