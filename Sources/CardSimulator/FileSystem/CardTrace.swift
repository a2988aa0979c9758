import ISO7816
import Logging

/// APDU tracing for the simulated cards, at `trace` level, with PIN bytes masked.
enum CardTrace {
    /// A command as it may be printed: the data of VERIFY and CHANGE REFERENCE DATA (PINs) show as `<redacted>`.
    static func describe(command bytes: [UInt8]) -> String {
        guard let parsed = try? CommandAPDU(bytes: bytes) else {
            return "malformed command of \(bytes.count) bytes"
        }
        // VERIFY (20, 21), CHANGE REFERENCE DATA (24) and RESET RETRY COUNTER (2C) carry PINs.
        let sensitive = [0x20, 0x21, 0x24, 0x2C].contains(parsed.ins)
        let masked = try? CommandAPDU(
            cla: parsed.cla, ins: parsed.ins, p1: parsed.p1, p2: parsed.p2, data: parsed.data,
            expectedLength: parsed.expectedLength, sensitive: sensitive)
        return masked?.description ?? "command \(Hex.encode(bytes.prefix(4)))"
    }

    /// A response as it may be printed: its length and status word (signatures and files are not dumped).
    static func describe(response bytes: [UInt8]) -> String {
        guard let parsed = try? ResponseAPDU(bytes: bytes) else { return "malformed response" }
        return parsed.data.isEmpty
            ? parsed.statusWord.description : "\(parsed.data.count) bytes, \(parsed.statusWord.description)"
    }

    static func log(_ logger: Logger, card: String, command: [UInt8], response: [UInt8]) {
        guard logger.logLevel <= .trace else { return }
        logger.trace(
            "APDU",
            metadata: [
                "card": "\(card)", "command": "\(describe(command: command))",
                "response": "\(describe(response: response))",
            ])
    }
}
