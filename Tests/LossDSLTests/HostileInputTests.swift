import Foundation
import Testing
@testable import LossDSL
import LossTestSupport

/// Hostile inputs from the reliability issue, each with its expected outcome.
struct HostileInputTests {
    func first(_ text: String) -> String {
        do { _ = try Formula.parse(text, path: "h.loss"); return "ok" } catch {
            return error.diagnostics.first!.summary(in: error.file)
        }
    }

    @Test func manyLets() throws {
        // 20,000 chained lets compile (and in linear time: see `lossc bench compile`).
        var s = "loss chain: binary\nlet t0 = x\n"
        for k in 1..<20_000 { s += "let t\(k) = sigmoid(t\(k - 1)) * y\n" }
        s += "return t19999\n"
        let f = try Formula.parse(s)
        #expect(f.graph.liveCount(from: [f.root]) >= 40_000)
        _ = CompiledLoss.compile(f)
        // A million lets cannot fit in the 4 MiB a loss file may have: refused at once.
        let million = "loss m: binary\n" + String(repeating: "let a = x\n", count: 1_000_000) + "return x\n"
        #expect(first(million).hasPrefix("h.loss: error: the file is 10 MB"))
    }

    @Test func hugeIdentifiers() {
        let long = String(repeating: "a", count: 100_000)
        let msg = first("loss h: binary\nreturn \(long) + x\n")
        #expect(msg == "h.loss:2:8: error: unknown name '" + String(repeating: "a", count: 40) + "…'")
        #expect(first("loss h: binary\nlet \(long) = x\nreturn \(long)\n") == "ok")
    }

    @Test func keywordsAndCommentTerminatorsAsNames() {
        // C and Swift keywords are ordinary names in a .loss file (the emitters sanitize them).
        #expect(first("loss int: binary\nparam restrict = 2\nlet void = x * restrict\nlet func = void\nreturn func\n") == "ok")
        #expect(first("loss h: binary\nlet return = x\nreturn x\n") == "h.loss:2:5: error: 'return' is a keyword")
        #expect(first("loss h: binary\nlet a*/b = x\nreturn x\n") == "h.loss:2:6: error: expected '=' after the name, found '*'")
        #expect(first("loss h: binary\nreturn x /* comment */\n") == "h.loss:2:11: error: expected an expression after '/', found '*'")
    }

    @Test func oddNumbers() {
        #expect(first("loss h: binary\nreturn 1e400 * x\n") == "h.loss:2:8: error: number 1e400 is out of range (larger than 1.8e308)")
        #expect(first("loss h: binary\nreturn 0x1F * x\n") == "h.loss:2:8: error: malformed number '0x1F'")
        #expect(first("loss h: binary\nreturn 1_000 * x\n") == "h.loss:2:8: error: malformed number '1_000'")
        #expect(first("loss h: binary\nreturn . * x\n") == "h.loss:2:8: error: malformed number '.'")
        #expect(first("loss h: binary\nreturn 1e-320 * x\n") == "ok")   // subnormal, but representable
    }

    @Test func controlCharactersAndEncodings() {
        #expect(first("loss h: binary\nreturn x\u{7}\n") == "h.loss:2:9: error: unexpected character U+7")
        #expect(first("\u{FEFF}loss h: binary\nreturn x\n") == "h.loss:1:1: error: unexpected character '\u{FEFF}'")
        #expect(first("loss h: binary\r\nreturn x\r\n") == "ok")   // CRLF line ends are fine
    }

    @Test func deapStringWithLineBreaks() throws {
        // Found by Fuzz/fuzz-deap: whitespace, a line break included, may separate DEAP
        // arguments, and `DEAPImport.source` copied the string into its header comment as it
        // was, so the string's second line was outside the comment and the file did not parse.
        let deap = "Sub(1,Sub(Div(I,U),Div(Sub(E,U)\nE)))"
        let imported = try DEAPImport.formula(deap, kind: .box)
        let source = try DEAPImport.source(deap, kind: .box)
        #expect(source.hasPrefix("# Imported from the CSE-Autoloss DEAP string:\n# Sub(1,Sub(Div(I,U),Div(Sub(E,U)\n# E)))\n"))
        let reparsed = try Formula.parse(source)
        #expect(reparsed.graph.liveCount(from: [reparsed.root]) == imported.graph.liveCount(from: [imported.root]))
    }
}
