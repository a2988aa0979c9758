import CardCredentials
import Foundation
import Testing
import X509

/// Inputs FuzzCMS (Fuzz/) found that trapped CardCredentials.
struct CMSFuzzRegressionTests {
    /// FuzzCMS's crash input: the seed `attached-with-chain.der` (`openssl cms -sign` with the simulator's JPKI
    /// signing certificate and its CA) with one bit flipped, which makes the signing certificate's notBefore
    /// `261204003961Z` (61 seconds, at offset 1217). swift-asn1 accepts 61 as a leap second; swift-certificates'
    /// date conversion asserts on it, so reading the certificate's notValidBefore trapped in a debug build.
    static let input = """
        MIILvAYJKoZIhvcNAQcCoIILrTCCC6kCAQExDTALBglghkgBZQMEAgEwIwYJKoZIhvcNAQcBoBYEFOWFpeacreabuCBmdXp6IHNlZWQKoIII
        zDCCA74wggKmoAMCAQICFQCeIJoLlbCzpcmwHrV0GaLTYIXFajANBgkqhkiG9w0BAQsFADB1MQswCQYDVQQGEwJKUDEUMBIGA1UECgwLSlBL
        SSAoVEVTVCkxIzAhBgNVBAsMGkpQS0kgZm9yIGRpZ2l0YWwgc2lnbmF0dXJlMSswKQYDVQQLDCJQcm9jdXJlbWVudElkZW50aXR5IHRlc3Qg
        YXV0aG9yaXR5MB4XDTI2MTIwNDAwMzk0MFoXDTM2MTIwMjAwMzk0MFowdTELMAkGA1UEBhMCSlAxFDASBgNVBAoMC0pQS0kgKFRFU1QpMSMw
        IQYDVQQLDBpKUEtJIGZvciBkaWdpdGFsIHNpZ25hdHVyZTErMCkGA1UECwwiUHJvY3VyZW1lbnRJZGUudGl0eSB0ZXN0IGF1dGhvcml0eTCC
        ASIwDQYJKoZIhvcNAQEBBQADggEPADCCAQoCggEBAK1zUYtXfyl7E1bqm4diawL131JhfAwTrvtNRikfyF3TBa/rgtYAYIxTfVKzY/8TbgwN
        l+qf/JFxzN8oRH9cnGIrDEcGZubTCHrOoHvcNoAllwsEjQ9nhfs+Mg1dh2Encu3qYVla2rEkFmqGvuRX9K+7yxl+rV/oCwj164rERQmOMWQg
        DUvnRT0VZuAHNXkimjOChWW4tW6jAKNH9WyhY+HjNVe60+t6X1HOhAUvyphfcu8JGV1R0LdobpsYHGKEE7YJLC5TUr7bzrhRvTuq09J2Y4ZG
        yJpM67ttiBXuV0eTNsY1f4b78zXKZuT1ID2zfYi0ZnUe5Pi1GqJ0Gz/ZAusCAwEAAaNFMEMwEgYDVR0TAQH/BAgwBgEB/wIBADAOBgNVHQ8B
        Af8EBAMCAQYwHQYDVR0OBBYEFNwF1yS204dUDyy+keVPTSLAu7WtMA0GCSqGSIb3DQEBCwUAA4IBAQCTg06EV3mRp19mrLTcQ1LJM9897kLo
        +Ik+/HNbHqBD2djYEPEOflVAag/l6eb6v4IzVCMfLs60ohgBANYCyZV70HXwPJgxAAAAAAAAANBYdUx4O5zWIBibSb2Zr8gZPxyrO2MsOugq
        E6D4kwwNaJpXBCAG7Nz+0G4w6+nfAXoyo+cn5kCEBHmHtEM6VmOviQwL6HSIxKEByFDig3uRNW/Hf02IK2OwcDBXME/xV03wpJKyvU8HRYmP
        hYjxzboxnDDG4wmU+p4uZgPtJmMmZHlnDfrjer7nhFq+WGCz01yac0USfYPd0iXHxBalxg3SLQZMZ28le5B/hxFdI3NHvtlzMIIFBjCCA+6g
        AwIBAgIUNx6FlYg7DTFt3bCNVUUxXylAuZowDQYJKoZIhvcNAQELBQAwdTELMAkGA1UEBhMCSlAxFDASBgNVBAoMC0pQS0kgKFRFU1QpMSMw
        IQYDVQQLDBpKUEtJIGZvciBkaWdpdGFsIHNpZ25hdHVyZTErMCkGA1UECwwiUHJvY3VyZW1lbnRJZGVudGl0eSB0ZXN0IGF1dGhvcml0eTAe
        Fw0yNjEyMDQwMDM5NjFaFw0zMTEyMDQwMDM5NDFaMFcxCzAJBgNVBAYTAkpQMRIwEAYDVQQHDAnmnbHkuqzpg70xFTATBgNVBAcMDOWNg+S7
        o+eUsOWMujEdMBsGA1UEAwwUS1QyQVYzWE5QTUtDMU1QU0RTVDQwggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAwggEKAoIBAQCOt6PosGlrSBj6
        eaVakfvBS7vB4JNVLkrLjZ5EDiM7mcHdDRV+ubOmoh1KcA9SIdWzyunqIUkjfu7zMaffjWzq3fIe955DycWnBXTckklZKgc/cPpZ6wh48apQ
        kIiMloozFyM5vfE0wBAkNoNWw22JZcxKknonpWHsQ00WHnWvDddmM/BKFmjSp6bdpw5WclBpZK9gKjC7X9K+qjRYyWidq1Z/C3w0oEYzN7Mq
        vsR+0DamDb+gl7yoVx37bFTASCS9BYMtKEOLw85lNndQy8ElwgWpvWdbNW7hklcVJfLNkeshOXHQ/nT8BIX/B5OjYuO3vxeESUVbcqlzVTc4
        O46DAgMBAAGjggGqMIIBpjAOBgNVHQ8BAf8EBAMCBsAwgcMGA1UdEQSBuzCBuKAfBgoqgwiMm1UIBQUBoBEMD+ippumok+OAgOiKseWtkKAQ
        BgoqgwiMm1UIBQUCoAIMAKARBgoqgwiMm1UIBQUDoAMMATKgGQYKKoMIjJtVCAUFBKALDAkzMTk4NTA0MDGgQwYKKoMIjJtVCAUFBaA1DDPm
        nbHkuqzpg73ljYPku6PnlLDljLrpnJ7jgYzplqLkuozkuIHnm67vvJHnlarvvJLlj7egEAYKKoMIjJtVCAUFBqACDAAwSQYDVR0gAQH/BD8w
        PTA7BgsqgwiMm1UIBQEBFDAsMCoGCCsGAQUFBwIBFh5odHRwOi8vd3d3Lmpwa2kuZ28uanAvY3BzLmh0bWwwQwYDVR0SBDwwOqQ4MDYxCzAJ
        BgNVBAYTAkpQMScwJQYDVQQKDB7lhaznmoTlgIvkurroqo3oqLzjgrXjg7zjg5PjgrkwHQYDVR0OBBYEFN117iIzaYNsvv1xEN0bZnoAVafo
        MB8GA1UdIwQYMBaAFNwF1yS204dUDyy+keVPTSLAu7WtMA0GCSqGSIb3DQEBCwUAA4IBAQAe34erSki8L9YPvRNrnP2W5ZBpXo61Aon546xr
        f4h8MiLjVmr02+r5L6GHZA/wWmMth8Im6/Q9+7e7q86QzvYlbkFmyJz8bkEL7aj5ZYkYsDcKg0YxUWxDruL3dgoS+ISn+5joQvGUPw4S2D0Q
        +x/klrdFVYeaXRBUPZjJI7tX40Ec1oSysaDvJU3vS9H+nVPYA9onbzeRbPmqwLJJf+G2RbXh8u3I+E6vO+Yi4jHwyiZ5wfKa3SbX/5W0Jc23
        uAgX61Gh9jw5BnkahM7O8chCcjxGzLh2hPvyD+CM0FdA1O+QLbrFgG+cb5OxdrkLBAXk5Q5IsuWGSFxtXh95WvbyMYICnjCCApoCAQEwgY0w
        dTELMAkGA1UEBhMCSlAxFDASBgNVBAoMC0pQS0kgKFRFU1QpMSMwIQYDVQQLDBpKUEtJIGZvciBkaWdpdGFsIHNpZ25hdHVyZTErMCkGA1UE
        CwwiUHJvY3VyZW1lbnRJZGVudGl0eSB0ZXN0IGF1dGhvcml0eQIUNx6FlYg7DTFt3bCNVUUxXylAuZowCwYJYIZIAWUDBAIBoIHkMBgGCSqG
        SIb3DQEJAzELBgkqhkiG9w0BBwEwHAYJKoZIhvcNAQkFMQ8XDTI2MTIwNTAwMzk0MlowLwYJKoZIhvcNAQkEMSIEIM+rEL4B+Sa5xbNnujnU
        GZivg3AHmLYzR4DwJo7F9Gn7MHkGCSqGSIb3DQEJDzFsMGowCwYJYIZIAWUDBAEqMAsGCWCGSAFlAwQBFjALBglghkgBZQMEAQIwCgYIKoZI
        hvcNAwcwDgYIKoZIhvcNAwICAgCAMA0GCCqGSIb3DQMCAgFAMAcGBSsOAwIHMA0GCCqGSIb3DQMCAgEoMA0GCSqGSIb3DQEBAQUABIIBAG4P
        PAJHvJYJjwPuhT/NntI65keRAKDPycWvdAJ36x5UOX5MHYMAXKVGXMwdxuTsUMXmZQrlLY1kxjLYcXfwrM6zy41yTgHPwc7kVPB8B+1NcJ5a
        /Nrjt7UgRYtYKZjQuTHv4LQKCNGtXHiKiKx3SXMIsu01O6duRqRocfeXasP2HqFcnPHaU0d/eEcATQKPChh2RiTU5Lop9QcadvLMzMjnegt6
        1nR5iOFK+0dsAW4HnXL8j1VZflYRVmCcxBpPiWqoECdDuVdapD9pHhgHsa0Cvwb/SmxN38HQvMraiOWLA30sB9G+N46mIGgE4V9sMWRDsP6x
        dFLzoByyIFwk0NU=
        """

    static var bytes: [UInt8] {
        get throws { [UInt8](try #require(Data(base64Encoded: input.filter { !$0.isWhitespace }))) }
    }

    @Test("a SignedData whose certificate has a validity time of 61 seconds is malformed, not a trap")
    func leapSecondInCertificateValidity() throws {
        let bytes = try Self.bytes
        #expect(bytes.count == 3008)
        #expect(Array(bytes[1217..<1230]) == Array("261204003961Z".utf8))
        #expect(throws: CardCredentialsError.self) { try CMSSignedData(derEncoded: bytes) }
    }

    @Test("Certificate(untrustedDER:) refuses 61 seconds where init(derEncoded:) accepts them")
    func untrustedDERRefusesSixtyOneSeconds() throws {
        let bytes = try Self.bytes
        // The signing certificate, the second of the SignedData's certificates (openssl asn1parse: offset 1044,
        // 4 + 1286 bytes); its notBefore is the changed time.
        let der = Array(bytes[1044..<(1044 + 4 + 1286)])
        #expect(throws: (any Error).self) { try Certificate(untrustedDER: der) }
        #expect((try? Certificate(derEncoded: der)) != nil, "swift-asn1 still takes 61 seconds: the check is needed")
    }
}
