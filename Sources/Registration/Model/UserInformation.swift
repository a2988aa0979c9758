/// 利用者基本情報: a user's basic information (役職名, 氏名, 住所, 郵便番号, 電話番号, FAX番号, メールアドレス).
public struct UserInformation: Sendable, Hashable, Codable {
    /// 役職名: the user's title in the business.
    public var title: String
    /// 氏名: the user's name.
    public var name: String
    /// 郵便番号.
    public var postalCode: PostalCode
    /// 住所: the address where the user works.
    public var address: String
    /// 電話番号.
    public var phone: PhoneNumber
    /// FAX番号, if any.
    public var fax: PhoneNumber?
    /// メールアドレス: where the completion mails (`[重要]利用者更新完了通知`) go.
    public var mail: MailAddress

    /// Checks and keeps a user's basic information.
    /// - Throws: ``RegistrationError/invalidField(field:reason:)`` for the first field that is not valid.
    public init(
        title: String, name: String, postalCode: String, address: String, phone: String, fax: String? = nil,
        mail: String
    ) throws(RegistrationError) {
        self.title = try Field.text(title, field: "役職名", maximum: 50)
        self.name = try Field.text(name, field: "氏名", maximum: 50)
        self.postalCode = try PostalCode(postalCode)
        self.address = try Field.text(address, field: "住所", maximum: 150)
        self.phone = try PhoneNumber(phone, field: "電話番号")
        if let fax, !fax.trimmingSpaces.isEmpty {
            self.fax = try PhoneNumber(fax, field: "FAX番号")
        } else {
            self.fax = nil
        }
        self.mail = try MailAddress(mail)
    }

    /// The fields as the confirmation screen lists them: the manual's label and the value.
    public var labeledFields: [(label: String, value: String)] {
        [
            ("役職名", title), ("氏名", name), ("郵便番号", postalCode.text), ("住所", address), ("電話番号", phone.text),
            ("FAX番号", fax?.text ?? ""), ("メールアドレス", mail.text),
        ]
    }
}
