import CardCredentials
import CardSimulator
import Foundation
import ISO7816
import JPKI
import Synchronization
import Testing
import X509

@Suite struct RecognitionTests {
    @Test func connectReadsTheMyNumberCardLabelAndKeepsTheApplicationSelected() async throws {
        let (_, slot, _) = try await Fixture.get().client()
        let card = try await MyNumberCard.connect(transport: try await slot.connect())
        #expect(try await card.tokenLabel() == "JPKIAPICCTOKEN2")
        // SELECT AP, SELECT 0006, READ BINARY; the second label read skips SELECT AP.
        #expect(card.channel.statistics.apdusSent == 5)
    }

    @Test func theBasicResidentRegisterCardIsRefusedByName() async throws {
        var snapshot = try Fixture.get().snapshot
        snapshot.tokenLabel = "JPKIAPICCTOKEN"
        let slot = SimulatedSlot()
        slot.insert(try JPKICard(snapshot: snapshot))
        await #expect(throws: JPKIError.basicResidentRegisterCard) {
            _ = try await MyNumberCard.connect(transport: try await slot.connect())
        }
        #expect(JPKIError.basicResidentRegisterCard.description.contains("住民基本台帳カード"))
    }

    @Test func anotherLabelIsNotAMyNumberCard() async throws {
        var snapshot = try Fixture.get().snapshot
        snapshot.tokenLabel = "SOMETHING ELSE"
        let slot = SimulatedSlot()
        slot.insert(try JPKICard(snapshot: snapshot))
        await #expect(throws: JPKIError.notAMyNumberCard(reason: "its JPKI token label is not JPKIAPICCTOKEN2")) {
            _ = try await MyNumberCard.connect(transport: try await slot.connect())
        }
    }

    @Test func aJPKIApplicationWithoutATokenLabelIsNotAMyNumberCard() async throws {
        let faults = FaultInjector()
        faults.arm(.statusWord(.fileNotFound), matching: { $0.ins == 0xA4 && $0.data == [0x00, 0x06] })
        let (_, slot, _) = try await Fixture.get().client(faults: faults)
        await #expect(
            throws: JPKIError.notAMyNumberCard(reason: "its JPKI application has no token label (EF 0006)")
        ) {
            _ = try await MyNumberCard.connect(transport: try await slot.connect())
        }
    }

    @Test func aCardWithoutTheJPKIApplicationIsNotAMyNumberCard() async throws {
        let faults = FaultInjector()
        faults.arm(.statusWord(.fileNotFound), matching: { $0.ins == 0xA4 && $0.p1 == 0x04 })
        let (_, _, card) = try await Fixture.get().client(faults: faults)
        do {
            _ = try await card.certificate(.authentication)
            Issue.record("a card answering 6A82 to SELECT AP was accepted")
        } catch {
            guard error.code == .notAMyNumberCard else {
                Issue.record("wrong error \(error)")
                return
            }
            #expect(error.description.contains("公的個人認証 AP"))
            #expect(error.description.contains("マイナンバーカード"))
        }
        // The fault fired once: the next try selects again and succeeds.
        #expect(try await card.certificate(.authentication).publicKey.description.isEmpty == false)
    }

    @Test func aPrivateCACardIsNotAMyNumberCard() async throws {
        let fixture = try Fixture.get()
        let icCard = try PrivateCAICCard.issue(by: fixture.authority, holder: .example, pin: "PASS5678")
        let slot = SimulatedSlot()
        slot.insert(icCard)
        await #expect(throws: JPKIError.notAMyNumberCard(reason: "the JPKI application (公的個人認証 AP) is missing")) {
            _ = try await MyNumberCard.connect(transport: try await slot.connect())
        }
    }
}

@Suite struct CertificateTests {
    @Test(arguments: [JPKICertificateKind.authentication, .authenticationCA, .signingCA])
    func freeCertificatesMatchTheCard(_ kind: JPKICertificateKind) async throws {
        let fixture = try Fixture.get()
        let (_, _, card) = try await fixture.client()
        let expected: [UInt8] =
            switch kind {
            case .authentication: fixture.snapshot.authenticationCertificate
            case .authenticationCA: fixture.snapshot.authenticationCACertificate
            case .signingCA: fixture.snapshot.signingCACertificate
            case .signing: fixture.snapshot.signingCertificate
            }
        #expect(try await card.certificateDER(kind) == expected)
        #expect(try await card.certificate(kind) == Certificate(derEncoded: expected))
    }

    @Test func theSigningCertificateNeedsTheSigningPIN() async throws {
        let fixture = try Fixture.get()
        let (_, _, card) = try await fixture.client()
        await #expect(throws: JPKIError.pinNotVerified(.signing)) {
            _ = try await card.certificate(.signing)
        }
        try await card.verifyPIN(try SecretPIN(Fixture.signingPIN, policy: .jpkiSigning), for: .signing)
        #expect(try await card.certificateDER(.signing) == fixture.snapshot.signingCertificate)
    }

    @Test func aCorruptedCertificateIsReportedAsDamaged() async throws {
        let faults = FaultInjector()
        faults.arm(.corruptResponse, matching: { $0.ins == 0xB0 })
        let (_, _, card) = try await Fixture.get().client(faults: faults)
        do {
            _ = try await card.certificate(.authentication)
            Issue.record("a corrupted certificate was accepted")
        } catch {
            guard error.code == .malformedCertificate, error.certificateKind == .authentication else {
                Issue.record("wrong error \(error)")
                return
            }
        }
    }

    @Test func aTruncatedAnswerIsReportedAsDamaged() async throws {
        let faults = FaultInjector()
        faults.arm(.truncateResponse, matching: { $0.ins == 0xB0 })
        let (_, _, card) = try await Fixture.get().client(faults: faults)
        do {
            _ = try await card.certificate(.authenticationCA)
            Issue.record("a one-byte answer was accepted")
        } catch {
            guard error.code == .malformedAnswer else {
                Issue.record("wrong error \(error)")
                return
            }
        }
    }

    @Test func aCardPulledMidReadIsReportedAsRemovedAndTheSessionStartsAgain() async throws {
        let faults = FaultInjector()
        faults.arm(.pullCard, matching: { $0.ins == 0xB0 })
        let fixture = try Fixture.get()
        let (jpkiCard, slot, card) = try await fixture.client(extendedLength: .unsupported, faults: faults)
        await #expect(throws: JPKIError.cardRemoved) {
            _ = try await card.certificate(.authentication)
        }
        #expect(JPKIError.cardRemoved.description.contains("insert it again"))
        // Put the card back: a new connection, and the client selects the application again.
        slot.insert(jpkiCard)
        let again = MyNumberCard(transport: try await slot.connect())
        #expect(try await again.certificateDER(.authentication) == fixture.snapshot.authenticationCertificate)
        #expect(again.channel.statistics.apdusSent == 3)
    }
}

@Suite struct APDUCountTests {
    /// ⌈length / 256⌉.
    func chunks(_ bytes: [UInt8]) -> Int { (bytes.count + 255) / 256 }

    @Test func extendedLengthReadsACertificateInThreeAPDUsThenTwo() async throws {
        let fixture = try Fixture.get()
        let (_, _, card) = try await fixture.client(CardBehavior(supportsExtendedLength: true))
        _ = try await card.certificateDER(.authentication)
        #expect(card.channel.statistics.apdusSent == 3)  // SELECT AP, SELECT EF, one extended READ BINARY
        #expect(card.channel.extendedLengthSupport == .supported)
        card.channel.resetStatistics()
        _ = try await card.certificateDER(.signingCA)
        #expect(card.channel.statistics.apdusSent == 2)  // the application is still selected
    }

    @Test func shortAPDUsReadACertificateInChunksOf256() async throws {
        let fixture = try Fixture.get()
        let certificate = fixture.snapshot.authenticationCertificate
        #expect(certificate.count > 256)
        let (_, _, card) = try await fixture.client(
            CardBehavior(supportsExtendedLength: false), extendedLength: .unsupported)
        #expect(try await card.certificateDER(.authentication) == certificate)
        #expect(card.channel.statistics.apdusSent == chunks(certificate) + 2)
    }

    @Test func anUnknownCardWithoutExtendedLengthCostsOneProbeOnce() async throws {
        let fixture = try Fixture.get()
        let certificate = fixture.snapshot.authenticationCertificate
        let (_, _, card) = try await fixture.client(CardBehavior(supportsExtendedLength: false))
        #expect(try await card.certificateDER(.authentication) == certificate)
        // The extended READ BINARY answered 67 00 once; the channel remembers it.
        #expect(card.channel.statistics.apdusSent == chunks(certificate) + 3)
        #expect(card.channel.extendedLengthSupport == .unsupported)
        card.channel.resetStatistics()
        let ca = fixture.snapshot.authenticationCACertificate
        #expect(try await card.certificateDER(.authenticationCA) == ca)
        #expect(card.channel.statistics.apdusSent == chunks(ca) + 1)
    }

    @Test(arguments: [true, false])
    func oneSignatureWithItsPINTakesSixAPDUs(extendedLength: Bool) async throws {
        let (_, _, card) = try await Fixture.get().client(CardBehavior(supportsExtendedLength: extendedLength))
        let digestInfo = DigestInfo(hashing: Array("abc".utf8), with: .sha256).derEncoded
        let pin = try SecretPIN(Fixture.signingPIN, policy: .jpkiSigning)
        let signature = try await card.signDigestInfo(digestInfo, with: .signing, pin: pin)
        #expect(signature.count == 256)
        // SELECT AP, SELECT 001B, tries left, VERIFY, SELECT 001A, COMPUTE DIGITAL SIGNATURE.
        #expect(card.channel.statistics.apdusSent == 6)
        card.channel.resetStatistics()
        _ = try await card.signDigestInfo(digestInfo, with: .signing, pin: pin)
        #expect(card.channel.statistics.apdusSent == 5)  // the application stays selected
    }

    @Test func theSigningKeyVerifiesOnceThenSignsInTwo() async throws {
        let (_, _, card) = try await Fixture.get().client()
        let key = try await card.signingKey(pin: try SecretPIN(Fixture.signingPIN, policy: .jpkiSigning))
        // SELECT AP, SELECT 001B, tries left, VERIFY, SELECT 0001 + READ; the CA certificate is not read.
        #expect(card.channel.statistics.apdusSent == 6)
        #expect(key.chain.isEmpty)
        card.channel.resetStatistics()
        _ = try await key.sign(Array("document".utf8), algorithm: .rsaPKCS1SHA256)
        #expect(card.channel.statistics.apdusSent == 2)  // SELECT 001A, SIGN: the PIN was just verified
        card.channel.resetStatistics()
        _ = try await key.sign(Array("document".utf8), algorithm: .rsaPKCS1SHA256)
        #expect(card.channel.statistics.apdusSent == 5)  // each later signature verifies the PIN again
    }
}

/// What the `jpki` tool's commands cost, done as the tool does them (a fresh client each): the counts the JPKI
/// article lists. Part of issue 18: `jpki sign` took 12 APDUs before the CA certificate became optional.
@Suite struct CommandAPDUCountTests {
    @Test func signingADocumentWithItsPINAndCertificateTakesTenAPDUs() async throws {
        let (_, slot, _) = try await Fixture.get().client()
        let card = try await MyNumberCard.connect(transport: try await slot.connect())
        let key = try await card.signingKey(pin: try SecretPIN(Fixture.signingPIN, policy: .jpkiSigning))
        let signed = try await CMSSignedData.sign(Array("入札書".utf8), with: key)
        // SELECT AP, SELECT 0006 + READ (the label), SELECT 001B, tries left, VERIFY, SELECT 0001 + READ,
        // SELECT 001A, COMPUTE DIGITAL SIGNATURE.
        #expect(card.channel.statistics.apdusSent == 10)
        #expect(card.channel.statistics.apdusSent <= 10, "issue 18: at most 10 APDUs for jpki sign")
        #expect(signed.certificates == [key.certificate])
    }

    @Test func theCACertificateCostsTwoAPDUsOnlyWhenAskedFor() async throws {
        let fixture = try Fixture.get()
        let (_, slot, _) = try await fixture.client()
        let card = try await MyNumberCard.connect(transport: try await slot.connect())
        let key = try await card.signingKey(
            pin: try SecretPIN(Fixture.signingPIN, policy: .jpkiSigning), includeCACertificate: true)
        #expect(key.chain == [try Certificate(derEncoded: fixture.snapshot.signingCACertificate)])
        let signed = try await CMSSignedData.sign(Array("入札書".utf8), with: key)
        #expect(card.channel.statistics.apdusSent == 12)
        #expect(Set(signed.certificates) == Set([key.certificate] + key.chain))  // a SET OF: DER order
    }

    @Test func everyPINStatusWithoutTheTokenLabelTakesEightAPDUs() async throws {
        let (_, _, card) = try await Fixture.get().client()
        _ = try await card.pinStatuses()
        #expect(card.channel.statistics.apdusSent == 8)
        #expect(card.channel.statistics.apdusSent <= 8, "issue 18: at most 8 APDUs for jpki pin-status")
    }
}

/// A link that fails once with "card reset" on the command that matches, as PC/SC reports another program's reset.
final class ResettingTransport: CardTransport, Sendable {
    struct ResetError: CardTransportError {
        var failure: CardTransportFailure { .cardReset }
    }

    let inner: any CardTransport
    let card: JPKICard
    let pending = Mutex(true)

    init(inner: any CardTransport, card: JPKICard) {
        self.inner = inner
        self.card = card
    }

    func transmit(_ command: [UInt8]) async throws -> [UInt8] {
        let fire = pending.withLock { pending in
            guard pending, command.count > 1, command[1] == 0xB0 else { return false }
            pending = false
            return true
        }
        if fire {
            card.handle(.reset)  // the card forgets its selected application and verified PINs
            throw ResetError()
        }
        return try await inner.transmit(command)
    }
}

@Suite struct SessionTests {
    @Test func afterAResetTheClientSelectsTheApplicationAgain() async throws {
        let fixture = try Fixture.get()
        let (jpkiCard, slot, _) = try await fixture.client()
        let card = MyNumberCard(transport: ResettingTransport(inner: try await slot.connect(), card: jpkiCard))
        await #expect(throws: JPKIError.cardReset) {
            _ = try await card.certificateDER(.authentication)
        }
        card.channel.resetStatistics()
        #expect(try await card.certificateDER(.authentication) == fixture.snapshot.authenticationCertificate)
        #expect(card.channel.statistics.apdusSent == 3)  // SELECT AP again, SELECT EF, READ BINARY
    }

    @Test func concurrentOperationsDoNotInterleave() async throws {
        let fixture = try Fixture.get()
        let (_, _, card) = try await fixture.client()
        let pin = try SecretPIN(Fixture.textInputSupportPIN, policy: .textInputSupport)
        // One task switches to the text-input-support application while others read JPKI certificates.
        async let info = card.textInputSupportInfo(pin: pin)
        async let authentication = card.certificateDER(.authentication)
        async let ca = card.certificateDER(.signingCA)
        async let statuses = card.pinStatuses()
        #expect(try await info.individualNumber == JPKIHolder.example.individualNumber)
        #expect(try await authentication == fixture.snapshot.authenticationCertificate)
        #expect(try await ca == fixture.snapshot.signingCACertificate)
        #expect(try await statuses[.signing] == .triesLeft(5))
    }
}
