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
/// With ``Options/timeStampAuthority`` the signature is baseline B-T: an RFC 3161 time-stamp token over the
/// signature value, from a ``TimeStampAuthority``, is added as an unsigned attribute.
///
/// Not yet: B-LT/B-LTA (validation data, document time-stamps) and certification (DocMDP) signatures.
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
        /// The time-stamp authority that makes the signature B-T; none (B-B) when `nil`.
        public var timeStampAuthority: TimeStampAuthority?
        /// Bytes reserved in `/Contents` for the time-stamp token, on top of ``reservedSize``, when there is a
        /// ``timeStampAuthority`` (a token with its TSA's chain is a few kilobytes).
        public var timeStampReservedSize: Int = 16384
        /// A visible signature: the page and rectangle of its widget; invisible when `nil`.
        public var appearance: Appearance?

        /// The defaults: 16 KiB reserved, `Signature1`, now, the chain included, no time-stamp, invisible.
        public init() {}

        /// The bytes reserved in `/Contents`: the signature's reserve, and the token's when time-stamped.
        var totalReservedSize: Int { reservedSize + (timeStampAuthority == nil ? 0 : timeStampReservedSize) }
    }

    /// Where a visible signature is drawn: a rectangle on a page, in PDF points (1/72 inch) from the page's
    /// lower-left corner.
    ///
    /// The widget's appearance stream shows "Digitally signed by" the signer's name and the signing time, in
    /// the standard Helvetica font (no font is embedded). Helvetica's encoding is Latin only: characters
    /// outside it — a Japanese name — are shown as `?`. The signer's name read from the signature field by a
    /// viewer, and the certificate, keep the full name.
    public struct Appearance: Sendable, Hashable {
        /// The page, counted from 1.
        public var page: Int
        /// The rectangle's left edge.
        public var x: Double
        /// The rectangle's lower edge.
        public var y: Double
        /// The rectangle's width.
        public var width: Double
        /// The rectangle's height.
        public var height: Double

        /// A rectangle on `page` (from 1), in points.
        public init(page: Int, x: Double, y: Double, width: Double, height: Double) {
            self.page = page
            self.x = x
            self.y = y
            self.width = width
            self.height = height
        }
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
        /// The signature's RFC 3161 time-stamp (baseline B-T), checked against the signature value; `nil` when
        /// there is none.
        public let timeStamp: TimeStampToken?
        /// Whether the time-stamp authority's certificate chains to one of the validator's trust anchors at the
        /// time-stamp's time, with the timeStamping extended key usage (RFC 5280 path rules; the validator's
        /// revocation lists are not applied to the TSA); `false` when there is no time-stamp.
        public let timeStampTrusted: Bool
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
    /// - Throws: ``PDFSignatureError`` (`.encryptedPDF`, `.malformedPDF`, `.invalidAppearance`,
    ///   `.signatureTooLarge`, `.timeStampFailed`), or the signer's errors (a wrong PIN, a card removed).
    public static func sign(_ pdf: [UInt8], with signer: some Signer, options: Options = Options()) async throws
        -> [UInt8]
    {
        var update = try IncrementalUpdate(pdf: pdf, options: options, signer: signer.certificate)
        let signedBytes = update.signedBytes()
        let cms = try await CMSSignedData.sign(
            signedBytes, with: signer, signingTime: nil, includeChain: options.includeChain)
        var der = cms.derEncoded
        if let authority = options.timeStampAuthority, let signerInfo = cms.signerInfos.first {
            let token = try await authority.timeStamp(signerInfo.signature)
            der = try TimeStampProtocol.adding(token: token.derEncoded, to: der)
        }
        return try update.finish(signature: der)
    }

    /// Checks that a PDF can be signed — readable, not encrypted, with a page (the appearance's page, when
    /// visible) — without signing it: call it before asking for a PIN.
    ///
    /// - Throws: ``PDFSignatureError`` (`.encryptedPDF`, `.malformedPDF`, `.invalidAppearance`).
    public static func checkSignable(_ pdf: [UInt8], options: Options = Options()) throws(PDFSignatureError) {
        _ = try IncrementalUpdate(pdf: pdf, options: options, signer: nil)
    }

    // MARK: - Verification

    /// Checks every signature field of a PDF: the `/ByteRange` leaves out exactly the `/Contents` string, the CMS
    /// signature matches the bytes it covers, and the signer's certificate is valid for signing under
    /// `validator` at `time`.
    ///
    /// - Returns: One report per signature, in field order.
    /// A time-stamp token among the signature's unsigned attributes must verify, name the timeStamping usage
    /// and cover the signature value; its authority's trust is reported in ``SignatureReport/timeStampTrusted``.
    ///
    /// - Throws: ``PDFSignatureError`` (`.noSignature`, `.unsupportedSignature`, `.malformedPDF`,
    ///   `.timeStampInvalid`), or
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
            var timeStamp: TimeStampToken?
            var timeStampTrusted = false
            if let parts = try? TimeStampProtocol.signerParts(of: cmsBytes), let token = parts.token {
                do {
                    timeStamp = try await TimeStampProtocol.checkToken(token, over: parts.signature, digest: nil).token
                } catch {
                    throw PDFSignatureError(.timeStampInvalid, "\(field.name): \(error.reason)")
                }
                if let timeStamp {
                    timeStampTrusted = await TimeStampProtocol.isTrusted(
                        timeStamp, anchors: validator.trustAnchors,
                        intermediates: validator.intermediates + timeStamp.certificates)
                }
            }
            reports.append(
                SignatureReport(
                    fieldName: field.name, subFilter: field.subFilter, signer: signer.certificate,
                    chain: signer.chain, signingTime: field.signingTime, signedLength: end,
                    coversWholeDocument: end == pdf.count, timeStamp: timeStamp, timeStampTrusted: timeStampTrusted))
        }
        return reports
    }
}
