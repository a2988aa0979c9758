import ISO7816
import Testing

@testable import PCSC

@Suite("PCSCError maps every pcsc-lite code")
struct PCSCErrorTests {
    /// Every SCARD_E_*, SCARD_F_* and SCARD_W_* code of pcsc-lite 1.9 (pcsclite.h).
    static let allCodes: [Int64] =
        Array(0x8010_0001...0x8010_0017) + Array(0x8010_0019...0x8010_0021)
        + Array(0x8010_0023...0x8010_0031) + Array(0x8010_0065...0x8010_006F)

    @Test("each code has its member, its C name, and a sentence", arguments: allCodes)
    func eachCode(code: Int64) throws {
        let error = try #require(PCSCError(code: code))
        #expect(error.code.rawValue == code)
        #expect(error.code.name.hasPrefix("SCARD_"), "0x\(String(code, radix: 16)) is not in the table")
        #expect(error.description == "\(error.summary) (\(error.code.name))")
        #expect(error.summary.count > 15)
    }

    @Test("the table lists each code once, and the codes are all different")
    func distinct() {
        #expect(Set(PCSCError.table.map(\.code)).count == PCSCError.table.count)
        #expect(Set(PCSCError.table.map(\.name)).count == PCSCError.table.count)
        #expect(PCSCError.table.count == Self.allCodes.count)
        let codes = Self.allCodes.compactMap { PCSCError(code: $0)?.code }
        #expect(Set(codes).count == Self.allCodes.count)
    }

    @Test("success is no error; an unknown code keeps its value and is still a PCSCError")
    func successAndUnknown() throws {
        #expect(PCSCError(code: 0) == nil)
        let unknown = try #require(PCSCError(code: 0x8010_00FF))
        #expect(unknown.code == PCSCError.Code(rawValue: 0x8010_00FF))
        #expect(unknown.code.name == "unknown")
        #expect(unknown.description.contains("0x801000FF"))
        #expect(unknown.failure == .other)
        // pcsc-lite's LONG is negative on some platforms: the same code.
        #expect(PCSCError(code: Int64(Int32(bitPattern: 0x8010_000C)))?.code == .noSmartcard)
    }

    @Test("callers match on the code")
    func matching() {
        let thrown: any Error = PCSCError(.noSmartcard)
        guard let error = thrown as? PCSCError, error.code == .noSmartcard else {
            Issue.record("not matched")
            return
        }
        #expect(error.code.description == "SCARD_E_NO_SMARTCARD (0x8010000C)")
        switch error.code {
        case .removedCard, .noSmartcard: break
        default: Issue.record("a switch over codes needs a default, so new codes break nobody")
        }
    }

    @Test("pcscd not running says so, without telling how to run the system")
    func noService() {
        let error = PCSCError(.noService)
        #expect(error.description == "The smart card service (pcscd) is not running. (SCARD_E_NO_SERVICE)")
        #expect(error.failure == .serviceUnavailable)
    }

    @Test("no message gives operating advice: that is the tools' part")
    func noAdvice() {
        for entry in PCSCError.table {
            #expect(!entry.summary.contains("sudo"), "\(entry.name)")
            #expect(!entry.summary.contains("systemctl"), "\(entry.name)")
            #expect(!entry.summary.contains("try again"), "\(entry.name)")
        }
    }

    @Test("a reply the binding cannot decode has its own code and says what")
    func malformedReply() {
        let error = PCSCError(.malformedReply, detail: "feature entry cut short at byte 2")
        #expect(error.code.rawValue < 0)
        #expect(error.description.contains("feature entry cut short at byte 2"))
        #expect(error.failure == .other)
    }

    @Test("link failures are classified for flows")
    func failures() {
        #expect(PCSCError(.removedCard).failure == .cardRemoved)
        #expect(PCSCError(.noSmartcard).failure == .cardRemoved)
        #expect(PCSCError(.resetCard).failure == .cardReset)
        #expect(PCSCError(.sharingViolation).failure == .sharingViolation)
        #expect(PCSCError(.readerUnavailable).failure == .readerUnavailable)
        #expect(PCSCError(.unresponsiveCard).failure == .cardUnresponsive)
        #expect(PCSCError(.invalidParameter).failure == .other)
        let any: any Error = PCSCError(.removedCard)
        #expect(any.cardTransportFailure == .cardRemoved)
    }

    @Test("the blocked-PIN code carries the Japanese term")
    func blocked() {
        #expect(PCSCError(.chvBlocked).description.contains("閉塞"))
    }
}

@Suite("Reader features (PC/SC part 10)")
struct ReaderFeaturesTests {
    @Test("vpcd's answer: GET_TLV_PROPERTIES only, a big-endian control code, no PIN pad")
    func vpcdAnswer() throws {
        let features = try ReaderFeatures(parsing: [0x12, 0x04, 0x42, 0x33, 0x00, 0x12])
        #expect(features.controlCode(.getTLVProperties) == 0x4233_0012)
        #expect(!features.hasPINPad)
        #expect(features.controlCode(.verifyPINDirect) == nil)
    }

    @Test("a PIN-pad reader's answer")
    func pinPad() throws {
        let bytes: [UInt8] = [
            0x06, 0x04, 0x42, 0x33, 0x00, 0x06, 0x07, 0x04, 0x42, 0x33, 0x00, 0x07, 0x0A, 0x04, 0x42, 0x33, 0x00, 0x0A,
        ]
        let features = try ReaderFeatures(parsing: bytes)
        #expect(features.hasPINPad)
        #expect(features.controlCode(.verifyPINDirect) == 0x4233_0006)
        #expect(features.controlCode(.modifyPINDirect) == 0x4233_0007)
        #expect(features.controlCodes.count == 3)
        #expect(ReaderFeatures.Feature.verifyPINDirect.description == "FEATURE_VERIFY_PIN_DIRECT")
    }

    @Test("an empty answer has no features")
    func empty() throws {
        #expect(try ReaderFeatures(parsing: []).controlCodes.isEmpty)
    }

    @Test(
        "truncated or malformed answers are errors, not traps",
        arguments: [
            [0x06], [0x06, 0x04, 0x42, 0x33], [0x06, 0x02, 0x42, 0x33], [0x12, 0x04, 0x42, 0x33, 0x00, 0x12, 0x06],
        ]
            as [[UInt8]])
    func malformed(bytes: [UInt8]) {
        #expect(throws: PCSCError.self) { try ReaderFeatures(parsing: bytes) }
    }

    @Test("PIN_VERIFY_STRUCTURE: packed little-endian fields, then the VERIFY template")
    func pinVerifyStructure() {
        let request = PINPadVerifyRequest(reference: 0x80, minimumLength: 4, maximumLength: 4)
        let bytes = request.encoded()
        #expect(bytes.count == 19 + 5)
        #expect(bytes[2] == 0x82, "bmFormatString: bytes, offset 0, ASCII")
        #expect(bytes[5] == 4 && bytes[6] == 4, "wPINMaxExtraDigit: max, then min")
        #expect(bytes[9] == 0x11 && bytes[10] == 0x04, "wLangId 0x0411 little-endian")
        #expect(Array(bytes[15..<19]) == [5, 0, 0, 0], "ulDataLength")
        #expect(Array(bytes[19...]) == [0x00, 0x20, 0x00, 0x80, 0x00])
    }
}

@Suite("APDU tracing masks PINs")
struct MaskingTests {
    @Test("VERIFY, CHANGE REFERENCE DATA and RESET RETRY COUNTER data never appear in traces")
    func masked() {
        let verify: [UInt8] = [0x00, 0x20, 0x00, 0x80, 0x04, 0x31, 0x32, 0x33, 0x34]
        #expect(PCSCCard.masked(verify) == "00 20 00 80 <redacted>")
        #expect(!PCSCCard.masked(verify).contains("31 32"))
        #expect(PCSCCard.masked([0x00, 0x24, 0x01, 0x80, 0x02, 0x39, 0x39]) == "00 24 01 80 <redacted>")
        #expect(PCSCCard.masked([0x00, 0x2C, 0x00, 0x80, 0x02, 0x39, 0x39]) == "00 2C 00 80 <redacted>")
        #expect(PCSCCard.masked([0x00, 0x20, 0x00, 0x80]) == "00 20 00 80", "the tries-left query has no data")
        #expect(PCSCCard.masked([0x00, 0xB0, 0x00, 0x00, 0x04]) == "00 B0 00 00 04")
    }

    @Test("protocol sets print as people write them")
    func protocols() {
        #expect(PCSCProtocols.any.description == "T=0, T=1")
        #expect(PCSCProtocols.t1.transmissionProtocol == .t1)
        #expect(PCSCProtocols.t0.transmissionProtocol == .t0)
        #expect(ReaderState([.present, .inUse]).description == "present, in use")
    }
}
