// ISO7816's CardChannel over a transport whose answers are the fuzz bytes: GET RESPONSE (61xx), the 6Cxx resend,
// command chaining, the T=0 case-4 rule, extended-length probing and whole-file reads. The input format is
// ChannelScript's (FuzzSupport/ScriptedAnswers.swift).
import FuzzSupport
import ISO7816

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let script = ChannelScript(fuzzBytes(start, count))
    runBlocking {
        var configuration = CardChannel.Configuration()
        configuration.extendedLength = script.extendedLength
        configuration.allowsChaining = script.allowsChaining
        let channel = CardChannel(
            transport: ScriptedAnswers(script.answers, link: script.link), configuration: configuration)
        do {
            switch script.operation {
            case .transmitCase2, .transmitCase4:
                let ne = script.needsExtendedLength ? 1000 : max(1, min(script.parameter, 256))
                let data: [UInt8] =
                    script.operation == .transmitCase4
                    ? [UInt8](repeating: 0x5A, count: script.needsExtendedLength ? 300 : 8) : []
                let command = try CommandAPDU(cla: 0x00, ins: 0xCB, p1: 0x3F, p2: 0xFF, data: data, expectedLength: ne)
                let response = try await channel.transmit(command)
                _ = response.description
            case .readFile:
                _ = try await channel.readTransparentFile()
            case .readFileOfKnownLength:
                let expected = script.parameter
                let file = try await channel.readTransparentFile(expectedLength: expected)
                precondition(file.count <= expected, "readTransparentFile gave more than the expected length")
            }
        } catch {
            _ = "\(error)"
        }
        _ = channel.statistics
        _ = channel.extendedLengthSupport
    }
    return 0
}
