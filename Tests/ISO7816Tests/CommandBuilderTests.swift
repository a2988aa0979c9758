import ISO7816
import Testing

@Suite("Command builders")
struct CommandBuilderTests {
    static let jpkiAID: [UInt8] = [0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01]

    @Test("SELECT by AID, with each response and occurrence")
    func selectAID() throws {
        #expect(
            try CommandAPDU.select(aid: Self.jpkiAID).encoded()
                == hex("00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01"))
        let fci = try CommandAPDU.select(aid: Self.jpkiAID, response: .fci)
        #expect(fci.apduCase == .case4)
        #expect(try fci.encoded() == hex("00 A4 04 00 0A D3 92 F0 00 26 01 00 00 00 01 00"))
        #expect(try CommandAPDU.select(aid: Self.jpkiAID, response: .fcp).p2 == 0x04)
        #expect(try CommandAPDU.select(aid: Self.jpkiAID, response: .fmd).p2 == 0x08)
        let next = try CommandAPDU.select(aid: [0xA0, 0, 0, 0, 3], response: .fci, occurrence: .next)
        #expect(next.p2 == 0x02)
        #expect(try CommandAPDU.select(aid: [0xA0, 0, 0, 0, 3], occurrence: .next).p2 == 0x0E)
        #expect(try CommandAPDU.select(aid: [0xA0, 0, 0, 0, 3], occurrence: .last).p2 == 0x0D)
        #expect(try CommandAPDU.select(aid: [0xA0, 0, 0, 0, 3], cla: 0x80).cla == 0x80)
        #expect(throws: ISO7816Error.self) { try CommandAPDU.select(aid: []) }
        #expect(throws: ISO7816Error.self) { try CommandAPDU.select(aid: pattern(17)) }
    }

    @Test("SELECT by file identifier, as OpenSC's JPKI driver sends it")
    func selectFileID() throws {
        #expect(try CommandAPDU.select(fileID: 0x001B).encoded() == hex("00 A4 02 0C 02 00 1B"))
        #expect(try CommandAPDU.select(fileID: [0x00, 0x0A]).encoded() == hex("00 A4 02 0C 02 00 0A"))
        let fcp = try CommandAPDU.select(fileID: 0x3F00, selection: .any, response: .fcp)
        #expect(try fcp.encoded() == hex("00 A4 00 04 02 3F 00 00"))
        #expect(try CommandAPDU.select(fileID: 0x5015, selection: .childDF).p1 == 0x01)
        for bad in [[UInt8](), [0x00], [0x00, 0x0A, 0x01]] {
            let error = #expect(throws: ISO7816Error.self) { try CommandAPDU.select(fileID: bad) }
            guard case .invalidCommandParameter = error else {
                Issue.record("expected invalidCommandParameter")
                continue
            }
        }
    }

    @Test("READ BINARY: short, extended, offsets up to 7FFF, short EF identifiers")
    func readBinary() throws {
        #expect(try CommandAPDU.readBinary().encoded() == hex("00 B0 00 00 00"))
        #expect(
            try CommandAPDU.readBinary(offset: 0x0100, expectedLength: 4).encoded()
                == hex("00 B0 01 00 04"))
        #expect(
            try CommandAPDU.readBinary(offset: 0x7FFF, expectedLength: 1).encoded()
                == hex("00 B0 7F FF 01"))
        #expect(
            try CommandAPDU.readBinary(expectedLength: 65536).encoded() == hex("00 B0 00 00 00 00 00"))
        #expect(
            try CommandAPDU.readBinary(expectedLength: 1000).encoded() == hex("00 B0 00 00 00 03 E8"))
        #expect(
            try CommandAPDU.readBinary(shortFileID: 0x1E, offset: 0x10).encoded() == hex("00 B0 9E 10 00")
        )
        for offset in [-1, 0x8000] {
            #expect(throws: ISO7816Error.self) { try CommandAPDU.readBinary(offset: offset) }
        }
        #expect(throws: ISO7816Error.expectedLengthOutOfRange(0)) {
            try CommandAPDU.readBinary(expectedLength: 0)
        }
        #expect(throws: ISO7816Error.expectedLengthOutOfRange(65537)) {
            try CommandAPDU.readBinary(expectedLength: 65537)
        }
        #expect(throws: ISO7816Error.self) { try CommandAPDU.readBinary(shortFileID: 0) }
        #expect(throws: ISO7816Error.self) { try CommandAPDU.readBinary(shortFileID: 31) }
        #expect(throws: ISO7816Error.self) { try CommandAPDU.readBinary(shortFileID: 1, offset: 256) }
    }

    @Test("VERIFY carries the PIN marked sensitive; the status query is case 1")
    func verify() throws {
        let verify = try CommandAPDU.verify(reference: 0x80, pin: Array("1234".utf8))
        #expect(verify.isSensitive)
        #expect(try verify.encoded() == hex("00 20 00 80 04 31 32 33 34"))
        let status = try CommandAPDU.verifyStatus(reference: 0x80)
        #expect(status.apduCase == .case1)
        #expect(!status.isSensitive)
        #expect(try status.encoded() == hex("00 20 00 80"))
        let error = #expect(throws: ISO7816Error.self) {
            try CommandAPDU.verify(reference: 0x80, pin: [])
        }
        #expect(error.map { String(describing: $0).contains("PIN") } == true)
        #expect(throws: ISO7816Error.self) {
            try CommandAPDU.verify(reference: 0x80, pin: pattern(256))
        }
    }

    @Test("CHANGE REFERENCE DATA with and without the old PIN")
    func changeReferenceData() throws {
        let newOnly = try CommandAPDU.changeReferenceData(reference: 0x80, newPIN: Array("5678".utf8))
        #expect(try newOnly.encoded() == hex("00 24 01 80 04 35 36 37 38"))
        #expect(newOnly.isSensitive)
        let both = try CommandAPDU.changeReferenceData(
            reference: 0x81, oldPIN: Array("12".utf8), newPIN: Array("34".utf8))
        #expect(try both.encoded() == hex("00 24 00 81 04 31 32 33 34"))
        #expect(throws: ISO7816Error.self) {
            try CommandAPDU.changeReferenceData(reference: 0x80, newPIN: [])
        }
        #expect(throws: ISO7816Error.self) {
            try CommandAPDU.changeReferenceData(reference: 0x80, oldPIN: [], newPIN: [0x31])
        }
        #expect(throws: ISO7816Error.self) {
            try CommandAPDU.changeReferenceData(
                reference: 0x80, oldPIN: pattern(200), newPIN: pattern(100))
        }
    }

    @Test("GET RESPONSE, GET CHALLENGE, INTERNAL AUTHENTICATE")
    func otherCommands() throws {
        #expect(try CommandAPDU.getResponse(expectedLength: 256).encoded() == hex("00 C0 00 00 00"))
        #expect(
            try CommandAPDU.getResponse(expectedLength: 0x10, cla: 0x80).encoded()
                == hex("80 C0 00 00 10"))
        #expect(throws: ISO7816Error.expectedLengthOutOfRange(0)) {
            try CommandAPDU.getResponse(expectedLength: 0)
        }
        #expect(try CommandAPDU.getChallenge(length: 8).encoded() == hex("00 84 00 00 08"))
        #expect(throws: ISO7816Error.expectedLengthOutOfRange(0)) {
            try CommandAPDU.getChallenge(length: 0)
        }
        let auth = try CommandAPDU.internalAuthenticate(data: [1, 2, 3])
        #expect(auth.apduCase == .case4)
        #expect(try auth.encoded() == hex("00 88 00 00 03 01 02 03 00"))
        let withKey = try CommandAPDU.internalAuthenticate(
            data: [1], expectedLength: 128, algorithm: 0x02, keyReference: 0x81)
        #expect(try withKey.encoded() == hex("00 88 02 81 01 01 80"))
        #expect(throws: ISO7816Error.self) { try CommandAPDU.internalAuthenticate(data: []) }
    }

    @Test("COMPUTE DIGITAL SIGNATURE: ISO header by default, JPKI's 80 2A 00 80 on request")
    func computeDigitalSignature() throws {
        // DigestInfo for SHA-256 (RFC 8017 §9.2) with a zero digest.
        let digestInfo =
            try hex("30 31 30 0D 06 09 60 86 48 01 65 03 04 02 01 05 00 04 20")
            + [UInt8](repeating: 0, count: 32)
        let iso = try CommandAPDU.computeDigitalSignature(data: digestInfo)
        #expect(iso.apduCase == .case4)
        #expect(try iso.encoded() == hex("00 2A 9E 9A 33") + digestInfo + [0x00])
        let jpki = try CommandAPDU.computeDigitalSignature(
            data: digestInfo, cla: 0x80, p1: 0x00, p2: 0x80)
        #expect(try jpki.encoded() == hex("80 2A 00 80 33") + digestInfo + [0x00])
        #expect(throws: ISO7816Error.self) { try CommandAPDU.computeDigitalSignature(data: []) }
        #expect(throws: ISO7816Error.expectedLengthOutOfRange(0)) {
            try CommandAPDU.computeDigitalSignature(data: [1], expectedLength: 0)
        }
        let long = try CommandAPDU.computeDigitalSignature(data: pattern(300), expectedLength: 512)
        #expect(long.needsExtendedLength)
    }
}
