import ISO7816
import Testing

@testable import CardSimulator

@Suite struct CardTraceTests {
    @Test func pinsNeverAppearInTraces() throws {
        let verify = try Hex.decode("00 20 00 80 07 \(ascii(Fixture.signingPIN))")
        let text = CardTrace.describe(command: verify)
        #expect(text.contains("<redacted>"))
        #expect(!text.contains(Hex.encode(Array(Fixture.signingPIN.utf8))))
        #expect(!text.contains(Fixture.signingPIN))
        let change = CardTrace.describe(command: try Hex.decode("00 24 01 80 06 \(ascii("NEW123"))"))
        #expect(change.contains("<redacted>"))
        let select = CardTrace.describe(command: try Hex.decode(jpkiSelect))
        #expect(select.contains("D3 92 F0 00 26 01 00 00 00 01"))
        #expect(CardTrace.describe(command: [0x00, 0xA4]) == "malformed command of 2 bytes")
        #expect(CardTrace.describe(response: [0x90, 0x00]).hasPrefix("90 00"))
        #expect(CardTrace.describe(response: [0x01, 0x02, 0x63, 0xC1]).hasPrefix("2 bytes, 63 C1"))
    }
}
