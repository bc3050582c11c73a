import Foundation
import Testing
@testable import LossDSL
import LossTestSupport

/// Every malformed input gets one precise diagnostic (file:line:col, message), never a crash.
struct DiagnosticTests {
    /// The first diagnostic of a source that must fail, as `path:line:col: severity: message`.
    func firstError(_ text: String) -> String {
        do {
            _ = try Formula.parse(text, path: "t.loss")
            return "no error"
        } catch {
            return error.diagnostics.first!.summary(in: error.file)
        }
    }

    func hint(_ text: String) -> String? {
        do { _ = try Formula.parse(text, path: "t.loss"); return nil } catch { return error.diagnostics.first?.hint }
    }

    @Test func unknownNamesSuggestTheNearest() {
        #expect(firstError("loss a: binary\nreturn sigmoud(x)\n") == "t.loss:2:8: error: unknown function 'sigmoud'")
        #expect(hint("loss a: binary\nreturn sigmoud(x)\n") == "did you mean 'sigmoid'?")
        #expect(firstError("loss a: binary\nlet prob = sigmoid(x)\nreturn -log(prb)\n") == "t.loss:3:13: error: unknown name 'prb'")
        #expect(hint("loss a: binary\nlet prob = sigmoid(x)\nreturn -log(prb)\n") == "did you mean 'prob'?")
        #expect(hint("loss a: binary\nreturn Sig(x)\n") == "'Sig' is the DEAP name; in a .loss file it is 'sigmoid'")
        #expect(hint("loss a: binary\nreturn erf(x)\n")!.hasPrefix("the search space's S-curves are 'scaled_erf'"))
        #expect(firstError("loss a: binray\nreturn x\n") == "t.loss:1:9: error: unknown kind 'binray'")
        #expect(hint("loss a: binray\nreturn x\n") == "did you mean 'binary'?")
        #expect(firstError("loss a: binary\nretrun x\n") == "t.loss:2:1: error: expected 'param', 'let' or 'return', found 'retrun'")
    }

    @Test func arityAndKindMismatches() {
        #expect(firstError("loss a: binary\nreturn log(sigmoid(x, y))\n") == "t.loss:2:12: error: sigmoid takes 1 argument, but 2 were given")
        #expect(firstError("loss a: binary\nreturn add(x)\n") == "t.loss:2:8: error: add takes 2 arguments, but 1 was given")
        #expect(firstError("loss a: binary\nreturn softmax(x)\n") == "t.loss:2:8: error: softmax needs a class axis, but its argument is one value per sample")
        #expect(firstError("loss a: binary\nreturn dot(x, y)\n") == "t.loss:2:8: error: dot needs a class axis, but its argument is one value per sample")
        #expect(firstError("loss a: binary\nreturn 1 - i / u\n") == "t.loss:2:12: error: unknown name 'i'")
        #expect(hint("loss a: binary\nreturn 1 - i / u\n") == "'i' is an input of box losses; a binary loss has x, y, w")
        #expect(firstError("loss a: multiclass\nreturn softmax(x)\n") == "t.loss:2:8: error: the loss is a class vector, not one value per sample")
        #expect(firstError("loss a: ranking\nreturn s\n") == "t.loss:1:9: error: a ranking loss is computed over the whole batch, not per sample")
        #expect(firstError("loss a: binary\nreturn x ^ y\n") == "t.loss:2:12: error: the exponent of '^' must be a number or a param")
    }

    @Test func structuralErrors() {
        #expect(firstError("") == "t.loss: error: the file is empty")
        #expect(firstError("# just a comment\n\n") == "t.loss: error: the file is empty")
        #expect(firstError("let p = x\n") == "t.loss:1:1: error: expected the header 'loss NAME: KIND', found 'let'")
        #expect(firstError("loss a: binary\nlet p = sigmoid(x)\n") == "t.loss:3:1: error: the file has no 'return' statement")
        #expect(firstError("loss a: binary\nreturn x\nreturn y\n") == "t.loss:3:1: error: statement after 'return' (line 2)")
        #expect(firstError("loss a: binary\nlet p = x\nlet p = y\nreturn p\n") == "t.loss:3:5: error: 'p' is already defined at line 2")
        #expect(firstError("loss a: binary\nlet x = 1\nreturn x\n") == "t.loss:2:5: error: 'x' is an input of a binary loss")
        #expect(firstError("loss a: binary\nparam g = y\nreturn x\n") == "t.loss:2:11: error: a param's default must be a number, found 'y'")
    }

    @Test func unterminatedExpressions() {
        #expect(firstError("loss a: binary\nreturn (x + \n") == "t.loss:2:8: error: this '(' is never closed")
        #expect(firstError("loss a: binary\nreturn log(x\n") == "t.loss:2:11: error: this '(' is never closed")
        #expect(firstError("loss a: binary\nreturn x +\n") == "t.loss:2:11: error: expected an expression after '+', found the end of the line")
        #expect(firstError("loss a: binary\nreturn x)\n") == "t.loss:2:9: error: unmatched ')'")
        #expect(firstError("loss a: binary\nreturn 2 x\n") == "t.loss:2:10: error: expected an operator or the end of the line, found 'x'")
        #expect(hint("loss a: binary\nreturn 2 x\n") == "multiplication is written with '*'")
        #expect(firstError("loss a: binary\nreturn , x\n") == "t.loss:2:8: error: expected an expression, found ','")
    }

    @Test func numbersOutOfRange() {
        #expect(firstError("loss a: binary\nreturn 1e999 * x\n") == "t.loss:2:8: error: number 1e999 is out of range (larger than 1.8e308)")
        #expect(firstError("loss a: binary\nreturn 1e-999 * x\n") == "t.loss:2:8: error: number 1e-999 is too small: it would be 0")
        #expect(firstError("loss a: binary\nreturn 1.2.3 * x\n") == "t.loss:2:11: error: expected an operator or the end of the line, found the number .3")
        #expect(firstError("loss a: binary\nreturn 2e * x\n") == "t.loss:2:8: error: malformed number '2e'")
    }

    @Test func garbageAndHugeInputs() {
        var r = TestRandom(1)
        var garbage = [UInt8](repeating: 0, count: 100_000)
        for i in garbage.indices { garbage[i] = UInt8(r.next() * 256) }
        garbage[10] = 0
        func first(_ bytes: [UInt8]) -> String {
            do { _ = try Formula.parse(SourceFile(path: "t.loss", bytes: bytes)); return "no error" } catch {
                return error.diagnostics[0].summary(in: error.file)
            }
        }
        #expect(first(garbage) == "t.loss: error: this is not a text file (a NUL byte at offset 10)")
        #expect(first([0x6C, 0xFF, 0xFE]) == "t.loss: error: this file is not valid UTF-8 (at byte offset 1)")
        #expect(first(Array("loss a: binary\nreturn x § 2\n".utf8)) == "t.loss:2:10: error: unexpected character '§'")
        // 100,000 nested parentheses: a clear error, not a stack overflow.
        let deep = "loss a: binary\nreturn " + String(repeating: "(", count: 100_000) + "x" + String(repeating: ")", count: 100_000) + "\n"
        #expect(firstError(deep) == "t.loss:2:1008: error: expression nested more than 1000 parentheses deep")
        // 100,000 unary minus signs, likewise.
        #expect(firstError("loss a: binary\nreturn " + String(repeating: "-", count: 100_000) + "x\n").hasSuffix("too many unary minus signs in a row"))
        // A 10 MB file is refused at once.
        let big = "loss a: binary\nreturn " + String(repeating: "x + ", count: 2_500_000) + "x\n"
        #expect(firstError(big) == "t.loss: error: the file is 10 MB; loss files are limited to 4 MiB")
        // 999 levels still parse.
        let ok = "loss a: binary\nreturn " + String(repeating: "(", count: 999) + "x" + String(repeating: ")", count: 999) + "\n"
        #expect(firstError(ok) == "no error")
    }

    @Test func severalErrorsAreAllReported() throws {
        do {
            _ = try Formula.parse("loss a: binary\nlet p = sigmoud(x)\nlet q = lg(x)\nreturn p\n", path: "t.loss")
            Issue.record("expected errors")
        } catch {
            #expect(error.diagnostics.filter { $0.severity == .error }.count == 2)
        }
    }

    @Test func renderedDiagnosticHasSourceLineCaretAndHint() {
        do {
            _ = try Formula.parse("loss a: binary\nreturn -log(sigmoud(x))\n", path: "t.loss")
        } catch {
            #expect(error.render() == """
            t.loss:2:13: error: unknown function 'sigmoud' [unknown-function]
              return -log(sigmoud(x))
                          ^~~~~~~
              hint: did you mean 'sigmoid'?

            """)
        }
    }

    @Test func hazardsPointAtTheSource() throws {
        func hazards(_ src: String) throws -> [String] {
            let l = CompiledLoss.compile(try Formula.parse(src, path: "t.loss"))
            return HazardCheck.diagnostics(l).map { $0.summary(in: l.formula.file) }
        }
        #expect(try hazards("loss a: binary\nreturn -log(x)\n") == ["t.loss:2:9: error: log of a value that can be negative (NaN): its argument ranges over [-10000, 10000]"])
        #expect(try hazards("loss a: binary\nreturn sqrt(x - 1)\n") == ["t.loss:2:8: error: sqrt of a value that can be negative (NaN): its argument ranges over [-10001, 9999]"])
        #expect(try hazards("loss a: binary\nreturn exp(x) * y\n").first!.hasPrefix("t.loss:2:8: warning: exp can overflow in float32"))
        #expect(try hazards("loss a: box\nreturn -log(i / u)\n").first!.hasPrefix("t.loss:2:9: warning: log of a value that can be 0"))
        #expect(try hazards("loss a: binary\nreturn x / w\n").first!.hasPrefix("t.loss:2:8: warning: division by a value that can be 0"))
        // Stabilized forms are not hazards.
        #expect(try hazards("loss a: binary\nreturn -log(sigmoid(x)) - log(1 - sigmoid(x)) + log(1 + exp(x))\n").isEmpty)
        #expect(try hazards("loss a: multiclass\nreturn -dot(y, log(softmax(x)))\n").isEmpty)
    }
}
