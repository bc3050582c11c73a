import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

/// Class 6 (data and arguments) and class 8 (what a new user tripped on) of the hardening issue.
struct DataArgumentsCLITests {
    /// CRLF line ends and a UTF-8 byte order mark are read; a NUL byte, a directory and a FIFO
    /// get their own messages.
    @Test func csvVariants() throws {
        let crlf = try CLI.temp("crlf.csv", "\u{FEFF}x,y\r\n0.5,1\r\n-1,0\r\n")
        let plain = try CLI.temp("plain.csv", "x,y\n0.5,1\n-1,0\n")
        let a = try CLI.run(["eval", "examples/bce.loss", "--data", crlf]), b = try CLI.run(["eval", "examples/bce.loss", "--data", plain])
        #expect(a.status == 0 && a.out == b.out && a.out.contains("# mean,"), "\(a.err)")
        let nul = try CLI.temp("nul.csv", "x,y\n0.5,1\u{0},3\n")
        let n = try CLI.run(["eval", "examples/bce.loss", "--data", nul])
        #expect(n.status == 2 && n.err.contains("nul.csv:2:2: error: NUL byte"), "\(n.err)")
        let d = try CLI.run(["eval", "examples/bce.loss", "--data", FileManager.default.temporaryDirectory.path])
        #expect(d.status == 2 && d.err.contains("it is a directory"), "\(d.err)")
        let dir = try OutputFileCLITests.dir("fifo-data")
        #expect(mkfifo("\(dir)/rows", 0o644) == 0)
        let f = try OutputFileCLITests.shell("printf 'x,y\\n1,1\\n' > \"$1\" & \"$0\" eval examples/bce.loss --data \"$1\"; s=$?; wait; exit $s", ["\(dir)/rows"])
        #expect(f.status == 0 && f.out.contains("# mean,"), "\(f.err)")
    }

    /// 1e39 is finite in Double but not in float32: refused like inf.
    @Test func float32OverflowIsRefused() throws {
        let data = try CLI.temp("big.csv", "x,y\n1e39,1\n")
        let r = try CLI.run(["eval", "examples/focal.loss", "--data", data, "--precision", "f32"])
        #expect(r.status == 2 && r.err.contains("big.csv:2:1: error: '1e39' overflows float32"), "\(r.err)")
        #expect(try CLI.run(["eval", "examples/focal.loss", "--data", data, "--precision", "f64"]).status == 0)
    }

    /// One number syntax on the command line, the .loss one: no hex, no inf, no nan.
    @Test func oneNumberParser() throws {
        for bad in ["0x10", "inf", "nan", "1e", "--1", "1.5.2", "2 3"] {
            let r = try CLI.run(["check", "examples/focal.loss", "--stage", "1", "--param", "gamma=\(bad)"])
            #expect(r.status == 2 && r.err.contains("is not a finite decimal number"), "\(bad): \(r.err)")
        }
        #expect(try CLI.run(["check", "examples/focal.loss", "--stage", "1", "--param", "gamma=1.5e0"]).status == 0)
        let hexData = try CLI.temp("hex.csv", "x,y\n0x10,1\n")
        #expect(try CLI.run(["eval", "examples/bce.loss", "--data", hexData]).err.contains("'0x10' is not a number"))
        let range = try CLI.run(["plot", "examples/focal.loss", "--range", "0x1,4"])
        #expect(range.status == 2)
    }

    /// `check --json` of a file that does not compile prints its diagnostics as JSON.
    @Test func checkJSONCarriesDiagnostics() throws {
        let bad = try CLI.temp("json-bad.loss", "loss a: binary\nreturn sigmoud(x)\n")
        let r = try CLI.run(["check", bad, "--json"])
        #expect(r.status == 2)
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        let d = try #require((obj["diagnostics"] as? [[String: Any]])?.first)
        #expect(obj["result"] as? String == "error")
        #expect(d["line"] as? Int == 2 && d["column"] as? Int == 8 && d["severity"] as? String == "error")
        #expect(d["id"] as? String == "unknown-function" && (d["message"] as? String)?.contains("sigmoud") == true && d["hint"] is String)
    }

    /// plot: control characters in a title still give well-formed XML; a huge range is refused.
    @Test func plotTitleAndRange() throws {
        let r = try CLI.run(["plot", "examples/focal.loss", "--title", "a\u{1}b<&\u{7F}"])
        #expect(r.status == 0)
        let parser = XMLParser(data: Data(r.out.utf8))
        #expect(parser.parse(), "invalid SVG: \(String(describing: parser.parserError))")
        let huge = try CLI.run(["plot", "examples/focal.loss", "--range=-1e308,1e308"])
        #expect(huge.status == 2 && huge.err.contains("limited to [-1e6, 1e6]"), "\(huge.err)")
    }

    /// An unclosed '(' followed by more lines points at the paren.
    @Test func unclosedParenIsReportedAtTheParen() throws {
        let f = try CLI.temp("paren.loss", "loss a: binary\nlet p = sigmoid(x\nreturn -log(p)\n")
        let r = try CLI.run(["check", f])
        #expect(r.status == 2 && r.err.contains("paren.loss:2:16: error: this '(' is never closed") && !r.err.contains("multiplication"), "\(r.err)")
    }

    /// A search whose funnel stays empty says what to change; a documented-size ask produces a batch.
    @Test func emptyFunnelHintAndAWorkingAsk() throws {
        let r = try CLI.run(["search", "--kind", "binary", "--population", "20", "--generations", "1", "--quiet"])
        #expect(r.status == 0 && r.err.contains("no candidate passed the filters") && r.err.contains("--population"), "\(r.err)")
        let d = try OutputFileCLITests.dir("ask-works")
        let a = try CLI.run(["search", "ask", "--kind", "binary", "--population", "64", "--from", "examples/bce.loss", "--checkpoint", "\(d)/ck"])
        #expect(a.status == 0 && a.out.contains("candidates to evaluate"), "\(a.out)\(a.err)")
    }

    /// Values outside the documented domain are errors naming the cell.
    @Test func outOfDomainValues() throws {
        let cases: [(String, String, String)] = [
            ("examples/bce.loss", "x,y\n1,5\n", ":2:2: error: y = 5.0 is outside [0, 1]"),
            ("examples/focal.loss", "x,y,w\n1,1,-0.5\n", ":2:3: error: w = -0.5 is outside [0, 1]"),
            ("examples/giou.loss", "x1,y1,x2,y2,tx1,ty1,tx2,ty2\n10,0,5,10,0,0,10,10\n", ":2:3: error: inverted box: x2 = 5.0 is less than x1 = 10.0"),
            ("examples/ap_loss.loss", "s,y,u\n0.5,1,7\n0.2,0,0\n", ":2:3: error: the quality 7 is outside [0, 1]"),
        ]
        for (loss, csv, message) in cases {
            let r = try CLI.run(["eval", loss, "--data", "-"], stdin: csv)
            #expect(r.status == 2 && r.err.contains("-" + message), "\(loss): \(r.err)")
        }
        #expect(try CLI.run(["eval", "examples/bce.loss", "--data", "-"], stdin: "x,y\n1,0.25\n").status == 0, "soft labels are in the domain")
    }
}
