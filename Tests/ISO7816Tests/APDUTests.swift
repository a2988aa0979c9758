import ISO7816
import Testing

@Suite("Command and response APDUs")
struct APDUTests {
    @Test("Cases 1 to 4, short encoding")
    func shortCases() throws {
        let case1 = try CommandAPDU(ins: 0x20, p1: 0, p2: 0x80)
        #expect(case1.apduCase == .case1)
        #expect(try case1.encoded() == hex("00 20 00 80"))

        let case2 = try CommandAPDU(ins: 0xB0, p1: 0, p2: 0, expectedLength: 256)
        #expect(case2.apduCase == .case2)
        #expect(try case2.encoded() == hex("00 B0 00 00 00"))
        #expect(
            try CommandAPDU(ins: 0xB0, p1: 1, p2: 2, expectedLength: 4).encoded() == hex("00 B0 01 02 04")
        )

        let case3 = try CommandAPDU(ins: 0xA4, p1: 2, p2: 0x0C, data: [0x00, 0x0A])
        #expect(case3.apduCase == .case3)
        #expect(try case3.encoded() == hex("00 A4 02 0C 02 00 0A"))

        let case4 = try CommandAPDU(
            cla: 0x80, ins: 0x2A, p1: 0, p2: 0x80, data: [1, 2, 3], expectedLength: 256)
        #expect(case4.apduCase == .case4)
        #expect(try case4.encoded() == hex("80 2A 00 80 03 01 02 03 00"))
        #expect(!case4.needsExtendedLength)
    }

    @Test("Cases 2 to 4, extended encoding (chosen or forced)")
    func extendedCases() throws {
        let case2 = try CommandAPDU(ins: 0xB0, p1: 0, p2: 0, expectedLength: 65536)
        #expect(case2.needsExtendedLength)
        #expect(try case2.encoded() == hex("00 B0 00 00 00 00 00"))
        #expect(
            try CommandAPDU(ins: 0xB0, p1: 0, p2: 0, expectedLength: 300).encoded()
                == hex("00 B0 00 00 00 01 2C"))

        let data = pattern(300)
        let case3 = try CommandAPDU(ins: 0xD6, p1: 0, p2: 0, data: data)
        #expect(try case3.encoded() == hex("00 D6 00 00 00 01 2C") + data)

        let case4 = try CommandAPDU(ins: 0x2A, p1: 0x9E, p2: 0x9A, data: data, expectedLength: 512)
        #expect(try case4.encoded() == hex("00 2A 9E 9A 00 01 2C") + data + hex("02 00"))

        // Forcing extended on a small command; case 1 has no length fields to extend.
        let small = try CommandAPDU(ins: 0xCA, p1: 0, p2: 0, data: [1], expectedLength: 256)
        #expect(try small.encoded(extended: true) == hex("00 CA 00 00 00 00 01 01 01 00"))
        #expect(
            try CommandAPDU(ins: 0xCA, p1: 0, p2: 0, expectedLength: 256).encoded(extended: true)
                == hex("00 CA 00 00 00 01 00"))
        #expect(
            try CommandAPDU(ins: 0x20, p1: 0, p2: 0x80).encoded(extended: true) == hex("00 20 00 80"))

        // Demanding short for a command that does not fit.
        #expect(throws: ISO7816Error.extendedLengthUnavailable) { try case3.encoded(extended: false) }
    }

    @Test("Out-of-range data and Ne throw, never trap")
    func validation() throws {
        #expect(throws: ISO7816Error.dataTooLong(count: 65536, maximum: 65535)) {
            try CommandAPDU(ins: 0xD6, p1: 0, p2: 0, data: [UInt8](repeating: 0, count: 65536))
        }
        for ne in [0, -1, 65537] {
            #expect(throws: ISO7816Error.expectedLengthOutOfRange(ne)) {
                try CommandAPDU(ins: 0xB0, p1: 0, p2: 0, expectedLength: ne)
            }
        }
        let command = try CommandAPDU(ins: 0xB0, p1: 0, p2: 0, expectedLength: 1)
        #expect(throws: ISO7816Error.expectedLengthOutOfRange(70000)) {
            try command.with(expectedLength: 70000)
        }
        #expect(try command.with(expectedLength: nil).apduCase == .case1)
    }

    @Test(
        "Parsing every case back from its bytes",
        arguments: [
            "00 20 00 80", "00 B0 00 00 00", "00 B0 00 00 04", "00 A4 02 0C 02 00 0A",
            "80 2A 00 80 03 01 02 03 00",
            "00 B0 00 00 00 00 00", "00 B0 00 00 00 01 2C", "00 CA 00 00 00 00 01 01 01 00",
        ])
    func parseRoundTrip(text: String) throws {
        let bytes = try hex(text)
        let command = try CommandAPDU(bytes: bytes)
        let extended = bytes.count > 4 && bytes[4] == 0 && bytes.count >= 7
        #expect(try command.encoded(extended: extended) == bytes)
    }

    @Test("Parsed fields of a case 4 extended command")
    func parseExtendedFields() throws {
        let data = pattern(300)
        let command = try CommandAPDU(bytes: hex("10 2A 9E 9A 00 01 2C") + data + hex("00 00"))
        #expect(command.cla == 0x10)
        #expect(command.ins == 0x2A)
        #expect(command.p1 == 0x9E)
        #expect(command.p2 == 0x9A)
        #expect(command.data == data)
        #expect(command.expectedLength == 65536)
        #expect(command.apduCase == .case4)
    }

    @Test(
        "Malformed command bytes throw malformedCommand",
        arguments: [
            "", "00", "00 A4 04", "00 A4 04 0C 05 01 02", "00 A4 04 0C 02 01 02 03 04",
            "00 B0 00 00 00 00",
            "00 D6 00 00 00 00 00 01", "00 D6 00 00 00 00 03 01 02", "00 D6 00 00 00 00 02 01 02 03",
        ])
    func malformedCommands(text: String) throws {
        let bytes = try hex(text)
        let error = #expect(throws: ISO7816Error.self) { try CommandAPDU(bytes: bytes) }
        guard case .malformedCommand = error else {
            Issue.record("expected malformedCommand for \(text), got \(String(describing: error))")
            return
        }
    }

    @Test("with(cla:) keeps everything else; wipeData zeroes and empties")
    func derivedCommands() throws {
        let pin = Array("1234".utf8)
        var verify = try CommandAPDU.verify(reference: 0x80, pin: pin)
        let chained = verify.with(cla: 0x10)
        #expect(chained.cla == 0x10)
        #expect(chained.data == pin)
        #expect(chained.isSensitive)
        verify.wipeData()
        #expect(verify.data.isEmpty)
        #expect(verify.isSensitive)
    }

    @Test("Descriptions show the header, lengths and unmasked data unless sensitive")
    func descriptions() throws {
        let read = try CommandAPDU(ins: 0xB0, p1: 0, p2: 0, expectedLength: 256)
        #expect(read.description == "00 B0 00 00 Ne=256")
        let select = try CommandAPDU.select(fileID: 0x000A)
        #expect(select.description == "00 A4 02 0C Lc=2 00 0A")
        let verify = try CommandAPDU.verify(reference: 0x80, pin: Array("9876".utf8))
        #expect(verify.description == "00 20 00 80 Lc=4 <redacted>")
    }

    @Test("Response APDUs: parsing, bytes, successData")
    func responses() throws {
        let response = try ResponseAPDU(bytes: hex("01 02 90 00"))
        #expect(response.data == [1, 2])
        #expect(response.statusWord == .success)
        #expect(response.isSuccess)
        #expect(response.bytes == [1, 2, 0x90, 0x00])
        #expect(try response.successData(for: "READ BINARY") == [1, 2])
        #expect(response.description == "01 02 90 00 (success)")

        let bare = try ResponseAPDU(bytes: hex("6A 82"))
        #expect(bare.data.isEmpty)
        #expect(!bare.isSuccess)
        #expect(throws: ISO7816Error.unexpectedStatus(.fileNotFound, operation: "SELECT")) {
            try bare.successData(for: "SELECT")
        }
        #expect(
            ISO7816Error.unexpectedStatus(.fileNotFound, operation: "SELECT").description
                == "SELECT failed: the card answered 6A 82 (file or application not found).")

        for short in [[UInt8](), [0x90]] {
            let error = #expect(throws: ISO7816Error.self) { try ResponseAPDU(bytes: short) }
            guard case .malformedResponse = error else {
                Issue.record("expected malformedResponse, got \(String(describing: error))")
                continue
            }
        }
    }

    @Test("Hex text in and out")
    func hexText() throws {
        #expect(try Hex.decode("00 a4:04\t0C\n") == [0x00, 0xA4, 0x04, 0x0C])
        #expect(try Hex.decode("") == [])
        #expect(Hex.encode([0x90, 0x00]) == "90 00")
        #expect(Hex.encode([0xDF, 0x21], separator: "") == "DF21")
        for bad in ["0", "0G", "0 0", "12 3"] {
            let error = #expect(throws: ISO7816Error.self) { try Hex.decode(bad) }
            guard case .invalidHex = error else {
                Issue.record("expected invalidHex for \(bad)")
                continue
            }
        }
    }

    @Test("Every error has a sentence")
    func errorDescriptions() {
        let errors: [ISO7816Error] = [
            .dataTooLong(count: 300, maximum: 255), .expectedLengthOutOfRange(0), .malformedCommand("x"),
            .malformedResponse("x"), .malformedTLV(offset: 3, reason: "x"), .malformedATR("x"),
            .invalidHex("x"),
            .tooManyGetResponses(limit: 3), .repeatedWrongLength(StatusWord(0x6C02)),
            .extendedLengthUnavailable,
            .unexpectedStatus(.success, operation: "X"), .invalidCommandParameter("x"),
        ]
        for error in errors {
            #expect(error.description.hasSuffix("."), "\(error)")
            #expect(error.description.first?.isUppercase == true, "\(error)")
        }
    }
}
