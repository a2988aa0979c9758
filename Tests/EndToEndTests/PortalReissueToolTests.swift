import CardSimulator
import Foundation
import Testing

extension EndToEnd {
    /// `portal reissue` as the administrator and the user run it (seed 004): the contract, the administrator's
    /// 管理者ログオン with the representative's IC card and the 利用者電子証明書の再発行, then 電子証明書取得 on the
    /// user's new computer into a password-protected PKCS#12 file that logs in, while the revoked one cannot.
    @Suite("The portal reissue commands through pcscd")
    struct PortalReissueToolTests {
        static let contract = "12345678901"
        static let adminPasswords = "admin-pass-1\nadmin-check-2\n"
        static let userPasswords = "user-pass-1\nuser-check-2\n"

        @Test(
            "reissue contract → request (administrator's card) → enroll, twice: the new .p12 logs in, the revoked one not"
        )
        func contractRequestEnroll() async throws {
            let workspace = try PortalToolTests.Workspace()
            let accounts = workspace.directory.appending(path: "accounts.json").path
            let ca = workspace.directory.appending(path: "reissue-ca").path
            let p12 = workspace.directory.appending(path: "user01.p12").path
            let reissueRoot = workspace.directory.appending(path: "reissue-root.pem").path
            let reissue = ["--accounts", accounts, "--ca", ca, "--trust", workspace.trust, "--password-stdin"]
            let adminCard = try workspace.card(holder: "入札 太郎")
            let userCard = try workspace.card(holder: "再発行 花子", pin: "5678")

            let (administrator, user) = try await register(workspace, adminCard: adminCard, userCard: userCard)
            let recorded = try await workspace.portal(
                [
                    "reissue", "contract", "--contract", Self.contract, "--administrator", administrator, "--user",
                    "user01=\(user)",
                ] + reissue,
                input: Self.adminPasswords + Self.userPasswords)
            #expect(recorded.status == 0, "\(recorded.error)")
            #expect(recorded.output.contains("契約者ID \(Self.contract): \(PortalToolTests.company), 1 user(s)"))
            let stored = try String(contentsOfFile: accounts, encoding: .utf8)
            #expect(!stored.contains("admin-pass-1") && !stored.contains("user-pass-1"), "passwords are digests")

            // A wrong ご契約先暗証番号 is refused and says so, without the password.
            let refusal = try await TestBench.withCard(adminCard, slot: PortalToolTests.slot) { _, _, reader in
                try await workspace.portal(
                    [
                        "reissue", "request", "--contract", Self.contract, "--user", "user01", "--card", "--reader",
                        reader, "--pin-stdin", "--yes",
                    ] + reissue,
                    input: "1234\nnot-the-password\nadmin-check-2\n")
            }
            #expect(refusal.status == 1)
            #expect(!refusal.error.isEmpty && !refusal.error.contains("not-the-password"))

            // First reissue: the user has only an IC card, which a reissue leaves alone (it revokes file
            // certificates of its certification authority); the user obtains a first file certificate.
            let first = try await reissueAndEnroll(workspace, adminCard: adminCard, options: reissue, out: p12)
            #expect(first.request.output.contains("失効する電子証明書"))
            #expect(first.request.output.contains("なし"))
            // Second reissue: that file certificate is revoked (its serial on the screen), a second one obtained.
            let second = try await reissueAndEnroll(
                workspace, adminCard: adminCard, options: reissue, out: p12 + ".second")
            let firstSerial = try #require(Self.value(of: "証明書シリアル番号", in: first.enroll.output))
            #expect(second.request.output.contains(firstSerial), "\(second.request.output)")

            // The code is single-use.
            let again = try await workspace.portal(
                [
                    "reissue", "enroll", "--contract", Self.contract, "--user", "user01", "--code", second.code,
                    "--out",
                    p12 + ".again", "--yes",
                ] + reissue,
                input: Self.userPasswords + "p12-file-pass\n")
            #expect(again.status == 1)
            #expect(!FileManager.default.fileExists(atPath: p12 + ".again"))

            // Under the reference CA's root the second file logs in as the user; the first is refused (失効).
            let root = try await Tools.run("portal", ["reissue", "ca-root", "--ca", ca])
            #expect(root.status == 0, "\(root.error)")
            try root.output.write(toFile: reissueRoot, atomically: true, encoding: .utf8)
            let login = try await workspace.portal(
                ["login", "--pkcs12", p12 + ".second", "--pin-stdin", "--trust", reissueRoot],
                input: "p12-file-pass\n")
            #expect(login.status == 0, "\(login.error)")
            #expect(login.output.contains("再発行 花子"))
            let old = try await workspace.portal(
                ["login", "--pkcs12", p12, "--pin-stdin", "--trust", reissueRoot], input: "p12-file-pass\n")
            #expect(old.status == 1, "\(old.output)")
            #expect(old.error.contains("失効"), "\(old.error)")
            #expect(!old.error.contains("p12-file-pass") && !login.output.contains("p12-file-pass"))
        }

        /// The administrator's request with the representative's card, then the user's enrollment into `out`.
        private func reissueAndEnroll(
            _ workspace: PortalToolTests.Workspace, adminCard: PrivateCAICCard, options: [String], out: String
        ) async throws -> (request: Tools.Result, enroll: Tools.Result, code: String) {
            let request = try await TestBench.withCard(adminCard, slot: PortalToolTests.slot) { _, _, reader in
                try await workspace.portal(
                    [
                        "reissue", "request", "--contract", Self.contract, "--user", "user01", "--card", "--reader",
                        reader, "--pin-stdin", "--yes",
                    ] + options,
                    input: "1234\n" + Self.adminPasswords)
            }
            #expect(request.status == 0, "\(request.error)")
            #expect(request.output.contains("処理内容"))
            #expect(!request.output.contains("1234\n") && !request.output.contains("admin-pass-1"))
            let code = try #require(Self.value(of: "取得コード", in: request.output), "\(request.output)")

            let enroll = try await workspace.portal(
                [
                    "reissue", "enroll", "--contract", Self.contract, "--user", "user01", "--code", code, "--out", out,
                    "--yes",
                ] + options,
                input: Self.userPasswords + "p12-file-pass\n")
            #expect(enroll.status == 0, "\(enroll.error)")
            #expect(enroll.output.contains("再発行 花子"))
            let attributes = try FileManager.default.attributesOfItem(atPath: out)
            #expect((attributes[.posixPermissions] as? Int) == 0o600, "the file is the user's alone")
            return (request, enroll, code)
        }

        /// Registers the business with the representative's card and adds the user as an agent with its card;
        /// returns their user IDs.
        private func register(
            _ workspace: PortalToolTests.Workspace, adminCard: PrivateCAICCard, userCard: PrivateCAICCard
        ) async throws -> (String, String) {
            try await TestBench.withCard(adminCard, slot: PortalToolTests.slot) { _, _, reader in
                let registered = try await workspace.portal(PortalToolTests.registerArguments + ["--reader", reader])
                #expect(registered.status == 0, "\(registered.error)")
            }
            let administrator = try #require(
                PortalToolTests.userID(in: try await workspace.portal(["list"]).output, name: "入札 太郎"))
            try await TestBench.withCard(userCard, slot: PortalToolTests.slot) { _, _, reader in
                let added = try await workspace.portal(
                    [
                        "agent", "add", "--as", administrator, "--card", "--reader", reader, "--title", "営業部長",
                        "--name", "再発行 花子", "--postal-code", "100-0013", "--address", "東京都千代田区", "--phone",
                        "03-1234-0000", "--mail", "hanako@example.co.jp", "--yes",
                    ])
                #expect(added.status == 0, "\(added.error)")
            }
            let user = try #require(
                PortalToolTests.userID(in: try await workspace.portal(["list"]).output, name: "再発行 花子"))
            return (administrator, user)
        }

        /// The value in the row of `label` of an aligned table.
        static func value(of label: String, in output: String) -> String? {
            output.split(separator: "\n").first { $0.hasPrefix(label) }?.split(separator: " ").last.map(String.init)
        }
    }
}
