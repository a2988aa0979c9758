import CardSimulator
import Foundation
import ISO7816
import PCSC
import Testing

extension EndToEnd {
    /// The `cardtool` example, run as a person runs it, against virtual cards through pcscd.
    @Suite("cardtool")
    struct CardToolTests {
        @Test("readers: each reader, whether a card is in it, and the card's ATR")
        func readers() async throws {
            let card = MinimalCard()
            try await TestBench.withCard(card, slot: 0) { _, _, reader in
                let result = try await Tools.run("cardtool", ["readers"])
                #expect(result.status == 0, "\(result.error)")
                let lines = result.output.split(separator: "\n")
                #expect(
                    lines.contains {
                        $0.contains(reader) && $0.contains("card present") && $0.contains(Hex.encode(card.atr))
                    })
                #expect(lines.contains { $0.contains("Virtual PCD") && $0.contains("no card") })
            }
        }

        @Test("send: data, status word and meaning for each APDU; exit 0 when the last is 90 00, 1 otherwise")
        func send() async throws {
            try await TestBench.withCard(MinimalCard(), slot: 0) { _, _, reader in
                let ok = try await Tools.run(
                    "cardtool",
                    ["send", "--reader", reader, "00 A4 04 00 07 F0 50 49 54 45 53 54", "80 10 01 2C 00"])
                #expect(ok.status == 0, "\(ok.error)")
                #expect(ok.output.contains("< 90 00 (success)"))
                // 300 bytes gathered through 61xx and GET RESPONSE: printed as one answer.
                let dataLine = try #require(ok.output.split(separator: "\n").first { $0.hasPrefix("< 00 01 02") })
                #expect(dataLine.split(separator: " ").count == 1 + 300)

                let refused = try await Tools.run("cardtool", ["send", "--reader", reader, "00A4040003A0A0A0"])
                #expect(refused.status == 1)
                #expect(refused.output.contains("6A 82 (file or application not found)"))

                let unknown = try await Tools.run("cardtool", ["send", "--reader", reader, "80 99 00 00"])
                #expect(unknown.status == 1)
                #expect(unknown.output.contains("6D 00 (instruction code not supported or invalid)"))

                // Without --reader, the only reader holding a card is used.
                let chosen = try await Tools.run("cardtool", ["send", "80 30 00 00 02 CA FE"])
                #expect(chosen.status == 0, "\(chosen.error)")
                #expect(chosen.output.contains("< CA FE"))
            }
        }

        @Test("send: bad hex and APDUs are usage errors (exit 64) that say what is wrong, before any card is touched")
        func sendBadInput() async throws {
            let odd = try await Tools.run("cardtool", ["send", "--reader", "Virtual PCD 00 00", "00A404"])
            #expect(odd.status == 64)
            #expect(odd.error.contains("malformed") || odd.error.contains("not a valid command APDU"))
            let notHex = try await Tools.run("cardtool", ["send", "--reader", "Virtual PCD 00 00", "00 A4 ZZ 00"])
            #expect(notHex.status == 64)
            #expect(notHex.error.contains("hex"))
            let noCard = try await Tools.run("cardtool", ["send", "00 A4 04 00"])
            #expect(noCard.status == 2)
            #expect(noCard.error.contains("No reader holds a card"))
        }

        @Test("atr: explains an ATR given in hex and names the card from pcsc-tools' list")
        func atr() async throws {
            let result = try await Tools.run("cardtool", ["atr", "3B E0 00 FF 81 31 FE 45 14"])
            #expect(result.status == 0, "\(result.error)")
            #expect(result.output.contains("TS = 3B direct convention"))
            #expect(result.output.contains("protocols: T=1"))
            #expect(result.output.contains("TCK = 14 (correct)"))
            if FileManager.default.fileExists(atPath: "/usr/share/pcsc/smartcard_list.txt") {
                #expect(result.output.contains("card:"))
            }
            let bad = try await Tools.run("cardtool", ["atr", "3B E0 00"])
            #expect(bad.status == 64)
            #expect(bad.error.contains("ATR"))
        }

        @Test("atr: reads the ATR of the card in a reader")
        func atrFromCard() async throws {
            try await TestBench.withCard(MinimalCard(), slot: 1) { _, _, reader in
                let result = try await Tools.run("cardtool", ["atr", "--reader", reader])
                #expect(result.status == 0, "\(result.error)")
                #expect(result.output.contains("historical bytes: 80"))
            }
        }

        @Test("watch: prints insert and remove events as they happen, and stops on SIGINT")
        func watch() async throws {
            let reader = try await TestBench.readerName(slot: 0)
            let process = Process()
            process.executableURL = Tools.binDirectory.appendingPathComponent("cardtool")
            process.arguments = ["watch", "--changes-only"]
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            try await Task.sleep(for: .milliseconds(500))
            let server = VPCDCardServer(port: VPCDCardServer.port(forSlot: 0))
            try await server.insert(MinimalCard())
            try await Task.sleep(for: .seconds(1))
            await server.remove()
            try await Task.sleep(for: .seconds(1))
            process.interrupt()
            let deadline = ContinuousClock.now + .seconds(5)
            while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            #expect(!process.isRunning, "cardtool watch must stop on SIGINT")
            if process.isRunning { process.terminate() }
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(text.contains("card inserted: \(reader)"))
            #expect(text.contains("card removed: \(reader)"))
            #expect(process.terminationStatus == 0)
        }

        @Test("without pcscd, the tool says how to start it")
        func noService() async throws {
            let result = try await Tools.run(
                "cardtool", ["readers"], environment: ["PCSCLITE_CSOCK_NAME": "/nonexistent/pcscd.comm"])
            #expect(result.status == 2)
            #expect(result.error.contains("pcscd"))
            #expect(result.error.contains("SCARD_E_NO_SERVICE"))
        }
    }
}
