import CardCredentials
import CertificateRenewal
import Foundation
import Registration
import Testing

@Suite("LifecycleError: extensible codes, typed values, the same sentences")
struct LifecycleErrorTests {
    @Test("a code is named as the former case; the values are properties; equality compares code and values")
    func codesAndValues() {
        let wrong = LifecycleError.wrongPIN(.current, triesLeft: 2)
        #expect(wrong.code == .wrongPIN)
        #expect(wrong.code.rawValue == "wrongPIN")
        #expect(wrong.triesLeft == 2)
        #expect(wrong.cardRole == .current)
        #expect(wrong.expectedStep == nil)
        #expect(wrong != .wrongPIN(.current, triesLeft: 1))
        #expect(wrong == .wrongPIN(.current, triesLeft: 2))

        let step = LifecycleError.notAtStep(expected: "confirm", current: "insertCurrentCard")
        #expect(step.code == .notAtStep)
        #expect(step.expectedStep == "confirm")
        #expect(step.currentStep == ICCardRenewalStep.insertCurrentCard.name.rawValue)
        #expect(step.currentStep(as: ICCardRenewalStep.Name.self) == .insertCurrentCard)
        #expect(step.expectedSteps(as: ICCardRenewalStep.Name.self) == [.confirm])

        let desk = LifecycleError.registration(.storeFailure("disk full"))
        #expect(desk.code == .registration)
        #expect(desk.registrationError == .storeFailure("disk full"))
        #expect(LifecycleError.flowNotFound("f1").flowID == "f1")
        #expect(LifecycleError.Code(rawValue: "stepInProgress") == .stepInProgress)
        #expect(LifecycleError.stepInProgress.description.contains("still running"))
    }

    @Test("step names are typed per flow: built from them, read back as them, and only as the flow's own")
    func typedSteps() {
        let typed = LifecycleError.notAtStep(expected: ICCardRenewalState.Step.confirm, current: .newCard)
        #expect(typed == .notAtStep(expected: "confirm", current: "new-card"), "the names on the wire stay the same")
        #expect(typed.currentStep(as: ICCardRenewalState.Step.self) == .newCard)
        let several = LifecycleError.notAtStep(
            anyOf: [ICCardRenewalState.Step.currentCard, .newCard, .confirm], current: .completed)
        #expect(several.expectedStep == "current-card, new-card or confirm")
        #expect(several.expectedSteps(as: ICCardRenewalState.Step.self) == [.currentCard, .newCard, .confirm])
        // Another flow's names do not read as this flow's.
        #expect(several.expectedSteps(as: ICCardRenewalStep.Name.self).isEmpty)
        #expect(typed.currentStep(as: ICCardRenewalStep.Name.self) == nil)
        // Every step of a flow has a name, and a front end can switch over them all.
        func screen(_ name: CertificateReissueStep.Name) -> String {
            switch name {
            case .logOn: "管理者ログオン"
            case .chooseUser: "利用者情報選択"
            case .confirm: "利用者電子証明書再発行確認"
            case .completed: "再発行結果"
            }
        }
        #expect(CertificateReissueStep.Name.allCases.map(screen).count == 4)
        #expect(CertificateReissueStep.logOn.name == .logOn)
    }

    @Test("switching over the code needs a default and nothing else")
    func switching() {
        func advice(_ error: LifecycleError) -> String {
            switch error.code {
            case .stepInProgress: "wait"
            case .wrongPIN: "\(error.triesLeft ?? 0) left"
            default: error.description
            }
        }
        #expect(advice(.stepInProgress) == "wait")
        #expect(advice(.wrongPIN(.new, triesLeft: 3)) == "3 left")
        #expect(advice(.sameCard) == LifecycleError.sameCard.description)
    }

    @Test("thrown as before, caught by code")
    func throwing() {
        func step() throws(LifecycleError) { throw .stepInProgress }
        do {
            try step()
            Issue.record("did not throw")
        } catch  where error.code == .stepInProgress {
        } catch {
            Issue.record("got \(error)")
        }
        #expect(throws: LifecycleError.stepInProgress) { try step() }
    }
}
