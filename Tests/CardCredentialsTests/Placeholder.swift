// CardCredentialsTests
