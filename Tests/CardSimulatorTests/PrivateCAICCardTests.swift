import CardSimulator
import ISO7816
import Testing
import X509

@Suite struct PrivateCAICCardTests {
    let verify = "00 20 00 81 08 \(ascii(Fixture.icCardPIN))"
    let wrong = "00 20 00 81 08 \(ascii("WRONGPIN"))"

    @Test func atrIsWellFormedT1() throws {
        let atr = try Fixture.get().privateCACard().atr
        #expect(atr.first == 0x3B)
        #expect(Array(atr[4..<12]) == Array("PROCIDIC".utf8))
        #expect(atr.dropFirst().reduce(0, ^) == 0)  // TCK makes the XOR of T0…TCK zero
        let parsed = try ATR(bytes: atr)
        #expect(parsed.historicalBytes == Array("PROCIDIC".utf8))
        #expect(parsed.protocols.contains(1))
        let jpki = try ATR(bytes: try Fixture.get().jpkiCard().atr)
        #expect(jpki.protocols == [1])
    }

    @Test func holdsTheHolderCertificateWithJapaneseSubject() async throws {
        let fixture = try Fixture.get()
        let card = try fixture.privateCACard()
        #expect(try card.sw(jpkiSelect) == 0x6A82)
        #expect(try card.sw(icSelect) == 0x9000)
        #expect(try card.sw("00 A4 02 0C 02 01 01") == 0x9000)
        let channel = CardChannel(transport: DirectLink(card: card))
        let der = try await channel.readTransparentFile()
        let certificate = try Certificate(derEncoded: der)
        let subject = certificate.subject
        #expect(subject.description.contains("O=株式会社試験建設"))
        #expect(subject.description.contains("CN=入札\u{3000}太郎"))
        #expect(subject.description.contains("ST=岐阜県"))
        let keyUsage = try #require(try certificate.extensions.keyUsage)
        #expect(keyUsage.digitalSignature && keyUsage.nonRepudiation)
        #expect(try card.sw("00 A4 02 0C 02 01 02") == 0x9000)
        let ca = try Certificate(derEncoded: try await channel.readTransparentFile())
        #expect(ca == fixture.authority.rootCertificate(.eBidding))
        #expect(ca.publicKey.isValidSignature(certificate.signature, for: certificate))
    }

    @Test func pinBlocksAfterTenWrongTriesWith6983() throws {
        let card = try Fixture.get().privateCACard()
        #expect(try card.sw(icSelect) == 0x9000)
        #expect(try card.sw("00 20 00 81") == 0x63CA)
        for left in (0..<10).reversed() {
            #expect(try card.sw(wrong) == 0x63C0 | UInt16(left))
        }
        #expect(try card.sw(verify) == 0x6983)
        #expect(try card.sw("00 20 00 81") == 0x63C0)
        #expect(card.triesLeft == 0)
        #expect(try card.sw("00 2A 9E 9A 33 \(abcDigestInfo) 00") == 0x6982)
    }

    @Test func maximumTriesAreConfigurable() throws {
        var snapshot = try Fixture.get().icCard
        snapshot.pin = try PrivateCAICCard.pinRecord(Fixture.icCardPIN, maximumTries: 3)
        let card = try PrivateCAICCard(snapshot: snapshot)
        #expect(try card.sw(icSelect) == 0x9000)
        #expect(try card.sw("00 20 00 81") == 0x63C3)
        #expect(throws: CardSimulatorError.self) { try PrivateCAICCard.pinRecord("1234", maximumTries: 16) }
        #expect(throws: CardSimulatorError.self) { try PrivateCAICCard.pinRecord("123") }
    }

    @Test func signsAfterThePIN() throws {
        let fixture = try Fixture.get()
        let card = try fixture.privateCACard()
        let sign = "00 2A 9E 9A 33 \(abcDigestInfo) 00"
        #expect(try card.sw(sign) == 0x6985)  // no application selected
        #expect(try card.sw(icSelect) == 0x9000)
        #expect(try card.sw(sign) == 0x6982)
        #expect(try card.sw("00 20 00 82 04 31 32 33 34") == 0x6A88)  // no PIN 2
        #expect(try card.sw(verify) == 0x9000)
        #expect(try card.sw("00 20 00 81") == 0x9000)  // ISO: verified
        #expect(try card.sw("00 2A 9E 9B 33 \(abcDigestInfo) 00") == 0x6A86)
        #expect(try card.sw("80 2A 00 80 33 \(abcDigestInfo) 00") == 0x6D00)
        let response = try card.send(sign)
        #expect(response.isSuccess)
        let certificate = try Certificate(derEncoded: fixture.icCard.holderCertificate)
        #expect(
            certificate.publicKey.isValidSignature(
                response.data, for: Array("abc".utf8), signatureAlgorithm: .sha256WithRSAEncryption))
        #expect(
            !certificate.publicKey.isValidSignature(
                response.data, for: Array("abd".utf8), signatureAlgorithm: .sha256WithRSAEncryption))
        card.handle(.reset)
        #expect(try card.sw(icSelect) == 0x9000)
        #expect(try card.sw(sign) == 0x6982)
    }

    @Test func changesThePIN() throws {
        let card = try Fixture.get().privateCACard()
        #expect(try card.sw(icSelect) == 0x9000)
        #expect(try card.sw("00 24 01 81 06 \(ascii("NEWPIN"))") == 0x6982)
        #expect(try card.sw(verify) == 0x9000)
        #expect(try card.sw("00 24 01 81 03 \(ascii("ABC"))") == 0x6A80)
        #expect(try card.sw("00 24 01 81 06 \(ascii("NEWPIN"))") == 0x9000)
        #expect(try card.sw(verify) == 0x63C9)
        #expect(try card.sw("00 20 00 81 06 \(ascii("NEWPIN"))") == 0x9000)
        #expect(try PrivateCAICCard(snapshot: card.snapshot).triesLeft == 10)
    }
}
