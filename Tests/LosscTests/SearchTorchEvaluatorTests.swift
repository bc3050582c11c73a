import Foundation
import Testing

/// `lossc search --evaluator` hands each candidate's PyTorch module to the evaluator as
/// `{torch}` and `$LOSSC_TORCH` (candidate.py, class CandidateLoss, also bound to Loss).
struct SearchTorchEvaluatorTests {
    @Test func torchPlaceholderAndEnvironmentNameTheModule() throws {
        let cmd = "grep -q 'class CandidateLoss(torch.nn.Module):' {torch} && grep -q '^Loss = CandidateLoss$' \"$LOSSC_TORCH\""
            + " && test \"$LOSSC_TORCH\" = \"$LOSSC_DIR/candidate.py\" && echo 0.25"
        let r = try CLI.run(SearchHardeningCLITests.small(["--evaluator", cmd]))
        #expect(r.status == 0 && SearchHardeningCLITests.best(r.out) == [0.25, 0.25], "\(r.out) \(r.err)")
    }
}
