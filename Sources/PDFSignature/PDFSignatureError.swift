/// Why a PDF could not be signed or its signatures checked.
///
/// A struct with an extensible ``Code`` (as swift-certificates' errors): new codes break no caller's `switch`.
/// ``description`` is one sentence that says what happened and what to do.
public struct PDFSignatureError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        let name: String

        /// The file is not a PDF this module can read (damaged, or a construct it does not support).
        public static let malformedPDF = Code(name: "malformedPDF")
        /// The PDF is encrypted (`/Encrypt` in its trailer); signing it would need its password.
        public static let encryptedPDF = Code(name: "encryptedPDF")
        /// The CMS signature is larger than the space reserved for it in `/Contents`.
        public static let signatureTooLarge = Code(name: "signatureTooLarge")
        /// The PDF holds no signature.
        public static let noSignature = Code(name: "noSignature")
        /// A signature dictionary is not one this module checks (its `/SubFilter`, or a damaged `/ByteRange`).
        public static let unsupportedSignature = Code(name: "unsupportedSignature")
        /// The time-stamp authority could not be reached, refused the request, or sent a token that does not
        /// match it (signing with a TSA).
        public static let timeStampFailed = Code(name: "timeStampFailed")
        /// A signature's time-stamp token does not verify or does not cover the signature (verification).
        public static let timeStampInvalid = Code(name: "timeStampInvalid")
        /// A visible signature's page or rectangle is not in the document.
        public static let invalidAppearance = Code(name: "invalidAppearance")

        /// The code's name.
        public var description: String { name }
    }

    /// The kind of failure.
    public let code: Code
    /// What exactly went wrong, in English.
    public let reason: String

    /// An error of `code` with its reason.
    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    /// One sentence: what happened and what to do next.
    public var description: String {
        switch code {
        case .encryptedPDF:
            "The PDF is encrypted (\(reason)); remove its password protection (for example with qpdf --decrypt) "
                + "and sign the decrypted file."
        case .malformedPDF:
            "The PDF could not be read (\(reason)); check the file, or open and save it again with a PDF tool."
        case .signatureTooLarge:
            "The signature does not fit the space reserved for it (\(reason)); sign again with a larger reserve."
        case .timeStampFailed:
            "No time-stamp was obtained (\(reason)); nothing was written: check the time-stamp authority's URL and "
                + "the network and sign again, or sign without a time-stamp."
        case .timeStampInvalid:
            "A signature's time-stamp is not valid (\(reason)); do not rely on its time."
        case .invalidAppearance:
            "The visible signature cannot be placed (\(reason)); give a page that exists and a rectangle with a "
                + "positive width and height."
        case .noSignature:
            "The PDF holds no signature (\(reason))."
        default:
            "The PDF signature cannot be checked (\(reason))."
        }
    }
}
