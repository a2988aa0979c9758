import Foundation
import SwiftASN1
import Testing
import X509

@testable import CardCredentials

@Suite struct SummaryTests {
    @Test func privateCACardFieldsAndLabels() throws {
        let ca = try TestCertificates.makeRoot()
        let leaf = try TestCertificates.makeLeaf(
            under: ca, serial: Certificate.SerialNumber(bytes: [0x00, 0x9A, 0x01, 0xFF]),
            notAfter: Date(timeIntervalSince1970: 1_794_668_400))  // 2026-11-14 15:00 UTC = 2026-11-15 00:00 JST
        let summary = CertificateSummary(leaf)
        #expect(summary.companyName == "〇〇建設株式会社")
        #expect(summary.holderName == "山田　太郎")
        #expect(summary.holderAddress == "熊本県熊本市中央区手取本町1番1号")
        #expect(summary.serialNumber == "9A01FF")
        #expect(summary.issuer == "C=JP, O=Test Certification Authority, CN=Test Root CA")
        #expect(summary.expiryText == "2026/11/15")
        #expect(summary.keyUsageNames == ["digitalSignature", "nonRepudiation"])
        #expect(summary.jpkiPersonalAttributes == nil)
        let fields = summary.labeledFields
        #expect(
            fields.map(\.label) == [
                "ICカード業者名称", "ICカード取得者氏名", "ICカード取得者所在地", "証明書シリアル番号", "証明書発行者", "証明書有効期限",
            ])
        #expect(fields[0].value == "〇〇建設株式会社")
        #expect(fields[5].value == "2026/11/15")
    }

    @Test func romajiAddressIsJoinedWithSpaces() throws {
        let ca = try TestCertificates.makeRoot()
        let subject = try DistinguishedName {
            CountryName("JP")
            StateOrProvinceName("Tokyo")
            LocalityName("Chiyoda-ku")
            OrganizationName("Example Corp")
            CommonName("Taro Yamada")
        }
        let summary = CertificateSummary(try TestCertificates.makeLeaf(under: ca, subject: subject))
        #expect(summary.holderAddress == "Tokyo Chiyoda-ku")
        #expect(summary.holderName == "Taro Yamada")
    }

    @Test func everyStringTypeIsDecoded() throws {
        // O in BMPString (UTF-16BE), CN in UTF8String, L in PrintableString, ST in UniversalString, street in
        // TeletexString.
        let bmp = try TestCertificates.stringValue(tag: 30, content: TestCertificates.utf16BE("株式会社テスト𠮷"))
        let universal = try TestCertificates.stringValue(
            tag: 28, content: "東京都".unicodeScalars.flatMap { s in withUnsafeBytes(of: s.value.bigEndian, Array.init) })
        let teletex = try TestCertificates.stringValue(tag: 20, content: [0x43, 0x61, 0x66, 0xE9])  // "Café"
        let printable = try RelativeDistinguishedName.Attribute.Value(printableString: "Chiyoda")
        let subject = DistinguishedName([
            RelativeDistinguishedName(
                try RelativeDistinguishedName.Attribute(type: .RDNAttributeType.countryName, printableString: "JP")),
            RelativeDistinguishedName(
                RelativeDistinguishedName.Attribute(type: .RDNAttributeType.stateOrProvinceName, value: universal)),
            RelativeDistinguishedName(
                RelativeDistinguishedName.Attribute(type: .RDNAttributeType.localityName, value: printable)),
            RelativeDistinguishedName(
                RelativeDistinguishedName.Attribute(type: .RDNAttributeType.streetAddress, value: teletex)),
            RelativeDistinguishedName(
                RelativeDistinguishedName.Attribute(type: .RDNAttributeType.organizationName, value: bmp)),
            RelativeDistinguishedName(
                RelativeDistinguishedName.Attribute(type: .RDNAttributeType.commonName, utf8String: "佐藤　花子")),
        ])
        let ca = try TestCertificates.makeRoot()
        let leaf = try TestCertificates.makeLeaf(under: ca, subject: subject)
        // Through DER and back, as a certificate read from a card would be.
        let reread = try Certificate(derEncoded: try TestCertificates.der(leaf))
        let summary = CertificateSummary(reread)
        #expect(summary.companyName == "株式会社テスト𠮷")
        #expect(summary.holderName == "佐藤　花子")
        #expect(summary.holderAddress == "東京都ChiyodaCafé")
        #expect(summary.subject == "C=JP, ST=東京都, L=Chiyoda, street=Café, O=株式会社テスト𠮷, CN=佐藤　花子")
    }

    @Test func malformedStringsAreNotInvented() {
        #expect(DirectoryString.text(tag: 30, content: [0x30]) == nil)  // odd BMPString
        #expect(DirectoryString.text(tag: 30, content: [0xD8, 0x00]) == nil)  // lone surrogate
        #expect(DirectoryString.text(tag: 28, content: [0, 0, 0xD8, 0]) == nil)
        #expect(DirectoryString.text(tag: 12, content: [0xFF, 0xFE]) == nil)
        #expect(DirectoryString.text(tag: 4, content: [0x41]) == nil)  // OCTET STRING is not text
    }

    static func jpkiSigningCertificate(under ca: TestCertificates.Authority) throws -> Certificate {
        func other(_ arc: Int, _ text: String) throws -> GeneralName {
            .otherName(
                GeneralName.OtherName(
                    typeID: try ASN1ObjectIdentifier(dotRepresentation: "1.2.392.200149.8.5.5.\(arc)"),
                    value: try ASN1Any(erasing: ASN1UTF8String(text))))
        }
        let san = SubjectAlternativeNames([
            try other(1, "山田　花子"), try other(2, "0"), try other(3, "2"), try other(4, "319800217"),
            try other(5, "東京都千代田区霞が関1－2－3"), try other(6, "0"),
        ])
        let subject = try DistinguishedName {
            CountryName("JP")
            LocalityName("Tokyo-to")
            LocalityName("Chiyoda-ku")
            CommonName("202312345678901234567890AB")
        }
        return try TestCertificates.makeLeaf(
            under: ca, subject: subject,
            extraExtensions: [try Certificate.Extension(san, critical: false)])
    }

    @Test func jpkiPersonalAttributesFromSubjectAltName() throws {
        let ca = try TestCertificates.makeRoot(rsa: true)
        let certificate = try Certificate(
            derEncoded: try TestCertificates.der(try Self.jpkiSigningCertificate(under: ca)))
        let person = try #require(CertificateSummary(certificate).jpkiPersonalAttributes)
        #expect(person.name == "山田　花子")
        #expect(person.sexCode == "2")
        #expect(person.sexLabel == "女")
        #expect(person.dateOfBirth == JPKIDateOfBirth("319800217"))
        #expect(person.dateOfBirth?.era == .showa)
        #expect(person.dateOfBirth?.description == "1980-02-17")
        #expect(person.dateOfBirth?.era.description == "昭和")
        #expect(person.address == "東京都千代田区霞が関1－2－3")
        #expect(person.nameSubstitutePositions == "0")
        #expect(CertificateSummary(certificate).holderAddress == "Tokyo-to Chiyoda-ku")
    }

    @Test func jpkiDatesOfBirth() {
        #expect(JPKIDateOfBirth("520190501")?.era == .reiwa)
        #expect(JPKIDateOfBirth("019000101")?.era == .unknown)
        #expect(JPKIDateOfBirth("619800217") == nil)  // no era 6
        #expect(JPKIDateOfBirth("31980021") == nil)
        #expect(JPKIDateOfBirth("319801317") == nil)
        #expect(JPKIDateOfBirth("3198002AB") == nil)
    }

    @Test func realJLISRootsSummarise() throws {
        let roots = JPKITrustAnchors.all
        #expect(roots.count == 4)
        let summaries = roots.map(CertificateSummary.init)
        #expect(summaries.map(\.serialNumber) == ["01", "06D18006", "01", "067C6A21"])
        #expect(summaries[1].expiryText == "2033/07/15")
        #expect(summaries[0].companyName == "JPKI")
        #expect(summaries[0].subject.hasPrefix("C=JP, O=JPKI, OU=JPKI for user authentication"))
        #expect(JPKITrustAnchors.signing.count == 2)
        #expect(JPKITrustAnchors.authentication.count == 2)
    }
}
