import ISO7816
import Testing

@Suite("Status words")
struct StatusWordTests {
    @Test(
        "ISO 7816-4 meaning in words",
        arguments: [
            (0x9000, "success"),
            (0x6110, "16 response bytes still available"),
            (0x6100, "256 or more response bytes still available"),
            (0x6200, "warning: no information given, non-volatile memory unchanged"),
            (0x6281, "warning: part of the returned data may be corrupted"),
            (0x6282, "warning: end of file or record reached before reading Ne bytes"),
            (0x6283, "warning: selected file deactivated"),
            (0x6284, "warning: file control information not formatted per ISO 7816-4"),
            (0x6300, "warning: no information given, non-volatile memory changed"),
            (0x63C3, "verification failed, 3 tries left"),
            (0x63C1, "verification failed, 1 try left"),
            (0x63C0, "verification failed, no tries left (blocked)"),
            (0x6581, "execution error: memory failure"),
            (0x6700, "wrong length (Lc or Le)"),
            (0x6882, "secure messaging not supported"),
            (0x6883, "last command of the chain expected"),
            (0x6884, "command chaining not supported"),
            (0x6982, "security status not satisfied"),
            (0x6983, "authentication method blocked"),
            (0x6984, "reference data not usable"),
            (0x6985, "conditions of use not satisfied"),
            (0x6986, "command not allowed (no current EF)"),
            (0x6A80, "incorrect parameters in the data field"),
            (0x6A81, "function not supported"),
            (0x6A82, "file or application not found"),
            (0x6A86, "incorrect parameters P1-P2"),
            (0x6A88, "referenced data or reference data not found"),
            (0x6B00, "wrong parameters P1-P2 (offset outside the file)"),
            (0x6C20, "wrong Le field: 32 bytes available"),
            (0x6C00, "wrong Le field: 256 bytes available"),
            (0x6D00, "instruction code not supported or invalid"),
            (0x6E00, "class not supported"),
            (0x6F00, "no precise diagnosis"),
            (0x9123, "unknown status"),
        ] as [(UInt16, String)])
    func meaning(raw: UInt16, meaning: String) {
        let sw = StatusWord(raw)
        #expect(sw.meaning == meaning)
        #expect(sw.description == "\(sw.hexString) (\(meaning))")
    }

    @Test("Named status words and their bytes")
    func namedValues() {
        #expect(StatusWord.success.rawValue == 0x9000)
        #expect(StatusWord.wrongLength == StatusWord(sw1: 0x67, sw2: 0x00))
        #expect(StatusWord.securityStatusNotSatisfied.rawValue == 0x6982)
        #expect(StatusWord.authenticationMethodBlocked.rawValue == 0x6983)
        #expect(StatusWord.referenceDataNotUsable.rawValue == 0x6984)
        #expect(StatusWord.conditionsOfUseNotSatisfied.rawValue == 0x6985)
        #expect(StatusWord.incorrectData.rawValue == 0x6A80)
        #expect(StatusWord.fileNotFound.rawValue == 0x6A82)
        #expect(StatusWord.incorrectP1P2.rawValue == 0x6A86)
        #expect(StatusWord.wrongP1P2.rawValue == 0x6B00)
        #expect(StatusWord.instructionNotSupported.rawValue == 0x6D00)
        #expect(StatusWord.classNotSupported.rawValue == 0x6E00)
        #expect(StatusWord.noPreciseDiagnosis.rawValue == 0x6F00)
        let sw = StatusWord(rawValue: 0x6A82)
        #expect(sw.sw1 == 0x6A)
        #expect(sw.sw2 == 0x82)
        #expect(sw.hexString == "6A 82")
    }

    @Test("61xx, 6Cxx and 63Cx carry a number")
    func numbers() {
        #expect(StatusWord(0x6110).bytesRemaining == 16)
        #expect(StatusWord(0x6100).bytesRemaining == 256)
        #expect(StatusWord(0x9000).bytesRemaining == nil)
        #expect(StatusWord(0x6C08).correctExpectedLength == 8)
        #expect(StatusWord(0x6C00).correctExpectedLength == 256)
        #expect(StatusWord(0x6700).correctExpectedLength == nil)
        #expect(StatusWord(0x63C2).verificationTriesLeft == 2)
        #expect(StatusWord(0x63C0).verificationTriesLeft == 0)
        #expect(StatusWord(0x6300).verificationTriesLeft == nil)
        #expect(StatusWord(0x6983).verificationTriesLeft == nil)
    }

    @Test("Categories from SW1")
    func categories() {
        #expect(StatusWord(0x9000).category == .normal)
        #expect(StatusWord(0x6105).category == .normal)
        #expect(StatusWord(0x6282).category == .warning)
        #expect(StatusWord(0x63C1).category == .warning)
        #expect(StatusWord(0x6581).category == .executionError)
        #expect(StatusWord(0x6700).category == .checkingError)
        #expect(StatusWord(0x6F00).category == .checkingError)
        #expect(StatusWord(0x9001).category == .other)
        #expect(StatusWord.success.isSuccess)
        #expect(!StatusWord(0x9001).isSuccess)
    }
}
