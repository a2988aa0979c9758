public import CardCredentials
public import Foundation
public import X509

/// PDF signatures (PAdES, ETSI EN 319 142-1, baseline B-B) with any CardCredentials `Signer`: a My Number card's
/// signing key, a private-CA IC card, a PKCS#12 file.
///
/// ``sign(_:with:options:)`` appends an incremental update to the PDF — the original bytes stay untouched — that
/// holds an invisible signature field (a widget on the first page with an empty rectangle) and its signature
/// dictionary: `/Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached`, the time in `/M`, a `/ByteRange` that
/// covers the whole file but the `/Contents` hexadecimal string, and in `/Contents` a detached CMS SignedData
/// with the content-type, message-digest and ESS signing-certificate-v2 signed attributes (no signing-time
/// attribute, as the baseline wants). Classic cross-reference tables and xref streams (with object streams) are
/// read; the update is written in the same form as the file's newest section. Encrypted PDFs are refused.
///
/// ```swift
/// let key = try await card.signingKey(pin: pin)               // or an ICCard's key, or a FileCredential
/// let signed = try await PAdES.sign(pdfBytes, with: key)
/// let reports = try await PAdES.verify(signed, validator: CertificateValidator(trustAnchors: roots))
/// ```
///
/// Not yet: B-T (a time-stamp from a TSA), B-LT/B-LTA (validation data, document time-stamps), visible
/// signature appearances, and certification (DocMDP) signatures.
public enum PAdES {
    /// How a signature is made.
    public struct Options: Sendable {
        /// Bytes reserved for the CMS signature in `/Contents` (written as twice as many hex digits).
        public var reservedSize: Int = 16384
        /// The signature field's name (`/T`); `SignatureN`, the first free N, when `nil`.
        public var fieldName: String?
        /// The time written in `/M`.
        public var signingTime: Date = Date()
        /// `/Reason`, when given.
        public var reason: String?
        /// `/Location`, when given.
        public var location: String?
        /// Whether the signer's `chain` goes into the CMS next to its certificate.
        public var includeChain: Bool = true

        /// The defaults: 16 KiB reserved, `Signature1`, now, the chain included.
        public init() {}
    }

    /// What ``verify(_:validator:at:)`` found about one signature that verified.
    public struct SignatureReport: Sendable {
        /// The field's name (`/T`).
        public let fieldName: String
        /// `/SubFilter`: `ETSI.CAdES.detached` or `adbe.pkcs7.detached`.
        public let subFilter: String
        /// The signer's certificate.
        public let signer: Certificate
        /// The signer's chain as validated, from the signer to the trust anchor.
        public let chain: [Certificate]
        /// `/M`, when readable.
        public let signingTime: Date?
        /// The signed revision's length in bytes (the end of the `/ByteRange`).
        public let signedLength: Int
        /// Whether the signature covers the whole file; `false` when bytes (a later incremental update, another
        /// signature) were appended after it.
        public let coversWholeDocument: Bool
    }

    // MARK: - Signing

    /// Signs a PDF: the original bytes followed by an incremental update that holds the signature.
    ///
    /// - Parameters:
    ///   - pdf: The PDF's bytes.
    ///   - signer: The key and its certificate (a card asks for nothing more: its PIN was given when its key was
    ///     made).
    ///   - options: The reserve, field name, time and optional texts.
    /// - Returns: The signed PDF.
    /// - Throws: ``PDFSignatureError`` (`.encryptedPDF`, `.malformedPDF`, `.signatureTooLarge`), or the
    ///   signer's errors (a wrong PIN, a card removed).
    public static func sign(_ pdf: [UInt8], with signer: some Signer, options: Options = Options()) async throws
        -> [UInt8]
    {
        var update = try IncrementalUpdate(pdf: pdf, options: options)
        let signedBytes = update.signedBytes()
        let cms = try await CMSSignedData.sign(
            signedBytes, with: signer, signingTime: nil, includeChain: options.includeChain)
        return try update.finish(signature: cms.derEncoded)
    }

    /// Checks that a PDF can be signed — readable, not encrypted, with a page — without signing it: call it
    /// before asking for a PIN.
    ///
    /// - Throws: ``PDFSignatureError`` (`.encryptedPDF`, `.malformedPDF`).
    public static func checkSignable(_ pdf: [UInt8]) throws(PDFSignatureError) {
        _ = try IncrementalUpdate(pdf: pdf, options: Options())
    }

    // MARK: - Verification

    /// Checks every signature field of a PDF: the `/ByteRange` leaves out exactly the `/Contents` string, the CMS
    /// signature matches the bytes it covers, and the signer's certificate is valid for signing under
    /// `validator` at `time`.
    ///
    /// - Returns: One report per signature, in field order.
    /// - Throws: ``PDFSignatureError`` (`.noSignature`, `.unsupportedSignature`, `.malformedPDF`), or
    ///   CardCredentials' CMS errors for the first signature that fails (`cmsContentMismatch` when the bytes
    ///   changed, `cmsSignerNotTrusted`).
    public static func verify(
        _ pdf: [UInt8], validator: CertificateValidator, at time: Date = Date()
    ) async throws -> [SignatureReport] {
        var file = try PDFFile(bytes: pdf)
        let signatures = try SignatureFields.find(in: &file)
        guard !signatures.isEmpty else {
            throw PDFSignatureError(.noSignature, "no signature field with a value in its /AcroForm")
        }
        var reports: [SignatureReport] = []
        for field in signatures {
            let (content, cmsBytes, end) = try field.coveredBytes(in: pdf)
            let cms = try CMSSignedData(bytes: cmsBytes)
            let result = try await cms.verify(content: content, validator: validator, purpose: .signing, at: time)
            guard let signer = result.signers.first else {
                throw PDFSignatureError(.unsupportedSignature, "the CMS of \(field.name) has no signer")
            }
            reports.append(
                SignatureReport(
                    fieldName: field.name, subFilter: field.subFilter, signer: signer.certificate,
                    chain: signer.chain, signingTime: field.signingTime, signedLength: end,
                    coversWholeDocument: end == pdf.count))
        }
        return reports
    }
}
