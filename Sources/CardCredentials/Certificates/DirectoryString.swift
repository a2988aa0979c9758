public import SwiftASN1
public import X509

/// Text of the string types X.509 names use, decoded the way Japanese certificates need.
///
/// | tag | type | decoded as |
/// |---|---|---|
/// | 12 | UTF8String | UTF-8 |
/// | 19 | PrintableString | ASCII (UTF-8 if a CA put other bytes in it) |
/// | 22 | IA5String | ASCII |
/// | 20 | TeletexString (T61String) | Latin-1 |
/// | 26 | VisibleString | ASCII |
/// | 28 | UniversalString | UTF-32BE |
/// | 30 | BMPString | UTF-16BE (older Japanese CAs write kanji names this way) |
public enum DirectoryString {
    /// The text of a name attribute's value, or `nil` when it is not a string type.
    public static func text(of value: RelativeDistinguishedName.Attribute.Value) -> String? {
        if let string = String(value) { return string }
        return text(of: ASN1Any(value))
    }

    /// The text of an ASN.1 string value, or `nil` when it is not a string type.
    public static func text(of value: ASN1Any) -> String? {
        var serializer = DER.Serializer()
        guard (try? serializer.serialize(value)) != nil, let node = try? DER.parse(serializer.serializedBytes),
            node.identifier.tagClass == .universal, case .primitive(let content) = node.content
        else { return nil }
        return text(tag: node.identifier.tagNumber, content: content)
    }

    /// Decodes a universal string type's content bytes; `nil` for other tags or malformed content.
    public static func text(tag: UInt, content: ArraySlice<UInt8>) -> String? {
        switch tag {
        case 12, 19, 22, 26:
            return String(validating: content, as: UTF8.self)
        case 20:
            return String(String.UnicodeScalarView(content.map { Unicode.Scalar($0) }))
        case 30:
            guard content.count % 2 == 0 else { return nil }
            var units: [UInt16] = []
            units.reserveCapacity(content.count / 2)
            var i = content.startIndex
            while i < content.endIndex {
                units.append(UInt16(content[i]) << 8 | UInt16(content[i + 1]))
                i += 2
            }
            return String(validating: units, as: UTF16.self)
        case 28:
            guard content.count % 4 == 0 else { return nil }
            var scalars = String.UnicodeScalarView()
            var i = content.startIndex
            while i < content.endIndex {
                let value =
                    UInt32(content[i]) << 24 | UInt32(content[i + 1]) << 16 | UInt32(content[i + 2]) << 8
                    | UInt32(content[i + 3])
                guard let scalar = Unicode.Scalar(value) else { return nil }
                scalars.append(scalar)
                i += 4
            }
            return String(scalars)
        default:
            return nil
        }
    }

    /// The decoded values of every attribute of `type` in `name`, in the order they appear.
    public static func values(of type: ASN1ObjectIdentifier, in name: DistinguishedName) -> [String] {
        name.flatMap { rdn in rdn.filter { $0.type == type }.compactMap { text(of: $0.value) } }
    }

    /// The name as OpenSSL prints it (`C=JP, O=…, CN=…`, in certificate order), with every string decoded.
    public static func display(_ name: DistinguishedName) -> String {
        name.map { rdn in
            rdn.map { attribute in
                "\(shortName(attribute.type))=\(text(of: attribute.value) ?? String(describing: attribute.value))"
            }.joined(separator: " + ")
        }.joined(separator: ", ")
    }

    private static func shortName(_ type: ASN1ObjectIdentifier) -> String {
        switch type {
        case .RDNAttributeType.commonName: "CN"
        case .RDNAttributeType.countryName: "C"
        case .RDNAttributeType.localityName: "L"
        case .RDNAttributeType.stateOrProvinceName: "ST"
        case .RDNAttributeType.organizationName: "O"
        case .RDNAttributeType.organizationalUnitName: "OU"
        case .RDNAttributeType.streetAddress: "street"
        case .RDNAttributeType.domainComponent: "DC"
        case .RDNAttributeType.emailAddress: "emailAddress"
        default: type.description
        }
    }
}
