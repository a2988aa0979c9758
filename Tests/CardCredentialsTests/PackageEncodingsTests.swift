import CardCredentials
import Foundation
import Testing

/// The package's base64url, beside the Foundation-based form it replaced (encode with Foundation, then
/// `+/` → `-_` and the padding dropped; decode by the reverse), on the same inputs.
@Suite("Base64url on bytes decides as the Foundation-based form did")
struct PackageEncodingsTests {
    static func foundationEncode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func foundationDecode(_ text: String) -> [UInt8]? {
        guard text.utf8.count <= 4096,
            text.unicodeScalars.allSatisfy({
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-"
                    || $0 == "_"
            })
        else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.utf8.count % 4) % 4)
        return Data(base64Encoded: base64).map { [UInt8]($0) }
    }

    @Test("every length from 0 to 70 bytes: the same text, and it reads back")
    func encodeMatches() {
        var generator = SystemRandomNumberGenerator()
        for length in 0...70 {
            for _ in 0..<20 {
                let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                let text = Base64URL.encode(bytes)
                #expect(text == Self.foundationEncode(bytes))
                #expect(Base64URL.decode(text) == bytes)
            }
        }
    }

    @Test("random text over the alphabet, padding, '+', '/', spaces and non-ASCII: the same answer")
    func decodeMatches() {
        var generator = SystemRandomNumberGenerator()
        let pieces = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_").map(String.init)
        let odd = ["=", "+", "/", " ", "\n", "é", "あ", "\u{0}"]
        for _ in 0..<20_000 {
            let length = Int.random(in: 0...24, using: &generator)
            var text = ""
            for _ in 0..<length {
                text +=
                    Int.random(in: 0..<40, using: &generator) == 0
                    ? odd.randomElement(using: &generator)! : pieces.randomElement(using: &generator)!
            }
            #expect(Base64URL.decode(text) == Self.foundationDecode(text), "\(text.debugDescription)")
        }
        let long = String(repeating: "A", count: 4100)
        #expect(Base64URL.decode(long) == nil)
        #expect(Self.foundationDecode(long) == nil)
        #expect(Base64URL.decode("QR") == [65])
        #expect(Base64URL.decode("Q") == nil)
    }
}
