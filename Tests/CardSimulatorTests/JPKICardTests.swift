import CardSimulator
import Foundation
import ISO7816
import Testing
import X509

@Suite struct JPKICardTests {
    @Test func answersToResetAsOpenSCExpects() throws {
        let card = try Fixture.get().jpkiCard()
        #expect(Hex.encode(card.atr) == "3B E0 00 FF 81 31 FE 45 14")
    }

    @Test func unknownApplicationsAndFilesAnswerFileNotFound() throws {
        let card = try Fixture.get().jpkiCard()
        // PIV, OpenPGP: OpenSC probes these first.
        #expect(try card.sw("00 A4 04 00 09 A0 00 00 03 08 00 00 10 00 00") == 0x6A82)
        #expect(try card.sw("00 A4 04 00 06 D2 76 00 01 24 01 00") == 0x6A82)
        #expect(try card.sw("00 A4 00 0C 02 3F 00") == 0x6A82)
        #expect(try card.sw("00 A4 02 0C 02 00 0A") == 0x6A82)  // no application selected yet
        #expect(try card.sw(jpkiSelect) == 0x9000)
        #expect(try card.sw("00 A4 02 0C 02 12 34") == 0x6A82)
        #expect(try card.sw("00 A4 02 0C 02 00 0A") == 0x9000)
    }

    @Test func errorsGetTheirStatusWords() throws {
        let card = try Fixture.get().jpkiCard()
        #expect(try card.sw("00 B0 00 00 00") == 0x6986)  // no current EF
        #expect(try card.sw("00 CA 01 00 00") == 0x6D00)
        #expect(try card.sw("A0 A4 04 0C 02 3F 00") == 0x6E00)
        #expect(try card.sw("00 A4 04") == 0x6700)
        #expect(try card.sw("00 A4 04 0C 05 01 02") == 0x6700)
        #expect(try card.sw("00 A4 07 0C 02 00 0A") == 0x6A86)
        #expect(try card.sw(jpkiSelect) == 0x9000)
        #expect(try card.sw("00 A4 02 0C 02 00 0A") == 0x9000)
        #expect(try card.sw("00 B0 80 00 00") == 0x6A86)  // short EF identifiers are not supported
        #expect(try card.sw("00 B0 7F 00 00") == 0x6B00)  // past the end
        #expect(try card.sw("00 B0 00 00") == 0x6700)  // no Le
        #expect(try card.sw("00 A4 02 0C 02 00 18") == 0x9000)
        #expect(try card.sw("00 B0 00 00 00") == 0x6981)  // a PIN is not a transparent file
        #expect(try card.sw("00 20 01 80 04 31 32 33 34") == 0x6A86)
        #expect(try card.sw("00 24 00 80 04 31 32 33 34") == 0x6A86)
        #expect(try card.sw("80 2A 00 80 03 01 02 03 00") == 0x6985)  // a PIN EF is not a key
        #expect(try card.sw("80 2A 9E 9A 03 01 02 03 00") == 0x6A86)
    }

    @Test func readsCertificatesInShortAndExtendedReads() async throws {
        let fixture = try Fixture.get()
        let card = try fixture.jpkiCard()
        #expect(try card.sw(jpkiSelect) == 0x9000)
        #expect(try card.sw("00 A4 02 0C 02 00 0A") == 0x9000)
        let header = try card.send("00 B0 00 00 04")
        #expect(header.statusWord == .success)
        #expect(header.data.count == 4)
        #expect(header.data[0...1] == [0x30, 0x82])
        let length = Int(header.data[2]) << 8 | Int(header.data[3]) + 4
        #expect(length == fixture.jpki.authenticationCertificate.count)
        // The last short read asks for more than is left: the rest, with 62 82.
        let lastOffset = length - 10
        let tail = try card.send("00 B0 \(Hex.encode([UInt8(lastOffset >> 8), UInt8(lastOffset & 0xFF)])) 20")
        #expect(tail.data.count == 10)
        #expect(tail.statusWord == StatusWord(0x6282))
        // Le = 00 (256) is the maximum: the rest with 90 00.
        let max = try card.send("00 B0 \(Hex.encode([UInt8(lastOffset >> 8), UInt8(lastOffset & 0xFF)])) 00")
        #expect(max.data.count == 10)
        #expect(max.isSuccess)
        // One extended READ BINARY reads it all.
        let extended = try card.send("00 B0 00 00 00 00 00")
        #expect(extended.data == fixture.jpki.authenticationCertificate)

        let channel = CardChannel(transport: DirectLink(card: card))
        let read = try await channel.readTransparentFile()
        let certificate = try Certificate(derEncoded: read)
        #expect(certificate.issuer == fixture.authority.rootCertificate(.jpkiAuthentication).subject)
        #expect(channel.extendedLengthSupport == .supported)
    }

    @Test func refusesExtendedLengthWhenTheCardHasNone() async throws {
        let fixture = try Fixture.get()
        let card = try fixture.jpkiCard(CardBehavior(supportsExtendedLength: false))
        #expect(try card.sw(jpkiSelect) == 0x9000)
        #expect(try card.sw("00 A4 02 0C 02 00 02") == 0x9000)
        #expect(try card.sw("00 B0 00 00 00 00 00") == 0x6700)
        let channel = CardChannel(transport: DirectLink(card: card))
        let read = try await channel.readTransparentFile()
        #expect(read == fixture.jpki.signingCACertificate)
        #expect(channel.extendedLengthSupport == .unsupported)
    }

    @Test func tokenLabelIsSpacePadded() throws {
        let card = try Fixture.get().jpkiCard()
        #expect(try card.sw(jpkiSelect) == 0x9000)
        #expect(try card.sw("00 A4 02 0C 02 00 06") == 0x9000)
        let label = try card.send("00 B0 00 00 20")
        #expect(String(decoding: label.data, as: UTF8.self) == "JPKIAPICCTOKEN2" + String(repeating: " ", count: 17))
    }

    @Test func signingCertificateNeedsTheSigningPIN() throws {
        let fixture = try Fixture.get()
        let card = try fixture.jpkiCard()
        #expect(try card.sw(jpkiSelect) == 0x9000)
        #expect(try card.sw("00 A4 02 0C 02 00 01") == 0x9000)
        #expect(try card.sw("00 B0 00 00 04") == 0x6982)
        #expect(try card.sw("00 A4 02 0C 02 00 1B") == 0x9000)
        #expect(
            try card.sw(
                "00 20 00 80 \(String(format: "%02X", Fixture.signingPIN.utf8.count)) \(ascii(Fixture.signingPIN))")
                == 0x9000)
        #expect(card.isVerified(.signing))
        #expect(try card.sw("00 A4 02 0C 02 00 01") == 0x9000)
        let read = try card.send("00 B0 00 00 00 00 00")
        #expect(read.data == fixture.jpki.signingCertificate)
        // Reselecting the application ends the session.
        #expect(try card.sw(jpkiSelect) == 0x9000)
        #expect(!card.isVerified(.signing))
        #expect(try card.sw("00 A4 02 0C 02 00 01") == 0x9000)
        #expect(try card.sw("00 B0 00 00 04") == 0x6982)
    }

    @Test func signingPINCountsDownAndBlocksWith6984() throws {
        let card = try Fixture.get().jpkiCard()
        #expect(try card.sw(jpkiSelect) == 0x9000)
        #expect(try card.sw("00 A4 02 0C 02 00 1B") == 0x9000)
        #expect(try card.sw("00 20 00 80") == 0x63C5)
        let wrong = "00 20 00 80 06 \(ascii("WRONG1"))"
        #expect(try card.sw(wrong) == 0x63C4)
        #expect(try card.sw(wrong) == 0x63C3)
        #expect(try card.sw("00 20 00 80") == 0x63C3)
        #expect(try card.sw(wrong) == 0x63C2)
        #expect(try card.sw(wrong) == 0x63C1)
        #expect(try card.sw(wrong) == 0x63C0)
        #expect(card.triesLeft(.signing) == 0)
        // Blocked: even the right PIN is refused.
        #expect(try card.sw("00 20 00 80 07 \(ascii(Fixture.signingPIN))") == 0x6984)
        #expect(try card.sw(wrong) == 0x6984)
        #expect(try card.sw("00 20 00 80") == 0x63C0)
        // Other PINs are counted apart.
        #expect(card.triesLeft(.authentication) == 3)
    }

    @Test func blockedStatusWordIsConfigurable() throws {
        let card = try Fixture.get().jpkiCard(CardBehavior(blockedPINStatus: .authenticationMethodBlocked))
        #expect(try card.sw(jpkiSelect) == 0x9000)
        #expect(try card.sw("00 A4 02 0C 02 00 18") == 0x9000)
        #expect(try card.sw("00 20 00 80") == 0x63C3)
        for expected: UInt16 in [0x63C2, 0x63C1, 0x63C0, 0x6983, 0x6983] {
            #expect(try card.sw("00 20 00 80 04 \(ascii("0000"))") == expected)
        }
        #expect(try card.sw("00 20 00 80 04 \(ascii(Fixture.authenticationPIN))") == 0x6983)
    }

    @Test func rightPINResetsTheCounter() throws {
        let card = try Fixture.get().jpkiCard()
        #expect(try card.sw(jpkiSelect) == 0x9000)
        #expect(try card.sw("00 A4 02 0C 02 00 18") == 0x9000)
        #expect(try card.sw("00 20 00 80 04 \(ascii("9999"))") == 0x63C2)
        #expect(try card.sw("00 20 00 80 04 \(ascii(Fixture.authenticationPIN))") == 0x9000)
        #expect(card.triesLeft(.authentication) == 3)
    }

    @Test func triesLeftQueryWhileVerified() throws {
        let fixture = try Fixture.get()
        for (behavior, expected) in [
            (CardBehavior(), UInt16(0x63C3)), (CardBehavior(verifiedPINQuery: .success), UInt16(0x9000)),
        ] {
            let card = try fixture.jpkiCard(behavior)
            #expect(try card.sw(jpkiSelect) == 0x9000)
            #expect(try card.sw("00 A4 02 0C 02 00 18") == 0x9000)
            #expect(try card.sw("00 20 00 80 04 \(ascii(Fixture.authenticationPIN))") == 0x9000)
            #expect(try card.sw("00 20 00 80") == expected)
        }
    }

    @Test func signsWithTheSigningKeyAfterItsPIN() throws {
        let fixture = try Fixture.get()
        let card = try fixture.jpkiCard()
        let sign = "80 2A 00 80 33 \(abcDigestInfo) 00"
        #expect(try card.sw(sign) == 0x6986)  // nothing selected
        #expect(try card.sw(jpkiSelect) == 0x9000)
        #expect(try card.sw("00 A4 02 0C 02 00 1A") == 0x9000)
        #expect(try card.sw(sign) == 0x6982)  // PIN not verified
        #expect(try card.sw("00 A4 02 0C 02 00 18") == 0x9000)
        #expect(try card.sw("00 20 00 80 04 \(ascii(Fixture.authenticationPIN))") == 0x9000)
        #expect(try card.sw("00 A4 02 0C 02 00 1A") == 0x9000)
        #expect(try card.sw(sign) == 0x6982)  // the authentication PIN does not open the signing key
        #expect(try card.sw("00 A4 02 0C 02 00 1B") == 0x9000)
        #expect(try card.sw("00 20 00 80 07 \(ascii(Fixture.signingPIN))") == 0x9000)
        #expect(try card.sw("00 A4 02 0C 02 00 1A") == 0x9000)
        let response = try card.send(sign)
        #expect(response.isSuccess)
        #expect(response.data.count == 256)
        let certificate = try Certificate(derEncoded: fixture.jpki.signingCertificate)
        #expect(
            certificate.publicKey.isValidSignature(
                response.data, for: Array("abc".utf8), signatureAlgorithm: .sha256WithRSAEncryption))
        let other = try Certificate(derEncoded: fixture.jpki.authenticationCertificate)
        #expect(
            !other.publicKey.isValidSignature(
                response.data, for: Array("abc".utf8), signatureAlgorithm: .sha256WithRSAEncryption))
        // Too long for PKCS#1 padding in 2048 bits; empty.
        let long = Hex.encode([UInt8](repeating: 0xAB, count: 246))
        #expect(try card.sw("80 2A 00 80 F6 \(long) 00") == 0x6700)
        // The authentication key with its PIN.
        #expect(try card.sw("00 A4 02 0C 02 00 17") == 0x9000)
        let auth = try card.send(sign)
        #expect(auth.isSuccess)
        #expect(
            other.publicKey.isValidSignature(
                auth.data, for: Array("abc".utf8), signatureAlgorithm: .sha256WithRSAEncryption))
    }

    @Test func powerEventsClearTheSession() throws {
        let card = try Fixture.get().jpkiCard()
        for event in [CardPowerEvent.reset, .powerOff, .powerOn] {
            #expect(try card.sw(jpkiSelect) == 0x9000)
            #expect(try card.sw("00 A4 02 0C 02 00 18") == 0x9000)
            #expect(try card.sw("00 20 00 80 04 \(ascii(Fixture.authenticationPIN))") == 0x9000)
            card.handle(event)
            #expect(!card.isVerified(.authentication))
            #expect(try card.sw("00 B0 00 00 04") == 0x6986)
        }
    }

    @Test func changesTheSigningPINAfterVerify() throws {
        let card = try Fixture.get().jpkiCard()
        #expect(try card.sw(jpkiSelect) == 0x9000)
        #expect(try card.sw("00 A4 02 0C 02 00 1B") == 0x9000)
        #expect(try card.sw("00 24 01 80 06 \(ascii("NEW123"))") == 0x6982)
        #expect(try card.sw("00 20 00 80 07 \(ascii(Fixture.signingPIN))") == 0x9000)
        #expect(try card.sw("00 24 01 80 06 \(ascii("new123"))") == 0x6A80)  // lower case is not allowed
        #expect(try card.sw("00 24 01 80 05 \(ascii("NEW12"))") == 0x6A80)  // too short
        #expect(try card.sw("00 24 01 80 06 \(ascii("NEW123"))") == 0x9000)
        #expect(try card.sw("00 20 00 80 07 \(ascii(Fixture.signingPIN))") == 0x63C4)
        #expect(try card.sw("00 20 00 80 06 \(ascii("NEW123"))") == 0x9000)
    }

    @Test func persistsCountersThroughSnapshots() throws {
        let card = try Fixture.get().jpkiCard()
        let seen = Box()
        card.onPersistentStateChange { snapshot in seen.set(snapshot.pins[.signing]?.triesLeft) }
        #expect(try card.sw(jpkiSelect) == 0x9000)
        #expect(try card.sw("00 A4 02 0C 02 00 1B") == 0x9000)
        #expect(try card.sw("00 20 00 80 06 \(ascii("WRONG1"))") == 0x63C4)
        #expect(seen.value == 4)
        let restored = try JPKICard(snapshot: card.snapshot)
        #expect(restored.triesLeft(.signing) == 4)
        #expect(try restored.sw(jpkiSelect) == 0x9000)
        #expect(try restored.sw("00 A4 02 0C 02 00 1B") == 0x9000)
        #expect(try restored.sw("00 20 00 80") == 0x63C4)
    }

    @Test func rejectsBadPINsAndHoldersWhenMade() throws {
        #expect(throws: CardSimulatorError.self) {
            try JPKICard.pinRecords(signingPIN: "abc", authenticationPIN: "1234")
        }
        #expect(throws: CardSimulatorError.self) {
            try JPKICard.pinRecords(signingPIN: "ABC123", authenticationPIN: "12a4")
        }
        var snapshot = try Fixture.get().jpki
        snapshot.holder.individualNumber = "12345"
        #expect(throws: CardSimulatorError.self) { try JPKICard(snapshot: snapshot) }
        snapshot = try Fixture.get().jpki
        snapshot.signingKeyPEM = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
        #expect(throws: CardSimulatorError.self) { try JPKICard(snapshot: snapshot) }
    }
}

final class Box: @unchecked Sendable {
    private var stored: Int?
    private let lock = NSLock()
    func set(_ v: Int?) { lock.withLock { stored = v } }
    var value: Int? { lock.withLock { stored } }
}

@Suite struct JPKICardReviewRegressionTests {
    @Test("the right PIN followed by 256 zero bytes is a wrong PIN, not the right one")
    func pinLengthIsCompared() throws {
        let card = try Fixture.get().jpkiCard()
        #expect(try card.sw(jpkiSelect) == 0x9000)
        #expect(try card.sw("00 A4 02 0C 02 00 18") == 0x9000)
        let padded = Array(Fixture.authenticationPIN.utf8) + [UInt8](repeating: 0, count: 256)
        let command = try CommandAPDU(ins: 0x20, p1: 0x00, p2: 0x80, data: padded)
        let answer = try ResponseAPDU(bytes: card.respond(to: try command.encoded()))
        #expect(answer.statusWord.verificationTriesLeft == 2, "got \(answer.statusWord)")
    }

    @Test("SELECT with P2 0C answers no data even when an Le is given; P2 00 with Le answers the FCI")
    func selectAnswerFollowsP2() throws {
        let card = try Fixture.get().jpkiCard()
        let noData = try card.send("00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01 00")
        #expect(noData.isSuccess && noData.data.isEmpty)
        let fci = try card.send("00 A4 04 00 0A D3 92 F0 00 26 01 00 00 00 01 00")
        #expect(fci.isSuccess && !fci.data.isEmpty)
        #expect(try card.sw("00 A4 04 1C 0A D3 92 F0 00 26 01 00 00 00 01") == 0x6A86)
    }

    @Test("a PIN record never prints its value")
    func pinRecordIsRedacted() throws {
        let card = try Fixture.get().jpkiCard()
        // "1234" as the bytes an unredacted [UInt8] prints.
        let pinBytes = Array(Fixture.authenticationPIN.utf8).map(String.init).joined(separator: ", ")
        for text in [String(describing: card.snapshot), String(reflecting: card.snapshot)] {
            #expect(!text.contains(pinBytes), "the authentication PIN's bytes were printed")
            #expect(text.contains("<redacted>"))
        }
    }
}
