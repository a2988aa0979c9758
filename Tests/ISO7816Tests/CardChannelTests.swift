import ISO7816
import Synchronization
import Testing

@Suite("CardChannel exchange rules")
struct CardChannelTests {
    private func step(_ command: String, _ data: [UInt8], _ sw: String) throws
        -> ScriptedTransport.Step
    {
        ScriptedTransport.Step(expected: try hex(command), answer: .bytes(data + (try hex(sw))))
    }

    private func step(_ command: [UInt8], _ data: [UInt8], _ sw: String) throws
        -> ScriptedTransport.Step
    {
        ScriptedTransport.Step(expected: command, answer: .bytes(data + (try hex(sw))))
    }

    private func unsupportedExtended() -> CardChannel.Configuration {
        var configuration = CardChannel.Configuration()
        configuration.extendedLength = .unsupported
        return configuration
    }

    // MARK: 61xx

    @Test("61xx: several GET RESPONSE with the same CLA, 61 00 meaning 256")
    func getResponseChain() async throws {
        let first = pattern(16)
        let second = pattern(256, start: 16)
        let transport = ScriptedTransport(steps: [
            try step("80 CA 01 02 00", [], "61 10"),
            try step("80 C0 00 00 10", first, "61 00"),
            try step("80 C0 00 00 00", second, "90 00"),
        ])
        let channel = CardChannel(transport: transport)
        let command = try CommandAPDU(cla: 0x80, ins: 0xCA, p1: 1, p2: 2, expectedLength: 256)
        let response = try await channel.transmit(command)
        #expect(response.statusWord == .success)
        #expect(response.data == first + second)
        #expect(await transport.isFinished)
        let statistics = channel.statistics
        #expect(statistics.apdusSent == 3)
        #expect(statistics.getResponses == 2)
        #expect(statistics.bytesReceived == 2 + 18 + 258)
        #expect(statistics.bytesSent == 15)
    }

    @Test("61xx: a chain that never ends stops at the configured cap")
    func getResponseCap() async throws {
        var steps = [try step("00 CA 00 00 00", [], "61 01")]
        for _ in 0..<3 { steps.append(try step("00 C0 00 00 01", [0xAA], "61 01")) }
        let transport = ScriptedTransport(steps: steps)
        var configuration = CardChannel.Configuration()
        configuration.maximumGetResponses = 3
        let channel = CardChannel(transport: transport, configuration: configuration)
        await #expect(throws: ISO7816Error.tooManyGetResponses(limit: 3)) {
            try await channel.transmit(try CommandAPDU(ins: 0xCA, p1: 0, p2: 0, expectedLength: 256))
        }
        #expect(await transport.isFinished)
        #expect(channel.statistics.apdusSent == 4)
    }

    @Test("61xx: GET RESPONSE uses the configured instruction and drops the chaining bit")
    func customGetResponse() async throws {
        let transport = ScriptedTransport(steps: [
            try step("90 CA 00 00 00", [], "61 02"),
            try step("80 C2 00 00 02", [1, 2], "90 00"),
        ])
        var configuration = CardChannel.Configuration()
        configuration.getResponseInstruction = 0xC2
        let channel = CardChannel(transport: transport, configuration: configuration)
        let response = try await channel.transmit(
            try CommandAPDU(cla: 0x90, ins: 0xCA, p1: 0, p2: 0, expectedLength: 256))
        #expect(response.data == [1, 2])
        #expect(await transport.isFinished)
    }

    // MARK: 6Cxx

    @Test("6Cxx: the command is resent once with the Le the card asked for")
    func wrongLengthResend() async throws {
        let transport = ScriptedTransport(steps: [
            try step("00 B0 00 00 00", [], "6C 10"),
            try step("00 B0 00 00 10", pattern(16), "90 00"),
        ])
        let channel = CardChannel(transport: transport)
        let response = try await channel.transmit(try .readBinary())
        #expect(response.data == pattern(16))
        #expect(response.isSuccess)
        #expect(channel.statistics.wrongLengthResends == 1)
        #expect(await transport.isFinished)
    }

    @Test("6Cxx twice: repeatedWrongLength")
    func wrongLengthTwice() async throws {
        let transport = try ScriptedTransport([
            ("00 B0 00 00 00", "6C 10"),
            ("00 B0 00 00 10", "6C 08"),
        ])
        let channel = CardChannel(transport: transport)
        await #expect(throws: ISO7816Error.repeatedWrongLength(StatusWord(0x6C08))) {
            try await channel.transmit(try .readBinary())
        }
        #expect(await transport.isFinished)
    }

    @Test("6Cxx on a GET RESPONSE: resent once, twice is an error")
    func wrongLengthInsideChain() async throws {
        let transport = ScriptedTransport(steps: [
            try step("00 CA 00 00 00", [], "61 10"),
            try step("00 C0 00 00 10", [], "6C 04"),
            try step("00 C0 00 00 04", [1, 2, 3, 4], "90 00"),
        ])
        let channel = CardChannel(transport: transport)
        let response = try await channel.transmit(
            try CommandAPDU(ins: 0xCA, p1: 0, p2: 0, expectedLength: 256))
        #expect(response.data == [1, 2, 3, 4])

        let twice = try ScriptedTransport([
            ("00 CA 00 00 00", "61 10"), ("00 C0 00 00 10", "6C 04"), ("00 C0 00 00 04", "6C 02"),
        ])
        await #expect(throws: ISO7816Error.repeatedWrongLength(StatusWord(0x6C02))) {
            try await CardChannel(transport: twice).transmit(
                try CommandAPDU(ins: 0xCA, p1: 0, p2: 0, expectedLength: 256))
        }
    }

    // MARK: T=0

    @Test("T=0: case 4 goes out without Le and its data come back through 61xx")
    func t0Case4() async throws {
        let challenge = try hex("01 02 03 04")
        let answer = pattern(32)
        let transport = ScriptedTransport(
            steps: [
                try step("00 88 00 00 04 01 02 03 04", [], "61 20"),
                try step("00 C0 00 00 20", answer, "90 00"),
            ], link: .t0)
        let channel = CardChannel(transport: transport)
        let response = try await channel.transmit(try .internalAuthenticate(data: challenge))
        #expect(response.data == answer)
        #expect(await transport.isFinished)

        // The same command on T=1 keeps its Le.
        let t1 = ScriptedTransport(steps: [try step("00 88 00 00 04 01 02 03 04 00", answer, "90 00")])
        let t1Response = try await CardChannel(transport: t1).transmit(
            try .internalAuthenticate(data: challenge))
        #expect(t1Response.data == answer)
        #expect(await t1.isFinished)
    }

    @Test("T=0: a command that needs extended length is chained, never sent extended")
    func t0NeverExtended() async throws {
        let data = pattern(300)
        let transport = ScriptedTransport(
            steps: [
                try step([0x10, 0xDA, 0, 0, 0xFF] + data[0..<255], [], "90 00"),
                try step([0x00, 0xDA, 0, 0, 45] + data[255...], [], "90 00"),
            ], link: .t0)
        var configuration = CardChannel.Configuration()
        configuration.extendedLength = .supported
        let channel = CardChannel(transport: transport, configuration: configuration)
        let response = try await channel.transmit(try CommandAPDU(ins: 0xDA, p1: 0, p2: 0, data: data))
        #expect(response.isSuccess)
        #expect(await transport.isFinished)
    }

    // MARK: Chaining

    @Test("Chaining: CLA|10 on every part but the last when extended length is unsupported")
    func chaining() async throws {
        let data = pattern(600)
        let transport = ScriptedTransport(steps: [
            try step([0x10, 0x2A, 0x9E, 0x9A, 0xFF] + data[0..<255], [], "90 00"),
            try step([0x10, 0x2A, 0x9E, 0x9A, 0xFF] + data[255..<510], [], "90 00"),
            try step([0x00, 0x2A, 0x9E, 0x9A, 90] + data[510...] + [0x00], pattern(256), "90 00"),
        ])
        let channel = CardChannel(transport: transport, configuration: unsupportedExtended())
        let response = try await channel.transmit(try .computeDigitalSignature(data: data))
        #expect(response.data == pattern(256))
        #expect(await transport.isFinished)
        #expect(channel.statistics.apdusSent == 3)
    }

    @Test("Chaining stops at the first part the card refuses")
    func chainingStops() async throws {
        let data = pattern(600)
        let transport = ScriptedTransport(steps: [
            try step([0x10, 0xDA, 0x01, 0x02, 0xFF] + data[0..<255], [], "90 00"),
            try step([0x10, 0xDA, 0x01, 0x02, 0xFF] + data[255..<510], [], "6A 80"),
        ])
        let channel = CardChannel(transport: transport, configuration: unsupportedExtended())
        let response = try await channel.transmit(try CommandAPDU(ins: 0xDA, p1: 1, p2: 2, data: data))
        #expect(response.statusWord == .incorrectData)
        #expect(await transport.isFinished)  // the third part was never sent
    }

    @Test("Chaining refused by configuration: extendedLengthUnavailable, nothing sent")
    func chainingNotAllowed() async throws {
        let transport = try ScriptedTransport([])
        var configuration = unsupportedExtended()
        configuration.allowsChaining = false
        let channel = CardChannel(transport: transport, configuration: configuration)
        await #expect(throws: ISO7816Error.extendedLengthUnavailable) {
            try await channel.transmit(try CommandAPDU(ins: 0xDA, p1: 0, p2: 0, data: pattern(300)))
        }
        #expect(await transport.sent.isEmpty)
    }

    // MARK: Extended length

    @Test("Extended length probe: 67 00 is remembered and the channel falls back to chaining")
    func extendedProbeUnsupported() async throws {
        let data = pattern(300)
        let transport = ScriptedTransport(steps: [
            try step([0x00, 0xDA, 0, 0, 0x00, 0x01, 0x2C] + data, [], "67 00"),
            try step([0x10, 0xDA, 0, 0, 0xFF] + data[0..<255], [], "90 00"),
            try step([0x00, 0xDA, 0, 0, 45] + data[255...], [], "90 00"),
            // The next long command is chained at once: no second probe.
            try step([0x10, 0xDA, 0, 0, 0xFF] + data[0..<255], [], "90 00"),
            try step([0x00, 0xDA, 0, 0, 45] + data[255...], [], "90 00"),
        ])
        let channel = CardChannel(transport: transport)
        #expect(channel.extendedLengthSupport == .unknown)
        let command = try CommandAPDU(ins: 0xDA, p1: 0, p2: 0, data: data)
        #expect(try await channel.transmit(command).isSuccess)
        #expect(channel.extendedLengthSupport == .unsupported)
        #expect(try await channel.transmit(command).isSuccess)
        #expect(await transport.isFinished)
    }

    @Test(
        "Extended length probe: any other answer means supported, and Ne above 256 is capped on fallback"
    )
    func extendedProbeSupported() async throws {
        let transport = ScriptedTransport(steps: [
            try step("00 CA 00 00 00 02 00", pattern(512), "90 00"),
            try step("00 CA 00 00 00 04 00", pattern(1024), "90 00"),
        ])
        let channel = CardChannel(transport: transport)
        let first = try await channel.transmit(
            try CommandAPDU(ins: 0xCA, p1: 0, p2: 0, expectedLength: 512))
        #expect(first.data.count == 512)
        #expect(channel.extendedLengthSupport == .supported)
        let second = try await channel.transmit(
            try CommandAPDU(ins: 0xCA, p1: 0, p2: 0, expectedLength: 1024))
        #expect(second.data.count == 1024)
        #expect(await transport.isFinished)

        let short = ScriptedTransport(steps: [
            try step("00 CA 00 00 00", pattern(256), "61 00"),
            try step("00 C0 00 00 00", pattern(256), "90 00"),
        ])
        let shortChannel = CardChannel(transport: short, configuration: unsupportedExtended())
        let capped = try await shortChannel.transmit(
            try CommandAPDU(ins: 0xCA, p1: 0, p2: 0, expectedLength: 512))
        #expect(capped.data.count == 512)
        #expect(await short.isFinished)
    }

    // MARK: Whole files

    private func certificateLike(_ length: Int) -> [UInt8] {
        let body = length - 4
        return [0x30, 0x82, UInt8(body >> 8), UInt8(body & 0xFF)] + pattern(body, start: 7)
    }

    @Test("readTransparentFile: one extended READ BINARY where the card takes it")
    func readFileExtended() async throws {
        let file = certificateLike(1000)
        let transport = ScriptedTransport(steps: [try step("00 B0 00 00 00 00 00", file, "90 00")])
        var configuration = CardChannel.Configuration()
        configuration.extendedLength = .supported
        let channel = CardChannel(transport: transport, configuration: configuration)
        #expect(try await channel.readTransparentFile() == file)
        #expect(channel.statistics.apdusSent == 1)
        #expect(await transport.isFinished)
    }

    @Test("readTransparentFile: a 1,000-byte DER file in 4 short READ BINARY")
    func readFileShort() async throws {
        let file = certificateLike(1000)
        #expect(Array(file.prefix(4)) == [0x30, 0x82, 0x03, 0xE4])
        let transport = ScriptedTransport(steps: [
            try step("00 B0 00 00 00", Array(file[0..<256]), "90 00"),
            try step("00 B0 01 00 00", Array(file[256..<512]), "90 00"),
            try step("00 B0 02 00 00", Array(file[512..<768]), "90 00"),
            try step("00 B0 03 00 E8", Array(file[768...]), "90 00"),
        ])
        let channel = CardChannel(transport: transport, configuration: unsupportedExtended())
        #expect(try await channel.readTransparentFile() == file)
        #expect(channel.statistics.apdusSent == 4)
        #expect(await transport.isFinished)
    }

    @Test("readTransparentFile: an unknown card is probed once, then read short")
    func readFileProbe() async throws {
        let file = certificateLike(300)
        let transport = ScriptedTransport(steps: [
            try step("00 B0 00 00 00 00 00", [], "67 00"),
            try step("00 B0 00 00 00", Array(file[0..<256]), "90 00"),
            try step("00 B0 01 00 2C", Array(file[256...]), "90 00"),
        ])
        let channel = CardChannel(transport: transport)
        #expect(try await channel.readTransparentFile() == file)
        #expect(channel.extendedLengthSupport == .unsupported)
        #expect(await transport.isFinished)
    }

    @Test("readTransparentFile without a length: until a short answer, 62 82 or 6B 00")
    func readFileUnknownLength() async throws {
        // Not BER-TLV (begins with padding): read until the card says the file ended.
        let short = [UInt8(0x00)] + pattern(99)
        let t1 = ScriptedTransport(steps: [try step("00 B0 00 00 00", short, "90 00")])
        #expect(
            try await CardChannel(transport: t1, configuration: unsupportedExtended())
                .readTransparentFile() == short)

        let file = [UInt8(0x00)] + pattern(299)
        let t2 = ScriptedTransport(steps: [
            try step("00 B0 00 00 00", Array(file[0..<256]), "90 00"),
            try step("00 B0 01 00 00", Array(file[256...]), "62 82"),
        ])
        #expect(
            try await CardChannel(transport: t2, configuration: unsupportedExtended())
                .readTransparentFile() == file)
        #expect(await t2.isFinished)

        let exact = [UInt8(0xFF), 0xFF] + pattern(510)
        let t3 = ScriptedTransport(steps: [
            try step("00 B0 00 00 00", Array(exact[0..<256]), "90 00"),
            try step("00 B0 01 00 00", Array(exact[256...]), "90 00"),
            try step("00 B0 02 00 00", [], "6B 00"),
        ])
        #expect(
            try await CardChannel(transport: t3, configuration: unsupportedExtended())
                .readTransparentFile() == exact)
        #expect(await t3.isFinished)
    }

    @Test(
        "readTransparentFile: a file longer than READ BINARY offsets reach is an error, not truncated")
    func readFileTooLong() async throws {
        // The header announces 65541 bytes; short READ BINARY offsets end at 7FFF.
        let header: [UInt8] = [0x30, 0x83, 0x01, 0x00, 0x00]
        var steps: [ScriptedTransport.Step] = []
        for chunk in 0..<128 {
            let offset = chunk * 256
            let data = chunk == 0 ? header + pattern(251) : pattern(256)
            steps.append(
                try step([0x00, 0xB0, UInt8(offset >> 8), UInt8(offset & 0xFF), 0x00], data, "90 00"))
        }
        let transport = ScriptedTransport(steps: steps)
        let channel = CardChannel(transport: transport, configuration: unsupportedExtended())
        let error = await #expect(throws: ISO7816Error.self) { try await channel.readTransparentFile() }
        guard case .invalidCommandParameter = error else {
            Issue.record("expected invalidCommandParameter, got \(String(describing: error))")
            return
        }
        #expect(await transport.isFinished)
    }

    @Test("readTransparentFile: a given length, and a refused read")
    func readFileGivenLengthAndError() async throws {
        let transport = ScriptedTransport(steps: [try step("00 B0 00 00 64", pattern(100), "90 00")])
        let channel = CardChannel(transport: transport)
        #expect(try await channel.readTransparentFile(expectedLength: 100) == pattern(100))

        let refused = try ScriptedTransport([("00 B0 00 00 00", "69 82")])
        let refusing = CardChannel(transport: refused, configuration: unsupportedExtended())
        await #expect(
            throws: ISO7816Error.unexpectedStatus(.securityStatusNotSatisfied, operation: "READ BINARY")
        ) {
            try await refusing.readTransparentFile()
        }
    }

    // MARK: Failures

    @Test("Answers of 0 or 1 byte are malformed responses", arguments: ["", "90"])
    func malformedAnswers(answer: String) async throws {
        let transport = try ScriptedTransport([("00 A4 04 0C 05 A0 00 00 00 01", answer)])
        let channel = CardChannel(transport: transport)
        let error = await #expect(throws: ISO7816Error.self) {
            try await channel.transmit(try .select(aid: [0xA0, 0, 0, 0, 1]))
        }
        guard case .malformedResponse = error else {
            Issue.record("expected malformedResponse, got \(String(describing: error))")
            return
        }
    }

    @Test(
        "Transport errors come through unchanged",
        arguments: [CardTransportFailure.cardRemoved, .cardReset])
    func transportErrors(failure: CardTransportFailure) async throws {
        let transport = ScriptedTransport(steps: [
            .init(expected: try hex("00 84 00 00 08"), answer: .error(TestLinkError(failure: failure)))
        ])
        let channel = CardChannel(transport: transport)
        do {
            _ = try await channel.transmit(try .getChallenge(length: 8))
            Issue.record("the transport's error was swallowed")
        } catch {
            #expect(error as? TestLinkError == TestLinkError(failure: failure))
            #expect(error.cardTransportFailure == failure)
        }
    }

    // MARK: Statistics, secrets, concurrency

    @Test("Statistics count APDUs and bytes, and reset")
    func statistics() async throws {
        let transport = try ScriptedTransport([
            ("00 A4 02 0C 02 00 0A", "90 00"), ("00 B0 00 00 04", "30 82 01 00 90 00"),
        ])
        let channel = CardChannel(transport: transport)
        _ = try await channel.transmit(try .select(fileID: 0x000A))
        _ = try await channel.transmit(try .readBinary(expectedLength: 4))
        #expect(channel.statistics.apdusSent == 2)
        #expect(channel.statistics.bytesSent == 7 + 5)
        #expect(channel.statistics.bytesReceived == 2 + 6)
        channel.resetStatistics()
        #expect(channel.statistics == CardChannel.Statistics())
    }

    @Test("A PIN reaches the card but never the tracer or a description")
    func sensitiveMasked() async throws {
        let pin = Array("123456".utf8)
        let transport = try ScriptedTransport([("00 20 00 80 06 31 32 33 34 35 36", "63 C4")])
        let traced = TraceLog()
        var configuration = CardChannel.Configuration()
        configuration.tracer = { command, _ in traced.commands.withLock { $0.append(command) } }
        let channel = CardChannel(transport: transport, configuration: configuration)
        let verify = try CommandAPDU.verify(reference: 0x80, pin: pin)
        #expect(!verify.description.contains("31 32 33"))
        #expect(verify.description.contains("<redacted>"))
        let response = try await channel.transmit(verify)
        #expect(response.statusWord.verificationTriesLeft == 4)
        let seen = traced.commands.withLock { $0 }
        #expect(seen.count == 1)
        #expect(seen.first?.data == [0, 0, 0, 0, 0, 0])
        #expect(seen.first?.description.contains("<redacted>") == true)
        #expect(seen.first?.description.contains("31 32") == false)
        #expect(await transport.isFinished)
    }

    @Test("Concurrent transmits never interleave their GET RESPONSE chains")
    func concurrentChains() async throws {
        let card = ChainingCard()
        let channel = CardChannel(transport: card)
        try await withThrowingTaskGroup(of: [UInt8].self) { group in
            for ins: UInt8 in [0x01, 0x02, 0x03, 0x04] {
                group.addTask {
                    let response = try await channel.transmit(
                        try CommandAPDU(cla: 0x80, ins: ins, p1: 0, p2: 0, expectedLength: 256))
                    #expect(response.isSuccess)
                    #expect(response.data == [ins, ins, ins])
                    return response.data
                }
            }
            var count = 0
            for try await _ in group { count += 1 }
            #expect(count == 4)
        }
        #expect(await card.violations.isEmpty)
        #expect(await card.log.count == 12)
    }
}

/// What a tracer saw.
final class TraceLog: Sendable {
    let commands = Mutex<[CommandAPDU]>([])
}

/// A card that answers every command with `61 01` and two more GET RESPONSE steps, and records any command that
/// arrives while another command's chain is still open.
actor ChainingCard: CardTransport {
    private var open: (ins: UInt8, left: Int)?
    private(set) var violations: [String] = []
    private(set) var log: [[UInt8]] = []

    func transmit(_ command: [UInt8]) async throws -> [UInt8] {
        log.append(command)
        // Let other tasks run here, so interleaving would show.
        await Task.yield()
        let ins = command[1]
        if ins == 0xC0 {
            guard let current = open else {
                violations.append("GET RESPONSE with no open chain")
                return [0x69, 0x85]
            }
            if current.left == 1 {
                open = nil
                return [current.ins, 0x90, 0x00]
            }
            open = (current.ins, current.left - 1)
            return [current.ins, 0x61, 0x01]
        }
        if let current = open {
            violations.append("command \(ins) arrived inside the chain of \(current.ins)")
        }
        open = (ins, 2)
        await Task.yield()
        return [ins, 0x61, 0x01]
    }
}
