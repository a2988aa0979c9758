import CardCredentials
import CardSimulator
import Foundation
import ISO7816
import PCSC
import Testing
import X509

extension EndToEnd {
    /// The virtual private-CA IC card through pcscd and vpcd: pcsc-tools' `scriptor` (an independent client) runs
    /// the card profile's commands, our PCSC module reads the certificate with one extended READ BINARY.
    @Suite("The virtual private-CA IC card through pcscd")
    struct SimulatorICCardTests {
        static let slot = 1

        @Test("our PCSC module reads the holder certificate; the Japanese subject survives the trip")
        func readCertificateThroughPCSC() async throws {
            let material = try SimulatorFixture.get()
            let card = try PrivateCAICCard(snapshot: material.icCard)
            try await TestBench.withCard(card, slot: Self.slot) { _, context, reader in
                let connection = try await context.connect(to: reader)
                let channel = CardChannel(transport: connection)
                let select = try await channel.transmit(
                    CommandAPDU(ins: 0xA4, p1: 0x04, p2: 0x0C, data: PrivateCAICCard.aid))
                #expect(select.isSuccess)
                let file = try await channel.transmit(CommandAPDU(ins: 0xA4, p1: 0x02, p2: 0x0C, data: [0x01, 0x01]))
                #expect(file.isSuccess)
                channel.resetStatistics()
                let der = try await channel.readTransparentFile()
                #expect(channel.statistics.apdusSent == 1, "one extended READ BINARY")
                let certificate = try Certificate(derEncoded: der)
                #expect(certificate.subject.description.contains("O=株式会社試験建設"))
                #expect(certificate.subject.description.contains("CN=入札\u{3000}太郎"))
                await connection.disconnect()
            }
        }

        @Test(
            "scriptor: SELECT, VERIFY with the tries counting down, and a signature the certificate verifies",
            .enabled(if: OpenSCTools.isCI || OpenSCTools.path(of: "scriptor") != nil))
        func scriptorSelectsVerifiesAndSigns() async throws {
            let material = try SimulatorFixture.get()
            let card = try PrivateCAICCard(snapshot: material.icCard)
            let directory = FileManager.default.temporaryDirectory.appending(path: "e2e-ic-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let script = directory.appending(path: "commands.txt")
            let pin = Hex.encode(Array(SimulatorFixture.icCardPIN.utf8))
            let abc =
                "30 31 30 0D 06 09 60 86 48 01 65 03 04 02 01 05 00 04 20 BA 78 16 BF 8F 01 CF EA 41 41 40 DE 5D AE"
                + " 22 23 B0 03 61 A3 96 17 7A 9C B4 10 FF 61 F2 00 15 AD"
            let commands = [
                "00 A4 04 0C 08 \(Hex.encode(PrivateCAICCard.aid))",
                "00 2A 9E 9A 33 \(abc) 00",
                "00 20 00 81",
                "00 20 00 81 05 57 52 4F 4E 47",
                "00 20 00 81 08 \(pin)",
                "00 20 00 81",
                "00 2A 9E 9A 33 \(abc) 00",
            ]
            try Data(commands.joined(separator: "\n").appending("\n").utf8).write(to: script)
            try await TestBench.withCard(card, slot: Self.slot) { _, _, reader in
                let output = try await OpenSCTools.succeed("scriptor", ["-r", reader, script.path])
                let answers = scriptorAnswers(output)
                try #require(answers.count == commands.count, "scriptor answered \(answers.count) commands")
                #expect(answers[0] == [0x90, 0x00])
                #expect(answers[1] == [0x69, 0x82])
                #expect(answers[2] == [0x63, 0xCA])
                #expect(answers[3] == [0x63, 0xC9])
                #expect(answers[4] == [0x90, 0x00])
                #expect(answers[5] == [0x90, 0x00])
                let signature = answers[6]
                #expect(signature.suffix(2) == [0x90, 0x00])
                let certificate = try Certificate(derEncoded: material.icCard.holderCertificate)
                #expect(
                    certificate.publicKey.isValidSignature(
                        Array(signature.dropLast(2)), for: Array("abc".utf8),
                        signatureAlgorithm: .sha256WithRSAEncryption))
            }
        }
    }
}

/// The response APDUs in a `scriptor` transcript (lines `< XX XX … : meaning`, data spread over several lines).
func scriptorAnswers(_ transcript: String) -> [[UInt8]] {
    var answers: [[UInt8]] = []
    var current: [UInt8]?
    for line in transcript.split(separator: "\n", omittingEmptySubsequences: false) {
        var text = Substring(line)
        if text.hasPrefix("< ") {
            current = []
            text = text.dropFirst(2)
        } else if current == nil {
            continue
        }
        let (hex, ends) = text.split(separator: ":", maxSplits: 1).first.map { ($0, text.contains(":")) } ?? ("", false)
        current?.append(contentsOf: hex.split(separator: " ").compactMap { UInt8($0, radix: 16) })
        if ends, let done = current {
            answers.append(done)
            current = nil
        }
    }
    return answers
}
