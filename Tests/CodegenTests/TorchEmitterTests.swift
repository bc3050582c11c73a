import Foundation
import Testing
@testable import Codegen
import LossDSL

/// `--target torch` without Python: the torch column of the operator table is complete and
/// consistent with the table's shape rules, every per-sample example emits a module with the
/// expected classes and imports, and user text (names, the source formula) reaches the Python
/// text only as sanitized identifiers, escaped string literals and one-line comments. The
/// modules' numbers are checked by the pytest suite (python/tests/test_torch_*.py).
struct TorchEmitterTests {
    @Test func everyOperatorHasATorchSpellingMatchingItsShapeRule() {
        for op in Op.allCases {
            let spelling = op.torchSpelling
            switch spelling {
            case .leaf: #expect(op.isLeaf, "\(op)")
            case .classMap: #expect(op.shapeRule == .classMap, "\(op)")
            case .classSum(let product): #expect(op.shapeRule == .classReduce && (op.arity == 2) == product, "\(op)")
            case .infix: #expect(op.arity == 2 && op.shapeRule == .elementwise, "\(op)")
            case .prefix, .identity: #expect(op.arity == 1 && op.shapeRule == .elementwise, "\(op)")
            case .function(let f, _): #expect(f.hasPrefix("torch.") && op.shapeRule == .elementwise, "\(op)")
            case .helper(let h, _):
                #expect(op.shapeRule == .elementwise, "\(op)")
                let text = TorchPrelude.definition(h)
                #expect(text != nil, "\(op): no helper _\(h) in TorchPrelude")
                #expect(text?.hasPrefix("def _\(h)(") == true, "\(op)")
                // one argument per operand
                let params = text.map { $0.split(separator: "(")[1].split(separator: ")")[0].split(separator: ",").count }
                #expect(params == op.arity, "\(op)")
            }
            if !op.isLeaf { #expect(spelling != .leaf, "\(op)") }
        }
    }

    @Test func everyPerSampleExampleEmitsAModule() {
        #expect(EmittedExampleTests.examples.count >= 11)
        for (name, loss) in EmittedExampleTests.examples {
            let out = TorchEmitter.emit(loss, command: "lossc emit examples/\(name).loss --target torch")
            let text = out.text
            #expect(text.contains("class \(out.className)(torch.nn.Module):"), "\(name)")
            #expect(text.contains("class \(out.className)Function(torch.autograd.Function):"), "\(name)")
            #expect(text.hasSuffix("Loss = \(out.className)\n"), "\(name)")
            #expect(text.contains("KIND = \"\(loss.kind.rawValue)\""), "\(name)")
            let imports = text.split(separator: "\n").filter { $0.hasPrefix("import ") || $0.hasPrefix("from ") }
            #expect(imports == ["import math", "import torch"], "\(name): \(imports)")
            // host reads (.item()) only in _invariants, which runs at construction
            let forward = text.components(separatedBy: "def _value(")[1]
            #expect(!forward.contains(".item()") && !forward.contains(".tolist()"), "\(name)")
            #expect(text.contains("def __init__(self, "), "\(name)")
            for p in loss.formula.params { #expect(text.contains("\(p.name)=\(PyNames.floatLiteral(p.value))"), "\(name)") }
        }
        let focal = EmittedExampleTests.examples.first { $0.name == "focal" }!
        #expect(TorchEmitter.emit(focal.loss).text.contains("def __init__(self, alpha=0.25, gamma=2.0, reduction=\"mean\"):"))
    }

    @Test func classNames() {
        #expect(PyNames.className("focal") == "FocalLoss")
        #expect(PyNames.className("quality_focal") == "QualityFocalLoss")
        #expect(PyNames.className("ap_loss") == "ApLoss")
        #expect(PyNames.className("loss") == "LosscLoss")
        #expect(PyNames.className("class") == "VclassLoss")
    }

    @Test func identifiersAreSafeAndInjective() {
        let names = CNamesTests.hostile + ["lambda", "self", "reduction", "None", "print", "torch", "math", "params",
                                          "lambda_", "vlambda_", "type", "match", "alpha", "t1", "p0"]
        var seen: [String: String] = [:]
        for name in names {
            let id = PyNames.identifier(name)
            #expect(id.utf8.allSatisfy { CNames.isAlnum($0) || $0 == UInt8(ascii: "_") } && id.first?.isLetter == true, "\(id)")
            #expect(!PyNames.reserved.contains(id), "\(id)")
            #expect(seen[id] == nil, "\(name) and \(seen[id] ?? "") both give \(id)")
            seen[id] = name
        }
        #expect(PyNames.identifier("alpha") == "alpha")
        #expect(PyNames.identifier("lambda") == "vlambda_")
    }

    @Test func stringLiteralsAndCommentsCannotBreakOut() {
        #expect(PyNames.stringLiteral("a\"b\\c\nd\u{2028}é😀") == "\"a\\x22b\\x5cc\\x0ad\\u2028\\xe9\\U0001f600\"")
        #expect(PyNames.commentText("x\ny\r\u{0C}\\z") == "x<U+000A>y<U+000D><U+000C><U+005C>z")
        #expect(PyNames.floatLiteral(-0.5) == "(-0.5)" && PyNames.floatLiteral(1e-7) == "1e-07")
        #expect(PyNames.floatLiteral(-.infinity) == "(-math.inf)" && PyNames.floatLiteral(.nan) == "math.nan")
    }

    @Test func hostileSourceTextStaysInCommentsAndLiterals() throws {
        let marker = "PWNED"
        let text = "# \"\"\" \u{0C} \r \(marker)1 \\\nloss h: binary\nparam lambda = 0.5 # \u{2028}\(marker)2\nparam self = 2\nreturn lambda * softplus(self * x)\n"
        let loss = CompiledLoss.compile(try Formula.parse(text))
        // (a --name reaches the text as a sanitized class name: letters and digits only)
        let out = TorchEmitter.emit(loss, name: "a\"b\n= 1 #", command: "lossc emit x\n\(marker)4.loss")
        #expect(out.className == "VaX22bX0aX3dX201X20X23Loss")
        for line in out.text.split(separator: "\n", omittingEmptySubsequences: false) where line.contains(marker) {
            #expect(line.hasPrefix("#"), "user text outside a comment: \(line)")
        }
        #expect(!out.text.contains("\r") && !out.text.contains("\u{0C}") && !out.text.contains("\u{2028}"))
        #expect(out.text.contains("def __init__(self, vlambda_=0.5, vself_=2.0, reduction=\"mean\"):"))
        #expect(out.text.contains("PARAMS = {\"lambda\": 0.5, \"self\": 2.0}"))
        // the first two lines (where Python reads a coding declaration) carry no user text
        #expect(out.text.split(separator: "\n").prefix(2).allSatisfy { !$0.contains("x") || $0.contains("lossc") })
    }
}
