import Foundation
import Testing
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Runs the built `lossc` executable (it sits next to the test bundle) and checks exit codes,
/// stdout and stderr as a user sees them.
struct CLI {
    static let binary = URL(fileURLWithPath: Bundle.main.bundlePath).appendingPathComponent("lossc").path
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    struct Result { let status: Int32; let out: String; let err: String }

    static func run(_ args: [String], stdin: String? = nil, via wrapper: [String] = []) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: wrapper.first ?? binary)
        p.arguments = wrapper.isEmpty ? args : Array(wrapper.dropFirst()) + [binary] + args
        p.currentDirectoryURL = root
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        p.environment = env
        let out = Pipe(), err = Pipe(), inp = Pipe()
        p.standardOutput = out; p.standardError = err; p.standardInput = inp
        try p.run()
        if let stdin { inp.fileHandleForWriting.write(Data(stdin.utf8)) }
        try inp.fileHandleForWriting.close()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, out: String(decoding: o, as: UTF8.self), err: String(decoding: e, as: UTF8.self))
    }

    static func temp(_ name: String, _ text: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lossc-cli-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }
}

struct CLITests {
    @Test func binaryExists() { #expect(FileManager.default.isExecutableFile(atPath: CLI.binary), "lossc not built at \(CLI.binary)") }

    @Test func versionAndHelp() throws {
        #expect(try CLI.run(["--version"]).out.hasPrefix("lossc "))
        let top = try CLI.run(["--help"])
        #expect(top.status == 0 && top.out.contains("SUBCOMMANDS"))
        for sub in ["check", "eval", "fmt", "dump", "graph", "plot", "import", "ops", "search", "bench"] {
            let r = try CLI.run([sub, "--help"])
            #expect(r.status == 0 && r.out.contains("USAGE: lossc \(sub)"), "\(sub) --help")
            #expect(r.out.contains("Example: "), "\(sub) --help has an example")
            #expect(top.out.contains("  \(sub) "), "lossc --help lists \(sub)")
        }
    }

    @Test func usageErrorsExitTwo() throws {
        let r = try CLI.run(["chek", "examples/focal.loss"])
        #expect(r.status == 2 && r.err.contains("did you mean 'check'?"))
        let o = try CLI.run(["check", "examples/focal.loss", "--jsn"])
        #expect(o.status == 2 && o.err.contains("did you mean '--json'?"))
        let m = try CLI.run(["check", "no/such/file.loss"])
        #expect(m.status == 2 && m.err.contains("cannot read 'no/such/file.loss': no such file"))
        let p = try CLI.run(["check", "examples/focal.loss", "--param", "gama=1"])
        #expect(p.status == 2 && p.err.contains("did you mean 'gamma'?"))
        #expect(!p.err.contains("\u{1B}["), "NO_COLOR is respected")
    }

    @Test func checkExitCodes() throws {
        for f in ["focal", "bce", "cross_entropy", "giou", "cse_b_cls", "cse_b_reg"] {
            let r = try CLI.run(["check", "examples/\(f).loss"])
            #expect(r.status == 0, "\(f): \(r.out)\(r.err)")
        }
        let nan = try CLI.temp("nan.loss", "loss a: binary\nreturn -y * log(x)\n")
        let r = try CLI.run(["check", nan])
        #expect(r.status == 1 && r.out.contains("result: FAIL") && r.err.contains("nan.loss:2:13: error: log of a value that can be negative"))
        let bad = try CLI.temp("bad.loss", "loss a: binary\nreturn sigmoud(x)\n")
        let b = try CLI.run(["check", bad])
        #expect(b.status == 2 && b.err.contains("bad.loss:2:8: error: unknown function 'sigmoud'") && b.err.contains("^~~~~~~"))
        let json = try CLI.run(["check", "examples/focal.loss", "--json"])
        let obj = try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any]
        #expect(obj?["passed"] as? Bool == true && obj?["kind"] as? String == "binary")
    }

    @Test func evalBinaryAgainstClosedForm() throws {
        let data = try CLI.temp("b.csv", "x,y,w\n0.5,1,1\n-2,0,1\n")
        let r = try CLI.run(["eval", "examples/bce.loss", "--data", data])
        #expect(r.status == 0, "\(r.err)")
        let lines = r.out.split(separator: "\n").map(String.init)
        #expect(lines[0] == "loss,d_x")
        let row1 = lines[1].split(separator: ",").map { Double($0)! }
        // BCE(x, y=1) = log(1 + e^-x), d/dx = sigmoid(x) - 1.
        #expect(abs(row1[0] - log(1 + exp(-0.5))) < 1e-15 && abs(row1[1] - (1 / (1 + exp(-0.5)) - 1)) < 1e-15)
        let row2 = lines[2].split(separator: ",").map { Double($0)! }
        #expect(abs(row2[0] - log(1 + exp(-2.0))) < 1e-15)
        #expect(lines[3].hasPrefix("# mean,"))
        #expect(abs(Double(lines[3].dropFirst("# mean,".count))! - (row1[0] + row2[0]) / 2) < 1e-15)
    }

    @Test func evalMulticlassLayouts() throws {
        let byIndex = try CLI.temp("m1.csv", "x0,x1,x2,y,w\n1,2,3,2,1\n")
        let oneHot = try CLI.temp("m2.csv", "x0,x1,x2,y0,y1,y2\n1,2,3,0,0,1\n")
        let a = try CLI.run(["eval", "examples/cross_entropy.loss", "--data", byIndex])
        let b = try CLI.run(["eval", "examples/cross_entropy.loss", "--data", oneHot])
        #expect(a.status == 0 && b.status == 0 && a.out == b.out)
        #expect(a.out.hasPrefix("loss,d_x0,d_x1,d_x2\n"))
        let v = a.out.split(separator: "\n")[1].split(separator: ",").map { Double($0)! }
        let s = exp(1.0) + exp(2.0) + exp(3.0)
        #expect(abs(v[0] - (log(s) - 3)) < 1e-14 && abs(v[1] - exp(1) / s) < 1e-14 && abs(v[3] - (exp(3) / s - 1)) < 1e-14)
    }

    @Test func evalBoxAndJSON() throws {
        let data = try CLI.temp("x.csv", "x1,y1,x2,y2,tx1,ty1,tx2,ty2\n0,0,10,10,5,0,15,10\n")
        let r = try CLI.run(["eval", "examples/iou.loss", "--data", data, "--format", "json", "--precision", "f32"])
        #expect(r.status == 0, "\(r.err)")
        let obj = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
        #expect(obj["columns"] as! [String] == ["loss", "d_x1", "d_y1", "d_x2", "d_y2"])
        let row = (obj["rows"] as! [[Double]])[0]
        // i = 50, u = 150: 1 - 1/3.
        #expect(abs(row[0] - 2.0 / 3.0) < 1e-6)
    }

    @Test func evalBadDataIsReportedWithLineAndColumn() throws {
        let data = try CLI.temp("bad.csv", "x,y,w\n1,0,1\n2,abc,1\n")
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("lossc-cli-\(getpid())/out.csv").path
        try? FileManager.default.removeItem(atPath: out)
        let r = try CLI.run(["eval", "examples/bce.loss", "--data", data, "-o", out])
        #expect(r.status == 2 && r.err.contains("bad.csv:3:2: error: 'abc' is not a number"))
        #expect(!FileManager.default.fileExists(atPath: out), "no half-written output")
        let cols = try CLI.temp("cols.csv", "x,y,ww\n1,0,1\n")
        let c = try CLI.run(["eval", "examples/bce.loss", "--data", cols])
        #expect(c.status == 2 && c.err.contains("unknown column 'ww'") && c.err.contains("did you mean 'w'?"))
        let stdin = try CLI.run(["eval", "examples/bce.loss", "--data", "-"], stdin: "x,y\n0,1\n")
        #expect(stdin.status == 0 && stdin.out.contains("# mean,0.693147180559945"))
    }

    @Test func fmtImportDump() throws {
        for f in ["focal", "cse_b_reg"] {
            #expect(try CLI.run(["fmt", "--check", "examples/\(f).loss"]).status == 0)
        }
        let ugly = try CLI.temp("ugly.loss", "loss   u :binary\nreturn   ((x*y))+-1\n")
        #expect(try CLI.run(["fmt", "--check", ugly]).status == 1)
        #expect(try CLI.run(["fmt", ugly]).out == "loss u: binary\nreturn x * y + -1\n")
        let imp = try CLI.run(["import", "--deap", "Neg(Dot(Y,Log(Softmax(X))))", "--kind", "multiclass", "--name", "ce"])
        #expect(imp.status == 0 && imp.out.contains("return -dot(y, log(softmax(x)))"))
        let path = try CLI.temp("imported.loss", imp.out)
        #expect(try CLI.run(["check", path]).status == 0)
        let bad = try CLI.run(["import", "--deap", "Neg(Sigg(X))", "--kind", "binary"])
        #expect(bad.status == 2 && bad.err.contains("unknown DEAP primitive 'Sigg'") && bad.err.contains("did you mean 'Sig'?"))
        let dump = try CLI.run(["dump", "examples/focal.loss"])
        for pass in ["lowered", "canonicalized", "stabilized", "differentiated", "optimized"] {
            #expect(dump.out.contains("== \(pass) ("))
        }
    }
}

/// Collects the curves of an SVG written by `lossc plot` (and checks it is well-formed XML).
final class CurveCollector: NSObject, XMLParserDelegate, @unchecked Sendable {
    var curves: [(series: String, x: [Double], y: [Double], d: String)] = []
    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes a: [String: String] = [:]) {
        guard name == "path", a["class"] == "curve" else { return }
        let nums = { (s: String?) in (s ?? "").split(separator: " ").map { Double($0) ?? .nan } }
        curves.append((a["data-series"] ?? "", nums(a["data-x"]), nums(a["data-y"]), a["d"] ?? ""))
    }
}

struct PlotAndGraphTests {
    func curves(_ args: [String]) throws -> [(series: String, x: [Double], y: [Double], d: String)] {
        let r = try CLI.run(["plot"] + args)
        #expect(r.status == 0, "\(r.err)")
        let parser = XMLParser(data: Data(r.out.utf8))
        let c = CurveCollector()
        parser.delegate = c
        #expect(parser.parse(), "SVG is well-formed XML")
        return c.curves
    }

    @Test func binaryPlotMatchesTheEvaluator() throws {
        let cs = try curves(["examples/bce.loss", "examples/focal.loss", "--range", "-6,6"])
        // Loss and gradient panels, positive and negative, two files: 8 curves.
        #expect(cs.count == 8)
        #expect(cs.allSatisfy { $0.d.hasPrefix("M") && $0.d.filter { $0 == "L" }.count == $0.x.count - 1 })
        // BCE, positive: log(1 + e^-x); its gradient sigmoid(x) - 1.
        let bce = cs.filter { $0.series == "bce, positive" }
        #expect(bce.count == 2)
        for (x, y) in zip(bce[0].x, bce[0].y) { #expect(abs(y - log(1 + exp(-x))) < 1e-7 * max(1, y)) }
        for (x, y) in zip(bce[1].x, bce[1].y) { #expect(abs(y - (1 / (1 + exp(-x)) - 1)) < 1e-8) }
        #expect(bce[0].x.first == -6 && bce[0].x.last == 6)
    }

    @Test func boxAndMulticlassPlots() throws {
        let box = try curves(["examples/iou.loss", "examples/giou.loss"])
        #expect(box.count == 4)
        // Shift family: IoU = (100 - s)/(100 + s) while overlapping; the IoU loss is 1 - IoU.
        let iou = box.first { $0.series == "iou" }!
        for (s, y) in zip(iou.x, iou.y) where s < 100 { #expect(abs(y - (1 - (100 - s) / (100 + s))) < 1e-6) }
        let mc = try curves(["examples/cross_entropy.loss", "--classes", "3"])
        #expect(mc.count == 2)
        for (t, y) in zip(mc[0].x, mc[0].y) { #expect(abs(y - (log(exp(t) + 2) - t)) < 1e-7 * max(1, y)) }
        let bad = try CLI.run(["plot", "examples/iou.loss", "examples/bce.loss"])
        #expect(bad.status == 2 && bad.err.contains("same kind"))
    }

    /// Each panel has its own legend; a curve lying on another (GIoU is IoU when the predicted
    /// box grows inside the target) is drawn dotted over it and named so in both legends.
    @Test func legendsArePerPanelAndCoincidingCurvesAreMarked() throws {
        let r = try CLI.run(["plot", "examples/iou.loss", "examples/giou.loss", "--family", "scale"])
        #expect(r.status == 0, "\(r.err)")
        let legends = r.out.components(separatedBy: "<g class=\"legend\"").dropFirst()
        #expect(legends.count == 2)
        for l in legends { #expect(l.contains(">iou</text>") && l.contains(">giou (on iou)</text>"), "\(l.prefix(400))") }
        let giou = r.out.split(separator: "\n").filter { $0.contains("data-series=\"giou\"") }
        #expect(giou.count == 2 && giou.allSatisfy { $0.contains("data-coincides=\"iou\"") && $0.contains("stroke-dasharray=\"0.5 6\"") })
        #expect(!r.out.contains("100k") && r.out.contains("100·k"))
        // Shifted apart, GIoU leaves IoU (it keeps a gradient past touching): nothing is marked.
        let shift = try CLI.run(["plot", "examples/iou.loss", "examples/giou.loss", "--family", "shift"])
        #expect(shift.status == 0 && !shift.out.contains("data-coincides") && !shift.out.contains("(on "))
    }

    @Test func graphIsDot() throws {
        let r = try CLI.run(["graph", "examples/focal.loss", "--grad"])
        #expect(r.status == 0 && r.out.hasPrefix("digraph \"focal (binary) after optimized\" {") && r.out.hasSuffix("}\n"))
        // Every edge joins declared nodes; the two roots are marked.
        let lines = r.out.split(separator: "\n").map(String.init)
        let declared = Set(lines.compactMap { l -> String? in
            let t = l.trimmingCharacters(in: .whitespaces)
            guard t.hasPrefix("n"), t.contains(" ["), !t.contains("->") else { return nil }
            return String(t.prefix { $0 != " " })
        })
        for l in lines where l.contains("->") {
            let parts = l.trimmingCharacters(in: .whitespaces).components(separatedBy: " -> ")
            let to = String(parts[1].prefix { $0 != " " && $0 != ";" })
            #expect(declared.contains(parts[0]) && declared.contains(to), "\(l)")
        }
        #expect(r.out.contains("xlabel=\"loss\"") && r.out.contains("xlabel=\"d_x\""))
    }
}

struct HostileDataTests {
    @Test func nonFiniteCellsAndWrongTypes() throws {
        let nan = try CLI.temp("nan.csv", "x,y,w\n1,0,1\nnan,1,1\n")
        let r = try CLI.run(["eval", "examples/bce.loss", "--data", nan])
        #expect(r.status == 2 && r.err.contains("nan.csv:3:1: error: 'nan' is not a finite number") && r.err.contains("--allow-nonfinite"))
        let ok = try CLI.run(["eval", "examples/bce.loss", "--data", nan, "--allow-nonfinite"])
        #expect(ok.status == 0 && ok.out.contains("nan,nan"))
        let missing = try CLI.temp("miss.csv", "x,w\n1,1\n")
        let m = try CLI.run(["eval", "examples/bce.loss", "--data", missing])
        #expect(m.status == 2 && m.err.contains("missing column 'y' for a binary loss"))
        let short = try CLI.temp("short.csv", "x,y,w\n1,0\n")
        #expect(try CLI.run(["eval", "examples/bce.loss", "--data", short]).err.contains("short.csv:2:1: error: expected 3 values, found 2"))
        let cls = try CLI.temp("cls.csv", "x0,x1,y\n1,2,2.5\n")
        #expect(try CLI.run(["eval", "examples/cross_entropy.loss", "--data", cls]).err.contains("class index 2.5 is not an integer in 0…1"))
    }

    /// A million rows are streamed: the output is right and memory stays bounded.
    @Test func aMillionRowsStreamInBoundedMemory() throws {
        var text = "x,y,w\n"
        text.reserveCapacity(12_000_000)
        for k in 0..<1_000_000 { text += "\(Double(k % 2000) / 100 - 10),\(k % 2),1\n" }
        let data = try CLI.temp("million.csv", text)
        let out = data + ".out"
        // GNU time reports the child's own peak RSS (KiB); without it, only correctness is checked.
        let timeTool = "/usr/bin/time"
        let rss = data + ".rss"
        let r: CLI.Result
        if FileManager.default.isExecutableFile(atPath: timeTool) {
            r = try CLI.run(["eval", "examples/bce.loss", "--data", data, "-o", out], via: [timeTool, "-f", "%M", "-o", rss])
            let peak = Int(try String(contentsOfFile: rss, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)) ?? .max
            // 12 MB in, 40 MB out: a streaming evaluator stays far below either.
            #expect(peak < 60_000, "peak RSS \(peak) KiB")
        } else {
            print("note: /usr/bin/time not found; the memory bound of eval is not measured")
            r = try CLI.run(["eval", "examples/bce.loss", "--data", data, "-o", out])
        }
        #expect(r.status == 0, "\(r.err)")
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 1_000_002)
        // Mean of BCE over the rows, computed here independently.
        var sum = 0.0
        for k in 0..<1_000_000 {
            let x = Double(k % 2000) / 100 - 10, y = Double(k % 2)
            sum += y == 1 ? log1p(exp(-x)) : log1p(exp(x))
        }
        let mean = Double(lines.last!.dropFirst("# mean,".count))!
        #expect(abs(mean - sum / 1_000_000) < 1e-12)
        try? FileManager.default.removeItem(atPath: data)
        try? FileManager.default.removeItem(atPath: out)
    }
}

struct SearchCLITests {
    /// kill -9 in the middle of a run, then --resume: the result equals an uninterrupted run.
    @Test func killAndResumeGivesTheSameResult() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("lossc-kill-\(getpid())")
        try? FileManager.default.removeItem(at: base)
        defer { try? FileManager.default.removeItem(at: base) }
        let args = ["search", "--kind", "binary", "--population", "300", "--generations", "4", "--seed", "3",
                    "--top-k", "10", "--parents", "5", "--format", "json", "--quiet"]
        let whole = try CLI.run(args + ["--checkpoint", base.appendingPathComponent("whole").path])
        #expect(whole.status == 0, "\(whole.err)")

        let dir = base.appendingPathComponent("killed")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLI.binary)
        p.arguments = args + ["--checkpoint", dir.path]
        p.standardOutput = FileHandle.nullDevice; p.standardError = FileHandle.nullDevice
        try p.run()
        // Wait for the first checkpoint, then kill -9.
        let cp = dir.appendingPathComponent("checkpoint.json").path
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: cp), Date() < deadline, p.isRunning { usleep(20_000) }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let resumed = try CLI.run(["search", "--resume", "--checkpoint", dir.path, "--format", "json", "--quiet"])
        #expect(resumed.status == 0, "\(resumed.err)")
        #expect(resumed.out == whole.out)
        // A second --resume of a finished run reports the same result without working.
        #expect(try CLI.run(["search", "--resume", "--checkpoint", dir.path, "--format", "json", "--quiet"]).out == whole.out)
        // Starting over on an existing run is refused; a corrupt checkpoint is a clear error.
        let again = try CLI.run(args + ["--checkpoint", dir.path])
        #expect(again.status == 2 && again.err.contains("already holds a run"))
        try Data("{\"vers".utf8).write(to: URL(fileURLWithPath: cp))
        let corrupt = try CLI.run(["search", "--resume", "--checkpoint", dir.path])
        #expect(corrupt.status == 2 && corrupt.err.contains("is corrupt"))
    }
}

/// `lossc eval` and `lossc check` on ranking losses.
struct RankingCLITests {
    static let csv = "s,y,u\n2.0,1,0.9\n-1.5,1,0.4\n0.4,0,0\n1.2,0,0\n-0.2,1,0.7\n0.9,0,0\n-3,0,0\n0.1,-1,0\n"

    func rows(_ out: String) -> (header: String, rows: [[Double]], loss: Double?) {
        let lines = out.split(separator: "\n").map(String.init)
        let loss = lines.last.flatMap { $0.hasPrefix("# loss,") ? Double($0.dropFirst(7)) : nil }
        return (lines.first ?? "", lines.dropFirst().filter { !$0.hasPrefix("#") }.map { $0.split(separator: ",").compactMap { Double($0) } }, loss)
    }

    @Test func evalWritesGradientsAndTheBatchLoss() throws {
        let data = try CLI.temp("batch.csv", Self.csv)
        let ap = try CLI.run(["eval", "examples/ap_loss.loss", "--data", data])
        #expect(ap.status == 0, "\(ap.err)")
        let a = rows(ap.out)
        #expect(a.header == "d_s" && a.rows.count == 8 && a.loss != nil)
        // The same numbers as the library's reference evaluator (--oracle) and the fast kernel.
        let oracle = rows(try CLI.run(["eval", "examples/ap_loss.loss", "--data", data, "--oracle"]).out)
        #expect(abs(oracle.loss! - a.loss!) < 1e-12)
        for (x, y) in zip(a.rows, oracle.rows) { #expect(abs(x[0] - y[0]) < 1e-12) }
        #expect(abs(a.rows.map { $0[0] }.reduce(0, +)) < 1e-12, "AP-Loss gradients sum to zero")
        #expect(a.rows[7][0] == 0, "the ignored entry gets no gradient")
        let pap = rows(try CLI.run(["eval", "examples/pap_retinanet.loss", "--data", data, "--precision", "f32"]).out)
        #expect(pap.header == "d_s,d_u" && pap.rows.allSatisfy { $0.count == 2 })
        let json = try CLI.run(["eval", "examples/smooth_ap.loss", "--data", data, "--format", "json"])
        let obj = try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any]
        #expect(obj?["count"] as? Int == 8 && (obj?["columns"] as? [String]) == ["d_s"] && obj?["loss"] is Double)
        // u is optional (0 when absent).
        let noU = try CLI.temp("nou.csv", "s,y\n1,1\n0,0\n")
        #expect(try CLI.run(["eval", "examples/ap_loss.loss", "--data", noU]).status == 0)
    }

    @Test func evalRejectsBadRankingData() throws {
        let cases: [(String, String)] = [
            ("s,y,u\n1,1,0\n0,2,0\n", "lab.csv:3:2: error: the label 2 is not 1 (positive), 0 (negative) or -1 (ignored)"),
            ("s,y,w\n1,1,0\n", "lab.csv:1:3: error: unknown column 'w' for a ranking loss"),
            ("s,u\n1,0\n", "lab.csv:1:1: error: missing column 'y' for a ranking loss"),
            ("s,y\nnan,1\n", "lab.csv:2:1: error: the score nan is not finite"),
            ("s,y\nx,1\n", "lab.csv:2:1: error: 'x' is not a number"),
            ("s,y\n1,1,3\n", "lab.csv:2:1: error: expected 2 values, found 3"),
        ]
        for (text, want) in cases {
            let path = try CLI.temp("lab.csv", text)
            let r = try CLI.run(["eval", "examples/ap_loss.loss", "--data", path])
            #expect(r.status == 2 && r.err.contains(want.replacingOccurrences(of: "lab.csv", with: path)), "\(r.err)")
        }
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("lossc-rank-\(getpid()).csv").path
        let bad = try CLI.temp("bad.csv", "s,y\n1,1\n1,5\n")
        #expect(try CLI.run(["eval", "examples/ap_loss.loss", "--data", bad, "-o", out]).status == 2)
        #expect(!FileManager.default.fileExists(atPath: out), "nothing is written on error")
    }

    @Test func checkAndFmtAcceptRankingLosses() throws {
        for f in ["ap_loss", "pap_retinanet", "pap_retinanet_4fn", "smooth_ap"] {
            let r = try CLI.run(["check", "examples/\(f).loss"])
            #expect(r.status == 0 && r.out.contains("PASSED   finite with no positive") && r.out.contains("result: pass"), "\(f): \(r.out)\(r.err)")
            #expect(try CLI.run(["fmt", "--check", "examples/\(f).loss"]).status == 0)
        }
        let json = try CLI.run(["check", "examples/ap_loss.loss", "--json"])
        let obj = try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any]
        #expect(obj?["kind"] as? String == "ranking" && (obj?["sections"] as? [Any])?.count == 7)
        // A loss that is NaN without positives fails.
        let nan = try CLI.temp("nan.loss", "loss n: ranking\nreturn sum_positive(pairsum(d, valid)) / num_positive\n")
        let r = try CLI.run(["check", nan])
        #expect(r.status == 1 && r.out.contains("FAILED   finite with no positive"), "\(r.out)")
        let bad = try CLI.temp("badr.loss", "loss n: ranking\nreturn pairsum(d, valid)\n")
        let b = try CLI.run(["check", bad])
        #expect(b.status == 2 && b.err.contains("badr.loss:2:8: error: a ranking loss is one value for the batch"))
    }

    @Test func searchParamsIsReproducibleAndResumable() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lossc-search-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let small = ["--only", "delta", "--rounds", "4", "--samples", "3", "--entries", "400", "--steps", "5", "--seed", "3"]
        let whole = try CLI.run(["search-params", "examples/ap_loss.loss"] + small)
        #expect(whole.status == 0 && whole.out.hasPrefix("# AP-Loss") && whole.out.contains("# searched by lossc search-params (ppo, seed 3, 4 rounds × 3)"),
                "\(whole.out)\(whole.err)")
        #expect(whole.err.contains("round 4/4"))
        // The printed loss file parses and is formatted.
        let best = try CLI.temp("best.loss", whole.out)
        #expect(try CLI.run(["fmt", "--check", best]).status == 0)
        // Pause after 2 rounds, resume: the same result as the uninterrupted search.
        let ckpt = dir.appendingPathComponent("state.json").path
        let first = try CLI.run(["search-params", "examples/ap_loss.loss", "--checkpoint", ckpt, "--stop-after", "2"] + small)
        #expect(first.status == 0 && first.out.isEmpty && first.err.contains("paused after round 2/4"), "\(first.err)")
        let again = try CLI.run(["search-params", "examples/ap_loss.loss", "--checkpoint", ckpt] + small)
        #expect(again.status == 2 && again.err.contains("pass --resume to continue it"))
        let resumed = try CLI.run(["search-params", "examples/ap_loss.loss", "--checkpoint", ckpt, "--resume"] + small)
        #expect(resumed.status == 0 && resumed.out == whole.out && resumed.err.contains("round 3/4") && !resumed.err.contains("round 2/4"))
        let other = try CLI.run(["search-params", "examples/ap_loss.loss", "--checkpoint", ckpt, "--resume", "--seed", "4"] + small.dropLast(2))
        #expect(other.status == 2 && other.err.contains("is for another loss file or other settings"))
        let bad = try CLI.run(["search-params", "examples/pap_retinanet.loss", "--only", "H7"])
        #expect(bad.status == 2 && bad.err.contains("the loss has no param or curve 'H7'"))
        let notRanking = try CLI.run(["search-params", "examples/focal.loss"])
        #expect(notRanking.status == 2 && notRanking.err.contains("is not a ranking loss"))
    }
}
