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
        #expect(step.currentStep == ICCardRenewalStep.insertCurrentCard.name)

        let desk = LifecycleError.registration(.storeFailure("disk full"))
        #expect(desk.code == .registration)
        #expect(desk.registrationError == .storeFailure("disk full"))
        #expect(LifecycleError.flowNotFound("f1").flowID == "f1")
        #expect(LifecycleError.Code(rawValue: "stepInProgress") == .stepInProgress)
        #expect(LifecycleError.stepInProgress.description.contains("still running"))
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
