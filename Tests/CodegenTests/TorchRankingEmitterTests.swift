import Foundation
import Testing
@testable import Codegen
import LossDSL

/// `--target torch` for ranking losses without Python: every ranking example (and every pair
/// analysis formula of Tests/RankingFormulas) emits a module with the expected classes, imports
/// and plan; nothing in it loops over elements in Python. The modules' numbers are checked by
/// python/tests/test_torch_ranking.py.
struct TorchRankingEmitterTests {
    @Test func everyRankingExampleEmitsAModule() throws {
        for (label, file, params) in CRankingTests.cases {
            let f = try CRankingTests.example(file, params)
            let out = try TorchRankingEmitter.emit(f, command: "lossc emit examples/\(file).loss --target torch")
            let text = out.text
            #expect(text.contains("class \(out.className)(torch.nn.Module):"), "\(label)")
            #expect(text.contains("class \(out.className)Function(torch.autograd.Function):"), "\(label)")
            #expect(text.contains("    def forward(self, s, y, u=None):"), "\(label)")
            #expect(text.hasSuffix("Loss = \(out.className)\n"), "\(label)")
            #expect(text.contains("KIND = \"ranking\""), "\(label)")
            let imports = text.split(separator: "\n").filter { $0.hasPrefix("import ") || $0.hasPrefix("from ") }
            #expect(imports == ["import math", "import torch"], "\(label): \(imports)")
            // the O(n log n) plan: one sort of the valid entries, prefix sums, searches per positive
            #expect(text.contains("torch.sort(s[vidx], stable=True)") && text.contains("_row_term(") && text.contains("_ranges("), "\(label)")
            // loops only over the plan's breakpoints and pair-range lists, never over tensors' elements
            let loops = text.split(separator: "\n").filter { $0.trimmingCharacters(in: .whitespaces).hasPrefix("for ") }
            #expect(loops.allSatisfy { $0.contains("for b in cuts:") }, "\(label): \(loops)")
            for p in f.params { #expect(text.contains(PyNames.stringLiteral(p.name) + ": " + PyNames.floatLiteral(p.value)), "\(label)") }
        }
        let ap = try TorchRankingEmitter.emit(try CRankingTests.example("ap_loss", [:])).text
        #expect(ap.contains("edge = _ranges(S, c.si, ((-1.0), 1.0,))") && ap.contains("REACHES_U = False"))
        let pap = try TorchRankingEmitter.emit(try CRankingTests.example("pap_retinanet", ["num_topk": 20])).text
        #expect(pap.contains("_members(s, y, sorted_valid, 2, 20)") && pap.contains("REACHES_U = True"))
    }

    @Test func everyPairAnalysisFormulaEmits() throws {
        #expect(CRankingTests.formulas.count >= 5)
        for (name, text) in CRankingTests.formulas {
            let f = try RankingFormula.parse(text, path: name)
            let out = try TorchRankingEmitter.emit(f)
            #expect(out.text.contains("def _evaluate(s, y, u, grad):"), "\(name)")
        }
    }
}
