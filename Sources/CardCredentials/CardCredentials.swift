// The CardCredentials module (PINs, certificates, validation, PKCS#12, signers, CMS) is being built.
