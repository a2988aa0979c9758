import ISO7816
import Testing

/// Inputs FuzzCardChannel (Fuzz/) found.
struct CardChannelFuzzRegressionTests {
    /// FuzzCardChannel's input: setup 03 (a whole-file read of a known length, T=1), the length 00 20, then one
    /// answer (its length field 45 63 runs past the end, so the answer is the rest): 41 data bytes and 62 82.
    static let input: [UInt8] = [
        0x03, 0x00, 0x20, 0x00, 0x45, 0x63, 0x6F, 0x62, 0xFF, 0x6F, 0x62, 0x82,
        0x6F, 0x61, 0x74, 0x00, 0x00, 0x00, 0x00, 0x00, 0x32, 0x20, 0x45, 0x01,
        0x00, 0x44, 0x6F, 0x75, 0x00, 0x62, 0xD2, 0x20, 0x20, 0xD4, 0x00, 0x93,
        0x63, 0x6F, 0x62, 0x20, 0x20, 0x20, 0x90, 0x00, 0xFF, 0x6F, 0x62, 0x82,
    ]

    @Test("readTransparentFile(expectedLength:) gives at most that many bytes when the card sends more with 62 82")
    func moreThanExpectedWithEndOfFile() async throws {
        let answer = Array(Self.input[5...])
        #expect(answer.count == 43 && answer.suffix(2) == [0x62, 0x82])
        let transport = ScriptedTransport(steps: [
            ScriptedTransport.Step(expected: try hex("00 B0 00 00 20"), answer: .bytes(answer))
        ])
        let file = try await CardChannel(transport: transport).readTransparentFile(expectedLength: 32)
        #expect(file == Array(answer.prefix(32)))
        #expect(await transport.isFinished)
    }
}
