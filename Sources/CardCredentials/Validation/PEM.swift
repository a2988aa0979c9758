import SwiftASN1

/// PEM blocks (RFC 7468) to DER bytes.
enum PEM {
    /// The DER bytes of the first block labelled `label` in `text`.
    static func decode(_ text: String, label: String) throws(CardCredentialsError) -> [UInt8] {
        guard let block = blocks(in: text).first(where: { $0.label == label }) else {
            throw .malformedPEM("no -----BEGIN \(label)----- block")
        }
        return block.der
    }

    /// Every block in `text`, in order; damaged blocks are skipped.
    static func blocks(in text: String) -> [(label: String, der: [UInt8])] {
        guard let documents = try? PEMDocument.parseMultiple(pemString: text) else { return [] }
        return documents.map { ($0.discriminator, $0.derBytes) }
    }
}
