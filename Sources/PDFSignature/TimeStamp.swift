public import CardCredentials
public import Foundation
import SwiftASN1
@_spi(FixedExpiryValidationTime) public import X509

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// An RFC 3161 time-stamp authority (TSA) reached by HTTP or HTTPS: what makes a PAdES signature baseline B-T.
///
/// ``PAdES/sign(_:with:options:)`` sends it a `TimeStampReq` over the hash of the signature value (with a
/// nonce, asking for the TSA's certificate) as an HTTP POST of type `application/timestamp-query`, checks the
/// `TimeStampResp` — status granted, the token's message imprint is the hash sent, the nonce is echoed, the
/// token's signature verifies, the TSA's certificate has the timeStamping extended key usage — and puts the
/// token into the signature as the unsigned attribute id-aa-signatureTimeStampToken (1.2.840.113549.1.9.16.2.14).
///
/// The request goes through Foundation's `URLSession` (FoundationNetworking on Linux).
public struct TimeStampAuthority: Sendable {
    /// The TSA's address (`http:` or `https:`).
    public var url: URL
    /// The hash of the signature value sent in the request.
    public var digest: DigestAlgorithm = .sha256
    /// How long to wait for the TSA's answer, in seconds.
    public var timeout: TimeInterval = 30

    /// A TSA at `url`, asked for a SHA-256 imprint, waited for 30 seconds.
    public init(url: URL) {
        self.url = url
    }

    /// Asks the TSA for a time-stamp token over `data` and checks its answer.
    ///
    /// - Parameter data: What is time-stamped (for a PAdES signature, the signature value).
    /// - Returns: The token and what it says.
    /// - Throws: ``PDFSignatureError`` with code `.timeStampFailed` when the TSA cannot be reached or its
    ///   answer is refused, damaged or does not match the request.
    public func timeStamp(_ data: [UInt8]) async throws(PDFSignatureError) -> TimeStampToken {
        let nonce = Int.random(in: 1...Int.max)
        let body = try TimeStampProtocol.request(imprint: digest.hash(data), digest: digest, nonce: nonce)
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.setValue("application/timestamp-query", forHTTPHeaderField: "Content-Type")
        request.setValue("application/timestamp-reply", forHTTPHeaderField: "Accept")
        request.httpBody = Data(body)
        let answer: Data
        let response: URLResponse
        do {
            (answer, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw PDFSignatureError(
                .timeStampFailed, "\(url.absoluteString) could not be reached: \(error.localizedDescription)")
        }
        if let http = response as? HTTPURLResponse, !(200..<300).contains(http.statusCode) {
            throw PDFSignatureError(.timeStampFailed, "\(url.absoluteString) answered HTTP \(http.statusCode)")
        }
        return try await TimeStampProtocol.checkResponse(Array(answer), over: data, digest: digest, nonce: nonce)
    }
}

/// A checked RFC 3161 time-stamp token: when, by whom, and the token's bytes.
public struct TimeStampToken: Sendable {
    /// The token: a DER `ContentInfo` holding a SignedData over a `TSTInfo`.
    public let derEncoded: [UInt8]
    /// The time the TSA vouches for (`genTime`).
    public let time: Date
    /// The TSA's certificate (the token's signer).
    public let authority: Certificate
    /// The certificates the token carries (the TSA's, and its chain when the TSA includes it).
    public let certificates: [Certificate]
}

/// RFC 3161's messages, written and read with SwiftASN1.
enum TimeStampProtocol {
    /// id-aa-signatureTimeStampToken (RFC 3161 Appendix A).
    static let signatureTimeStampToken: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 9, 16, 2, 14]
    /// id-ct-TSTInfo.
    static let tstInfo: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 9, 16, 1, 4]

    /// `TimeStampReq { version 1, messageImprint, nonce, certReq TRUE }`.
    static func request(imprint: [UInt8], digest: DigestAlgorithm, nonce: Int) throws(PDFSignatureError) -> [UInt8] {
        do {
            var coder = DER.Serializer()
            try coder.appendConstructedNode(identifier: .sequence) { coder in
                try coder.serialize(1)
                try coder.appendConstructedNode(identifier: .sequence) { coder in
                    try coder.appendConstructedNode(identifier: .sequence) { coder in
                        try coder.serialize(ASN1ObjectIdentifier(elements: digest.objectIdentifierArcs))
                        try coder.serialize(ASN1Null())
                    }
                    try coder.serialize(ASN1OctetString(contentBytes: imprint[...]))
                }
                try coder.serialize(nonce)
                try coder.serialize(true)
            }
            return coder.serializedBytes
        } catch {
            throw PDFSignatureError(.timeStampFailed, "the request could not be encoded (\(error))")
        }
    }

    /// Checks a `TimeStampResp`: granted, with a token whose imprint and nonce are the request's.
    static func checkResponse(_ bytes: [UInt8], over data: [UInt8], digest: DigestAlgorithm, nonce: Int)
        async throws(PDFSignatureError) -> TimeStampToken
    {
        let parts: [ASN1Node]
        let status: Int
        do {
            parts = try children(DER.parse(bytes), .sequence)
            guard let statusInfo = parts.first else { throw Damaged("the response is empty") }
            let fields = try children(statusInfo, .sequence)
            guard let first = fields.first else { throw Damaged("PKIStatusInfo is empty") }
            status = try Int(derEncoded: first)
            if status != 0 && status != 1 {
                var texts: [String] = []
                if fields.count > 1, fields[1].identifier == .sequence {
                    texts = try children(fields[1], .sequence).compactMap {
                        try? String(ASN1UTF8String(derEncoded: $0))
                    }
                }
                let names = [2: "rejection", 3: "waiting", 4: "revocation warning", 5: "revocation notification"]
                let detail = texts.isEmpty ? "" : ": " + texts.joined(separator: "; ")
                throw PDFSignatureError(
                    .timeStampFailed,
                    "the TSA refused the request (status \(status), \(names[status] ?? "unknown")\(detail))")
            }
        } catch let error as PDFSignatureError {
            throw error
        } catch {
            throw PDFSignatureError(.timeStampFailed, "the answer is not an RFC 3161 TimeStampResp (\(error))")
        }
        guard parts.count >= 2 else {
            throw PDFSignatureError(.timeStampFailed, "the TSA granted the request but sent no token")
        }
        let token = try await checkToken(Array(parts[1].encodedBytes), over: data, digest: digest)
        guard token.nonce == nonce else {
            throw PDFSignatureError(.timeStampFailed, "the token does not echo the request's nonce")
        }
        return token.token
    }

    /// Checks a token over `data`: its signature, its TSA's extended key usage, its message imprint (made with
    /// `digest`, or with whichever of SHA-256/384/512 the token names when `nil`).
    static func checkToken(_ bytes: [UInt8], over data: [UInt8], digest: DigestAlgorithm?)
        async throws(PDFSignatureError) -> (token: TimeStampToken, nonce: Int?)
    {
        let cms: CMSSignedData
        let signer: Certificate
        do {
            cms = try CMSSignedData(derEncoded: bytes)
            guard let verified = try await cms.verifySignaturesOnly().signers.first else {
                throw PDFSignatureError(.timeStampFailed, "the token has no signer")
            }
            signer = verified.certificate
        } catch let error as PDFSignatureError {
            throw error
        } catch {
            throw PDFSignatureError(.timeStampFailed, "the token's signature does not verify (\(error))")
        }
        let usages = (try? signer.extensions.extendedKeyUsage).map { Array($0) } ?? []
        guard usages.contains(.timeStamping) else {
            throw PDFSignatureError(
                .timeStampFailed, "the token's signer has no timeStamping extended key usage (RFC 3161 2.3)")
        }
        guard let content = cms.content else {
            throw PDFSignatureError(.timeStampFailed, "the token has no TSTInfo")
        }
        do {
            let info = try children(DER.parse(content), .sequence)
            guard info.count >= 5 else { throw Damaged("TSTInfo is incomplete") }
            let messageImprint = try children(info[2], .sequence)
            guard messageImprint.count == 2 else { throw Damaged("the message imprint is incomplete") }
            let algorithm = try children(messageImprint[0], .sequence)
            guard let oid = algorithm.first else { throw Damaged("the imprint's algorithm is empty") }
            let hashOID = try ASN1ObjectIdentifier(derEncoded: oid)
            let hashed = try ASN1OctetString(derEncoded: messageImprint[1])
            let named = DigestAlgorithm.allCases.first {
                (try? ASN1ObjectIdentifier(elements: $0.objectIdentifierArcs)) == hashOID
            }
            guard let named, digest == nil || digest == named, Array(hashed.bytes) == named.hash(data) else {
                throw PDFSignatureError(
                    .timeStampFailed, "the token's message imprint is not the hash of the signature value")
            }
            let time = try date(GeneralizedTime(derEncoded: info[4]))
            let nonce = info.dropFirst(5).first { $0.identifier == .integer }.flatMap { try? Int(derEncoded: $0) }
            return (
                TimeStampToken(derEncoded: bytes, time: time, authority: signer, certificates: cms.certificates), nonce
            )
        } catch let error as PDFSignatureError {
            throw error
        } catch {
            throw PDFSignatureError(.timeStampFailed, "the token's TSTInfo is damaged (\(error))")
        }
    }

    /// The signature value of a CMS's first SignerInfo and the time-stamp token among its unsigned attributes.
    static func signerParts(of cms: [UInt8]) throws -> (signature: [UInt8], token: [UInt8]?) {
        let signerInfo = try firstSignerInfo(BER.parse(cms))
        let fields = try children(signerInfo, .sequence)
        guard let signature = fields.last(where: { $0.identifier == .octetString }) else {
            throw Damaged("the SignerInfo has no signature")
        }
        var token: [UInt8]?
        if let unsigned = fields.last,
            unsigned.identifier == ASN1Identifier(tagWithNumber: 1, tagClass: .contextSpecific)
        {
            for attribute in try children(unsigned, unsigned.identifier) {
                let pieces = try children(attribute, .sequence)
                guard pieces.count == 2, try ASN1ObjectIdentifier(berEncoded: pieces[0]) == signatureTimeStampToken,
                    let value = try children(pieces[1], .set).first
                else { continue }
                token = Array(value.encodedBytes)
            }
        }
        return (Array(try ASN1OctetString(berEncoded: signature).bytes), token)
    }

    /// The CMS with `token` added to its first SignerInfo as the id-aa-signatureTimeStampToken unsigned attribute.
    static func adding(token: [UInt8], to cms: [UInt8]) throws(PDFSignatureError) -> [UInt8] {
        do {
            let root = try DER.parse(cms)
            let contentInfo = try children(root, .sequence)
            guard contentInfo.count == 2 else { throw Damaged("ContentInfo has \(contentInfo.count) parts") }
            let wrapper = try children(contentInfo[1], contentInfo[1].identifier)
            guard let signedData = wrapper.first else { throw Damaged("ContentInfo has no content") }
            var signedParts = try children(signedData, .sequence)
            guard let signerSet = signedParts.popLast() else { throw Damaged("SignedData is empty") }
            var signers = try children(signerSet, .set)
            guard !signers.isEmpty else { throw Damaged("SignedData has no signer") }
            let signerInfo = signers.removeFirst()

            var attribute = DER.Serializer()
            try attribute.appendConstructedNode(identifier: .sequence) { coder in
                try coder.serialize(signatureTimeStampToken)
                coder.appendConstructedNode(identifier: .set) { $0.serializeRawBytes(token) }
            }
            let unsigned = tlv(0xA1, attribute.serializedBytes)
            let newSigner = tlv(0x30, try children(signerInfo, .sequence).flatMap { Array($0.encodedBytes) } + unsigned)
            let newSet = tlv(0x31, newSigner + signers.flatMap { Array($0.encodedBytes) })
            let newSignedData = tlv(0x30, signedParts.flatMap { Array($0.encodedBytes) } + newSet)
            return tlv(0x30, Array(contentInfo[0].encodedBytes) + tlv(0xA0, newSignedData))
        } catch {
            throw PDFSignatureError(
                .timeStampFailed, "the time-stamp token could not be added to the signature (\(error))")
        }
    }

    /// Whether the token's TSA certificate chains to `anchors` at the token's time (RFC 5280) with the
    /// timeStamping extended key usage, which RFC 3161 makes critical.
    static func isTrusted(_ token: TimeStampToken, anchors: [Certificate], intermediates: [Certificate]) async -> Bool {
        var verifier = Verifier(rootCertificates: CertificateStore(anchors)) {
            RFC5280Policy(fixedExpiryValidationTime: token.time)
            TimeStampingPolicy()
        }
        let result = await verifier.validate(leaf: token.authority, intermediates: CertificateStore(intermediates))
        if case .validCertificate = result { return true }
        return false
    }

    // MARK: - DER helpers

    struct Damaged: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    static func children(_ node: ASN1Node, _ identifier: ASN1Identifier) throws -> [ASN1Node] {
        guard node.identifier == identifier, case .constructed(let nodes) = node.content else {
            throw Damaged("expected \(identifier), found \(node.identifier)")
        }
        return Array(nodes)
    }

    static func firstSignerInfo(_ root: ASN1Node) throws -> ASN1Node {
        let contentInfo = try children(root, .sequence)
        guard contentInfo.count == 2, let signedData = try children(contentInfo[1], contentInfo[1].identifier).first,
            let signerSet = try children(signedData, .sequence).last,
            let signerInfo = try children(signerSet, .set).first
        else { throw Damaged("the CMS has no SignerInfo") }
        return signerInfo
    }

    /// A DER tag-length-value.
    static func tlv(_ tag: UInt8, _ content: [UInt8]) -> [UInt8] {
        var out = [tag]
        if content.count < 0x80 {
            out.append(UInt8(content.count))
        } else {
            var length: [UInt8] = []
            var remaining = content.count
            while remaining > 0 {
                length.insert(UInt8(remaining & 0xFF), at: 0)
                remaining >>= 8
            }
            out.append(0x80 | UInt8(length.count))
            out += length
        }
        return out + content
    }

    static func date(_ time: GeneralizedTime) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        let components = DateComponents(
            year: time.year, month: time.month, day: time.day, hour: time.hours, minute: time.minutes,
            second: time.seconds)
        let whole = calendar.date(from: components) ?? Date(timeIntervalSince1970: 0)
        return whole.addingTimeInterval(Double(time.fractionalSeconds))
    }
}

/// The timeStamping extended key usage on the leaf (RFC 3161 2.3): it also tells swift-certificates' verifier that
/// the critical extended-key-usage extension is understood.
struct TimeStampingPolicy: VerifierPolicy {
    let verifyingCriticalExtensions: [ASN1ObjectIdentifier] = [.X509ExtensionID.extendedKeyUsage]

    func chainMeetsPolicyRequirements(chain: UnverifiedCertificateChain) async -> PolicyEvaluationResult {
        let usages = (try? chain.leaf.extensions.extendedKeyUsage).map { Array($0) } ?? []
        guard usages.contains(.timeStamping) else {
            return .failsToMeetPolicy(reason: "the time-stamp authority's certificate lacks the timeStamping usage")
        }
        return .meetsPolicy
    }
}
